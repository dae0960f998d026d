/**
 * Synthetic rollouts: traffic with known true effects, tick by tick through `decide`, so the
 * controller's error rates, sample sizes and regret can be measured. Deterministic for a seed.
 *
 * Approximations, all chosen to keep thousands of rollouts under a minute without changing the
 * statistics the controller sees:
 * - invocations per tick are Poisson(traffic × interval), normal approximation above 30;
 * - the split between variants, conversions and errors are binomial draws (exact below 30
 *   expected successes, normal approximation with continuity correction above), not per-invocation
 *   coin flips;
 * - a mean metric's values are drawn one by one per conversion (log-normal, exact), so the heavy
 *   tail and the sum of squares are faithful; only the number of conversions is aggregated.
 */
import { decide, initialState } from './decide';
import { sampleBinomial, sampleNormal, samplePoisson, seededRandom } from './random';
import type { Action, Decision, Observation, PolicySpec, RolloutState, VariantCounts } from './rollout-types';

/** One variant's truth in a scenario. */
export interface VariantTruth {
  /** Probability that an invocation converts (0-1). */
  readonly conversionRate: number;
  /** Mean metrics: the log-normal's μ of a conversion's value. @default 0 */
  readonly logMean?: number;
  /** Mean metrics: the log-normal's σ of a conversion's value. @default 1 */
  readonly logSd?: number;
  /** Probability that an invocation fails (0-1). @default 0 */
  readonly errorRate?: number;
}

/** Synthetic traffic with known truth. */
export interface Scenario {
  /** `rate`: conversions; `mean`: log-normal value per conversion, 0 for the rest. */
  readonly kind: 'rate' | 'mean';
  readonly baseline: VariantTruth;
  readonly candidate: VariantTruth;
  /** Invocations per hour, on average. */
  readonly trafficPerHour: number;
  /** Stop simulating after this many hours. */
  readonly maxHours: number;
  /** Daily cycles: relative amplitudes (0-1) of traffic and of both variants' conversion rates. @default - none */
  readonly seasonality?: { readonly trafficAmplitude?: number; readonly conversionAmplitude?: number };
}

/** One tick of a simulated rollout. */
export interface TrajectoryPoint {
  readonly atMs: number;
  /** Weights after the tick's decision. */
  readonly weights: Readonly<Record<string, number>>;
  readonly action: Action;
  readonly reason: string;
}

/** How a simulated rollout ended. */
export interface SimulationResult {
  /** The final action: promote, abort, pause (max duration or awaiting approval), or the last tick's when time ran out. */
  readonly decision: Action;
  /** The final phase (`awaiting-approval` counts as a promotion decided). */
  readonly phase: RolloutState['phase'];
  /** The last tick's full decision. */
  readonly last: Decision;
  readonly trajectory: readonly TrajectoryPoint[];
  /** Invocations of both variants when the rollout stopped. */
  readonly samples: number;
  /** Hours from the start to the stop. */
  readonly hours: number;
  /**
   * Expected outcome value lost against sending all traffic to the truly better variant, over the
   * scenario's `maxHours` (after a stop, traffic stays at the final weights): the sum over ticks of
   * expected traffic × the worse variant's share × the difference in expected value per invocation.
   */
  readonly regret: number;
}

const HOUR_MS = 3_600_000;

function expectedValuePerInvocation(scenario: Scenario, truth: VariantTruth): number {
  if (scenario.kind === 'rate') {
    return truth.conversionRate;
  }
  const mu = truth.logMean ?? 0;
  const sigma = truth.logSd ?? 1;
  return truth.conversionRate * Math.exp(mu + sigma * sigma / 2);
}

interface MutableCounts { invocations: number; errors: number; conversions: number; valueSum: number; valueSumOfSquares: number }

function zero(): MutableCounts {
  return { invocations: 0, errors: 0, conversions: 0, valueSum: 0, valueSumOfSquares: 0 };
}

function add(target: MutableCounts, tick: VariantCounts): void {
  target.invocations += tick.invocations;
  target.errors += tick.errors;
  target.conversions += tick.conversions;
  target.valueSum += tick.valueSum;
  target.valueSumOfSquares += tick.valueSumOfSquares;
}

/**
 * Runs `policy` against `scenario` from time 0, one tick per `evaluationIntervalMinutes`, until a
 * promote, abort, pause or awaiting approval, or `maxHours`. The same seed gives the same result.
 */
