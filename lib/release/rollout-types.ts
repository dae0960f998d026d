/**
 * The contract between the release controller's pure logic (`lib/release/`), the controller
 * Lambda, the CLI and the construct. Plain JSON-serializable data: a policy is stored, hashed
 * and read from files as it is. Pure: no SDK, no aws-cdk-lib, no clock.
 */

/** The business metric a rollout is decided on, per variant, from the gateway's metrics. */
export interface PrimaryMetricSpec {
  /** `rate`: conversions per invocation; `mean`: outcome value (e.g. revenue) per invocation, heavy-tailed. */
  readonly kind: 'rate' | 'mean';
  /** The outcome type the gateway counts (its `OutcomeType` dimension), e.g. `purchase`. */
  readonly outcomeType: string;
  /** The smallest relative change worth detecting, e.g. 0.05 for 5% (0 < mde ≤ 1). */
  readonly minimumDetectableEffect: number;
  /** Which direction is better. */
  readonly betterWhen: 'higher' | 'lower';
}

/** Limits whose breach aborts a rollout at once. */
export interface GuardrailSpec {
  /** Largest acceptable share of failed invocations of the candidate (0-1). @default - no error-rate guardrail */
  readonly maxErrorRate?: number;
  /** Largest acceptable p99 gateway latency of the candidate, in milliseconds. @default - no latency guardrail */
  readonly maxP99LatencyMs?: number;
  /** CloudWatch alarms whose ALARM state aborts the rollout. @default - no alarm guardrail */
  readonly alarmNames?: readonly string[];
}

/** What every policy has. */
export interface CommonPolicySpec {
  /** The variant serving today. */
  readonly baseline: string;
  /** The variant being rolled out or tested. */
  readonly candidate: string;
  /** The business metric the rollout is decided on. */
  readonly metric: PrimaryMetricSpec;
  /** Limits whose breach aborts at once (`{}` for none). */
  readonly guardrails: GuardrailSpec;
  /** Minutes between ticks (1-1440). */
  readonly evaluationIntervalMinutes: number;
  /** Hours after which an inconclusive rollout pauses for a human (1-2160). */
  readonly maxDurationHours: number;
  /** Probability of promoting a candidate that is no better (0 < alpha < 0.5), default 0.05. */
  readonly alpha: number;
  /** Probability of promoting a candidate better by the minimum detectable effect (0.5-0.99), default 0.8. */
  readonly power: number;
  /** Pause for a person before promoting (required in production). */
  readonly manualGateBeforePromotion: boolean;
  /** What a failed pre-step hook does. */
  readonly onHookFailure: 'hold' | 'abort';
  /**
   * The attribution window, in minutes (1-18720, at most 13 days): an outcome counts for its
   * prediction when reported within this long of it, and the test compares only predictions at
   * least this old (plus the metric lag), so every outcome they will get is in.
   * @default - the gateway's outcome window
   */
  readonly outcomeDelayMinutes?: number;
  /**
   * Hours the test's predictions must span (from `testStartMs` to the cohorts' end) before the
   * rollout may be promoted (0-2160, at most `maxDurationHours`): a full day covers a daily
   * cycle, a full week a weekly one. An abort never waits for it.
   */
  readonly minRunHours: number;
  /**
   * Hours at the start of the rollout whose predictions the test leaves out (0-2160, less than
   * `maxDurationHours`): novelty and learning effects, when users react to anything new. The
   * guardrails still watch them.
   */
  readonly burnInHours: number;
}

/** Shift traffic to the candidate step by step while the evidence allows. */
export interface ProgressivePolicySpec extends CommonPolicySpec {
  /** Which kind of policy this is. */
  readonly kind: 'progressive';
  /** Candidate weights in percent, strictly increasing, each 1-100, the last 100. */
  readonly steps: readonly number[];
  /** Minimum minutes at a step before advancing. */
  readonly minStepMinutes: number;
  /** Minimum invocations of the candidate at a step before advancing. */
  readonly minSamplesPerStep: number;
  /**
   * How much worse than the baseline the candidate may be, relative (0 < margin < 1): the last
   * step promotes only when the candidate is shown to be no worse than this (a non-inferiority
   * test at alpha).
   */
  readonly nonInferiorityMargin: number;
}

/** An A/B test at a fixed split that ends with a winner, early if the evidence allows. */
export interface ExperimentPolicySpec extends CommonPolicySpec {
  /** Which kind of policy this is. */
  readonly kind: 'experiment';
  /** The candidate's weight in percent during the test (1-99). */
  readonly candidateWeight: number;
}

/** Weights follow each variant's probability of being best (Thompson sampling), with a floor. */
export interface BanditPolicySpec extends CommonPolicySpec {
  /** Which kind of policy this is. */
  readonly kind: 'bandit';
  /** Least weight each variant keeps while the test runs, in percent (0-50). */
  readonly floorPercent: number;
}

/** Any policy. */
export type PolicySpec = ProgressivePolicySpec | ExperimentPolicySpec | BanditPolicySpec;

