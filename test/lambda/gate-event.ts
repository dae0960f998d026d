import { GateEvent } from '../../lambda/training-gate';

/** A gate event for a finished churn job whose final validation AUC is `auc`, gated at 0.85. */
export function gateEvent(auc: number): GateEvent {
  return {
    training: {
      TrainingJobName: 'churn-abc',
      TrainingJobArn: 'arn:aws:sagemaker:eu-west-1:111111111111:training-job/churn-abc',
      ModelArtifacts: { S3ModelArtifacts: 's3://registry/models/churn/churn-abc/output/model.tar.gz' },
      AlgorithmSpecification: { TrainingImage: 'image:1' },
      FinalMetricDataList: [{ MetricName: 'validation:auc', Value: auc }],
    },
    thresholds: [{ metric: 'validation:auc', operator: '>=', value: 0.85 }],
    registration: { model: 'churn', contentTypes: ['application/json'], responseTypes: ['application/json'], executionArn: 'arn:exec' },
  };
}
