import * as fc from 'fast-check';
import { RolloutPolicy } from '../../lib/release/rollout-policy';
import type { PrimaryMetricSpec } from '../../lib/release/rollout-types';
import { Scenario, simulate } from '../../lib/release/simulate';

const metric: PrimaryMetricSpec = { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: 0.1, betterWhen: 'higher' };
const experiment = RolloutPolicy.experiment({ baseline: 'blue', candidate: 'green', metric }).spec;
const progressive = RolloutPolicy.progressive({ baseline: 'blue', candidate: 'green', metric, stepPercent: 25, minSamplesPerStep: 200 }).spec;

function rate(baseline: number, candidate: number, maxHours = 48): Scenario {
  return { kind: 'rate', baseline: { conversionRate: baseline }, candidate: { conversionRate: candidate }, trafficPerHour: 2000, maxHours };
}

describe('simulate', () => {
  test('is deterministic for a seed and differs across seeds', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1e9 }), (seed) => {
      const scenario: Scenario = { ...rate(0.1, 0.11, 24), seasonality: { trafficAmplitude: 0.3, conversionAmplitude: 0.2 } };
      expect(simulate(progressive, scenario, seed)).toEqual(simulate(progressive, scenario, seed));
    }), { numRuns: 20 });
    const a = simulate(experiment, rate(0.1, 0.1, 12), 1).last.evidence;
    const b = simulate(experiment, rate(0.1, 0.1, 12), 2).last.evidence;
    expect(a).not.toEqual(b);
  });

  test('promotes a much better candidate and aborts a much worse one', () => {
    const better = simulate(experiment, rate(0.1, 0.15), 7);
    expect(better).toMatchObject({ decision: 'promote', phase: 'promoted' });
    expect(better.samples).toBe(better.last.evidence.baseline.invocations + better.last.evidence.candidate.invocations);
    expect(better.hours).toBe(better.trajectory[better.trajectory.length - 1].atMs / 3_600_000);
    expect(simulate(experiment, rate(0.1, 0.05), 7)).toMatchObject({ decision: 'abort', phase: 'aborted' });
  });

  test('records every tick with weights summing to 100, and draws traffic near its rate', () => {
    const result = simulate(progressive, rate(0.1, 0.1, 6), 3);
    expect(result.trajectory).toHaveLength(6 * 4);
    result.trajectory.forEach((point, i) => {
      expect(point.atMs).toBe((i + 1) * 15 * 60_000);
      expect(point.weights.blue + point.weights.green).toBe(100);
    });
    expect(Math.abs(result.samples - 12_000)).toBeLessThan(5 * Math.sqrt(12_000));
  });

  test('measures regret against the truly better variant', () => {
    // No difference: nothing to lose.
    expect(simulate(experiment, rate(0.1, 0.1, 4), 1).regret).toBe(0);
    // A 50/50 experiment that cannot conclude in one hour loses half the traffic times the gap.
    expect(simulate(experiment, rate(0.1, 0.11, 1), 1).regret).toBeCloseTo(2000 * 0.5 * 0.01, 9);
  });

  test('draws log-normal values for a mean metric', () => {
    const mean: PrimaryMetricSpec = { ...metric, kind: 'mean', outcomeType: 'revenue' };
    const policy = RolloutPolicy.experiment({ baseline: 'blue', candidate: 'green', metric: mean }).spec;
    const scenario: Scenario = {
      kind: 'mean', trafficPerHour: 4000, maxHours: 2,
      baseline: { conversionRate: 0.2, logMean: 1, logSd: 0.5 }, candidate: { conversionRate: 0.2, logMean: 1, logSd: 0.5 },
    };
    const { baseline } = simulate(policy, scenario, 5).last.evidence;
    // E[value | conversion] = exp(μ + σ²/2) = e^1.125.
    expect(baseline.valueSum / baseline.conversions).toBeGreaterThan(Math.exp(1.125) * 0.93);
    expect(baseline.valueSum / baseline.conversions).toBeLessThan(Math.exp(1.125) * 1.07);
    expect(baseline.valueSumOfSquares).toBeGreaterThan(baseline.valueSum * baseline.valueSum / baseline.conversions);
  });
});
