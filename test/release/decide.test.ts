import * as fc from 'fast-check';
import { ModelshipError } from '../../lib/runtime/errors';
import { applyManualAction, decide, initialState, testWindow } from '../../lib/release/decide';
import { RolloutPolicy } from '../../lib/release/rollout-policy';
import type { Observation, Phase, PolicySpec, PrimaryMetricSpec, RolloutState, VariantCounts } from '../../lib/release/rollout-types';
import { seededRandom as prng } from '../../lib/release/random';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = 1_700_000_000_000;
const metric: PrimaryMetricSpec = { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: 0.1, betterWhen: 'higher' };
const variants = { baseline: 'blue', candidate: 'green' };
const guardrails = { maxErrorRate: 0.01, maxP99LatencyMs: 500, alarmNames: ['errors'] };

const progressive = RolloutPolicy.progressive({ ...variants, metric, guardrails, stepPercent: 10, maxPercent: 50, minStepMinutes: 60, minSamplesPerStep: 500 }).spec;
const experiment = RolloutPolicy.experiment({ ...variants, metric, guardrails, candidateWeight: 30 }).spec;
const bandit = RolloutPolicy.bandit({ ...variants, metric, guardrails, floorPercent: 10 }).spec;

function counts(invocations: number, conversions: number, extra: Partial<VariantCounts> = {}): VariantCounts {
  return { invocations, errors: 0, conversions, valueSum: conversions, valueSumOfSquares: conversions, ...extra };
}

function observe(atMs: number, baseline: VariantCounts, candidate: VariantCounts, more: Partial<Observation> = {}): Observation {
  const window = { blue: baseline, green: candidate };
  return { atMs, complete: true, total: window, step: window, breachedAlarms: [], ...more };
}

// ---- arbitraries ---------------------------------------------------------------------------

const countsArb = fc.record({
  invocations: fc.integer({ min: 0, max: 200_000 }),
  errorShare: fc.double({ min: 0, max: 0.05, noNaN: true }),
  rate: fc.double({ min: 0, max: 0.3, noNaN: true }),
  p99: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
}).map(({ invocations, errorShare, rate, p99 }): VariantCounts => {
  const conversions = Math.round(invocations * rate);
  return { invocations, errors: Math.round(invocations * errorShare), conversions, valueSum: conversions, valueSumOfSquares: conversions, ...(p99 !== undefined ? { p99LatencyMs: p99 } : {}) };
});

const policyArb: fc.Arbitrary<PolicySpec> = fc.oneof(
  fc.record({ stepPercent: fc.integer({ min: 1, max: 100 }), span: fc.integer({ min: 0, max: 100 }), manual: fc.boolean(), minSamples: fc.integer({ min: 0, max: 5000 }) })
    .map(({ stepPercent, span, manual, minSamples }) => RolloutPolicy.progressive({
      ...variants, metric, guardrails, stepPercent, maxPercent: Math.min(100, stepPercent + span), manualGateBeforePromotion: manual, minSamplesPerStep: minSamples,
    }).spec),
  fc.record({ weight: fc.integer({ min: 1, max: 99 }), manual: fc.boolean() })
    .map(({ weight, manual }) => RolloutPolicy.experiment({ ...variants, metric, guardrails, candidateWeight: weight, manualGateBeforePromotion: manual }).spec),
  fc.integer({ min: 0, max: 50 }).map((floor) => RolloutPolicy.bandit({ ...variants, metric, guardrails, floorPercent: floor }).spec),
);

const phaseArb = fc.constantFrom<Phase>('running', 'running', 'running', 'paused', 'awaiting-approval', 'promoted', 'aborted');

/** A policy, a state it could be in, and an observation some time later. */
const caseArb = policyArb.chain((policy) => fc.record({
  policy: fc.constant(policy),
  phase: phaseArb,
  step: fc.integer({ min: 0, max: policy.kind === 'progressive' ? Math.max(0, policy.steps.length - 2) : 0 }),
  banditWeight: fc.integer({ min: policy.kind === 'bandit' ? policy.floorPercent : 0, max: policy.kind === 'bandit' ? 100 - policy.floorPercent : 0 }),
  elapsedMinutes: fc.integer({ min: 0, max: 400 * 60 }),
  stepMinutes: fc.integer({ min: 0, max: 400 * 60 }),
  baseline: countsArb,
  candidate: countsArb,
  complete: fc.boolean(),
  alarm: fc.boolean(),
  seed: fc.integer(),
})).map((c) => {
  const start = initialState(c.policy, T0);
  const candidateWeight = c.policy.kind === 'progressive' ? c.policy.steps[c.step] : c.policy.kind === 'bandit' ? c.banditWeight : c.policy.candidateWeight;
  const weights = c.phase === 'promoted' ? { blue: 0, green: 100 } : c.phase === 'aborted' ? { blue: 100, green: 0 } : { blue: 100 - candidateWeight, green: candidateWeight };
  const state: RolloutState = { ...start, phase: c.phase, step: c.step, weights, stepStartedAtMs: T0 + Math.max(0, c.elapsedMinutes - c.stepMinutes) * MINUTE };
  const observation = observe(T0 + c.elapsedMinutes * MINUTE, c.baseline, c.candidate, { complete: c.complete, breachedAlarms: c.alarm ? ['errors'] : [] });
  return { policy: c.policy, state, observation, random: prng(c.seed) };
});

