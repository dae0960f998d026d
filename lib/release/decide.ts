/**
 * The release controller's decision at each tick: from the policy, the stored state and what was
 * observed, the action to take and the state that follows. Pure: time comes in the observation,
 * randomness (bandits only) as a function; the controller clears manual phases through
 * `applyManualAction`.
 */
import { formatValue, throwIfProblems } from '../runtime/errors';
import { seededRandom, UniformSource } from './random';
import type {
  Action, ArmSummary, CohortCounts, Decision, Evidence, Observation, PolicySpec, RolloutState,
} from './rollout-types';
import { evaluateGuardrails, firstBreach } from './guardrails';
import { probabilityBest, sampleRatioTest, SampleRatioResult, sequentialTest, SequentialTestResult } from './statistics';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * What the sequential test runs on: the cohort window of counts (predictions made since the
 * rollout or the step began, old enough for their outcomes to be in) and its level.
 *
 * - Experiment: counts since the test began (`testStartMs`: after the burn-in), at alpha.
 * - Progressive: counts since the step began, at alpha / (steps before 100). Within a step the
 *   split is constant, so a daily cycle in conversions affects both variants alike; pooled across
 *   steps whose splits differ it would not (the candidate's traffic would be concentrated in later
 *   hours), which biases the comparison. The test restarts at each step, so its level is split
 *   between the steps (Bonferroni) to keep the whole rollout's false promotion at alpha.
 * - Bandit: counts since the test began, at alpha / 2. Its allocation follows the data, which breaks
 *   the constant split the mSPRT's guarantee assumes (a lucky arm gets the traffic, the other's
 *   estimate stays noisy for longer); simulation (bench/release) shows the false-promotion rate
 *   above alpha at the nominal level.
 */
export function testWindow(policy: PolicySpec, observation: Observation): { readonly window: Readonly<Record<string, CohortCounts>>; readonly alpha: number } {
  switch (policy.kind) {
    case 'progressive':
      return { window: observation.step, alpha: policy.alpha / Math.max(1, policy.steps.length - 1) };
    case 'bandit':
      return { window: observation.total, alpha: policy.alpha / 2 };
    default:
      return { window: observation.total, alpha: policy.alpha };
  }
}

const EMPTY: CohortCounts = { exposures: [], outcomes: [] };

/**
 * How long new weights take to reach the traffic after a step: SageMaker applies
 * `UpdateEndpointWeightsAndCapacities` within minutes and the gateway reads the weights at most
 * a minute later. Predictions in between follow the old split.
 */
export const WEIGHTS_SETTLE_MS = 15 * MINUTE_MS;

/**
 * When the test's cohorts begin: the rollout's start plus the policy's burn-in, and not before
 * the first weights have settled (`WEIGHTS_SETTLE_MS`): a rollout that follows another starts
 * from the weights the previous one left, e.g. 100% on a promoted candidate (epoch ms).
 */
export function testStartMs(policy: PolicySpec, state: RolloutState): number {
  return state.startedAtMs + Math.max(policy.burnInHours * HOUR_MS, WEIGHTS_SETTLE_MS);
}

/** When the step's cohorts begin: once its weights have settled, and not before the test's start (epoch ms). */
export function stepCohortStartMs(policy: PolicySpec, state: RolloutState): number {
  return Math.max(testStartMs(policy, state), state.stepStartedAtMs + WEIGHTS_SETTLE_MS);
}

/**
 * A manual action a person takes on a rollout: `advance` one step (`promote` goes to 100% at
 * once), `retry` an aborted rollout from its first step, `undo` back to the baseline even after a
 * promotion.
 */
export type ManualAction = 'pause' | 'resume' | 'advance' | 'promote' | 'abort' | 'retry' | 'undo';

/** Weights with `candidatePercent` on the candidate and the rest on the baseline. */
export function splitWeights(policy: PolicySpec, candidatePercent: number): Record<string, number> {
  return { [policy.baseline]: 100 - candidatePercent, [policy.candidate]: candidatePercent };
}

