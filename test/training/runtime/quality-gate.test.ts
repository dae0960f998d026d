import fc from 'fast-check';
import { ModelshipError } from '../../../lib/runtime/errors';
import { evaluateGate, formatThreshold, MetricThreshold, parseThreshold, ThresholdOperator } from '../../../lib/training/runtime/quality-gate';

const operators: ThresholdOperator[] = ['>=', '>', '<=', '<'];
const metricName = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}:[a-z][a-z0-9_]{0,10}$/);
const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });
const threshold = fc.record({ metric: metricName, operator: fc.constantFrom(...operators), value: finite });

describe('parseThreshold', () => {
  test.each([
    ['validation:auc >= 0.85', { metric: 'validation:auc', operator: '>=', value: 0.85 }],
    ['validation:loss<=0.3', { metric: 'validation:loss', operator: '<=', value: 0.3 }],
    ['  train:error < 1e-3 ', { metric: 'train:error', operator: '<', value: 0.001 }],
    ['f1 > -.5', { metric: 'f1', operator: '>', value: -0.5 }],
  ])('parses %j', (expression, expected) => {
    expect(parseThreshold(expression)).toEqual(expected);
  });

  test.each(['auc', 'auc >= ', '>= 0.8', 'auc => 0.8', 'auc == 0.8', 'auc >= NaN', 'auc >= inf', 'auc >= 0.8 extra', 'my auc >= 0.8'])(
    'rejects %j naming the expected form and the value', (expression) => {
      expect(() => parseThreshold(expression)).toThrow(ModelshipError);
      expect(() => parseThreshold(expression)).toThrow(`'qualityGate' entries must read '<metric> <op> <number>'`);
      expect(() => parseThreshold(expression)).toThrow(`got '${expression}'`);
    });

  test('round-trips every threshold through its expression', () => {
    fc.assert(fc.property(threshold, (t) => {
      expect(parseThreshold(formatThreshold(t))).toEqual({ ...t, value: t.value === 0 ? 0 : t.value });
    }));
  });
});

describe('evaluateGate', () => {
  const auc: MetricThreshold = { metric: 'validation:auc', operator: '>=', value: 0.85 };
  const loss: MetricThreshold = { metric: 'validation:loss', operator: '<=', value: 0.3 };

  test('passes when every threshold is met, with the values in the reasons', () => {
    const result = evaluateGate([auc, loss], [
      { MetricName: 'validation:auc', Value: 0.91 },
      { MetricName: 'validation:loss', Value: 0.3 },
    ]);
    expect(result.passed).toBe(true);
    expect(result.results.map((r) => r.reason)).toEqual([
      'validation:auc = 0.91 meets >= 0.85',
      'validation:loss = 0.3 meets <= 0.3',
    ]);
  });

  test('fails when one threshold is missed, reporting the value', () => {
    const result = evaluateGate([auc, loss], [
      { MetricName: 'validation:auc', Value: 0.8 },
      { MetricName: 'validation:loss', Value: 0.1 },
    ]);
    expect(result.passed).toBe(false);
    expect(result.results[0]).toMatchObject({ actual: 0.8, passed: false, reason: 'validation:auc = 0.8 misses >= 0.85' });
    expect(result.results[1].passed).toBe(true);
  });

  test('fails a metric that was not reported', () => {
    const result = evaluateGate([auc], [{ MetricName: 'validation:loss', Value: 0.1 }]);
    expect(result).toEqual({
      passed: false,
      results: [{ ...auc, actual: null, passed: false, reason: 'validation:auc was not reported (needs validation:auc >= 0.85)' }],
    });
  });

  test.each([[NaN, 'NaN'], ['NaN', 'NaN'], [Infinity, 'Infinity'], ['-Infinity', '-Infinity']])(
    'fails a metric whose value is %p, whatever the operator', (value, shown) => {
      for (const operator of operators) {
        const result = evaluateGate([{ ...auc, operator }], [{ MetricName: 'validation:auc', Value: value }]);
        expect(result.passed).toBe(false);
        expect(result.results[0].reason).toBe(`validation:auc is ${shown} (needs validation:auc ${operator} 0.85)`);
      }
    });

  test('uses the latest value when a metric is reported more than once', () => {
    const result = evaluateGate([auc], [
      { MetricName: 'validation:auc', Value: 0.9, Timestamp: '2026-11-22T10:00:00Z' },
      { MetricName: 'validation:auc', Value: 0.7, Timestamp: '2026-11-22T09:00:00Z' },
    ]);
    expect(result.results[0].actual).toBe(0.9);
  });

  test('an empty gate passes', () => {
    expect(evaluateGate([], [])).toEqual({ passed: true, results: [] });
  });

  test('a threshold passes exactly when the comparison holds (property)', () => {
    fc.assert(fc.property(threshold, finite, (t, actual) => {
      const expected = { '>=': actual >= t.value, '>': actual > t.value, '<=': actual <= t.value, '<': actual < t.value }[t.operator];
      expect(evaluateGate([t], [{ MetricName: t.metric, Value: actual }]).passed).toBe(expected);
    }));
  });

  test('the gate passes only if every threshold passes, and never with a missing or non-finite metric (property)', () => {
    const value = fc.oneof(finite, fc.constantFrom(NaN, Infinity, -Infinity, 'NaN'));
    fc.assert(fc.property(fc.array(threshold, { maxLength: 6 }), fc.dictionary(metricName, value), (thresholds, reported) => {
      const metrics = Object.entries(reported).map(([MetricName, Value]) => ({ MetricName, Value }));
      const result = evaluateGate(thresholds, metrics);
      expect(result.passed).toBe(result.results.every((r) => r.passed));
      for (const r of result.results) {
        const v = reported[r.metric];
        if (v === undefined || !Number.isFinite(Number(v))) {
          expect(r.passed).toBe(false);
          expect(r.actual).toBeNull();
        }
      }
    }));
  });
});
