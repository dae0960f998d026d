/**
 * Rollout policies: how traffic moves to a candidate and on what evidence. Built with
 * `RolloutPolicy.progressive/experiment/bandit`, read from JSON with `parsePolicy`, identified by
 * `policyHash`. Pure: no SDK, no aws-cdk-lib (durations are plain numbers with their unit in the
 * name, as the policy is stored and hashed as JSON).
 */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { formatValue, throwIfProblems } from '../runtime/errors';
import { MAX_ATTRIBUTION_SECONDS } from './metric-queries';
import type {
  BanditPolicySpec, ExperimentPolicySpec, GuardrailSpec, PolicySpec, PrimaryMetricSpec, ProgressivePolicySpec,
} from './rollout-types';

/** Options every policy takes. */
export interface CommonPolicyOptions {
  /** The variant serving today. */
  readonly baseline: string;
  /** The variant being rolled out or tested. */
  readonly candidate: string;
  /** The business metric the rollout is decided on. */
  readonly metric: PrimaryMetricSpec;
  /** Limits whose breach aborts at once. @default - none */
  readonly guardrails?: GuardrailSpec;
  /** Minutes between ticks (1-1440). @default 15 */
  readonly evaluationIntervalMinutes?: number;
  /** Hours after which an inconclusive rollout pauses for a human (1-2160). @default 336 */
  readonly maxDurationHours?: number;
  /** Probability of promoting a candidate that is no better (0 < alpha < 0.5). @default 0.05 */
  readonly alpha?: number;
  /** Probability of promoting a candidate better by the minimum detectable effect (0.5-0.99). @default 0.8 */
  readonly power?: number;
  /** Pause for a person before promoting. @default false */
  readonly manualGateBeforePromotion?: boolean;
  /** What a failed pre-step hook does. @default 'hold' */
  readonly onHookFailure?: 'hold' | 'abort';
  /**
   * The attribution window in minutes (1-18720, at most 13 days): outcomes reported this long
   * after their prediction count, and the test compares predictions at least this old.
   * @default - the gateway's outcome window
   */
  readonly outcomeDelayMinutes?: number;
  /**
   * Hours the test's predictions must span (from the end of the burn-in to the cohorts' end)
   * before the rollout may be promoted (0-2160): a day covers a daily cycle, a week a weekly
   * one. Aborts never wait for it.
   * @default - experiments and bandits: 168 (a week), or half of `maxDurationHours` when that is shorter; progressive: 0
   */
  readonly minRunHours?: number;
  /**
   * Hours at the start whose predictions the test leaves out: novelty and learning effects
   * (0-2160, less than `maxDurationHours`).
   * @default - a day or half of `minRunHours`, whichever is less (0 for progressive rollouts)
   */
  readonly burnInHours?: number;
}

/** Options of a progressive rollout: explicit `steps`, or `stepPercent` (and `maxPercent`). */
export interface ProgressivePolicyOptions extends CommonPolicyOptions {
  /** Candidate weights in percent, strictly increasing, ending at 100. @default - from `stepPercent` */
  readonly steps?: readonly number[];
  /** Generate steps of this many percent (1-100). @default - `steps` is required */
  readonly stepPercent?: number;
  /** The last generated step before 100 is at most this (`stepPercent`-100). @default 100 */
  readonly maxPercent?: number;
  /** Minimum minutes at a step before advancing (0-10080). @default 60 */
  readonly minStepMinutes?: number;
  /** Minimum invocations of the candidate at a step before advancing (0-10000000). @default 500 */
  readonly minSamplesPerStep?: number;
  /**
   * How much worse than the baseline the candidate may be, relative (greater than 0, less than
   * 1): the last step promotes only when the candidate is shown to be no worse than this.
   * @default - the metric's minimum detectable effect, at most 0.5
   */
  readonly nonInferiorityMargin?: number;
}

/** Options of an A/B experiment at a fixed split. */
export interface ExperimentPolicyOptions extends CommonPolicyOptions {
  /** The candidate's weight in percent during the test (1-99). @default 50 */
  readonly candidateWeight?: number;
}

/** Options of a Thompson-sampling bandit. */
export interface BanditPolicyOptions extends CommonPolicyOptions {
  /** Least weight each variant keeps while the test runs, in percent (0-50). @default 10 */
  readonly floorPercent?: number;
}

