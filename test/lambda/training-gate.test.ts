import { evaluate } from '../../lambda/training-gate';
import { gateEvent } from './gate-event';

const event = gateEvent(0.8);

describe('the training gate handler', () => {
  test('fails a job that misses the gate and carries the metric values', async () => {
    const out = await evaluate(event);
    expect(out.passed).toBe(false);
    expect(out.results).toEqual([expect.objectContaining({ actual: 0.8, reason: 'validation:auc = 0.8 misses >= 0.85' })]);
  });

  test('passes a job that meets the gate and prepares its model package', async () => {
    const out = await evaluate(gateEvent(0.9));
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
