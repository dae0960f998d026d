import { evaluate, GateEvent } from '../../lambda/training-gate';

const event: GateEvent = {
  training: {
    TrainingJobName: 'churn-abc',
    TrainingJobArn: 'arn:aws:sagemaker:eu-west-1:111111111111:training-job/churn-abc',
    ModelArtifacts: { S3ModelArtifacts: 's3://registry/models/churn/churn-abc/output/model.tar.gz' },
    AlgorithmSpecification: { TrainingImage: 'image:1' },
    FinalMetricDataList: [{ MetricName: 'validation:auc', Value: 0.8 }],
  },
  thresholds: [{ metric: 'validation:auc', operator: '>=', value: 0.85 }],
  registration: { model: 'churn', contentTypes: ['application/json'], responseTypes: ['application/json'], executionArn: 'arn:exec' },
};

describe('the training gate handler', () => {
  test('fails a job that misses the gate and carries the metric values', async () => {
    const out = await evaluate(event);
    expect(out.passed).toBe(false);
    expect(out.results).toEqual([expect.objectContaining({ actual: 0.8, reason: 'validation:auc = 0.8 misses >= 0.85' })]);
  });

  test('passes a job that meets the gate and prepares its model package', async () => {
    const out = await evaluate({ ...event, training: { ...event.training, FinalMetricDataList: [{ MetricName: 'validation:auc', Value: 0.9 }] } });
    expect(out.passed).toBe(true);
    expect(out.modelPackage.InferenceSpecification.Containers).toEqual([
      { Image: 'image:1', ModelDataUrl: 's3://registry/models/churn/churn-abc/output/model.tar.gz' },
    ]);
  });

  test('treats a job without final metrics as missing them', async () => {
    const out = await evaluate({ ...event, training: { ...event.training, FinalMetricDataList: undefined } });
    expect(out.results[0].reason).toBe('validation:auc was not reported (needs validation:auc >= 0.85)');
  });

  test('rejects a malformed event', async () => {
    await expect(evaluate({ thresholds: [] } as never)).rejects.toThrow("Invalid gate event: expected 'training', 'thresholds' and 'registration'");
  });
});
