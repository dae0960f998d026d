import * as fc from 'fast-check';
import { problemsOf } from '../problems';
import { canonicalJson, parsePolicy, policyHash, RolloutPolicy } from '../../lib/release/rollout-policy';
import type { PrimaryMetricSpec } from '../../lib/release/rollout-types';

const metric: PrimaryMetricSpec = { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: 0.05, betterWhen: 'higher' };
const base = { baseline: 'blue', candidate: 'green', metric };

describe('RolloutPolicy.progressive', () => {
  test('fills in the defaults', () => {
    expect(RolloutPolicy.progressive({ ...base, steps: [10, 100] }).spec).toEqual({
      kind: 'progressive', ...base, guardrails: {}, evaluationIntervalMinutes: 15, maxDurationHours: 336, alpha: 0.05, power: 0.8,
      manualGateBeforePromotion: false, onHookFailure: 'hold', steps: [10, 100], minStepMinutes: 60, minSamplesPerStep: 500,
      minRunHours: 0, burnInHours: 0, nonInferiorityMargin: 0.05,
    });
  });

  test('takes a non-inferiority margin, a minimum run, a burn-in and an attribution window', () => {
    expect(RolloutPolicy.progressive({ ...base, steps: [100], nonInferiorityMargin: 0.02, minRunHours: 24, burnInHours: 2, outcomeDelayMinutes: 90 }).spec)
      .toMatchObject({ nonInferiorityMargin: 0.02, minRunHours: 24, burnInHours: 2, outcomeDelayMinutes: 90 });
    // Its max-duration clock runs per step, so a minimum run longer than it is fine.
    expect(RolloutPolicy.progressive({ ...base, steps: [100], minRunHours: 400, maxDurationHours: 336 }).spec.minRunHours).toBe(400);
  });

  // BUG (reported to the integrator): the margin defaults to the metric's minimum detectable effect, which may be 1,
  // while a margin must be less than 1: a valid metric then fails on a property the user never set.
  // Remove `.failing` once lib/release/rollout-policy.ts defaults the margin within (0, 1).
  test('accepts a metric whose minimum detectable effect is 1 without an explicit margin', () => {
    expect(() => RolloutPolicy.progressive({ ...base, metric: { ...metric, minimumDetectableEffect: 1 }, steps: [100] })).not.toThrow();
  });

  test('rejects a non-inferiority margin outside (0, 1)', () => {
    for (const margin of [0, 1, -0.1, 1.5]) {
      expect(problemsOf(() => RolloutPolicy.progressive({ ...base, steps: [100], nonInferiorityMargin: margin })))
        .toEqual([`'nonInferiorityMargin' must be a relative margin greater than 0 and less than 1, got ${margin}`]);
    }
    expect(RolloutPolicy.progressive({ ...base, steps: [100], nonInferiorityMargin: 0.999 }).spec.nonInferiorityMargin).toBe(0.999);
  });

  test.each([
    [10, 50, [10, 20, 30, 40, 50, 100]],
    [30, undefined, [30, 60, 90, 100]],
    [25, 100, [25, 50, 75, 100]],
    [100, undefined, [100]],
  ])('generates steps of %s%% up to %s%%, then 100', (stepPercent, maxPercent, steps) => {
    expect(RolloutPolicy.progressive({ ...base, stepPercent, maxPercent }).spec.steps).toEqual(steps);
  });

  test('generated steps always end at 100 and increase strictly', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 100 }), (step, extra) => {
      const steps = RolloutPolicy.progressive({ ...base, stepPercent: step, maxPercent: Math.min(100, step + extra) }).spec.steps;
      expect(steps[steps.length - 1]).toBe(100);
      steps.slice(1).forEach((w, i) => expect(w).toBeGreaterThan(steps[i]));
    }));
  });

  test('rejects steps that are not strictly increasing to 100', () => {
    expect(() => RolloutPolicy.progressive({ ...base, steps: [10, 5, 100] }))
      .toThrow(`'steps' must be strictly increasing whole percentages between 1 and 100 ending at 100, got [10,5,100]`);
    expect(problemsOf(() => RolloutPolicy.progressive({ ...base, steps: [10, 50] }))).toEqual([
      `'steps' must be strictly increasing whole percentages between 1 and 100 ending at 100, got [10,50]`,
    ]);
  });

  test('asks for exactly one of steps and stepPercent, and a sensible maxPercent', () => {
    expect(problemsOf(() => RolloutPolicy.progressive({ ...base, steps: [100], stepPercent: 10 }))).toEqual([`Specify either 'steps' or 'stepPercent', not both`]);
    expect(problemsOf(() => RolloutPolicy.progressive(base))).toEqual([`Specify either 'steps' or 'stepPercent'`]);
    expect(problemsOf(() => RolloutPolicy.progressive({ ...base, stepPercent: 20, maxPercent: 10 })))
      .toEqual([`'maxPercent' must be a whole percentage between 'stepPercent' (20) and 100, got 10`]);
    expect(problemsOf(() => RolloutPolicy.progressive({ ...base, stepPercent: 0 })))
      .toEqual([`'stepPercent' must be a whole percentage between 1 and 100, got 0`]);
  });

  test('collects every problem in one error', () => {
    expect(problemsOf(() => RolloutPolicy.progressive({
      ...base, candidate: 'blue', steps: [100], alpha: 0.5, power: 1, evaluationIntervalMinutes: 0, maxDurationHours: 3000,
      metric: { ...metric, minimumDetectableEffect: 0 }, guardrails: { maxErrorRate: 2, maxP99LatencyMs: -1 }, minSamplesPerStep: 1.5,
    }))).toEqual([
      `'candidate' must differ from 'baseline', got 'blue' for both`,
      `'metric.minimumDetectableEffect' must be a relative change greater than 0 and at most 1, got 0`,
      `'guardrails.maxErrorRate' must be a share between 0 and 1, got 2`,
      `'guardrails.maxP99LatencyMs' must be a positive number of milliseconds, got -1`,
      `'evaluationIntervalMinutes' must be a whole number of minutes between 1 and 1440, got 0`,
      `'maxDurationHours' must be a number of hours between 1 and 2160, got 3000`,
      `'alpha' must be greater than 0 and less than 0.5, got 0.5`,
      `'power' must be between 0.5 and 0.99, got 1`,
      `'minSamplesPerStep' must be a whole number of invocations between 0 and 10000000, got 1.5`,
      // The margin defaults to the minimum detectable effect, so it is out of range too.
      `'nonInferiorityMargin' must be a relative margin greater than 0 and less than 1, got 0`,
    ]);
  });

  test('rejects a variant name SageMaker would not accept', () => {
    expect(problemsOf(() => RolloutPolicy.progressive({ ...base, baseline: 'blue_1', steps: [100] }))).toEqual([
      `'baseline' must be a SageMaker variant name (1-63 letters, digits and hyphens, starting and ending with a letter or digit), got 'blue_1'`,
    ]);
  });
});

