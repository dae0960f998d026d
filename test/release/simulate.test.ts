import * as fc from 'fast-check';
import { RolloutPolicy } from '../../lib/release/rollout-policy';
import type { CohortCounts, PrimaryMetricSpec } from '../../lib/release/rollout-types';
import { Scenario, simulate } from '../../lib/release/simulate';
import { estimateArm } from '../../lib/release/statistics';

const metric: PrimaryMetricSpec = { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: 0.1, betterWhen: 'higher' };
const variants = { baseline: 'blue', candidate: 'green' };
/** An experiment that may decide at once, on outcomes 15 minutes old. */
const experiment = RolloutPolicy.experiment({ ...variants, metric, minRunHours: 0, outcomeDelayMinutes: 15 }).spec;
const progressive = RolloutPolicy.progressive({ ...variants, metric, stepPercent: 25, minSamplesPerStep: 200, outcomeDelayMinutes: 15 }).spec;
const HOUR = 3_600_000;

function rate(baseline: number, candidate: number, maxHours = 48, extra: Partial<Scenario> = {}): Scenario {
  return { kind: 'rate', baseline: { conversionRate: baseline }, candidate: { conversionRate: candidate }, trafficPerHour: 2000, maxHours, ...extra };
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const exposures = (c: CohortCounts) => sum(c.exposures);

describe('simulate', () => {
  test('is deterministic for a seed and differs across seeds', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1e9 }), (seed) => {
      const scenario = rate(0.1, 0.11, 12, { seasonality: { trafficAmplitude: 0.3, conversionAmplitude: 0.2 }, users: { requestsPerUser: 3 } });
      expect(simulate(progressive, scenario, seed)).toEqual(simulate(progressive, scenario, seed));
    }), { numRuns: 10 });
    const a = simulate(experiment, rate(0.1, 0.1, 12), 1).last.evidence;
    const b = simulate(experiment, rate(0.1, 0.1, 12), 2).last.evidence;
    expect(a).not.toEqual(b);
  });

  test('promotes a much better candidate and aborts a much worse one', () => {
    const better = simulate(experiment, rate(0.1, 0.15), 7);
    expect(better).toMatchObject({ decision: 'promote', phase: 'promoted' });
    expect(better.samples).toBe(better.last.evidence.baseline.exposures + better.last.evidence.candidate.exposures);
    expect(better.hours).toBe(better.trajectory[better.trajectory.length - 1].atMs / HOUR);
    expect(simulate(experiment, rate(0.1, 0.05), 7)).toMatchObject({ decision: 'abort', phase: 'aborted' });
  });

  test('records every tick with weights summing to 100; the test sees the predictions older than the attribution window', () => {
    const result = simulate(progressive, rate(0.1, 0.1, 6), 3);
    expect(result.trajectory).toHaveLength(6 * 4);
    result.trajectory.forEach((point, i) => {
      expect(point.atMs).toBe((i + 1) * 15 * 60_000);
      expect(point.weights.blue + point.weights.green).toBe(100);
    });
    // 6 hours of traffic less the last 30 minutes: the metric lag (3 minutes) and the attribution
    // window (15) end the cohorts at 5:42, so the last whole period ends at 5:30.
    const seen = exposures(result.observation.total.blue) + exposures(result.observation.total.green);
    expect(Math.abs(seen - 11_000)).toBeLessThan(5 * Math.sqrt(11_000));
    expect(result.observation.cohortEndMs).toBe(6 * HOUR - 18 * 60_000);
  });

  test('never counts a prediction made before the rollout, nor its late outcome', () => {
    // The baseline served 48 hours before; its outcomes arrive up to hours into the rollout.
    const scenario = rate(0.1, 0.1, 3, { preRolloutHours: 48, users: { requestsPerUser: 5, hoursBetweenRequests: 6 } });
    const delayed: Scenario = { ...scenario, baseline: { conversionRate: 0.1, outcomeDelayMinutes: 120 }, candidate: { conversionRate: 0.1, outcomeDelayMinutes: 120 } };
    const result = simulate(experiment, delayed, 4);
    const { blue, green } = result.observation.total;
    // Conversions can only come from the rollout's own predictions: at most one per prediction, about 10%.
    const predictions = exposures(blue) + exposures(green);
    const conversions = sum(blue.outcomes) + sum(green.outcomes);
    expect(predictions).toBeGreaterThan(0);
    expect(conversions / predictions).toBeLessThan(0.1 + 5 * Math.sqrt(0.09 / predictions));
  });

  test('repeated users with different propensities widen the clustered variance', () => {
    const policy = RolloutPolicy.experiment({ ...variants, metric, minRunHours: 0, outcomeDelayMinutes: 15, maxDurationHours: 48 }).spec;
    const variance = (requestsPerUser: number) => {
      const result = simulate(policy, rate(0.1, 0.1, 48, { users: { requestsPerUser, propensityShape: 0.5, hoursBetweenRequests: 4 }, preRolloutHours: 24 }), 11);
      return estimateArm('rate', result.observation.total.blue).variance;
    };
    // One request per user: the Bernoulli variance p(1 − p); ten with spread propensities: several times it.
    expect(variance(1)).toBeLessThan(0.09 * 1.6);
    expect(variance(10)).toBeGreaterThan(0.09 * 2);
  });

  test('a missing outcome series leaves its periods out for both variants', () => {
    const result = simulate(experiment, rate(0.1, 0.1, 12, { missingOutcomes: { variant: 'baseline', fromHour: 2, hours: 3 } }), 5);
    expect(result.observation.missingPeriods).toBe(3 * 4);
  });

  test('an under-counted candidate shows in the sample ratio, and forced requests only in the requests', () => {
    const result = simulate(experiment, rate(0.1, 0.1, 24, { candidateUndercount: 0.1, forcedPerHour: 500 }), 6);
    const ratio = result.last.evidence.sampleRatio!;
    expect(ratio.expected).toBe(0.5);
    expect(ratio.observed).toBeLessThan(0.49);
    expect(result).toMatchObject({ decision: 'pause', phase: 'paused' });
    expect(result.last.reason).toMatch(/sample-ratio mismatch/);
    const { requests, total } = result.observation;
    expect(requests.total.green.invocations - requests.total.blue.invocations).toBeGreaterThan(500 * (result.hours - 1));
    expect(Math.abs(exposures(total.green) - 0.9 * 0.9 * exposures(total.blue) - 0.1 * exposures(total.blue))).toBeLessThan(0.02 * exposures(total.blue));
  });

  test('measures regret against the truly better variant', () => {
    // No difference: nothing to lose.
    expect(simulate(experiment, rate(0.1, 0.1, 4), 1).regret).toBe(0);
    // A 50/50 experiment that cannot conclude in one hour loses half the traffic times the gap.
    expect(simulate(experiment, rate(0.1, 0.11, 1), 1).regret).toBeCloseTo(2000 * 0.5 * 0.01, 9);
  });

  test('draws log-normal values for a mean metric', () => {
    const mean: PrimaryMetricSpec = { ...metric, kind: 'mean', outcomeType: 'revenue' };
    const policy = RolloutPolicy.experiment({ ...variants, metric: mean, minRunHours: 0, outcomeDelayMinutes: 15 }).spec;
    const scenario: Scenario = {
      kind: 'mean', trafficPerHour: 4000, maxHours: 2,
      baseline: { conversionRate: 0.2, logMean: 1, logSd: 0.5 }, candidate: { conversionRate: 0.2, logMean: 1, logSd: 0.5 },
    };
    const { blue } = simulate(policy, scenario, 5).observation.total;
    // E[value per prediction] = 0.2 × exp(μ + σ²/2) = 0.2 × e^1.125.
    const perPrediction = sum(blue.outcomes) / exposures(blue);
    expect(perPrediction).toBeGreaterThan(0.2 * Math.exp(1.125) * 0.9);
    expect(perPrediction).toBeLessThan(0.2 * Math.exp(1.125) * 1.1);
  });
});