/** The candidate's weight while the rollout runs at `step`. */
function runningCandidateWeight(policy: PolicySpec, step: number): number {
  switch (policy.kind) {
    case 'progressive':
      return policy.steps[Math.min(step, policy.steps.length - 1)];
    case 'experiment':
      return policy.candidateWeight;
    default:
      return 50;
  }
}

/** The state a rollout starts in: running, first step (or the experiment's split, or 50/50). */
export function initialState(policy: PolicySpec, nowMs: number): RolloutState {
  return { phase: 'running', step: 0, weights: splitWeights(policy, runningCandidateWeight(policy, 0)), startedAtMs: nowMs, stepStartedAtMs: nowMs };
}

/**
 * Where a progressive rollout stands at `candidatePercent`: the last step at or below it (the
 * first step below the first), so the next step is always above it. 0 for other kinds.
 */
export function stepAt(policy: PolicySpec, candidatePercent: number): number {
  if (policy.kind !== 'progressive') {
    return 0;
  }
  const below = policy.steps.filter((weight) => weight <= candidatePercent).length;
  return Math.max(0, below - 1);
}

/**
 * The candidate's weight one step on from `state`: the first step above its current weight, so
 * an advance never lowers it (100 for kinds without steps, or past the last step).
 */
export function nextStepWeight(policy: PolicySpec, state: RolloutState): number {
  const current = state.weights[policy.candidate] ?? 0;
  return policy.kind === 'progressive' ? policy.steps.find((weight) => weight > current) ?? 100 : 100;
}

/**
 * The state after a person moves the weights by hand: the rollout stands where its weights put
 * it, and a step begins at them (its clock and counts from `nowMs`: none of the old split's).
 */
export function shiftedState(
  policy: PolicySpec, state: RolloutState, weights: Readonly<Record<string, number>>, phase: RolloutState['phase'], nowMs: number,
): RolloutState {
  const moved = (weights[policy.candidate] ?? 0) !== (state.weights[policy.candidate] ?? 0);
  return { ...state, phase, weights: { ...weights }, step: stepAt(policy, weights[policy.candidate] ?? 0), ...(moved ? { stepStartedAtMs: nowMs } : {}) };
}

/** The phases of a rollout in progress (not promoted or aborted). */
export const ACTIVE_PHASES: readonly RolloutState['phase'][] = ['running', 'paused', 'awaiting-approval'];

/**
 * The state after a person's action. `pause` holds a running or awaiting rollout where it is;
 * `resume` restarts a paused one at the same step and weights, its step clock (and so its
 * max-duration clock) reset; `advance` moves the candidate to the next step (a promotion when
 * that is 100%, or for kinds without steps) and hands the rollout to the automation; `promote`
 * sends all traffic to the candidate; `abort` all to the baseline; `retry` restarts an aborted
 * rollout from its first step, its counts from now; `undo` sends all traffic back to the
 * baseline, also after a promotion. An action that does not apply to the phase throws.
 */
export function applyManualAction(policy: PolicySpec, state: RolloutState, action: ManualAction, nowMs: number): RolloutState {
  const allowed: Record<ManualAction, readonly string[]> = {
    pause: ['running', 'awaiting-approval'],
    resume: ['paused'],
    advance: ACTIVE_PHASES,
    promote: ACTIVE_PHASES,
    abort: ACTIVE_PHASES,
    retry: ['aborted'],
    undo: [...ACTIVE_PHASES, 'promoted'],
  };
  throwIfProblems('Invalid manual action', allowed[action].includes(state.phase)
    ? []
    : [`'${action}' applies to a rollout that is ${allowed[action].join(', ')}, got ${formatValue(state.phase)}`]);
  const promoted: RolloutState = { ...state, phase: 'promoted', weights: splitWeights(policy, 100), stepStartedAtMs: nowMs };
  switch (action) {
    case 'pause':
      return { ...state, phase: 'paused' };
    case 'resume':
      return { ...state, phase: 'running', stepStartedAtMs: nowMs };
    case 'advance': {
      const weight = nextStepWeight(policy, state);
      return weight >= 100 || state.phase === 'awaiting-approval'
        ? promoted
        : { ...state, phase: 'running', step: stepAt(policy, weight), weights: splitWeights(policy, weight), stepStartedAtMs: nowMs };
    }
    case 'promote':
      return promoted;
    case 'retry':
      return initialState(policy, nowMs);
    default:
      return { ...state, phase: 'aborted', weights: splitWeights(policy, 0), stepStartedAtMs: nowMs };
  }
}