describe('RolloutPolicy.experiment and RolloutPolicy.bandit', () => {
  test('default to an even split and a 10% floor', () => {
    expect(RolloutPolicy.experiment(base).spec).toMatchObject({ kind: 'experiment', candidateWeight: 50 });
    expect(RolloutPolicy.bandit(base).spec).toMatchObject({ kind: 'bandit', floorPercent: 10 });
  });

  test('default to a week before promotion (at most half the max duration) and a burn-in of a day (at most half of it)', () => {
    for (const build of [RolloutPolicy.experiment, RolloutPolicy.bandit]) {
      expect(build(base).spec).toMatchObject({ maxDurationHours: 336, minRunHours: 168, burnInHours: 24 });
      expect(build({ ...base, maxDurationHours: 100 }).spec).toMatchObject({ minRunHours: 50, burnInHours: 24 });
      expect(build({ ...base, maxDurationHours: 10 }).spec).toMatchObject({ minRunHours: 5, burnInHours: 2.5 });
      expect(build({ ...base, minRunHours: 12 }).spec).toMatchObject({ minRunHours: 12, burnInHours: 6 });
      expect(build({ ...base, minRunHours: 0 }).spec).toMatchObject({ minRunHours: 0, burnInHours: 0 });
      expect(build(base).spec).not.toHaveProperty('outcomeDelayMinutes');
    }
  });

  test('defaults are valid for any max duration', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2160 }), fc.constantFrom('experiment' as const, 'bandit' as const), (maxDurationHours, kind) => {
      const spec = RolloutPolicy[kind]({ ...base, maxDurationHours }).spec;
      expect(spec.minRunHours).toBe(Math.min(168, maxDurationHours / 2));
      expect(spec.burnInHours).toBe(Math.min(24, spec.minRunHours / 2));
      expect(spec.burnInHours).toBeLessThan(spec.maxDurationHours);
    }));
  });

  test('reject a minimum run longer than the max duration, and a burn-in as long as it', () => {
    expect(problemsOf(() => RolloutPolicy.experiment({ ...base, maxDurationHours: 48, minRunHours: 49 }))).toEqual([
      `'minRunHours' must be at most 'maxDurationHours' (48), or the rollout can never promote, got 49`,
    ]);
    expect(problemsOf(() => RolloutPolicy.bandit({ ...base, maxDurationHours: 48, minRunHours: 10, burnInHours: 48 }))).toEqual([
      `'burnInHours' must be less than 'maxDurationHours' (48), or the test never sees a prediction, got 48`,
    ]);
    expect(problemsOf(() => RolloutPolicy.progressive({ ...base, steps: [100], maxDurationHours: 2, burnInHours: 3 }))).toEqual([
      `'burnInHours' must be less than 'maxDurationHours' (2), or the test never sees a prediction, got 3`,
    ]);
  });

  test('reject a minimum run, burn-in or attribution window out of range', () => {
    expect(problemsOf(() => RolloutPolicy.experiment({ ...base, minRunHours: -1, burnInHours: 3000 }))).toEqual([
      `'minRunHours' must be a number of hours between 0 and 2160, got -1`,
      `'burnInHours' must be a number of hours between 0 and 2160, got 3000`,
    ]);
    const window = (value: number) => `'outcomeDelayMinutes' must be a whole number of minutes between 1 and 18720 (13 days: CloudWatch takes datapoints up to two weeks old), got ${value}`;
    for (const outcomeDelayMinutes of [0, 18_721, 1.5]) {
      expect(problemsOf(() => RolloutPolicy.experiment({ ...base, outcomeDelayMinutes }))).toEqual([window(outcomeDelayMinutes)]);
    }
    expect(RolloutPolicy.experiment({ ...base, outcomeDelayMinutes: 1 }).spec.outcomeDelayMinutes).toBe(1);
    expect(RolloutPolicy.experiment({ ...base, outcomeDelayMinutes: 18_720 }).spec.outcomeDelayMinutes).toBe(18_720);
  });

  test('reject weights out of range', () => {
    expect(() => RolloutPolicy.experiment({ ...base, candidateWeight: 100 })).toThrow(`'candidateWeight' must be a whole percentage between 1 and 99, got 100`);
    expect(() => RolloutPolicy.bandit({ ...base, floorPercent: 60 })).toThrow(`'floorPercent' must be a whole percentage between 0 and 50, got 60`);
  });
});