const CONTEXT = 'Invalid rollout policy';

/** The longest attribution window: 13 days (`MAX_ATTRIBUTION_SECONDS`). */
const MAX_OUTCOME_DELAY_MINUTES = MAX_ATTRIBUTION_SECONDS / 60;

/** SageMaker's production variant names. */
const VARIANT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** A rollout policy: a validated `PolicySpec` and its hash. */
export class RolloutPolicy<S extends PolicySpec = PolicySpec> {
  /** Shift traffic to the candidate step by step while the evidence allows; promote after the last step. */
  public static progressive(options: ProgressivePolicyOptions): RolloutPolicy<ProgressivePolicySpec> {
    const problems: string[] = [];
    let steps: readonly number[] = [];
    if (options.steps !== undefined && options.stepPercent !== undefined) {
      problems.push(`Specify either 'steps' or 'stepPercent', not both`);
    } else if (options.steps !== undefined) {
      steps = options.steps;
    } else if (options.stepPercent !== undefined) {
      const maxPercent = options.maxPercent ?? 100;
      if (!isWholeIn(options.stepPercent, 1, 100)) {
        problems.push(`'stepPercent' must be a whole percentage between 1 and 100, got ${formatValue(options.stepPercent)}`);
      } else if (!isWholeIn(maxPercent, options.stepPercent, 100)) {
        problems.push(`'maxPercent' must be a whole percentage between 'stepPercent' (${options.stepPercent}) and 100, got ${formatValue(maxPercent)}`);
      } else {
        steps = generateSteps(options.stepPercent, maxPercent);
      }
    } else {
      problems.push(`Specify either 'steps' or 'stepPercent'`);
    }
    if (options.maxPercent !== undefined && options.stepPercent === undefined) {
      problems.push(`'maxPercent' needs 'stepPercent'`);
    }
    const spec: ProgressivePolicySpec = {
      kind: 'progressive',
      ...commonSpec(options, 0),
      steps: [...steps],
      minStepMinutes: options.minStepMinutes ?? 60,
      minSamplesPerStep: options.minSamplesPerStep ?? 500,
      nonInferiorityMargin: options.nonInferiorityMargin ?? Math.min(MAX_DEFAULT_MARGIN, options.metric?.minimumDetectableEffect ?? MAX_DEFAULT_MARGIN),
    };
    return RolloutPolicy.validated(spec, problems);
  }

  /** A fixed-split A/B test that ends with a winner, early when the evidence allows. */
  public static experiment(options: ExperimentPolicyOptions): RolloutPolicy<ExperimentPolicySpec> {
    const spec: ExperimentPolicySpec = { kind: 'experiment', ...commonSpec(options, WEEK_HOURS), candidateWeight: options.candidateWeight ?? 50 };
    return RolloutPolicy.validated(spec, []);
  }

  /** Weights follow each variant's probability of being best (Thompson sampling), above a floor. */
  public static bandit(options: BanditPolicyOptions): RolloutPolicy<BanditPolicySpec> {
    const spec: BanditPolicySpec = { kind: 'bandit', ...commonSpec(options, WEEK_HOURS), floorPercent: options.floorPercent ?? 10 };
    return RolloutPolicy.validated(spec, []);
  }

  /** A policy from a complete spec, validated. */
  public static fromSpec<T extends PolicySpec>(spec: T): RolloutPolicy<T> {
    return RolloutPolicy.validated(spec, []);
  }

  private static validated<T extends PolicySpec>(spec: T, earlier: readonly string[]): RolloutPolicy<T> {
    const problems = [...earlier];
    // Steps already reported as not specifiable are not checked again.
    const skipSteps = spec.kind === 'progressive' && spec.steps.length === 0 && earlier.length > 0;
    problems.push(...policyProblems(spec).filter((p) => !(skipSteps && p.startsWith(`'steps'`))));
    throwIfProblems(CONTEXT, problems);
    return new RolloutPolicy(spec);
  }

  /** The policy as stored: plain JSON. */
  public readonly spec: S;

  private constructor(spec: S) {
    this.spec = spec;
  }

  /** The policy's stable identity (see `policyHash`). */
  public get hash(): string {
    return policyHash(this.spec);
  }
}