function countsOf(window: Readonly<Record<string, CohortCounts>>, variant: string): CohortCounts {
  return window[variant] ?? EMPTY;
}

function summaryOf(counts: CohortCounts): ArmSummary {
  const total = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
  return { exposures: total(counts.exposures), outcomes: total(counts.outcomes) };
}

/**
 * The sample-ratio check on the test's window, where the split is constant over it: an
 * experiment's whole run, a progressive rollout's step. A bandit's split changes every tick, so
 * it has none.
 */
export function sampleRatioCheck(policy: PolicySpec, state: RolloutState, observation: Observation): SampleRatioResult | undefined {
  if (policy.kind === 'bandit') {
    return undefined;
  }
  const { window } = testWindow(policy, observation);
  const candidateWeight = state.weights[policy.candidate] ?? 0;
  const baselineWeight = state.weights[policy.baseline] ?? 0;
  if (candidateWeight + baselineWeight <= 0) {
    return undefined;
  }
  return sampleRatioTest(countsOf(window, policy.baseline), countsOf(window, policy.candidate), candidateWeight / (candidateWeight + baselineWeight));
}

function percent(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

/** The evidence: the counts the test ran on (see `testWindow`) and its numbers. */
function evidenceOf(policy: PolicySpec, observation: Observation, test?: SequentialTestResult, best?: Record<string, number>, ratio?: SampleRatioResult): Evidence {
  const { window } = testWindow(policy, observation);
  return {
    baseline: summaryOf(countsOf(window, policy.baseline)),
    candidate: summaryOf(countsOf(window, policy.candidate)),
    ...(ratio ? { sampleRatio: { observed: ratio.observed, expected: ratio.expected, statistic: ratio.statistic } } : {}),
    ...(test?.lift !== undefined ? { lift: test.lift } : {}),
    ...(test?.statistic !== undefined ? { statistic: test.statistic, threshold: test.threshold } : {}),
    ...(test?.pValue !== undefined ? { pValue: test.pValue } : {}),
    ...(best ? { probabilityBest: best } : {}),
  };
}

function describeTest(test: SequentialTestResult): string {
  if (test.statistic === undefined) {
    return `the test is not ready (${test.notReady})`;
  }
  const lift = test.lift !== undefined ? `lift ${test.lift >= 0 ? '+' : ''}${(test.lift * 100).toFixed(2)}%, ` : '';
  return `${lift}Λ = ${test.statistic.toPrecision(3)} against ${test.threshold.toPrecision(3)}, p = ${test.pValue!.toPrecision(3)}`;
}

/**
 * One tick's decision.
 *
 * - `paused`, `awaiting-approval`, `promoted`, `aborted`: hold, nothing changes.
 * - A guardrail breach (`evaluateGuardrails` on the requests: an alarm, a significant excess of
 *   errors over all requests, p99 latency over the limit) aborts at once, even when other
 *   metrics are incomplete.
 * - Incomplete metrics: hold.
 * - Data quality: a sample-ratio mismatch (`sampleRatioCheck`) pauses for a person: the counts
 *   cannot be trusted.
 * - The sequential test on the cohort window (see `testWindow`): significantly worse aborts;
 *   significantly better promotes (or awaits approval when the policy has a manual gate) once
 *   the test's predictions span `minRunHours` (from its start to the cohorts' end) and the sample ratio does not lean towards a
 *   mismatch.
 * - Progressive: advance once the step's minimum time and candidate predictions are met and the
 *   evidence does not lean worse; from the last step below 100 (or at 100), promote only when the
 *   candidate is shown to be no worse than the baseline by more than `nonInferiorityMargin`
 *   (a non-inferiority test at alpha on the step's cohorts), after `minRunHours`.
 * - Bandit: the weights follow each variant's probability of being best (Thompson sampling with
 *   `random`; by default a generator seeded with the tick's time, so a decision replays exactly),
 *   kept at or above the floor and rounded to whole percent.
 * - No conclusion after `maxDurationHours` since the step (or the experiment) started: pause.
 */
export function decide(policy: PolicySpec, state: RolloutState, observation: Observation, random?: UniformSource): Decision {
  const done = (action: Action, next: RolloutState, reason: string, evidence: Evidence = evidenceOf(policy, observation)): Decision =>
    ({ action, state: next, reason, evidence });

  if (state.phase !== 'running') {
    const why: Record<string, string> = {
      'paused': 'The rollout is paused until a person resumes it.',
      'awaiting-approval': 'The rollout is waiting for a person to approve the promotion.',
      'promoted': 'The rollout is over: the candidate was promoted.',
      'aborted': 'The rollout is over: it was aborted.',
    };
    return done('hold', state, why[state.phase]);
  }

  const breach = firstBreach(evaluateGuardrails(policy, observation));
  if (breach?.alarmName !== undefined && observation.atMs < state.startedAtMs + WEIGHTS_SETTLE_MS) {
    // An alarm has no window: in the first minutes it may still speak of the weights and the
    // version before this rollout (a new version after an aborted one, a retry).
    return done('hold', state, `Holding: ${breach.reason}, but this rollout's first weights were set less than ${WEIGHTS_SETTLE_MS / MINUTE_MS} minutes ago; `
      + 'the alarm aborts it if it still fires once they have settled.');
  }
  if (breach) {
    return done('abort', { ...state, phase: 'aborted', weights: splitWeights(policy, 0), stepStartedAtMs: observation.atMs }, breach.reason);
  }
  if (!observation.complete) {
    return done('hold', state, 'Holding: some metrics for this tick are missing or late.');
  }

  const ratio = sampleRatioCheck(policy, state, observation);
  if (ratio?.mismatch) {
    return done('pause', { ...state, phase: 'paused' },
      `Paused: sample-ratio mismatch: the candidate has ${percent(ratio.observed)} of the predictions where its weight expects ${percent(ratio.expected)} `
      + `(Λ = ${ratio.statistic.toPrecision(3)}); a logging or routing fault makes the counts untrustworthy, and a person decides.`,
      evidenceOf(policy, observation, undefined, undefined, ratio));
  }

  const { window, alpha } = testWindow(policy, observation);
  const baseline = countsOf(window, policy.baseline);
  const candidate = countsOf(window, policy.candidate);
  const test = sequentialTest(policy.metric, alpha, baseline, candidate);
  let best: Record<string, number> | undefined;
  let banditWeight: number | undefined;
  if (policy.kind === 'bandit') {
    best = probabilityBest(policy.metric, { [policy.baseline]: baseline, [policy.candidate]: candidate }, random ?? seededRandom(observation.atMs));
    banditWeight = Math.min(100 - policy.floorPercent, Math.max(policy.floorPercent, Math.round(100 * best[policy.candidate])));
  }
  const evidence = evidenceOf(policy, observation, test, best, ratio);
  const finish = (action: Action, next: RolloutState, reason: string) => done(action, next, reason, evidence);
  // The minimum run counts the time the test's predictions span, so a week covers a week of data.
  const runHours = Math.max(0, (observation.cohortEndMs - testStartMs(policy, state)) / HOUR_MS);

  const promote = (why: string): Decision | undefined => {
    if (runHours < policy.minRunHours || ratio?.leansMismatched) {
      return undefined;
    }
    return policy.manualGateBeforePromotion
      ? finish('pause', { ...state, phase: 'awaiting-approval' }, `Awaiting approval to promote: ${why}.`)
      : finish('promote', { ...state, phase: 'promoted', weights: splitWeights(policy, 100), stepStartedAtMs: observation.atMs }, `Promoted: ${why}.`);
  };
  const waitToPromote = (why: string) => (observation.atMs - state.stepStartedAtMs >= policy.maxDurationHours * HOUR_MS && ratio?.leansMismatched
    ? finish('pause', { ...state, phase: 'paused' }, `Paused: ${why}, but after ${policy.maxDurationHours} hours the sample ratio still leans towards a mismatch `
      + `(${percent(ratio.observed)} of the predictions on the candidate against ${percent(ratio.expected)}, Λ = ${ratio.statistic.toPrecision(3)}); a person decides.`)
    : finish('hold', state, ratio?.leansMismatched
    ? `Holding: ${why}, but the candidate's share of predictions (${percent(ratio.observed)} against ${percent(ratio.expected)}) leans towards a sample-ratio mismatch (Λ = ${ratio.statistic.toPrecision(3)}).`
      : `Holding: ${why}, but the test's predictions span ${runHours.toFixed(1)} of the minimum ${policy.minRunHours} hours.`));

  if (test.verdict === 'worse') {
    return finish('abort', { ...state, phase: 'aborted', weights: splitWeights(policy, 0), stepStartedAtMs: observation.atMs },
      `Aborted: the candidate is significantly worse (${describeTest(test)}).`);
  }
  if (test.verdict === 'better') {
    const why = `the candidate is significantly better (${describeTest(test)})`;
    return promote(why) ?? waitToPromote(why);
  }

  if (policy.kind === 'progressive') {
    const stepMinutes = (observation.atMs - state.stepStartedAtMs) / MINUTE_MS;
    const samples = summaryOf(countsOf(observation.step, policy.candidate)).exposures;
    const last = policy.steps.length - 1;
    const stepDone = stepMinutes >= policy.minStepMinutes && samples >= policy.minSamplesPerStep && !test.leansWorse;
    const weight = state.weights[policy.candidate] ?? 0;
    if (stepDone && weight >= 100) {
      // All traffic is on the candidate already: there is no baseline left to compare with.
      return promote(`the step at 100% has its time and samples`) ?? waitToPromote('the step at 100% has its time and samples');
    }
    if (stepDone && state.step >= last - 1) {
      const margin = policy.nonInferiorityMargin;
      const ni = sequentialTest(policy.metric, policy.alpha, baseline, candidate, margin);
      if (ni.verdict === 'better') {
        const why = `the last step's time and samples are met and the candidate is no worse than the baseline by more than ${percent(margin)} (${describeTest(ni)})`;
        return promote(why) ?? waitToPromote(why);
      }
      if (observation.atMs - state.stepStartedAtMs < policy.maxDurationHours * HOUR_MS) {
        return finish('hold', state, `Holding at ${weight}%: the candidate is not yet shown to be no worse than the baseline by more than ${percent(margin)} (${describeTest(ni)}).`);
      }
    } else if (stepDone) {
      const next = nextStepWeight(policy, state);
      return finish('advance', { ...state, step: stepAt(policy, next), weights: splitWeights(policy, next), stepStartedAtMs: observation.atMs },
        `Advancing to ${next}%: step ${state.step + 1} had ${Math.floor(stepMinutes)} minutes and ${samples} candidate predictions with outcomes in and the candidate is not worse (${describeTest(test)}).`);
    }
  }

  if (observation.atMs - state.stepStartedAtMs >= policy.maxDurationHours * HOUR_MS) {
    return finish('pause', { ...state, phase: 'paused' },
      `Paused: no conclusion after ${policy.maxDurationHours} hours (${describeTest(test)}); a person decides.`);
  }

  if (policy.kind === 'bandit' && banditWeight !== state.weights[policy.candidate]) {
    return finish('advance', { ...state, weights: splitWeights(policy, banditWeight!) },
      `Reweighting to ${banditWeight}% on the candidate, its probability of being best being ${percent(best![policy.candidate])} (${describeTest(test)}).`);
  }
  if (policy.kind === 'progressive') {
    const why = test.leansWorse ? 'the evidence leans towards a worse candidate' : 'the step needs more time or candidate predictions with outcomes in';
    return finish('hold', state, `Holding at ${state.weights[policy.candidate] ?? 0}%: ${why} (${describeTest(test)}).`);
  }
  return finish('hold', state, `Holding: no conclusion yet (${describeTest(test)}).`);
}
