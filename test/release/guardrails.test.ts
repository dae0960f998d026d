import * as fc from 'fast-check';
import { decide } from '../../lib/release/decide';
import { ERROR_RATE_SIGNIFICANCE, evaluateGuardrails, firstBreach, MIN_INVOCATIONS_FOR_P99 } from '../../lib/release/guardrails';
import { RolloutPolicy } from '../../lib/release/rollout-policy';
import type { Observation, RequestCounts, RolloutState } from '../../lib/release/rollout-types';
import { binomialUpperTail } from '../../lib/release/statistics';
import { cohort, observe, requests } from './counts';

const T0 = 1_700_000_000_000;
const metric = { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: 0.1, betterWhen: 'higher' } as const;
const policy = RolloutPolicy.experiment({
  baseline: 'blue', candidate: 'green', metric, candidateWeight: 50,
  guardrails: { maxErrorRate: 0.01, maxP99LatencyMs: 500, alarmNames: ['5xx', 'latency'] },
}).spec;
// Started an hour before the observations: its first weights have settled, so alarms abort.
const running: RolloutState = { phase: 'running', step: 0, weights: { blue: 50, green: 50 }, startedAtMs: T0 - 3_600_000, stepStartedAtMs: T0 - 3_600_000 };

/** The candidate's requests over the step and the rollout, with cohorts no test concludes on. */
function observation(step: RequestCounts, total: RequestCounts = step, breachedAlarms: string[] = []): Observation {
  return observe(T0, cohort(1000, 100), cohort(1000, 100), {
    requests: { step: { blue: requests(1000), green: step }, total: { blue: requests(1000), green: total } }, breachedAlarms,
  });
}

describe('evaluateGuardrails', () => {
  test('gives one verdict per alarm, then error rate and p99 over the step and over the rollout', () => {
    const verdicts = evaluateGuardrails(policy, observation(requests(1000, 5, 300), requests(5000, 20, 320), ['latency']));
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
    const [few] = evaluateGuardrails(policy, observation(requests(100, 3))).filter((v) => v.guardrail === 'maxErrorRate');
    expect(few).toMatchObject({ value: 0.03, state: 'ok' });
    const [many] = evaluateGuardrails(policy, observation(requests(100, 10))).filter((v) => v.guardrail === 'maxErrorRate');
    expect(many).toMatchObject({ value: 0.1, state: 'breached' });
    expect(many.reason).toBe("Aborted: the candidate's error rate over this step is 10.00% (10 of 100), significantly above the 1.00% limit.");
  });

  test('p99 latency counts only from the minimum number of invocations on', () => {
    const under = evaluateGuardrails(policy, observation(requests(MIN_INVOCATIONS_FOR_P99 - 1, 0, 900))).find((v) => v.guardrail === 'maxP99LatencyMs');
    expect(under).toMatchObject({ state: 'not-enough-data', value: 900 });
    const over = evaluateGuardrails(policy, observation(requests(MIN_INVOCATIONS_FOR_P99, 0, 900))).find((v) => v.guardrail === 'maxP99LatencyMs');
    expect(over).toMatchObject({ state: 'breached', value: 900, limit: 500 });
  });

  test('the error rate is errors over all requests, failed ones included', () => {
    const [rate] = evaluateGuardrails(policy, observation(requests(60, 50))).filter((v) => v.guardrail === 'maxErrorRate');
    expect(rate.value).toBe(50 / 60);
    expect(rate.reason).toBe("Aborted: the candidate's error rate over this step is 83.33% (50 of 60), significantly above the 1.00% limit.");
  });

  test('a candidate failing most requests is aborted at once, even without any cohort or complete metrics', () => {
    const failing = observe(T0 + 60_000, { exposures: [], outcomes: [] }, { exposures: [], outcomes: [] }, {
      complete: false,
      requests: { step: { blue: requests(60), green: requests(60, 50) }, total: { blue: requests(60), green: requests(60, 50) } },
    });
    const d = decide(policy, running, failing);
    expect(d.action).toBe('abort');
    expect(d.state).toMatchObject({ phase: 'aborted', weights: { blue: 100, green: 0 } });
    expect(d.reason).toMatch(/error rate over this step is 83\.33% \(50 of 60\)/);
  });

  test('reads the requests, not the cohorts', () => {
    // Cohorts of the candidate full of predictions cannot stand in for requests it did not get.
    const verdicts = evaluateGuardrails(policy, observe(T0, cohort(1000, 100), cohort(1000, 100), {
      requests: { step: {}, total: {} },
    }));
    expect(verdicts.filter((v) => v.guardrail !== 'alarmNames').map((v) => v.state)).toEqual(['not-enough-data', 'not-enough-data', 'not-enough-data', 'not-enough-data']);
  });

  test('a candidate without invocations has no error-rate verdict yet', () => {
    const verdicts = evaluateGuardrails(policy, observation(requests(0)));
    expect(verdicts.filter((v) => v.state === 'not-enough-data').map((v) => v.guardrail)).toEqual(['maxErrorRate', 'maxP99LatencyMs', 'maxErrorRate', 'maxP99LatencyMs']);
  });

  test('a policy without guardrails has no verdicts', () => {
    const bare = RolloutPolicy.experiment({ baseline: 'blue', candidate: 'green', metric, candidateWeight: 50 }).spec;
    expect(evaluateGuardrails(bare, observation(requests(100, 100, 10_000)))).toEqual([]);
  });

  test('decide aborts a running rollout exactly when a guardrail is breached, for the breach\'s reason', () => {
    const countsArb = fc.record({ invocations: fc.integer({ min: 0, max: 2000 }), errorShare: fc.oneof(fc.double({ min: 0, max: 0.05, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), p99: fc.integer({ min: 1, max: 1000 }) })
      .map(({ invocations, errorShare, p99 }) => requests(invocations, Math.round(invocations * errorShare), p99));
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