/** [step, 2·step, ... ≤ maxPercent], then 100 when the last is not 100. */
function generateSteps(stepPercent: number, maxPercent: number): number[] {
  const steps: number[] = [];
  for (let w = stepPercent; w <= maxPercent; w += stepPercent) {
    steps.push(w);
  }
  if (steps[steps.length - 1] !== 100) {
    steps.push(100);
  }
  return steps;
}

const WEEK_HOURS = 168;
/** A default non-inferiority margin is the metric's MDE, at most this (a margin must be below 1). */
const MAX_DEFAULT_MARGIN = 0.5;
const DAY_HOURS = 24;

/** The common part of a spec; `minRunHours` defaults to `defaultMinRunHours`, or half of `maxDurationHours` when that is shorter; `burnInHours` to a day or half the minimum run. */
function commonSpec(options: CommonPolicyOptions, defaultMinRunHours: number): Omit<ProgressivePolicySpec, 'kind' | 'steps' | 'minStepMinutes' | 'minSamplesPerStep' | 'nonInferiorityMargin'> {
  const maxDurationHours = options.maxDurationHours ?? 336;
  const minRunHours = options.minRunHours ?? (typeof maxDurationHours === 'number' ? Math.min(defaultMinRunHours, maxDurationHours / 2) : defaultMinRunHours);
  return {
    baseline: options.baseline,
    candidate: options.candidate,
    metric: options.metric,
    guardrails: options.guardrails ?? {},
    evaluationIntervalMinutes: options.evaluationIntervalMinutes ?? 15,
    maxDurationHours,
    alpha: options.alpha ?? 0.05,
    power: options.power ?? 0.8,
    manualGateBeforePromotion: options.manualGateBeforePromotion ?? false,
    onHookFailure: options.onHookFailure ?? 'hold',
    ...(options.outcomeDelayMinutes !== undefined ? { outcomeDelayMinutes: options.outcomeDelayMinutes } : {}),
    minRunHours,
    burnInHours: options.burnInHours ?? (typeof minRunHours === 'number' ? Math.min(DAY_HOURS, minRunHours / 2) : 0),
  };
}

function isWholeIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function isIn(value: unknown, min: number, max: number, minExclusive = false, maxExclusive = false): value is number {
  return typeof value === 'number' && Number.isFinite(value)
    && (minExclusive ? value > min : value >= min) && (maxExclusive ? value < max : value <= max);
}

