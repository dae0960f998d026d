import * as fc from 'fast-check';
import { ModelshipError } from '../../lib/runtime/errors';
import {
  applyManualAction, decide, initialState, sampleRatioCheck, shiftedState, testStartMs, testWindow, WEIGHTS_SETTLE_MS,
} from '../../lib/release/decide';
import { evaluateGuardrails, firstBreach } from '../../lib/release/guardrails';
import { RolloutPolicy } from '../../lib/release/rollout-policy';
import type { CohortCounts, Observation, Phase, PolicySpec, PrimaryMetricSpec, RolloutState } from '../../lib/release/rollout-types';
import { seededRandom as prng } from '../../lib/release/random';
import { sequentialTest } from '../../lib/release/statistics';
import { BUCKETS, cohort, observe, plus, requests, total } from './counts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = 1_700_000_000_000;
const metric: PrimaryMetricSpec = { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: 0.1, betterWhen: 'higher' };
const variants = { baseline: 'blue', candidate: 'green' };
const guardrails = { maxErrorRate: 0.01, maxP99LatencyMs: 500, alarmNames: ['errors'] };

const progressive = RolloutPolicy.progressive({ ...variants, metric, guardrails, stepPercent: 10, maxPercent: 50, minStepMinutes: 60, minSamplesPerStep: 500 }).spec;
const experiment = RolloutPolicy.experiment({ ...variants, metric, guardrails, candidateWeight: 30 }).spec;
const bandit = RolloutPolicy.bandit({ ...variants, metric, guardrails, floorPercent: 10 }).spec;

/** The observation with the candidate's requests (over the step and the rollout) replaced. */
function candidateRequests(o: Observation, invocations: number, errors = 0, p99LatencyMs?: number): Observation {
  const green = requests(invocations, errors, p99LatencyMs);
  return { ...o, requests: { step: { ...o.requests.step, green }, total: { ...o.requests.total, green } } };
}

/** The candidate's weight while `policy` runs at `step` (a bandit's from its state). */
function weightAt(policy: PolicySpec, step: number, banditWeight: number): number {
  return policy.kind === 'progressive' ? policy.steps[step] : policy.kind === 'bandit' ? banditWeight : policy.candidateWeight;
}

// ---- arbitraries ---------------------------------------------------------------------------

const policyArb: fc.Arbitrary<PolicySpec> = fc.oneof(
  fc.record({
    stepPercent: fc.integer({ min: 1, max: 100 }), span: fc.integer({ min: 0, max: 100 }), manual: fc.boolean(),
    minSamples: fc.integer({ min: 0, max: 5000 }), minRunHours: fc.constantFrom(0, 0, 6, 48), margin: fc.constantFrom(0.02, 0.1, 0.3),
  }).map(({ stepPercent, span, manual, minSamples, minRunHours, margin }) => RolloutPolicy.progressive({
    ...variants, metric, guardrails, stepPercent, maxPercent: Math.min(100, stepPercent + span), manualGateBeforePromotion: manual,
    minSamplesPerStep: minSamples, minRunHours, nonInferiorityMargin: margin,
  }).spec),
  fc.record({ weight: fc.integer({ min: 1, max: 99 }), manual: fc.boolean(), minRunHours: fc.option(fc.constantFrom(0, 6, 48), { nil: undefined }) })
    .map(({ weight, manual, minRunHours }) => RolloutPolicy.experiment({ ...variants, metric, guardrails, candidateWeight: weight, manualGateBeforePromotion: manual, minRunHours }).spec),
  fc.record({ floor: fc.integer({ min: 0, max: 50 }), minRunHours: fc.option(fc.constantFrom(0, 6, 48), { nil: undefined }) })
    .map(({ floor, minRunHours }) => RolloutPolicy.bandit({ ...variants, metric, guardrails, floorPercent: floor, minRunHours }).spec),
);

const phaseArb = fc.constantFrom<Phase>('running', 'running', 'running', 'paused', 'awaiting-approval', 'promoted', 'aborted');

/**
 * A policy, a state it could be in, and an observation some time later: cohorts of any size,
 * rates (the candidate's up to 30% either side of the baseline's) and bucketing, split as the
 * weights expect (mostly) or not; the candidate's requests with some errors and a p99; complete
 * or not; the alarm in ALARM or not.
 */