/** The least weight the baseline keeps while a rollout is not promoted. */
function baselineFloor(policy: PolicySpec, state: RolloutState): number {
  switch (policy.kind) {
    case 'progressive':
      return 100 - policy.steps[state.step];
    case 'experiment':
      return 100 - policy.candidateWeight;
    default:
      return policy.floorPercent;
  }
}

describe('decide, for any policy, state and observation', () => {
  test('weights are whole percentages of the two variants summing to 100', () => {
    fc.assert(fc.property(caseArb, ({ policy, state, observation, random }) => {
      const { weights } = decide(policy, state, observation, random).state;
      expect(Object.keys(weights).sort()).toEqual(['blue', 'green']);
      Object.values(weights).forEach((w) => {
        expect(Number.isInteger(w)).toBe(true);
        expect(w).toBeGreaterThanOrEqual(0);
        expect(w).toBeLessThanOrEqual(100);
      });
      expect(weights.blue + weights.green).toBe(100);
    }), { numRuns: 500 });
  });

  test('the baseline keeps its floor unless the candidate is promoted', () => {
    fc.assert(fc.property(caseArb, ({ policy, state, observation, random }) => {
      const next = decide(policy, state, observation, random).state;
      if (next.phase !== 'promoted') {
        expect(next.weights.blue).toBeGreaterThanOrEqual(baselineFloor(policy, next));
      }
    }), { numRuns: 500 });
  });

  test('promote means all traffic on the candidate, abort all on the baseline', () => {
    fc.assert(fc.property(caseArb, ({ policy, state, observation, random }) => {
      const d = decide(policy, state, observation, random);
      if (d.action === 'promote') {
        expect(d.state).toMatchObject({ phase: 'promoted', weights: { blue: 0, green: 100 } });
      }
      if (d.action === 'abort') {
        expect(d.state).toMatchObject({ phase: 'aborted', weights: { blue: 100, green: 0 } });
      }
    }), { numRuns: 500 });
  });

  test('a breached guardrail alarm aborts a running rollout, even with incomplete metrics', () => {
    fc.assert(fc.property(caseArb, ({ policy, state, observation, random }) => {
      fc.pre(state.phase === 'running');
      const d = decide(policy, state, { ...observation, breachedAlarms: ['errors'] }, random);
      expect(d.action).toBe('abort');
      expect(d.reason).toContain(`'errors'`);
    }));
  });

  test('incomplete metrics never move the rollout forward', () => {
    fc.assert(fc.property(caseArb, ({ policy, state, observation, random }) => {
      const d = decide(policy, state, { ...observation, complete: false }, random);
      expect(['hold', 'abort']).toContain(d.action);
      if (d.action === 'hold') {
        expect(d.state).toEqual(state);
      }
    }));
  });

  test('paused, awaiting, promoted and aborted rollouts hold without change', () => {
    fc.assert(fc.property(caseArb, ({ policy, state, observation, random }) => {
      fc.pre(state.phase !== 'running');
      const d = decide(policy, state, observation, random);
      expect(d.action).toBe('hold');
      expect(d.state).toBe(state);
    }));
  });

  test('a progressive rollout never lowers the candidate weight unless it aborts, over a whole run', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 60 }), fc.double({ min: 0.05, max: 0.15, noNaN: true }), fc.double({ min: 0.05, max: 0.15, noNaN: true }), fc.integer(),
      (stepPercent, pb, pc, seed) => {
        const policy = RolloutPolicy.progressive({ ...variants, metric, stepPercent, minStepMinutes: 30, minSamplesPerStep: 100 }).spec;
        const random = prng(seed);
        let state = initialState(policy, T0);
        let total = { blue: counts(0, 0), green: counts(0, 0) };
        let step = total;
        for (let tick = 1; tick <= 200 && state.phase === 'running'; tick += 1) {
          const add = (c: VariantCounts, n: number, p: number) => {
            const conversions = Math.round(n * p + (random() - 0.5) * Math.sqrt(n));
            return counts(c.invocations + n, Math.max(0, c.conversions + conversions));
          };
          const nc = Math.round(500 * state.weights.green / 100);
          total = { blue: add(total.blue, 500 - nc, pb), green: add(total.green, nc, pc) };
          step = { blue: add(step.blue, 500 - nc, pb), green: add(step.green, nc, pc) };
          const d = decide(policy, state, { atMs: T0 + tick * 15 * MINUTE, complete: true, total, step, breachedAlarms: [] });
          if (d.action !== 'abort') {
            expect(d.state.weights.green).toBeGreaterThanOrEqual(state.weights.green);
          }
          if (d.state.stepStartedAtMs !== state.stepStartedAtMs) {
            step = { blue: counts(0, 0), green: counts(0, 0) };
          }
          state = d.state;
        }
      }), { numRuns: 60 });
  });

  test('is deterministic: a bandit without a random source seeds one from the tick time', () => {
    fc.assert(fc.property(caseArb, ({ policy, state, observation }) => {
      expect(decide(policy, state, observation)).toEqual(decide(policy, state, observation));
    }), { numRuns: 100 });
  });
});

