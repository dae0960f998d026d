import * as fc from 'fast-check';
import { decide } from '../../lib/release/decide';
import { ERROR_RATE_SIGNIFICANCE, evaluateGuardrails, firstBreach, MIN_INVOCATIONS_FOR_P99 } from '../../lib/release/guardrails';
import { RolloutPolicy } from '../../lib/release/rollout-policy';
import type { Observation, RolloutState, VariantCounts } from '../../lib/release/rollout-types';
import { binomialUpperTail } from '../../lib/release/statistics';

const T0 = 1_700_000_000_000;
const metric = { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: 0.1, betterWhen: 'higher' } as const;
const policy = RolloutPolicy.experiment({
  baseline: 'blue', candidate: 'green', metric, candidateWeight: 50,
  guardrails: { maxErrorRate: 0.01, maxP99LatencyMs: 500, alarmNames: ['5xx', 'latency'] },
}).spec;
const running: RolloutState = { phase: 'running', step: 0, weights: { blue: 50, green: 50 }, startedAtMs: T0, stepStartedAtMs: T0 };

function counts(invocations: number, errors = 0, p99LatencyMs?: number): VariantCounts {
  return { invocations, errors, conversions: 0, valueSum: 0, valueSumOfSquares: 0, ...(p99LatencyMs !== undefined ? { p99LatencyMs } : {}) };
}

function observation(step: VariantCounts, total: VariantCounts = step, breachedAlarms: string[] = []): Observation {
  return { atMs: T0, complete: true, step: { blue: counts(1000), green: step }, total: { blue: counts(1000), green: total }, breachedAlarms };
}

describe('evaluateGuardrails', () => {
  test('gives one verdict per alarm, then error rate and p99 over the step and over the rollout', () => {
    const verdicts = evaluateGuardrails(policy, observation(counts(1000, 5, 300), counts(5000, 20, 320), ['latency']));
    expect(verdicts).toHaveLength(6);
    expect(verdicts.map((v) => [v.guardrail, v.alarmName ?? v.window, v.value, v.state])).toEqual([
      ['alarmNames', '5xx', undefined, 'ok'],
      ['alarmNames', 'latency', undefined, 'breached'],
      ['maxErrorRate', 'step', 0.005, 'ok'],
      ['maxP99LatencyMs', 'step', 300, 'ok'],
      ['maxErrorRate', 'rollout', 0.004, 'ok'],
      ['maxP99LatencyMs', 'rollout', 320, 'ok'],
    ]);
    expect(firstBreach(verdicts)?.reason).toBe("Aborted: guardrail alarm 'latency' is in ALARM.");
  });

  test('an error rate over the limit is a breach only when significantly so', () => {
    // 3 of 100 against 1%: P = 0.08, not significant; 10 of 100: P ≈ 7e-8.
    const [few] = evaluateGuardrails(policy, observation(counts(100, 3))).filter((v) => v.guardrail === 'maxErrorRate');
    expect(few).toMatchObject({ value: 0.03, state: 'ok' });
    const [many] = evaluateGuardrails(policy, observation(counts(100, 10))).filter((v) => v.guardrail === 'maxErrorRate');
    expect(many).toMatchObject({ value: 0.1, state: 'breached' });
    expect(many.reason).toBe("Aborted: the candidate's error rate over this step is 10.00% (10 of 100), significantly above the 1.00% limit.");
  });

  test('p99 latency counts only from the minimum number of invocations on', () => {
    const under = evaluateGuardrails(policy, observation(counts(MIN_INVOCATIONS_FOR_P99 - 1, 0, 900))).find((v) => v.guardrail === 'maxP99LatencyMs');
    expect(under).toMatchObject({ state: 'not-enough-data', value: 900 });
    const over = evaluateGuardrails(policy, observation(counts(MIN_INVOCATIONS_FOR_P99, 0, 900))).find((v) => v.guardrail === 'maxP99LatencyMs');
    expect(over).toMatchObject({ state: 'breached', value: 900, limit: 500 });
  });

  test('a candidate without invocations has no error-rate verdict yet', () => {
    const verdicts = evaluateGuardrails(policy, observation(counts(0)));
    expect(verdicts.filter((v) => v.state === 'not-enough-data').map((v) => v.guardrail)).toEqual(['maxErrorRate', 'maxP99LatencyMs', 'maxErrorRate', 'maxP99LatencyMs']);
  });

  test('a policy without guardrails has no verdicts', () => {
    const bare = RolloutPolicy.experiment({ baseline: 'blue', candidate: 'green', metric, candidateWeight: 50 }).spec;
    expect(evaluateGuardrails(bare, observation(counts(100, 100, 10_000)))).toEqual([]);
  });

  test('decide aborts a running rollout exactly when a guardrail is breached, for the breach\'s reason', () => {
    const countsArb = fc.record({ invocations: fc.integer({ min: 0, max: 2000 }), errorShare: fc.double({ min: 0, max: 0.2, noNaN: true }), p99: fc.integer({ min: 1, max: 1000 }) })
      .map(({ invocations, errorShare, p99 }) => counts(invocations, Math.round(invocations * errorShare), p99));
    fc.assert(fc.property(countsArb, countsArb, fc.subarray(['5xx', 'latency']), (step, total, alarms) => {
      const seen = observation(step, total, alarms);
      const breach = firstBreach(evaluateGuardrails(policy, seen));
      const decision = decide(policy, running, seen);
      expect(decision.action === 'abort' && decision.reason === breach?.reason).toBe(breach !== undefined);
      if (breach?.guardrail === 'maxErrorRate') {
        const window = breach.window === 'step' ? step : total;
        expect(binomialUpperTail(window.errors, window.invocations, 0.01)).toBeLessThanOrEqual(ERROR_RATE_SIGNIFICANCE);
      }
    }), { numRuns: 300 });
  });
});