describe('parsePolicy', () => {
  const specs = [
    RolloutPolicy.progressive({ ...base, stepPercent: 10, maxPercent: 50, guardrails: { maxErrorRate: 0.01, alarmNames: ['x'] } }).spec,
    RolloutPolicy.experiment({ ...base, candidateWeight: 20, manualGateBeforePromotion: true }).spec,
    RolloutPolicy.bandit({ ...base, floorPercent: 5, metric: { ...metric, kind: 'mean', betterWhen: 'lower' } }).spec,
    RolloutPolicy.progressive({ ...base, steps: [5, 100], nonInferiorityMargin: 0.02, minRunHours: 24, burnInHours: 1, outcomeDelayMinutes: 120 }).spec,
    RolloutPolicy.experiment({ ...base, minRunHours: 48, burnInHours: 0, outcomeDelayMinutes: 30 }).spec,
  ];

  test.each(specs.map((s) => [s.kind, s]))('reads a complete %s spec back as itself', (_, spec) => {
    expect(parsePolicy(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
  });

  test('applies the same defaults as the factories', () => {
    expect(parsePolicy({ kind: 'experiment', ...base })).toEqual(RolloutPolicy.experiment(base).spec);
    expect(parsePolicy({ kind: 'progressive', ...base, stepPercent: 25 })).toEqual(RolloutPolicy.progressive({ ...base, stepPercent: 25 }).spec);
  });

  test('reads the minimum run, burn-in, attribution window and non-inferiority margin', () => {
    expect(parsePolicy({ kind: 'progressive', ...base, steps: [100], minRunHours: 24, burnInHours: 2, outcomeDelayMinutes: 60, nonInferiorityMargin: 0.03 }))
      .toMatchObject({ minRunHours: 24, burnInHours: 2, outcomeDelayMinutes: 60, nonInferiorityMargin: 0.03 });
    expect(parsePolicy({ kind: 'bandit', ...base, minRunHours: 24 })).toMatchObject({ minRunHours: 24, burnInHours: 12 });
    expect(problemsOf(() => parsePolicy({ kind: 'experiment', ...base, minRunHours: '24', nonInferiorityMargin: 0.1 }))).toEqual([
      `'minRunHours' must be a number, got '24'`,
      `'nonInferiorityMargin' is not a policy property`,
    ]);
    expect(() => parsePolicy({ kind: 'experiment', ...base, outcomeDelayMinutes: 0 })).toThrow(`'outcomeDelayMinutes' must be a whole number of minutes between 1 and 18720`);
  });

  test('names the property, the expected type and the value received', () => {
    expect(problemsOf(() => parsePolicy({ kind: 'experiment', ...base, alpha: 'low', metric: { ...metric, kind: 'median' }, colour: 'red' }))).toEqual([
      `'metric.kind' must be 'rate' or 'mean', got 'median'`,
      `'alpha' must be a number, got 'low'`,
      `'colour' is not a policy property`,
    ]);
    expect(problemsOf(() => parsePolicy({ kind: 'bandit', candidate: 'green', metric }))).toEqual([`'baseline' is required (string)`]);
  });

  test('rejects an unknown kind and non-objects', () => {
    expect(() => parsePolicy({ kind: 'canary' })).toThrow(`'kind' must be 'progressive', 'experiment' or 'bandit', got 'canary'`);
    expect(() => parsePolicy([1])).toThrow('a policy must be a JSON object, got [1]');
  });

  test('applies the range rules after the types', () => {
    expect(() => parsePolicy({ kind: 'progressive', ...base, steps: [10, 5, 100] }))
      .toThrow(`'steps' must be strictly increasing whole percentages between 1 and 100 ending at 100, got [10,5,100]`);
  });
});

describe('policyHash', () => {
  const spec = RolloutPolicy.experiment(base).spec;

  test('is 16 hex digits, the same for the same spec whatever the key order', () => {
    const reordered = JSON.parse(canonicalJson(spec)) as typeof spec;
    const reversed = Object.fromEntries(Object.entries(spec).reverse()) as typeof spec;
    expect(policyHash(spec)).toMatch(/^[0-9a-f]{16}$/);
    expect(policyHash(reversed)).toBe(policyHash(spec));
    expect(policyHash(reordered)).toBe(policyHash(spec));
    expect(RolloutPolicy.experiment(base).hash).toBe(policyHash(spec));
  });

  test('changes with any setting', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 99 }), (a, b) => {
      const ha = policyHash({ ...spec, candidateWeight: a });
      const hb = policyHash({ ...spec, candidateWeight: b });
      expect(ha === hb).toBe(a === b);
    }));
  });

  test('sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[2,{"e":0,"f":1}]},"b":1}');
  });
});