describe('decide for a progressive rollout', () => {
  const start = initialState(progressive, T0);

  test('starts at the first step', () => {
    expect(start).toEqual({ phase: 'running', step: 0, weights: { blue: 90, green: 10 }, startedAtMs: T0, stepStartedAtMs: T0 });
  });

  test("holds until the step's minimum time and candidate invocations are met, then advances", () => {
    const early = decide(progressive, start, observe(T0 + 30 * MINUTE, counts(9000, 900), counts(1000, 100)));
    expect(early.action).toBe('hold');
    expect(early.reason).toMatch(/needs more time or candidate invocations/);
    const few = decide(progressive, start, observe(T0 + 90 * MINUTE, counts(3600, 360), counts(400, 40)));
    expect(few.action).toBe('hold');
    const ready = decide(progressive, start, observe(T0 + 61 * MINUTE, counts(9000, 900), counts(1000, 100)));
    expect(ready.action).toBe('advance');
    expect(ready.state).toMatchObject({ step: 1, weights: { blue: 80, green: 20 }, stepStartedAtMs: T0 + 61 * MINUTE });
  });

  test('holds while the evidence leans towards a worse candidate', () => {
    const d = decide(progressive, start, observe(T0 + 2 * HOUR, counts(9000, 900), counts(1000, 80)));
    expect(d.action).toBe('hold');
    expect(d.reason).toMatch(/leans towards a worse candidate/);
  });

  test('aborts a significantly worse candidate, promotes a significantly better one early', () => {
    expect(decide(progressive, start, observe(T0 + 10 * MINUTE, counts(40_000, 4000), counts(20_000, 1200))).action).toBe('abort');
    const better = decide(progressive, start, observe(T0 + 10 * MINUTE, counts(40_000, 4000), counts(20_000, 2800)));
    expect(better.action).toBe('promote');
    expect(better.evidence.statistic!).toBeGreaterThanOrEqual(better.evidence.threshold!);
  });

  test('promotes after the last step below 100, or awaits approval behind a manual gate', () => {
    const last = { ...start, step: 4, weights: { blue: 50, green: 50 } };
    const observation = observe(T0 + 2 * HOUR, counts(5000, 500), counts(5000, 500));
    expect(decide(progressive, last, { ...observation, atMs: T0 + 2 * HOUR }).state).toMatchObject({ phase: 'promoted', weights: { blue: 0, green: 100 } });
    const gated = { ...progressive, manualGateBeforePromotion: true };
    const d = decide(gated, last, observation);
    expect(d.action).toBe('pause');
    expect(d.state).toEqual({ ...last, phase: 'awaiting-approval' });
    expect(d.reason).toMatch(/^Awaiting approval/);
  });

  test('tests each step on its own counts at alpha split across the steps', () => {
    const o = observe(T0, counts(1, 0), counts(2, 0), { step: { blue: counts(3, 0), green: counts(4, 0) } });
    expect(testWindow(progressive, o)).toEqual({ window: o.step, alpha: 0.05 / 5 });
    expect(testWindow(experiment, o)).toEqual({ window: o.total, alpha: 0.05 });
    expect(testWindow(bandit, o)).toEqual({ window: o.total, alpha: 0.025 });
  });
});