/** Every rule a complete spec breaks, one sentence each naming the property, the rule and the value. */
export function policyProblems(spec: PolicySpec): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, property: string, rule: string, value: unknown) => {
    if (!ok) {
      problems.push(`'${property}' must be ${rule}, got ${formatValue(value)}`);
    }
  };
  const variantRule = 'a SageMaker variant name (1-63 letters, digits and hyphens, starting and ending with a letter or digit)';
  check(typeof spec.baseline === 'string' && VARIANT_NAME.test(spec.baseline), 'baseline', variantRule, spec.baseline);
  check(typeof spec.candidate === 'string' && VARIANT_NAME.test(spec.candidate), 'candidate', variantRule, spec.candidate);
  if (spec.baseline === spec.candidate) {
    problems.push(`'candidate' must differ from 'baseline', got ${formatValue(spec.candidate)} for both`);
  }
  const metric = spec.metric;
  check(metric.kind === 'rate' || metric.kind === 'mean', 'metric.kind', `'rate' or 'mean'`, metric.kind);
  check(typeof metric.outcomeType === 'string' && metric.outcomeType.length > 0, 'metric.outcomeType', 'a non-empty outcome type', metric.outcomeType);
  check(isIn(metric.minimumDetectableEffect, 0, 1, true), 'metric.minimumDetectableEffect', 'a relative change greater than 0 and at most 1', metric.minimumDetectableEffect);
  check(metric.betterWhen === 'higher' || metric.betterWhen === 'lower', 'metric.betterWhen', `'higher' or 'lower'`, metric.betterWhen);
  const g = spec.guardrails;
  if (g.maxErrorRate !== undefined) {
    check(isIn(g.maxErrorRate, 0, 1), 'guardrails.maxErrorRate', 'a share between 0 and 1', g.maxErrorRate);
  }
  if (g.maxP99LatencyMs !== undefined) {
    check(isIn(g.maxP99LatencyMs, 0, Infinity, true), 'guardrails.maxP99LatencyMs', 'a positive number of milliseconds', g.maxP99LatencyMs);
  }
  if (g.alarmNames !== undefined) {
    check(g.alarmNames.every((n) => typeof n === 'string' && n.length > 0), 'guardrails.alarmNames', 'non-empty alarm names', g.alarmNames);
  }
  check(isWholeIn(spec.evaluationIntervalMinutes, 1, 1440), 'evaluationIntervalMinutes', 'a whole number of minutes between 1 and 1440', spec.evaluationIntervalMinutes);
  check(isIn(spec.maxDurationHours, 1, 2160), 'maxDurationHours', 'a number of hours between 1 and 2160', spec.maxDurationHours);
  check(isIn(spec.alpha, 0, 0.5, true, true), 'alpha', 'greater than 0 and less than 0.5', spec.alpha);
  check(isIn(spec.power, 0.5, 0.99), 'power', 'between 0.5 and 0.99', spec.power);
  check(typeof spec.manualGateBeforePromotion === 'boolean', 'manualGateBeforePromotion', 'true or false', spec.manualGateBeforePromotion);
  check(spec.onHookFailure === 'hold' || spec.onHookFailure === 'abort', 'onHookFailure', `'hold' or 'abort'`, spec.onHookFailure);
  if (spec.outcomeDelayMinutes !== undefined) {
    check(isWholeIn(spec.outcomeDelayMinutes, 1, MAX_OUTCOME_DELAY_MINUTES), 'outcomeDelayMinutes',
      `a whole number of minutes between 1 and ${MAX_OUTCOME_DELAY_MINUTES} (13 days: CloudWatch takes datapoints up to two weeks old)`, spec.outcomeDelayMinutes);
  }
  check(isIn(spec.minRunHours, 0, 2160), 'minRunHours', 'a number of hours between 0 and 2160', spec.minRunHours);
  check(isIn(spec.burnInHours, 0, 2160), 'burnInHours', 'a number of hours between 0 and 2160', spec.burnInHours);
  if (isIn(spec.burnInHours, 0, 2160) && isIn(spec.maxDurationHours, 1, 2160) && spec.burnInHours >= spec.maxDurationHours) {
    problems.push(`'burnInHours' must be less than 'maxDurationHours' (${spec.maxDurationHours}), or the test never sees a prediction, got ${formatValue(spec.burnInHours)}`);
  }
  if (spec.kind !== 'progressive' && isIn(spec.minRunHours, 0, 2160) && isIn(spec.maxDurationHours, 1, 2160) && spec.minRunHours > spec.maxDurationHours) {
    problems.push(`'minRunHours' must be at most 'maxDurationHours' (${spec.maxDurationHours}), or the rollout can never promote, got ${formatValue(spec.minRunHours)}`);
  }
  switch (spec.kind) {
    case 'progressive': {
      const s = spec.steps;
      const ok = s.length > 0 && s.every((w, i) => isWholeIn(w, 1, 100) && (i === 0 || w > s[i - 1])) && s[s.length - 1] === 100;
      check(ok, 'steps', 'strictly increasing whole percentages between 1 and 100 ending at 100', s);
      check(isWholeIn(spec.minStepMinutes, 0, 10080), 'minStepMinutes', 'a whole number of minutes between 0 and 10080', spec.minStepMinutes);
      check(isWholeIn(spec.minSamplesPerStep, 0, 10_000_000), 'minSamplesPerStep', 'a whole number of invocations between 0 and 10000000', spec.minSamplesPerStep);
      check(isIn(spec.nonInferiorityMargin, 0, 1, true, true), 'nonInferiorityMargin', 'a relative margin greater than 0 and less than 1', spec.nonInferiorityMargin);
      break;
    }
    case 'experiment':
      check(isWholeIn(spec.candidateWeight, 1, 99), 'candidateWeight', 'a whole percentage between 1 and 99', spec.candidateWeight);
      break;
    case 'bandit':
      check(isWholeIn(spec.floorPercent, 0, 50), 'floorPercent', 'a whole percentage between 0 and 50', spec.floorPercent);
      break;
    default:
      problems.push(`'kind' must be 'progressive', 'experiment' or 'bandit', got ${formatValue((spec as { kind: unknown }).kind)}`);
  }
  return problems;
}

