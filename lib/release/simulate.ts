/**
 * Synthetic rollouts: traffic with known true effects, tick by tick through `decide`, so the
 * controller's error rates, sample sizes and regret can be measured in a world that is not
 * ideal. Deterministic for a seed.
 *
 * The world, request by request:
 * - users: new users arrive at random (traffic / `requestsPerUser` per hour) and each makes a
 *   geometric number of requests (mean `requestsPerUser`) spaced by exponential gaps, with a
 *   fixed propensity multiplier (Gamma, mean 1), a unit bucket and a sticky draw that puts them
 *   on the candidate while the candidate's weight is above it (as the gateway does);
 * - outcomes reported after an exponential delay per variant, up to the gateway's outcome window;
 * - traffic before the rollout (the baseline served all of it; its users come back and its
 *   outcomes arrive during the rollout), daily cycles, novelty, a missing outcome series, an
 *   under-counted candidate (sample-ratio mismatch), forced and unit-less requests.
 *
 * The controller's view is built as the controller reads it: cohort periods of
 * `COHORT_PERIOD_SECONDS` enter the test's windows once they are older than the attribution
 * window, through the same `CohortAccumulator`; outcomes that arrive later are added to their
 * period; requests (with the forced ones) feed the guardrails.
 */
import { CohortAccumulator, COHORT_PERIOD_SECONDS, hasMissingSeries } from './cohorts';
import { decide, initialState, stepCohortStartMs, testStartMs } from './decide';
import { UNIT_BUCKETS } from './metric-queries';
import { sampleGamma, sampleNormal, samplePoisson, seededRandom } from './random';
import type { Action, Decision, Observation, PolicySpec, RequestCounts, RolloutState } from './rollout-types';

/** One variant's truth in a scenario. */
export interface VariantTruth {
  /** Probability that a prediction converts, for a user of average propensity (0-1). */
  readonly conversionRate: number;
  /** Mean metrics: the log-normal's μ of a conversion's value. @default 0 */
  readonly logMean?: number;
  /** Mean metrics: the log-normal's σ of a conversion's value. @default 1 */
  readonly logSd?: number;
  /** Probability that a request fails (0-1). @default 0 */
  readonly errorRate?: number;
  /** Mean minutes between a prediction and the report of its outcome (exponential). @default 0 */
  readonly outcomeDelayMinutes?: number;
}

/** Who makes the requests. */
export interface UserModel {
  /** Mean requests per user (at least 1; 1 makes every request a new user's); each user's count is geometric. */
  readonly requestsPerUser: number;
  /** Mean hours between a user's requests (exponential). @default 12 */
  readonly hoursBetweenRequests?: number;
  /**
   * Spread of users' propensities: the shape k of the Gamma(k, 1/k) multiplier of the conversion
   * rate (mean 1, coefficient of variation 1/√k).
   * @default - every user alike
   */
  readonly propensityShape?: number;
}

/** Synthetic traffic with known truth. */
export interface Scenario {
  /** `rate`: conversions; `mean`: log-normal value per conversion, 0 for the rest. */
  readonly kind: 'rate' | 'mean';
  readonly baseline: VariantTruth;
  readonly candidate: VariantTruth;
  /** Requests per hour with a unit id, on average. */
  readonly trafficPerHour: number;
  /** Stop simulating after this many hours of rollout. */
  readonly maxHours: number;
  /** Daily cycles: relative amplitudes (0-1) of traffic and of both variants' conversion rates. @default - none */
  readonly seasonality?: { readonly trafficAmplitude?: number; readonly conversionAmplitude?: number };
  /** Who makes the requests. @default - one request per user, all alike */
  readonly users?: UserModel;
  /** Hours the baseline served all traffic before the rollout began. @default 0 */
  readonly preRolloutHours?: number;
  /** A variant's outcome series has no datapoints for the predictions of [fromHour, fromHour + hours) of the rollout. @default - none */
  readonly missingOutcomes?: { readonly variant: 'baseline' | 'candidate'; readonly fromHour: number; readonly hours: number };
  /** Share of the candidate's predictions without a conversion that the metrics never count (a logging fault). @default 0 */
  readonly candidateUndercount?: number;
  /** The candidate's extra relative lift during the first `hours` of the rollout. @default - none */
  readonly novelty?: { readonly hours: number; readonly lift: number };
  /** Forced (`variant` override, QA) and unit-less requests per hour, to the candidate, never converting. @default 0 */
  readonly forcedPerHour?: number;
  /** The gateway's outcome window in hours: later outcomes are refused. @default 168 */
  readonly outcomeWindowHours?: number;
  /** How far behind the tick the controller reads metrics, in minutes (its `metricLag`). @default 3 */
  readonly metricLagMinutes?: number;
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
  /** The final action: promote, abort, pause (max duration, mismatch or awaiting approval), or the last tick's when time ran out. */
  readonly decision: Action;
  /** The final phase (`awaiting-approval` counts as a promotion decided). */
  readonly phase: RolloutState['phase'];
  /** The last tick's full decision. */
  readonly last: Decision;
  /** What the controller saw at the last tick it decided on. */
  readonly observation: Observation;
  readonly trajectory: readonly TrajectoryPoint[];
  /** Predictions of both variants in the test's rollout-long cohort window when the rollout stopped. */
  readonly samples: number;
  /** Hours from the start to the stop. */
  readonly hours: number;
  /**
   * Expected outcome value lost against sending all traffic to the truly better variant, over the
   * scenario's `maxHours` (after a stop, traffic stays at the final weights): the sum over ticks of
   * expected traffic × the worse variant's share × the difference in expected value per request.
   */
  readonly regret: number;
}