export function simulate(policy: PolicySpec, scenario: Scenario, seed: number): SimulationResult {
  const random = seededRandom(seed);
  const tickMs = policy.evaluationIntervalMinutes * 60_000;
  const endMs = scenario.maxHours * HOUR_MS;
  const trafficAmplitude = scenario.seasonality?.trafficAmplitude ?? 0;
  const conversionAmplitude = scenario.seasonality?.conversionAmplitude ?? 0;
  const cycle = (atMs: number, amplitude: number) => 1 + amplitude * Math.sin(2 * Math.PI * atMs / (24 * HOUR_MS));
  const value = { baseline: expectedValuePerInvocation(scenario, scenario.baseline), candidate: expectedValuePerInvocation(scenario, scenario.candidate) };
  const gap = Math.abs(value.candidate - value.baseline);
  const worseIsCandidate = value.candidate < value.baseline;

  let state = initialState(policy, 0);
  const total = { baseline: zero(), candidate: zero() };
  let step = { baseline: zero(), candidate: zero() };
  const trajectory: TrajectoryPoint[] = [];
  let last: Decision | undefined;
  let regret = 0;
  let stoppedAtMs: number | undefined;

  const drawVariant = (truth: VariantTruth, invocations: number, rateFactor: number): VariantCounts => {
    const errors = sampleBinomial(invocations, truth.errorRate ?? 0, random);
    const conversions = sampleBinomial(invocations - errors, Math.min(1, truth.conversionRate * rateFactor), random);
    let valueSum = 0;
    let valueSumOfSquares = 0;
    if (scenario.kind === 'mean') {
      const mu = truth.logMean ?? 0;
      const sigma = truth.logSd ?? 1;
      for (let i = 0; i < conversions; i += 1) {
        const v = Math.exp(mu + sigma * sampleNormal(random));
        valueSum += v;
        valueSumOfSquares += v * v;
      }
    } else {
      valueSum = conversions;
      valueSumOfSquares = conversions;
    }
    return { invocations, errors, conversions, valueSum, valueSumOfSquares };
  };

  for (let atMs = tickMs; atMs <= endMs; atMs += tickMs) {
    const midMs = atMs - tickMs / 2;
    const expectedTraffic = scenario.trafficPerHour * (tickMs / HOUR_MS) * cycle(midMs, trafficAmplitude);
    const worseShare = (worseIsCandidate ? state.weights[policy.candidate] : state.weights[policy.baseline]) / 100;
    regret += expectedTraffic * worseShare * gap * cycle(midMs, conversionAmplitude);
    if (stoppedAtMs !== undefined) {
      continue; // after the stop only the regret of the final weights accrues
    }
    const invocations = samplePoisson(expectedTraffic, random);
    const toCandidate = sampleBinomial(invocations, state.weights[policy.candidate] / 100, random);
    const rateFactor = cycle(midMs, conversionAmplitude);
    const tick = {
      baseline: drawVariant(scenario.baseline, invocations - toCandidate, rateFactor),
      candidate: drawVariant(scenario.candidate, toCandidate, rateFactor),
    };
    add(total.baseline, tick.baseline);
    add(total.candidate, tick.candidate);
    add(step.baseline, tick.baseline);
    add(step.candidate, tick.candidate);
    const observation: Observation = {
      atMs,
      complete: true,
      total: { [policy.baseline]: { ...total.baseline }, [policy.candidate]: { ...total.candidate } },
      step: { [policy.baseline]: { ...step.baseline }, [policy.candidate]: { ...step.candidate } },
      breachedAlarms: [],
    };
    last = decide(policy, state, observation, random);
    trajectory.push({ atMs, weights: last.state.weights, action: last.action, reason: last.reason });
    if (last.state.stepStartedAtMs !== state.stepStartedAtMs) {
      step = { baseline: zero(), candidate: zero() };
    }
    state = last.state;
    if (state.phase !== 'running') {
      stoppedAtMs = atMs;
    }
  }
  if (!last) {
    throw new Error(`The scenario's maxHours (${scenario.maxHours}) is shorter than one tick`);
  }
  return {
    decision: last.action,
    phase: state.phase,
    last,
    trajectory,
    samples: total.baseline.invocations + total.candidate.invocations,
    hours: (stoppedAtMs ?? trajectory[trajectory.length - 1].atMs) / HOUR_MS,
    regret,
  };
}