// ---- JSON ----------------------------------------------------------------------------------

const common = {
  baseline: z.string(),
  candidate: z.string(),
  metric: z.strictObject({
    kind: z.enum(['rate', 'mean']),
    outcomeType: z.string(),
    minimumDetectableEffect: z.number(),
    betterWhen: z.enum(['higher', 'lower']),
  }),
  guardrails: z.optional(z.strictObject({
    maxErrorRate: z.optional(z.number()),
    maxP99LatencyMs: z.optional(z.number()),
    alarmNames: z.optional(z.array(z.string())),
  })),
  evaluationIntervalMinutes: z.optional(z.number()),
  maxDurationHours: z.optional(z.number()),
  alpha: z.optional(z.number()),
  power: z.optional(z.number()),
  manualGateBeforePromotion: z.optional(z.boolean()),
  onHookFailure: z.optional(z.enum(['hold', 'abort'])),
  outcomeDelayMinutes: z.optional(z.number()),
  minRunHours: z.optional(z.number()),
  burnInHours: z.optional(z.number()),
};

const schemas = {
  progressive: z.strictObject({
    ...common,
    kind: z.literal('progressive'),
    steps: z.optional(z.array(z.number())),
    stepPercent: z.optional(z.number()),
    maxPercent: z.optional(z.number()),
    minStepMinutes: z.optional(z.number()),
    minSamplesPerStep: z.optional(z.number()),
    nonInferiorityMargin: z.optional(z.number()),
  }),
  experiment: z.strictObject({ ...common, kind: z.literal('experiment'), candidateWeight: z.optional(z.number()) }),
  bandit: z.strictObject({ ...common, kind: z.literal('bandit'), floorPercent: z.optional(z.number()) }),
};

/** The value at `path` inside `root`, for error messages. */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined), root);
}

function describeIssue(root: unknown, issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  const got = formatValue(valueAt(root, issue.path));
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined && valueAt(root, issue.path) === undefined
        ? `'${path}' is required (${issue.expected})`
        : `'${path}' must be ${issue.expected === 'array' ? 'an array' : `a ${issue.expected}`}, got ${got}`;
    case 'invalid_value':
      return `'${path}' must be ${issue.values.map((v) => formatValue(v)).join(' or ')}, got ${got}`;
    case 'unrecognized_keys':
      return issue.keys.map((k) => `'${path ? `${path}.` : ''}${k}' is not a policy property`).join('; ');
    default:
      return `'${path}' ${issue.message}, got ${got}`;
  }
}

/**
 * Reads a policy from parsed JSON (a CLI `--policy` file, the controller's environment). It takes
 * the options of `RolloutPolicy.progressive/experiment/bandit` plus `kind`, so a complete spec
 * reads back as itself, and throws one `ModelshipError` listing every problem.
 */
export function parsePolicy(json: unknown): PolicySpec {
  const kind = valueAt(json, ['kind']);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throwIfProblems(CONTEXT, [`a policy must be a JSON object, got ${formatValue(json)}`]);
  }
  if (kind !== 'progressive' && kind !== 'experiment' && kind !== 'bandit') {
    throwIfProblems(CONTEXT, [`'kind' must be 'progressive', 'experiment' or 'bandit', got ${formatValue(kind)}`]);
  }
  const parsed = z.safeParse(schemas[kind as keyof typeof schemas], json, { reportInput: true });
  if (!parsed.success) {
    throwIfProblems(CONTEXT, parsed.error.issues.map((issue) => describeIssue(json, issue)));
  }
  const data = parsed.data!;
  switch (data.kind) {
    case 'progressive':
      return RolloutPolicy.progressive(data).spec;
    case 'experiment':
      return RolloutPolicy.experiment(data).spec;
    default:
      return RolloutPolicy.bandit(data).spec;
  }
}

/** JSON with object keys sorted at every level, so equal specs serialize equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A policy's stable identity: the first 16 hex digits of the SHA-256 of its canonical JSON. */
export function policyHash(spec: PolicySpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, 16);
}