describe('decide for an experiment', () => {
  const start = initialState(experiment, T0);

  test('keeps its split while inconclusive, then pauses after the max duration', () => {
    const observation = observe(T0 + 10 * HOUR, counts(7000, 700), counts(3000, 300));
    expect(decide(experiment, start, observation)).toMatchObject({ action: 'hold', state: start });
    const late = decide(experiment, start, { ...observation, atMs: T0 + 336 * HOUR });
    expect(late.action).toBe('pause');
    expect(late.state.phase).toBe('paused');
    expect(late.reason).toMatch(/no conclusion after 336 hours/);
  });

  test('reports the evidence: counts, lift, statistic, threshold, p-value', () => {
    const d = decide(experiment, start, observe(T0 + HOUR, counts(30_000, 3000), counts(30_000, 3600)));
    expect(d.action).toBe('promote');
    expect(d.evidence).toMatchObject({ baseline: { invocations: 30_000 }, candidate: { conversions: 3600 }, threshold: 20 });
    expect(d.evidence.lift).toBeCloseTo(0.2, 12);
    expect(d.evidence.pValue!).toBeLessThanOrEqual(0.05);
  });
});

describe('decide for a bandit', () => {
  const start = initialState(bandit, T0);

  test('moves weight to the likely best variant, within the floor', () => {
    const d = decide(bandit, start, observe(T0 + HOUR, counts(1000, 100), counts(1000, 125)), prng(1));
    expect(d.action).toBe('advance');
    expect(d.state.weights.green).toBeGreaterThan(50);
    expect(d.state.weights.green).toBeLessThanOrEqual(90);
    expect(d.evidence.probabilityBest!.green).toBeGreaterThan(0.9);
    expect(d.evidence.probabilityBest!.blue + d.evidence.probabilityBest!.green).toBeCloseTo(1, 12);
  });
});

describe('guardrails', () => {
  const start = initialState(experiment, T0);

  test('one error in three calls does not abort; five in five does', () => {
    expect(decide(experiment, start, observe(T0 + MINUTE, counts(7, 0), counts(3, 0, { errors: 1 }))).action).toBe('hold');
    const d = decide(experiment, start, observe(T0 + MINUTE, counts(10, 0), counts(5, 0, { errors: 5 })));
    expect(d.action).toBe('abort');
    expect(d.reason).toMatch(/error rate .* significantly above the 1\.00% limit/);
  });

  test('p99 latency over the limit aborts once there are enough invocations to have a p99', () => {
    expect(decide(experiment, start, observe(T0 + MINUTE, counts(100, 0), counts(50, 0, { p99LatencyMs: 900 }))).action).toBe('hold');
    expect(decide(experiment, start, observe(T0 + MINUTE, counts(300, 0), counts(150, 0, { p99LatencyMs: 900 }))).action).toBe('abort');
  });

  test('are checked before completeness', () => {
    const d = decide(experiment, start, observe(T0 + MINUTE, counts(300, 0), counts(150, 0, { p99LatencyMs: 900 }), { complete: false }));
    expect(d.action).toBe('abort');
    expect(decide(experiment, start, observe(T0 + MINUTE, counts(300, 0), counts(150, 0), { complete: false })).action).toBe('hold');
  });
});

describe('applyManualAction', () => {
  const running = { ...initialState(experiment, T0), step: 0 };

  test('pause and resume keep the weights; resume restarts the step clock', () => {
    const paused = applyManualAction(experiment, running, 'pause', T0 + HOUR);
    expect(paused).toEqual({ ...running, phase: 'paused' });
    expect(applyManualAction(experiment, paused, 'resume', T0 + 2 * HOUR)).toEqual({ ...running, stepStartedAtMs: T0 + 2 * HOUR });
  });

  test('a resumed rollout gets another max duration before it pauses again', () => {
    const paused = decide(experiment, running, observe(T0 + 336 * HOUR, counts(7000, 700), counts(3000, 300))).state;
    const resumed = applyManualAction(experiment, paused, 'resume', T0 + 337 * HOUR);
    expect(decide(experiment, resumed, observe(T0 + 338 * HOUR, counts(7000, 700), counts(3000, 300))).action).toBe('hold');
  });

  test('promote and abort move all traffic', () => {
    const awaiting = { ...running, phase: 'awaiting-approval' as const };
    expect(applyManualAction(experiment, awaiting, 'promote', T0).weights).toEqual({ blue: 0, green: 100 });
    expect(applyManualAction(experiment, running, 'abort', T0)).toMatchObject({ phase: 'aborted', weights: { blue: 100, green: 0 } });
  });

  test('refuses actions that do not apply to the phase', () => {
    const promoted = applyManualAction(experiment, running, 'promote', T0);
    expect(() => applyManualAction(experiment, promoted, 'abort', T0)).toThrow(ModelshipError);
    expect(() => applyManualAction(experiment, running, 'resume', T0))
      .toThrow(`'resume' applies to a rollout that is paused, got 'running'`);
  });
});