const caseArb = policyArb.chain((policy) => fc.record({
  policy: fc.constant(policy),
  phase: phaseArb,
  step: fc.integer({ min: 0, max: policy.kind === 'progressive' ? Math.max(0, policy.steps.length - 2) : 0 }),
  banditWeight: fc.integer({ min: policy.kind === 'bandit' ? policy.floorPercent : 0, max: policy.kind === 'bandit' ? 100 - policy.floorPercent : 0 }),
  elapsedMinutes: fc.integer({ min: 0, max: 400 * 60 }),
  stepMinutes: fc.integer({ min: 0, max: 400 * 60 }),
  predictions: fc.integer({ min: 0, max: 400_000 }),
  asExpected: fc.constantFrom(true, true, true, false),
  candidateShare: fc.double({ min: 0, max: 1, noNaN: true }),
  baselineRate: fc.double({ min: 0, max: 0.3, noNaN: true }),
  lift: fc.double({ min: -0.3, max: 0.3, noNaN: true }),
  buckets: fc.constantFrom(1, BUCKETS),
  errorShare: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.03, noNaN: true })),
  p99: fc.option(fc.integer({ min: 1, max: 600 }), { nil: undefined }),
  complete: fc.constantFrom(true, true, true, false),
  alarm: fc.constantFrom(false, false, false, false, true),
  seed: fc.integer(),
})).map((c) => {
  const start = initialState(c.policy, T0);
  const candidateWeight = weightAt(c.policy, c.step, c.banditWeight);
  const weights = c.phase === 'promoted' ? { blue: 0, green: 100 } : c.phase === 'aborted' ? { blue: 100, green: 0 } : { blue: 100 - candidateWeight, green: candidateWeight };
  const state: RolloutState = { ...start, phase: c.phase, step: c.step, weights, stepStartedAtMs: T0 + Math.max(0, c.elapsedMinutes - c.stepMinutes) * MINUTE };
  const nc = Math.round(c.predictions * (c.asExpected ? candidateWeight / 100 : c.candidateShare));
  const nb = c.predictions - nc;
  const baseline = cohort(nb, Math.round(nb * c.baselineRate), c.buckets);
  const candidate = cohort(nc, Math.round(nc * Math.min(1, c.baselineRate * (1 + c.lift))), c.buckets);
  const seen = observe(T0 + c.elapsedMinutes * MINUTE, baseline, candidate, { complete: c.complete, breachedAlarms: c.alarm ? ['errors'] : [] });
  const observation = candidateRequests(seen, nc, Math.round(nc * c.errorShare), c.p99);
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

  test('a breached guardrail alarm aborts a running rollout, even with incomplete metrics, once its first weights have settled', () => {
    fc.assert(fc.property(caseArb, fc.integer({ min: 0, max: 2 * WEIGHTS_SETTLE_MS }), ({ policy, state, observation, random }, sinceStart) => {
      fc.pre(state.phase === 'running');
      const atMs = state.startedAtMs + sinceStart;
      const d = decide(policy, state, { ...observation, atMs, breachedAlarms: ['errors'] }, random);
      // Before, the alarm may still speak of the previous version's weights: hold, unchanged.
      expect(d.action).toBe(sinceStart >= WEIGHTS_SETTLE_MS ? 'abort' : 'hold');
      expect(d.reason).toContain(`'errors'`);
      if (d.action === 'hold') {
        expect(d.state).toEqual(state);
      }
    }));
  });

  test('incomplete metrics never promote or abort except by a guardrail', () => {
    fc.assert(fc.property(caseArb, ({ policy, state, observation, random }) => {
      const incomplete = { ...observation, complete: false };
      const d = decide(policy, state, incomplete, random);
      const breach = firstBreach(evaluateGuardrails(policy, incomplete));
      const settling = breach?.alarmName !== undefined && incomplete.atMs < state.startedAtMs + WEIGHTS_SETTLE_MS;
      if (state.phase === 'running' && breach && !settling) {
        expect(d).toMatchObject({ action: 'abort', reason: breach.reason });
      } else {
        expect(d.action).toBe('hold');
        expect(d.state).toEqual(state);
      }
    }), { numRuns: 300 });
  });

  test('paused, awaiting, promoted and aborted rollouts hold without change', () => {
    fc.assert(fc.property(caseArb, ({ policy, state, observation, random }) => {
      fc.pre(state.phase !== 'running');
      const d = decide(policy, state, observation, random);
      expect(d.action).toBe('hold');
      expect(d.state).toBe(state);
    }));
  });

  test('no promotion (nor a request for approval) before minRunHours, and promotion of a clearly better candidate after', () => {
    fc.assert(fc.property(
      policyArb, fc.nat(), fc.integer({ min: 100, max: 400 }), fc.constantFrom(1, BUCKETS), fc.integer({ min: 1, max: 336 }), fc.double({ min: 0, max: 1, noNaN: true }),
      (policy, seed, tenThousands, buckets, minRunHours, share) => {
        const step = policy.kind === 'progressive' ? seed % Math.max(1, policy.steps.length - 1) : 0;
        const weight = weightAt(policy, step, policy.kind === 'bandit' ? Math.max(policy.floorPercent, Math.min(100 - policy.floorPercent, seed % 101)) : 0);
        fc.pre(weight > 0 && weight < 100);
        const state: RolloutState = { ...initialState(policy, T0), step, weights: { blue: 100 - weight, green: weight } };
        // 1-4 million predictions split as the weights expect; the candidate converts 30% more.
        const n = tenThousands * 10_000;
        const nc = n * weight / 100;
        const better = observe(T0, cohort(n - nc, Math.round(0.1 * (n - nc)), buckets), cohort(nc, Math.round(0.13 * nc), buckets));
        // No burn-in, and observe() ends the cohorts at the tick: the test's data span is the time
        // since the first weights settled (WEIGHTS_SETTLE_MS after the start).
        const begun = T0 + WEIGHTS_SETTLE_MS;
        const early = begun + Math.min(minRunHours * HOUR - 1, Math.floor(share * minRunHours * HOUR));
        const before = decide({ ...policy, minRunHours, burnInHours: 0 }, state, { ...better, atMs: early, cohortEndMs: early });
        expect(before.action).toBe('hold');
        expect(before.state).toEqual(state);
        const after = decide({ ...policy, minRunHours, burnInHours: 0 }, state, { ...better, atMs: begun + minRunHours * HOUR, cohortEndMs: begun + minRunHours * HOUR });
        expect(after.state.phase).toBe(policy.manualGateBeforePromotion ? 'awaiting-approval' : 'promoted');
      }), { numRuns: 300 });
  });

  test('a sample-ratio mismatch pauses a running experiment or progressive rollout', () => {
    fc.assert(fc.property(
      policyArb.filter((p) => p.kind !== 'bandit'), fc.nat(), fc.integer({ min: 1_000_000, max: 4_000_000 }), fc.double({ min: 0.05, max: 0.1, noNaN: true }),
      fc.double({ min: 0, max: 0.3, noNaN: true }), fc.double({ min: 0, max: 0.3, noNaN: true }), fc.constantFrom(1, BUCKETS), fc.integer({ min: 0, max: 400 }),
      (policy, stepSeed, n, shortfall, pb, pc, buckets, hours) => {
        const step = policy.kind === 'progressive' ? stepSeed % Math.max(1, policy.steps.length - 1) : 0;
        const weight = weightAt(policy, step, 0);
        fc.pre(weight < 100);
        const state: RolloutState = { ...initialState(policy, T0), step, weights: { blue: 100 - weight, green: weight } };
        // The candidate is short of its expected predictions by 5-10% (a logging or routing fault).
        const nc = Math.round(n * weight / 100 * (1 - shortfall));
        const nb = Math.round(n * (1 - weight / 100));
        const o = observe(T0 + hours * HOUR, cohort(nb, Math.round(pb * nb), buckets), cohort(nc, Math.round(pc * nc), buckets));
        const d = decide(policy, state, o);
        expect(d.action).toBe('pause');
        expect(d.state).toEqual({ ...state, phase: 'paused' });
        expect(d.reason).toMatch(/^Paused: sample-ratio mismatch: /);
        expect(d.evidence.sampleRatio!.expected).toBe(weight / 100);
        expect(d.evidence.sampleRatio!.observed).toBeCloseTo(nc / (nb + nc), 9);
      }), { numRuns: 200 });
  });

  test('a progressive rollout never advances to 100%: it promotes, and only when the candidate is shown better or no worse than the margin, or is at 100% already', () => {
    fc.assert(fc.property(caseArb, ({ policy, state, observation, random }) => {
      fc.pre(policy.kind === 'progressive' && state.phase === 'running');
      if (policy.kind !== 'progressive') {
        return;
      }
      const d = decide(policy, state, observation, random);
      if (d.action === 'advance') {
        expect(d.state.weights.green).toBeLessThan(100);
      }
      if (d.state.phase === 'promoted' || d.state.phase === 'awaiting-approval') {
        const { window, alpha } = testWindow(policy, observation);
        const superior = sequentialTest(policy.metric, alpha, window.blue, window.green).verdict === 'better';
        const noWorse = sequentialTest(policy.metric, policy.alpha, window.blue, window.green, policy.nonInferiorityMargin).verdict === 'better';
        expect(superior || noWorse || policy.steps[state.step] === 100).toBe(true);
      }
    }), { numRuns: 500 });
  });

  test('a progressive rollout never lowers the candidate weight unless it aborts, over a whole run', () => {
    const empty = cohort(0, 0);
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 60 }), fc.double({ min: 0.05, max: 0.15, noNaN: true }), fc.double({ min: 0.05, max: 0.15, noNaN: true }), fc.integer(),
      (stepPercent, pb, pc, seed) => {
        const policy = RolloutPolicy.progressive({ ...variants, metric, stepPercent, minStepMinutes: 30, minSamplesPerStep: 100 }).spec;
        const random = prng(seed);
        let state = initialState(policy, T0);
        const add = (c: CohortCounts, n: number, p: number) => {
          const conversions = Math.min(n, Math.max(0, Math.round(n * p + (random() - 0.5) * Math.sqrt(n))));
          return plus(c, cohort(n, conversions));
        };
        let all = { blue: empty, green: empty };
        let step = all;
        for (let tick = 1; tick <= 200 && state.phase === 'running'; tick += 1) {
          const nc = Math.round(500 * state.weights.green / 100);
          all = { blue: add(all.blue, 500 - nc, pb), green: add(all.green, nc, pc) };
          step = { blue: add(step.blue, 500 - nc, pb), green: add(step.green, nc, pc) };
          const d = decide(policy, state, observe(T0 + tick * 15 * MINUTE, all.blue, all.green, { step }));
          if (d.action !== 'abort') {
            expect(d.state.weights.green).toBeGreaterThanOrEqual(state.weights.green);
          }
          if (d.state.stepStartedAtMs !== state.stepStartedAtMs) {
            step = { blue: empty, green: empty };
          }
          state = d.state;
        }
      }), { numRuns: 25 });
  });

  test('is deterministic: a bandit without a random source seeds one from the tick time', () => {
    fc.assert(fc.property(caseArb, ({ policy, state, observation }) => {
      expect(decide(policy, state, observation)).toEqual(decide(policy, state, observation));
    }), { numRuns: 100 });
  });
});

