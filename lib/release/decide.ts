/**
 * The release controller's decision at each tick: from the policy, the stored state and what was
 * observed, the action to take and the state that follows. Pure: time comes in the observation,
 * randomness (bandits only) as a function; the controller clears manual phases through
 * `applyManualAction`.
 */
import { formatValue, throwIfProblems } from '../runtime/errors';
import { seededRandom, UniformSource } from './random';
import type {
  Action, Decision, Evidence, Observation, PolicySpec, RolloutState, VariantCounts,
} from './rollout-types';
import { evaluateGuardrails, firstBreach } from './guardrails';
import { probabilityBest, sequentialTest, SequentialTestResult } from './statistics';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * What the sequential test runs on: the window of counts and its level.
 *
 * - Experiment: counts since the start, at alpha.
 * - Progressive: counts since the step began, at alpha / (steps before 100). Within a step the
 *   split is constant, so a daily cycle in conversions affects both variants alike; pooled across
 *   steps whose splits differ it would not (the candidate's traffic would be concentrated in later
 *   hours), which biases the comparison. The test restarts at each step, so its level is split
 *   between the steps (Bonferroni) to keep the whole rollout's false promotion at alpha.
 * - Bandit: counts since the start, at alpha / 2. Its allocation follows the data, which breaks
 *   the constant split the mSPRT's guarantee assumes (a lucky arm gets the traffic, the other's
 *   estimate stays noisy for longer); simulation (bench/release) shows the false-promotion rate
 *   above alpha at the nominal level.
 */
export function testWindow(policy: PolicySpec, observation: Observation): { readonly window: Readonly<Record<string, VariantCounts>>; readonly alpha: number } {
  switch (policy.kind) {
    case 'progressive':
      return { window: observation.step, alpha: policy.alpha / Math.max(1, policy.steps.length - 1) };
    case 'bandit':
      return { window: observation.total, alpha: policy.alpha / 2 };
    default:
      return { window: observation.total, alpha: policy.alpha };
  }
}

const ZERO: VariantCounts = { invocations: 0, errors: 0, conversions: 0, valueSum: 0, valueSumOfSquares: 0 };

/** A manual action a person takes on a rollout. */
export type ManualAction = 'pause' | 'resume' | 'promote' | 'abort';

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
 * The state after a person's action. `pause` holds a running or awaiting rollout where it is;
 * `resume` restarts a paused one at the same step and weights, its step clock (and so its
 * max-duration clock) reset; `promote` sends all traffic to the candidate; `abort` all to the
 * baseline. A finished rollout, or an action that does not apply to the phase, throws.
 */
export function applyManualAction(policy: PolicySpec, state: RolloutState, action: ManualAction, nowMs: number): RolloutState {
  const allowed: Record<ManualAction, readonly string[]> = {
    pause: ['running', 'awaiting-approval'],
    resume: ['paused'],
    promote: ['running', 'paused', 'awaiting-approval'],
    abort: ['running', 'paused', 'awaiting-approval'],
  };
  throwIfProblems('Invalid manual action', allowed[action].includes(state.phase)
    ? []
    : [`'${action}' applies to a rollout that is ${allowed[action].join(', ')}, got ${formatValue(state.phase)}`]);
  switch (action) {
    case 'pause':
      return { ...state, phase: 'paused' };
    case 'resume':
      return { ...state, phase: 'running', stepStartedAtMs: nowMs };
    case 'promote':
      return { ...state, phase: 'promoted', weights: splitWeights(policy, 100), stepStartedAtMs: nowMs };
    default:
      return { ...state, phase: 'aborted', weights: splitWeights(policy, 0), stepStartedAtMs: nowMs };
  }
}

function countsOf(window: Readonly<Record<string, VariantCounts>>, variant: string): VariantCounts {
  return window[variant] ?? ZERO;
}

function percent(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

/** The evidence: the counts the test ran on (see `testWindow`) and its numbers. */
function evidenceOf(policy: PolicySpec, observation: Observation, test?: SequentialTestResult, best?: Record<string, number>): Evidence {
  const { window } = testWindow(policy, observation);
  return {
    baseline: countsOf(window, policy.baseline),
    candidate: countsOf(window, policy.candidate),
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
 * - A guardrail breach (`evaluateGuardrails`: an alarm, a significant excess of errors, p99
 *   latency over the limit) aborts at once, even when other metrics are incomplete.
 * - Incomplete metrics: hold.
 * - The sequential test (see `testWindow` for its counts and level): significantly worse aborts;
 *   significantly better promotes (or awaits approval when the policy has a manual gate).
 * - Progressive: advance once the step's minimum time and candidate invocations are met and the
 *   evidence does not lean worse; advancing from the last step below 100 (or finishing the step at
 *   100) promotes.
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
  if (breach) {
    return done('abort', { ...state, phase: 'aborted', weights: splitWeights(policy, 0), stepStartedAtMs: observation.atMs }, breach.reason);
  }
  if (!observation.complete) {
    return done('hold', state, 'Holding: some metrics for this tick are missing or late.');
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
  const evidence = evidenceOf(policy, observation, test, best);
  const finish = (action: Action, next: RolloutState, reason: string) => done(action, next, reason, evidence);

  const promote = (why: string): Decision => (policy.manualGateBeforePromotion
    ? finish('pause', { ...state, phase: 'awaiting-approval' }, `Awaiting approval to promote: ${why}.`)
    : finish('promote', { ...state, phase: 'promoted', weights: splitWeights(policy, 100), stepStartedAtMs: observation.atMs }, `Promoted: ${why}.`));

  if (test.verdict === 'worse') {
    return finish('abort', { ...state, phase: 'aborted', weights: splitWeights(policy, 0), stepStartedAtMs: observation.atMs },
      `Aborted: the candidate is significantly worse (${describeTest(test)}).`);
  }
  if (test.verdict === 'better') {
    return promote(`the candidate is significantly better (${describeTest(test)})`);
  }

  if (policy.kind === 'progressive') {
    const stepMinutes = (observation.atMs - state.stepStartedAtMs) / MINUTE_MS;
    const samples = countsOf(observation.step, policy.candidate).invocations;
    const last = policy.steps.length - 1;
    if (stepMinutes >= policy.minStepMinutes && samples >= policy.minSamplesPerStep && !test.leansWorse) {
      if (state.step >= last - 1) {
        return promote(`the last step's time and samples are met and the candidate is not worse (${describeTest(test)})`);
      }
      const next = state.step + 1;
      return finish('advance', { ...state, step: next, weights: splitWeights(policy, policy.steps[next]), stepStartedAtMs: observation.atMs },
        `Advancing to ${policy.steps[next]}%: step ${state.step + 1} had ${Math.floor(stepMinutes)} minutes and ${samples} candidate invocations and the candidate is not worse (${describeTest(test)}).`);
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
    const why = test.leansWorse ? 'the evidence leans towards a worse candidate' : 'the step needs more time or candidate invocations';
    return finish('hold', state, `Holding at ${policy.steps[state.step]}%: ${why} (${describeTest(test)}).`);
  }
  return finish('hold', state, `Holding: no conclusion yet (${describeTest(test)}).`);
}