const HOUR_MS = 3_600_000;
const PERIOD_MS = COHORT_PERIOD_SECONDS * 1000;

function expectedValuePerRequest(scenario: Scenario, truth: VariantTruth): number {
  if (scenario.kind === 'rate') {
    return truth.conversionRate;
  }
  const mu = truth.logMean ?? 0;
  const sigma = truth.logSd ?? 1;
  return truth.conversionRate * Math.exp(mu + sigma * sigma / 2);
}

interface Arrival { readonly period: number; readonly variant: number; readonly bucket: number; readonly value: number }

/** A growable column of numbers (typed, so millions of requests stay cheap). */
class Column {
  public length = 0;
  public values: Float64Array;

  constructor(capacity: number) {
    this.values = new Float64Array(Math.max(16, capacity));
  }

  public push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }
}

/**
 * Runs `policy` against `scenario` from the rollout's start, one tick per
 * `evaluationIntervalMinutes`, until a promote, abort, pause or awaiting approval, or `maxHours`.
 * The same seed gives the same result.
 */
export function simulate(policy: PolicySpec, scenario: Scenario, seed: number): SimulationResult {
  const random = seededRandom(seed);
  const tickMs = policy.evaluationIntervalMinutes * 60_000;
  const endMs = scenario.maxHours * HOUR_MS;
  const preMs = (scenario.preRolloutHours ?? 0) * HOUR_MS;
  const attributionMs = (policy.outcomeDelayMinutes ?? (scenario.outcomeWindowHours ?? 168) * 60) * 60_000;
  const windowMs = (scenario.outcomeWindowHours ?? 168) * HOUR_MS;
  const lagMs = (scenario.metricLagMinutes ?? 3) * 60_000;
  const trafficAmplitude = scenario.seasonality?.trafficAmplitude ?? 0;
  const conversionAmplitude = scenario.seasonality?.conversionAmplitude ?? 0;
  const cycle = (atMs: number, amplitude: number) => 1 + amplitude * Math.sin(2 * Math.PI * atMs / (24 * HOUR_MS));
  const truths = [scenario.baseline, scenario.candidate];
  const names = [policy.baseline, policy.candidate];
  const value = truths.map((t) => expectedValuePerRequest(scenario, t));
  const gap = Math.abs(value[1] - value[0]);
  const worseIsCandidate = value[1] < value[0];
  const newUserShare = 1 / Math.max(1, scenario.users?.requestsPerUser ?? 1);
  const shape = scenario.users?.propensityShape;
  const undercount = scenario.candidateUndercount ?? 0;
  const missing = scenario.missingOutcomes;
  const missingVariant = missing ? (missing.variant === 'baseline' ? 0 : 1) : -1;
  const isMissing = (period: number) => missing !== undefined
    && period * PERIOD_MS >= missing.fromHour * HOUR_MS && period * PERIOD_MS < (missing.fromHour + missing.hours) * HOUR_MS;

  const expectedUsers = scenario.trafficPerHour * (scenario.maxHours + (scenario.preRolloutHours ?? 0)) * newUserShare * 1.2;
  const userDraw = new Column(expectedUsers);
  const userBucket = new Column(expectedUsers);
  const userPropensity = new Column(expectedUsers);
  const gapMs = (scenario.users?.hoursBetweenRequests ?? 12) * HOUR_MS;
  // Returning users' requests, by the tick they fall in.
  const returning = new Map<number, number[]>();
  const periods = Math.ceil(endMs / PERIOD_MS) + 1;
  // Per period, variant and bucket: predictions and the outcomes arrived before the period entered the windows.
  const exposures = new Float64Array(periods * 2 * UNIT_BUCKETS);
  const outcomes = new Float64Array(periods * 2 * UNIT_BUCKETS);
  const slot = (period: number, variant: number, bucket: number) => (period * 2 + variant) * UNIT_BUCKETS + bucket;
  const included = new Int8Array(periods); // 0 pending, 1 in the windows, -1 left out
  const arrivals = new Map<number, Arrival[]>();
  const tickOf = (atMs: number) => Math.ceil(atMs / tickMs);

  let state = initialState(policy, 0);
  const total = new CohortAccumulator(names, UNIT_BUCKETS);
  let step = new CohortAccumulator(names, UNIT_BUCKETS);
  const totalFirstPeriod = Math.ceil(testStartMs(policy, state) / PERIOD_MS);
  let stepFirstPeriod = totalFirstPeriod;
  let nextPeriod = 0;
  const zero = (): { invocations: number; errors: number }[] => [{ invocations: 0, errors: 0 }, { invocations: 0, errors: 0 }];
  const requests = { total: zero(), step: zero() };
  const trajectory: TrajectoryPoint[] = [];
  let last: Decision | undefined;
  let seen: Observation | undefined;
  let regret = 0;
  let stoppedAtMs: number | undefined;

  /** A new user, whose later requests are scheduled; returns their index. */
  const arriveUser = (atMs: number): number => {
    const index = userDraw.length;
    userDraw.push(random());
    userBucket.push(Math.floor(random() * UNIT_BUCKETS));
    userPropensity.push(shape === undefined ? 1 : sampleGamma(shape, random) / shape);
    const more = newUserShare >= 1 ? 0 : Math.floor(Math.log(1 - random()) / Math.log(1 - newUserShare));
    let t = atMs;
    for (let j = 0; j < more; j += 1) {
      t += gapMs * -Math.log(1 - random());
      if (t >= endMs) {
        break;
      }
      const tick = tickOf(t);
      const list = returning.get(tick);
      if (list) {
        list.push(index);
      } else {
        returning.set(tick, [index]);
      }
    }
    return index;
  };

  const serve = (index: number, atMs: number, candidateShare: number, conversionFactor: number) => {
    const bucket = userBucket.values[index];
    const v = userDraw.values[index] < candidateShare ? 1 : 0;
    const truth = truths[v];
    const live = atMs >= 0;
    if (live) {
      requests.total[v].invocations += 1;
      requests.step[v].invocations += 1;
    }
    const failed = random() < (truth.errorRate ?? 0);
    if (failed && live) {
      requests.total[v].errors += 1;
      requests.step[v].errors += 1;
    }
    const novelty = v === 1 && scenario.novelty && atMs >= 0 && atMs < scenario.novelty.hours * HOUR_MS ? 1 + scenario.novelty.lift : 1;
    const converted = !failed && random() < Math.min(1, truth.conversionRate * userPropensity.values[index] * conversionFactor * novelty);
    if (v === 1 && !converted && undercount > 0 && random() < undercount) {
      return; // served, but its prediction never reaches the experiment metrics
    }
    const period = Math.floor(atMs / PERIOD_MS);
    if (live) {
      exposures[slot(period, v, bucket)] += 1;
    }
    if (!converted) {
      return;
    }
    const amount = scenario.kind === 'rate' ? 1 : Math.exp((truth.logMean ?? 0) + (truth.logSd ?? 1) * sampleNormal(random));
    const delay = (truth.outcomeDelayMinutes ?? 0) * 60_000 * -Math.log(1 - random());
    if (delay > windowMs || !live) {
      return; // refused by the gateway, or a prediction from before the rollout: never in its cohorts
    }
    const tick = tickOf(atMs + delay);
    const list = arrivals.get(tick) ?? [];
    list.push({ period, variant: v, bucket: bucket, value: amount });
    arrivals.set(tick, list);
  };

  const arrive = (a: Arrival) => {
    if (included[a.period] === 0) {
      outcomes[slot(a.period, a.variant, a.bucket)] += a.value;
    } else if (included[a.period] === 1) {
      if (a.period >= totalFirstPeriod) {
        total.addOutcome(names[a.variant], a.bucket, a.value);
      }
      if (a.period >= stepFirstPeriod) {
        step.addOutcome(names[a.variant], a.bucket, a.value);
      }
    }
  };

  const enterPeriods = (cohortEndMs: number) => {
    while ((nextPeriod + 1) * PERIOD_MS <= cohortEndMs && nextPeriod < periods) {
      const p = nextPeriod;
      const series = Object.fromEntries(names.map((name, v) => {
        const e = Array.from({ length: UNIT_BUCKETS }, (_, b) => exposures[slot(p, v, b)]);
        // A missing series has no datapoints at all; a present one has the gateway's zeros.
        const o = Array.from({ length: UNIT_BUCKETS }, (_, b) => (v === missingVariant && isMissing(p) ? undefined : outcomes[slot(p, v, b)]));
        return [name, { exposures: e, outcomes: o }];
      }));
      included[p] = hasMissingSeries(series) ? -1 : 1;
      if (p >= totalFirstPeriod) {
        total.addPeriod(series);
      }
      if (p >= stepFirstPeriod) {
        step.addPeriod(series);
      }
      nextPeriod += 1;
    }
  };

  /** The requests of one tick: new users' first and returning users'. */
  const serveTick = (fromMs: number, candidateShare: number) => {
    const midMs = fromMs + tickMs / 2;
    const conversionFactor = cycle(midMs, conversionAmplitude);
    const newUsers = samplePoisson(scenario.trafficPerHour * newUserShare * (tickMs / HOUR_MS) * cycle(midMs, trafficAmplitude), random);
    for (let i = 0; i < newUsers; i += 1) {
      const atMs = fromMs + random() * tickMs;
      serve(arriveUser(atMs), atMs, candidateShare, conversionFactor);
    }
    const tick = tickOf(fromMs + tickMs);
    for (const index of returning.get(tick) ?? []) {
      serve(index, fromMs + random() * tickMs, candidateShare, conversionFactor);
    }
    returning.delete(tick);
  };

  // Before the rollout: the baseline serves everything; users accumulate.
  for (let atMs = -Math.ceil(preMs / tickMs) * tickMs; atMs < 0; atMs += tickMs) {
    serveTick(atMs, 0);
  }

  for (let atMs = tickMs; atMs <= endMs; atMs += tickMs) {
    const fromMs = atMs - tickMs;
    const midMs = atMs - tickMs / 2;
    const expectedTraffic = scenario.trafficPerHour * (tickMs / HOUR_MS) * cycle(midMs, trafficAmplitude);
    const worseShare = (worseIsCandidate ? state.weights[policy.candidate] : state.weights[policy.baseline]) / 100;
    regret += expectedTraffic * worseShare * gap * cycle(midMs, conversionAmplitude);
    if (stoppedAtMs !== undefined) {
      continue; // after the stop only the regret of the final weights accrues
    }
    serveTick(fromMs, state.weights[policy.candidate] / 100);
    const forced = samplePoisson((scenario.forcedPerHour ?? 0) * (tickMs / HOUR_MS), random);
    requests.total[1].invocations += forced;
    requests.step[1].invocations += forced;
    for (const a of arrivals.get(tickOf(atMs)) ?? []) {
      arrive(a);
    }
    arrivals.delete(tickOf(atMs));
    const cohortEndMs = atMs - lagMs - attributionMs;
    enterPeriods(cohortEndMs);

    const counts = (c: { invocations: number; errors: number }[]): Record<string, RequestCounts> => ({ [names[0]]: { ...c[0] }, [names[1]]: { ...c[1] } });
    const observation: Observation = {
      atMs,
      complete: true,
      cohortEndMs,
      missingPeriods: total.missingPeriods,
      total: total.counts(),
      step: step.counts(),
      requests: { total: counts(requests.total), step: counts(requests.step) },
      breachedAlarms: [],
    };
    seen = observation;
    last = decide(policy, state, observation, random);
    trajectory.push({ atMs, weights: last.state.weights, action: last.action, reason: last.reason });
    if (last.state.stepStartedAtMs !== state.stepStartedAtMs) {
      step = new CohortAccumulator(names, UNIT_BUCKETS);
      stepFirstPeriod = Math.ceil(stepCohortStartMs(policy, last.state) / PERIOD_MS);
      requests.step = zero();
    }
    state = last.state;
    if (state.phase !== 'running') {
      stoppedAtMs = atMs;
    }
  }
  if (!last || !seen) {
    throw new Error(`The scenario's maxHours (${scenario.maxHours}) is shorter than one tick`);
  }
  const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
  const counted = total.counts();
  return {
    decision: last.action,
    phase: state.phase,
    last,
    observation: seen,
    trajectory,
    samples: sum(counted[names[0]].exposures) + sum(counted[names[1]].exposures),
    hours: (stoppedAtMs ?? trajectory[trajectory.length - 1].atMs) / HOUR_MS,
    regret,
  };
}