describe('the test window', () => {
  test('tests each progressive step on its own counts at alpha split across the steps', () => {
    const o = observe(T0, cohort(1, 0), cohort(2, 0), { step: { blue: cohort(3, 0), green: cohort(4, 0) } });
    expect(testWindow(progressive, o)).toEqual({ window: o.step, alpha: 0.05 / 5 });
    expect(testWindow(experiment, o)).toEqual({ window: o.total, alpha: 0.05 });
    expect(testWindow(bandit, o)).toEqual({ window: o.total, alpha: 0.025 });
  });

  test("starts after the policy's burn-in", () => {
    const start = initialState(experiment, T0);
    expect(testStartMs(experiment, start)).toBe(T0 + 24 * HOUR);
    expect(testStartMs({ ...experiment, burnInHours: 1.5 }, start)).toBe(T0 + 1.5 * HOUR);
    // Without a burn-in, once the first weights have settled: a rollout may start from another's 100%.
    expect(testStartMs(progressive, initialState(progressive, T0))).toBe(T0 + WEIGHTS_SETTLE_MS);
    expect(testStartMs({ ...experiment, burnInHours: 0.1 }, start)).toBe(T0 + WEIGHTS_SETTLE_MS);
  });

  test("checks the sample ratio on the test window against the state's weights, except for a bandit", () => {
    const o = observe(T0, cohort(7000, 0), cohort(3000, 0), { step: { blue: cohort(9000, 0), green: cohort(1000, 0) } });
    const whole = sampleRatioCheck(experiment, initialState(experiment, T0), o);
    expect(whole).toMatchObject({ expected: 0.3, mismatch: false });
    expect(whole!.observed).toBeCloseTo(0.3, 12);
    const step = sampleRatioCheck(progressive, initialState(progressive, T0), o);
    expect(step).toMatchObject({ expected: 0.1, mismatch: false });
    expect(step!.observed).toBeCloseTo(0.1, 12);
    const moved = sampleRatioCheck(progressive, { ...initialState(progressive, T0), weights: { blue: 80, green: 20 } }, o);
    expect(moved!.expected).toBe(0.2);
    expect(moved!.observed).toBeCloseTo(0.1, 12);
    expect(sampleRatioCheck(bandit, initialState(bandit, T0), o)).toBeUndefined();
  });
});