/**
 * One variant's experiment counts over a cohort window: the predictions made in the window (to
 * units with sticky assignment) and the outcomes attributed to them, per unit bucket. Every unit
 * falls in one bucket, so the spread between buckets measures the variance of repeated requests
 * by the same units. Metrics without buckets (the ones a user names) are one bucket.
 */
export interface CohortCounts {
  /** Predictions per unit bucket. */
  readonly exposures: readonly number[];
  /** Per unit bucket, the metric's outcome: conversions (`rate`) or the outcome values' sum (`mean`). */
  readonly outcomes: readonly number[];
  /**
   * Per unit bucket, the sum of the squared outcome values, for metrics of one bucket (the
   * variance then assumes independent predictions).
   * @default - absent for the gateway's bucketed metrics
   */
  readonly outcomeSquares?: readonly number[];
}

/** One variant's requests over a window, for the guardrails. */
export interface RequestCounts {
  /** Requests sent to the variant, successful or failed. */
  readonly invocations: number;
  /** Failed requests. */
  readonly errors: number;
  /** p99 gateway latency over the window, when known. @default - absent when the window has no latency datapoint */
  readonly p99LatencyMs?: number;
}

/** What the controller saw at a tick. */
export interface Observation {
  /** The tick's time (epoch ms). */
  readonly atMs: number;
  /** False when a metric the decision needs is late (no datapoint where traffic is expected): the decision is then hold. */
  readonly complete: boolean;
  /**
   * The end of the cohort windows (epoch ms): predictions up to here, old enough for their
   * outcomes to be in, are in `total` and `step`.
   */
  readonly cohortEndMs: number;
  /**
   * Periods left out of the cohort windows because a variant's outcome series was missing where
   * it had predictions (a missing series is never read as zero).
   * @default 0
   */
  readonly missingPeriods?: number;
  /** Experiment counts of the predictions made since the test began (`testStartMs`: the rollout's start plus the burn-in), per variant. */
  readonly total: Readonly<Record<string, CohortCounts>>;
  /** Experiment counts of the predictions made since the current step began, per variant. */
  readonly step: Readonly<Record<string, CohortCounts>>;
  /** Requests per variant since the rollout and since the step began, up to the tick (less the metric lag), for the guardrails. */
  readonly requests: {
    readonly total: Readonly<Record<string, RequestCounts>>;
    readonly step: Readonly<Record<string, RequestCounts>>;
  };
  /** Guardrail alarms in ALARM. */
  readonly breachedAlarms: readonly string[];
}

/** Where a rollout is. */
export type Phase = 'running' | 'paused' | 'awaiting-approval' | 'promoted' | 'aborted';

/** A rollout's state, as stored (without the store's bookkeeping). */
export interface RolloutState {
  /** Where the rollout is. */
  readonly phase: Phase;
  /** Index into the progressive policy's steps (0 for other kinds). */
  readonly step: number;
  /** Weights in whole percent per variant, summing to 100. */
  readonly weights: Readonly<Record<string, number>>;
  /** When the rollout started (epoch ms): the rollout's counts run from it. */
  readonly startedAtMs: number;
  /** When the current step began, or the rollout was last resumed, promoted or aborted (epoch ms): the step's counts and the max-duration clock run from it. */
  readonly stepStartedAtMs: number;
}

/** What a tick decided. */
export type Action = 'advance' | 'hold' | 'promote' | 'abort' | 'pause';

/** A variant's totals in the window a test ran on. */
export interface ArmSummary {
  /** Predictions. */
  readonly exposures: number;
  /** Conversions (`rate`) or the outcome values' sum (`mean`). */
  readonly outcomes: number;
}

/** The numbers behind a decision, kept in the audit trail. */
export interface Evidence {
  /** The baseline's totals in the window the test runs on (`testWindow`). */
  readonly baseline: ArmSummary;
  /** The candidate's totals in the window the test runs on (`testWindow`). */
  readonly candidate: ArmSummary;
  /**
   * The sample-ratio check: the candidate's share of predictions, the share its weight expects, and the check's statistic.
   * @default - absent when the check did not run (bandits, or too few predictions)
   */
  readonly sampleRatio?: { readonly observed: number; readonly expected: number; readonly statistic: number };
  /**
   * The candidate's relative lift estimate (candidate / baseline - 1), when defined.
   * @default - absent when the test did not run or the baseline's mean is 0
   */
  readonly lift?: number;
  /** The test statistic and the threshold it is compared with. @default - absent when the test did not run or was not ready */
  readonly statistic?: number;
  /** The threshold the statistic is compared with (1 / the test's alpha). @default - absent when `statistic` is */
  readonly threshold?: number;
  /** Always-valid p-value, when the method defines one. @default - absent when the test did not run or was not ready */
  readonly pValue?: number;
  /**
   * Bandit: each variant's probability of being best.
   * @default - absent for other kinds of policy, and when a bandit's decision was taken before the test ran
   */
  readonly probabilityBest?: Readonly<Record<string, number>>;
}

/** A tick's decision: the action, the state that follows and why. */
export interface Decision {
  /** What the tick does. */
  readonly action: Action;
  /** The state that follows. */
  readonly state: RolloutState;
  /** Why, in a sentence a person reads. */
  readonly reason: string;
  /** The numbers behind the decision. */
  readonly evidence: Evidence;
}
