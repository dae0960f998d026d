import { modelPackageInput, TrainedJob } from '../../../lib/training/runtime/model-package';
import { evaluateGate } from '../../../lib/training/runtime/quality-gate';

const job: TrainedJob = {
  TrainingJobName: 'churn-0123456789abcdef0123456789abcdef',
  TrainingJobArn: 'arn:aws:sagemaker:eu-west-1:111111111111:training-job/churn-0123456789abcdef0123456789abcdef',
  ModelArtifacts: { S3ModelArtifacts: 's3://registry/models/churn/churn-0123456789abcdef0123456789abcdef/output/model.tar.gz' },
  AlgorithmSpecification: { TrainingImage: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/churn:v1' },
  FinalMetricDataList: [{ MetricName: 'validation:auc', Value: 0.91 }, { MetricName: 'train:loss', Value: 0.2 }],
};
const settings = {
  model: 'churn',
  contentTypes: ['text/csv'],
  responseTypes: ['application/json'],
  executionArn: 'arn:aws:states:eu-west-1:111111111111:execution:churn:run-1',
};

describe('modelPackageInput', () => {
  const gate = evaluateGate([{ metric: 'validation:auc', operator: '>=', value: 0.85 }], job.FinalMetricDataList ?? []);

  test('points at the trained artifact and the training image, with the declared MIME types', () => {
    expect(modelPackageInput(job, gate, settings).InferenceSpecification).toEqual({
      Containers: [{ Image: job.AlgorithmSpecification.TrainingImage, ModelDataUrl: job.ModelArtifacts.S3ModelArtifacts }],
      SupportedContentTypes: ['text/csv'],
      SupportedResponseMIMETypes: ['application/json'],
    });
  });

  test('uses a separate serving image when one is declared', () => {
    const input = modelPackageInput(job, gate, { ...settings, inferenceImage: 'serve:1' });
    expect(input.InferenceSpecification.Containers[0].Image).toBe('serve:1');
  });

  test('records lineage and final metrics as metadata', () => {
    expect(modelPackageInput(job, gate, settings).CustomerMetadataProperties).toEqual({
      'modelship:model': 'churn',
      'modelship:version': job.TrainingJobName,
      'modelship:trainingJobArn': job.TrainingJobArn,
      'modelship:executionArn': settings.executionArn,
      'metric:validation:auc': '0.91',
      'metric:train:loss': '0.2',
    });
  });

  test('describes the version with the gate outcome', () => {
    expect(modelPackageInput(job, gate, settings).ModelPackageDescription)
      .toBe(`churn ${job.TrainingJobName}: validation:auc = 0.91 meets >= 0.85`);
  });

  test('stays within SageMaker\'s limits on metadata entries and lengths', () => {
    const many: TrainedJob = {
      ...job,
      FinalMetricDataList: Array.from({ length: 80 }, (_, i) => ({ MetricName: `m${i}`, Value: i })),
    };
    const input = modelPackageInput(many, evaluateGate([], []), { ...settings, executionArn: 'x'.repeat(400) });
    expect(Object.keys(input.CustomerMetadataProperties)).toHaveLength(50);
    expect(input.CustomerMetadataProperties['modelship:executionArn']).toHaveLength(256);
  });

  test('leaves out metrics whose names SageMaker would refuse as metadata keys', () => {
    const odd: TrainedJob = { ...job, FinalMetricDataList: [{ MetricName: 'loss (avg)', Value: 1 }] };
    expect(Object.keys(modelPackageInput(odd, evaluateGate([], []), settings).CustomerMetadataProperties))
      .not.toContain('metric:loss (avg)');
  });
});