describe('decide for a progressive rollout', () => {
  const start = initialState(progressive, T0);
  const last = { ...start, step: 4, weights: { blue: 50, green: 50 } };

  test('starts at the first step', () => {
    expect(start).toEqual({ phase: 'running', step: 0, weights: { blue: 90, green: 10 }, startedAtMs: T0, stepStartedAtMs: T0 });
  });

  test("holds until the step's minimum time and candidate predictions are met, then advances", () => {
    const early = decide(progressive, start, observe(T0 + 30 * MINUTE, cohort(9000, 900), cohort(1000, 100)));
    expect(early.action).toBe('hold');
    expect(early.reason).toMatch(/needs more time or candidate predictions with outcomes in/);
    const few = decide(progressive, start, observe(T0 + 90 * MINUTE, cohort(3600, 360), cohort(400, 40)));
    expect(few.action).toBe('hold');
    const ready = decide(progressive, start, observe(T0 + 61 * MINUTE, cohort(9000, 900), cohort(1000, 100)));
    expect(ready.action).toBe('advance');
    expect(ready.state).toMatchObject({ step: 1, weights: { blue: 80, green: 20 }, stepStartedAtMs: T0 + 61 * MINUTE });
  });

  test('holds while the evidence leans towards a worse candidate', () => {
    const d = decide(progressive, start, observe(T0 + 2 * HOUR, cohort(9000, 900), cohort(1000, 80)));
    expect(d.action).toBe('hold');
    expect(d.reason).toMatch(/leans towards a worse candidate/);
  });

  test('aborts a significantly worse candidate, promotes a significantly better one early', () => {
    expect(decide(progressive, start, observe(T0 + 10 * MINUTE, cohort(180_000, 18_000), cohort(20_000, 1200))).action).toBe('abort');
    const better = decide(progressive, start, observe(T0 + 10 * MINUTE, cohort(180_000, 18_000), cohort(20_000, 2800)));
    expect(better.action).toBe('promote');
    expect(better.evidence.statistic!).toBeGreaterThanOrEqual(better.evidence.threshold!);
  });

  test('promotes from the last step below 100 when the candidate is shown no worse than the margin, or awaits approval behind a manual gate', () => {
    const observation = observe(T0 + 2 * HOUR, cohort(50_000, 5000), cohort(50_000, 5000));
    const d = decide(progressive, last, observation);
    expect(d.state).toMatchObject({ phase: 'promoted', weights: { blue: 0, green: 100 } });
    expect(d.reason).toMatch(/no worse than the baseline by more than 10\.00%/);
    const gated = decide({ ...progressive, manualGateBeforePromotion: true }, last, observation);
    expect(gated.action).toBe('pause');
    expect(gated.state).toEqual({ ...last, phase: 'awaiting-approval' });
    expect(gated.reason).toMatch(/^Awaiting approval/);
  });

  test('holds at the last step until non-inferiority is shown, then pauses after the max duration', () => {
    const equalButFew = observe(T0 + 2 * HOUR, cohort(5000, 500), cohort(5000, 500));
    const held = decide(progressive, last, equalButFew);
    expect(held).toMatchObject({ action: 'hold', state: last });
    expect(held.reason).toMatch(/^Holding at 50%: the candidate is not yet shown to be no worse than the baseline by more than 10\.00%/);
    // A candidate 10% worse: never shown non-inferior, however many predictions.
    const worseByMargin = observe(T0 + 2 * HOUR, cohort(400_000, 40_000), cohort(400_000, 36_000));
    expect(sequentialTest(metric, 0.05 / 5, cohort(400_000, 40_000), cohort(400_000, 36_000)).verdict).not.toBe('better');
    expect(decide(progressive, last, worseByMargin).action).not.toBe('promote');
    const late = decide(progressive, last, { ...equalButFew, atMs: T0 + 336 * HOUR });
    expect(late).toMatchObject({ action: 'pause', state: { ...last, phase: 'paused' } });
    expect(late.reason).toMatch(/no conclusion after 336 hours/);
  });

  test('waits for minRunHours at the last step before promoting', () => {
    const policy = { ...progressive, minRunHours: 24 };
    const observation = observe(T0 + 2 * HOUR, cohort(50_000, 5000), cohort(50_000, 5000));
    const early = decide(policy, last, observation);
    expect(early).toMatchObject({ action: 'hold', state: last });
    // Two hours since the start, less the quarter hour the first weights take to settle.
    expect(early.reason).toMatch(/the test's predictions span 1\.8 of the minimum 24 hours/);
    expect(decide(policy, last, { ...observation, atMs: T0 + 24 * HOUR, cohortEndMs: T0 + 24 * HOUR }).action).toBe('hold');
    expect(decide(policy, last, { ...observation, atMs: T0 + 24.25 * HOUR, cohortEndMs: T0 + 24.25 * HOUR }).action).toBe('promote');
  });
});

describe('decide for an experiment', () => {
  const start = initialState(experiment, T0);

  test('keeps its split while inconclusive, then pauses after the max duration', () => {
    const observation = observe(T0 + 10 * HOUR, cohort(7000, 700), cohort(3000, 300));
    expect(decide(experiment, start, observation)).toMatchObject({ action: 'hold', state: start });
    const late = decide(experiment, start, { ...observation, atMs: T0 + 336 * HOUR });
    expect(late.action).toBe('pause');
    expect(late.state.phase).toBe('paused');
    expect(late.reason).toMatch(/no conclusion after 336 hours/);
  });

  test('holds a significantly better candidate until minRunHours have passed, then promotes it', () => {
    const better = observe(T0 + HOUR, cohort(70_000, 7000), cohort(30_000, 3600));
    const early = decide(experiment, start, better);
    expect(early).toMatchObject({ action: 'hold', state: start });
    // The minimum run counts the test's data: from the end of the day's burn-in to the cohorts' end.
    expect(early.reason).toMatch(/^Holding: the candidate is significantly better .*, but the test's predictions span 0\.0 of the minimum 168 hours\.$/);
    expect(decide(experiment, start, { ...better, atMs: T0 + 191 * HOUR, cohortEndMs: T0 + 191 * HOUR }).action).toBe('hold');
    expect(decide(experiment, start, { ...better, atMs: T0 + 192 * HOUR, cohortEndMs: T0 + 192 * HOUR }).action).toBe('promote');
  });

  test('aborts a significantly worse candidate at once, whatever minRunHours says', () => {
    const d = decide(experiment, start, observe(T0 + HOUR, cohort(70_000, 7000), cohort(30_000, 2400)));
    expect(d.action).toBe('abort');
    expect(d.reason).toMatch(/^Aborted: the candidate is significantly worse/);
  });

  test('reports the evidence: counts, sample ratio, lift, statistic, threshold, p-value', () => {
    const d = decide(experiment, start, observe(T0 + 200 * HOUR, cohort(70_000, 7000), cohort(30_000, 3600)));
    expect(d.action).toBe('promote');
    expect(d.evidence).toMatchObject({
      baseline: { exposures: 70_000, outcomes: 7000 }, candidate: { exposures: 30_000, outcomes: 3600 }, sampleRatio: { expected: 0.3 }, threshold: 20,
    });
    expect(d.evidence.sampleRatio!.observed).toBeCloseTo(0.3, 12);
    expect(d.evidence.lift).toBeCloseTo(0.2, 12);
    expect(d.evidence.pValue!).toBeLessThanOrEqual(0.05);
  });

  test('pauses on a sample-ratio mismatch before any verdict, naming it', () => {
    const even = { ...RolloutPolicy.experiment({ ...variants, metric, candidateWeight: 50, minRunHours: 0 }).spec };
    // The candidate at 40% of 10,000 predictions where its weight expects 50%, read as one bucket.
    const d = decide(even, initialState(even, T0), observe(T0 + HOUR, cohort(6000, 600, 1), cohort(4000, 800, 1)));
    expect(d.action).toBe('pause');
    expect(d.state.phase).toBe('paused');
    expect(d.reason).toMatch(/^Paused: sample-ratio mismatch: the candidate has 40\.00% of the predictions where its weight expects 50\.00%/);
    expect(d.evidence.sampleRatio).toMatchObject({ observed: 0.4, expected: 0.5 });
  });

  // BUG (reported to the integrator): sampleRatioTest bounds z² by the bucket count (see statistics.test.ts), so with
  // the gateway's 32 unit buckets a 40%/50% split only leans (Λ ≈ 3.1) and never pauses; a significantly better
  // candidate then holds on the lean forever, past the max duration (the hold returns before the max-duration pause).
  // Remove `.failing` once lib/release/statistics.ts `sampleRatioTest` is fixed.
  test('pauses the candidate at 40% of the predictions where its weight expects 50%, with unit buckets', () => {
    const even = RolloutPolicy.experiment({ ...variants, metric, candidateWeight: 50, minRunHours: 0 }).spec;
    for (const n of [10_000, 1_000_000]) {
      const d = decide(even, initialState(even, T0), observe(T0 + HOUR, cohort(0.6 * n, 0.06 * n), cohort(0.4 * n, 0.048 * n)));
      expect(d.action).toBe('pause');
    }
  });

  test('waits to promote while the sample ratio leans towards a mismatch', () => {
    const even = RolloutPolicy.experiment({ ...variants, metric, candidateWeight: 50, minRunHours: 0 }).spec;
    const state = initialState(even, T0);
    // 49.6% of 100,000 predictions: odds for a mismatch above SAMPLE_RATIO_LEAN, below a mismatch.
    const leaning = observe(T0 + HOUR, cohort(50_400, 5040), cohort(49_600, 5952));
    expect(sampleRatioCheck(even, state, leaning)).toMatchObject({ mismatch: false, leansMismatched: true });
    const d = decide(even, state, leaning);
    expect(d).toMatchObject({ action: 'hold', state });
    expect(d.reason).toMatch(/^Holding: the candidate is significantly better .*, but the candidate's share of predictions \(49\.60% against 50\.00%\) leans towards a sample-ratio mismatch/);
    expect(decide(even, state, observe(T0 + HOUR, cohort(50_000, 5000), cohort(50_000, 6000))).action).toBe('promote');
  });
});

describe('decide for a bandit', () => {
  const start = initialState(bandit, T0);

  test('moves weight to the likely best variant, within the floor', () => {
    const d = decide(bandit, start, observe(T0 + HOUR, cohort(1000, 100), cohort(1000, 125)), prng(1));
    expect(d.action).toBe('advance');
    expect(d.state.weights.green).toBeGreaterThan(50);
    expect(d.state.weights.green).toBeLessThanOrEqual(90);
    expect(d.evidence.probabilityBest!.green).toBeGreaterThan(0.9);
    expect(d.evidence.probabilityBest!.blue + d.evidence.probabilityBest!.green).toBeCloseTo(1, 12);
    expect(d.evidence.sampleRatio).toBeUndefined();
  });

  test('does not pause for a split that does not follow its weights', () => {
    const d = decide(bandit, start, observe(T0 + HOUR, cohort(90_000, 9000), cohort(10_000, 1000)), prng(2));
    expect(d.action).not.toBe('pause');
  });
});

describe('guardrails in decide', () => {
  const start = initialState(experiment, T0);
  const quiet = observe(T0 + MINUTE, cohort(7, 0), cohort(3, 0));

  test('one error in three requests does not abort; five in five does', () => {
    expect(decide(experiment, start, candidateRequests(quiet, 3, 1)).action).toBe('hold');
    const d = decide(experiment, start, candidateRequests(quiet, 5, 5));
    expect(d.action).toBe('abort');
    expect(d.reason).toMatch(/error rate .* significantly above the 1\.00% limit/);
  });

  test('p99 latency over the limit aborts once there are enough requests to have a p99', () => {
    expect(decide(experiment, start, candidateRequests(quiet, 50, 0, 900)).action).toBe('hold');
    expect(decide(experiment, start, candidateRequests(quiet, 150, 0, 900)).action).toBe('abort');
  });

  test('are checked before completeness', () => {
    expect(decide(experiment, start, candidateRequests({ ...quiet, complete: false }, 150, 0, 900)).action).toBe('abort');
    expect(decide(experiment, start, candidateRequests({ ...quiet, complete: false }, 150)).action).toBe('hold');
  });

  test('are checked before the sample ratio', () => {
    const skewed = observe(T0 + MINUTE, cohort(5000, 0, 1), cohort(5000, 0, 1));
    expect(decide(experiment, start, skewed).action).toBe('pause');
    expect(decide(experiment, start, candidateRequests(skewed, 5000, 2500)).action).toBe('abort');
  });
});

describe('applyManualAction', () => {
  const running = { ...initialState(experiment, T0), step: 0 };
  const inconclusive = (atMs: number) => observe(atMs, cohort(7000, 700), cohort(3000, 300));

  test('pause and resume keep the weights; resume restarts the step clock', () => {
    const paused = applyManualAction(experiment, running, 'pause', T0 + HOUR);
    expect(paused).toEqual({ ...running, phase: 'paused' });
    expect(applyManualAction(experiment, paused, 'resume', T0 + 2 * HOUR)).toEqual({ ...running, stepStartedAtMs: T0 + 2 * HOUR });
  });

  test('a resumed rollout gets another max duration before it pauses again', () => {
    const paused = decide(experiment, running, inconclusive(T0 + 336 * HOUR)).state;
    expect(paused.phase).toBe('paused');
    const resumed = applyManualAction(experiment, paused, 'resume', T0 + 337 * HOUR);
    expect(decide(experiment, resumed, inconclusive(T0 + 338 * HOUR)).action).toBe('hold');
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

describe('manual actions on a progressive rollout', () => {
  test('promote advances one step, the last step to a promotion; approval promotes', () => {
    const at10 = initialState(progressive, T0);
    const at20 = applyManualAction(progressive, at10, 'advance', T0 + HOUR);
    expect(progressive.steps).toEqual([10, 20, 30, 40, 50, 100]);
    expect(at20).toMatchObject({ phase: 'running', step: 1, weights: { blue: 80, green: 20 }, stepStartedAtMs: T0 + HOUR, startedAtMs: T0 });
    const paused = applyManualAction(progressive, at20, 'pause', T0 + 2 * HOUR);
    // Advancing a paused rollout hands it back to the automation at the next step.
    expect(applyManualAction(progressive, paused, 'advance', T0 + 3 * HOUR)).toMatchObject({ phase: 'running', step: 2, weights: { blue: 70, green: 30 } });
    const atLast = { ...at20, step: progressive.steps.length - 2, weights: { blue: 50, green: 50 } };
    expect(applyManualAction(progressive, atLast, 'advance', T0)).toMatchObject({ phase: 'promoted', weights: { blue: 0, green: 100 } });
    expect(applyManualAction(progressive, { ...at20, phase: 'awaiting-approval' }, 'advance', T0)).toMatchObject({ phase: 'promoted' });
    expect(applyManualAction(experiment, initialState(experiment, T0), 'advance', T0)).toMatchObject({ phase: 'promoted', weights: { blue: 0, green: 100 } });
  });

  test('retry restarts an aborted rollout from its first step, its counts from now; only an aborted one', () => {
    const aborted = applyManualAction(progressive, { ...initialState(progressive, T0), step: 2, weights: { blue: 50, green: 50 } }, 'abort', T0 + HOUR);
    expect(applyManualAction(progressive, aborted, 'retry', T0 + 5 * HOUR)).toEqual(initialState(progressive, T0 + 5 * HOUR));
    expect(() => applyManualAction(progressive, initialState(progressive, T0), 'retry', T0)).toThrow("'retry' applies to a rollout that is aborted, got 'running'");
  });

  test('undo puts the baseline back at 100%, also after a promotion, but not twice', () => {
    const promoted = applyManualAction(progressive, initialState(progressive, T0), 'promote', T0 + HOUR);
    expect(() => applyManualAction(progressive, promoted, 'abort', T0)).toThrow(ModelshipError);
    const undone = applyManualAction(progressive, promoted, 'undo', T0 + 2 * HOUR);
    expect(undone).toMatchObject({ phase: 'aborted', weights: { blue: 100, green: 0 }, stepStartedAtMs: T0 + 2 * HOUR });
    expect(() => applyManualAction(progressive, undone, 'undo', T0)).toThrow(ModelshipError);
  });

  test('after a manual shift and a resume, the next advance never lowers the candidate', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 99 }), fc.integer({ min: 0, max: 4 }), fc.boolean(), (manual, step, byPerson) => {
      const before: RolloutState = { ...initialState(progressive, T0), step, weights: { blue: 100 - progressive.steps[step], green: progressive.steps[step] } };
      const shifted = shiftedState(progressive, before, { blue: 100 - manual, green: manual }, 'paused', T0 + HOUR / 2);
      const resumed = applyManualAction(progressive, shifted, 'resume', T0 + HOUR);
      // The rollout stands where the weights put it: at the last step at or below them.
      expect(progressive.steps[resumed.step] <= manual || resumed.step === 0).toBe(true);
      const next = byPerson
        ? applyManualAction(progressive, resumed, 'advance', T0 + 2 * HOUR)
        // The controller's advance: a healthy step with its time and samples done.
        : decide(progressive, resumed, observe(T0 + 30 * 24 * HOUR, cohort(100 * (100 - manual), 10 * (100 - manual)), cohort(100 * manual, 10 * manual))).state;
      expect(next.weights.green).toBeGreaterThanOrEqual(manual);
      if (next.phase === 'running' && byPerson) {
        expect(next.weights.green).toBeGreaterThan(manual);
      }
    }), { numRuns: 200 });
  });
});

describe('the test counts', () => {
  test('are the cohorts the observation holds: the evidence adds up their buckets', () => {
    fc.assert(fc.property(caseArb, ({ policy, state, observation, random }) => {
      const d = decide(policy, state, observation, random);
      const { window } = testWindow(policy, observation);
      expect(d.evidence.baseline).toEqual({ exposures: total(window.blue.exposures), outcomes: total(window.blue.outcomes) });
      expect(d.evidence.candidate).toEqual({ exposures: total(window.green.exposures), outcomes: total(window.green.outcomes) });
    }), { numRuns: 100 });
  });
});
