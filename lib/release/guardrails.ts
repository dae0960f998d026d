/**
 * Guardrail evaluation: one verdict per guardrail, which the controller acts on (`decide` aborts
 * on the first breach) and `modelship status` shows as it is. Pure.
 */
import type { GuardrailSpec, Observation, PolicySpec, RequestCounts } from './rollout-types';
import { binomialUpperTail } from './statistics';

/**
 * The error-rate guardrail is breached when the candidate's error rate (failed requests over all
 * its requests) in a window (the step, or the whole rollout) exceeds `maxErrorRate` significantly: P(X ≥ errors | invocations, maxErrorRate)
 * ≤ this. One error in three calls against a 1% limit
 * (P = 0.03) is not a breach; five failures in five calls (P = 1e-10) are.
 */
export const ERROR_RATE_SIGNIFICANCE = 0.001;

/** The latency guardrail reads a window's p99 only when it has this many candidate invocations. */
export const MIN_INVOCATIONS_FOR_P99 = 100;

/** The windows the error-rate and latency guardrails are checked over, in this order. */
export type GuardrailWindow = 'step' | 'rollout';

/** One guardrail's verdict. */
export interface GuardrailVerdict {
  /** Which guardrail of the policy. */
  readonly guardrail: keyof GuardrailSpec;
  /** The window of counts (error rate and latency), or the alarm's name. */
  readonly window?: GuardrailWindow;
  readonly alarmName?: string;
  /** The candidate's observed value: an error rate (0-1) or a p99 in ms; absent without data. */
  readonly value?: number;
  /** The policy's limit (error rate 0-1, or ms). */
  readonly limit?: number;
  /** `breached` aborts the rollout; `not-enough-data` cannot breach yet. */
  readonly state: 'ok' | 'breached' | 'not-enough-data';
  /** Why, in a sentence a person reads (the abort reason when breached). */
  readonly reason: string;
}

const ZERO: RequestCounts = { invocations: 0, errors: 0 };
const WINDOW_NAMES: Record<GuardrailWindow, string> = { step: 'this step', rollout: 'the rollout' };

function percent(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

function errorRateVerdict(window: GuardrailWindow, c: RequestCounts, limit: number): GuardrailVerdict {
  const name = WINDOW_NAMES[window];
  if (c.invocations <= 0) {
    return { guardrail: 'maxErrorRate', window, limit, state: 'not-enough-data', reason: `The candidate has no invocations over ${name}.` };
  }
  const value = c.errors / c.invocations;
  const significant = value > limit && binomialUpperTail(c.errors, c.invocations, limit) <= ERROR_RATE_SIGNIFICANCE;
  return {
    guardrail: 'maxErrorRate', window, value, limit, state: significant ? 'breached' : 'ok',
    reason: significant
      ? `Aborted: the candidate's error rate over ${name} is ${percent(value)} (${c.errors} of ${c.invocations}), significantly above the ${percent(limit)} limit.`
      : `The candidate's error rate over ${name} is ${percent(value)} (${c.errors} of ${c.invocations}), not significantly above the ${percent(limit)} limit.`,
  };
}

function latencyVerdict(window: GuardrailWindow, c: RequestCounts, limit: number): GuardrailVerdict {
  const name = WINDOW_NAMES[window];
  if (c.p99LatencyMs === undefined || c.invocations < MIN_INVOCATIONS_FOR_P99) {
    return {
      guardrail: 'maxP99LatencyMs', window, limit, state: 'not-enough-data', ...(c.p99LatencyMs !== undefined ? { value: c.p99LatencyMs } : {}),
      reason: `The candidate's p99 latency over ${name} is read from ${MIN_INVOCATIONS_FOR_P99} invocations on (${c.invocations} so far).`,
    };
  }
  const breached = c.p99LatencyMs > limit;
  return {
    guardrail: 'maxP99LatencyMs', window, value: c.p99LatencyMs, limit, state: breached ? 'breached' : 'ok',
    reason: `${breached ? 'Aborted: t' : 'T'}he candidate's p99 latency over ${name} is ${c.p99LatencyMs} ms, ${breached ? 'above' : 'within'} the ${limit} ms limit.`,
  };
}

/**
 * Every guardrail of the policy against the observation: each alarm (breached in ALARM), then the
 * error rate and the p99 latency over the step and over the rollout, from the requests up to the
 * tick (not the cohort windows: errors and latency are known at once).
 */
export function evaluateGuardrails(policy: PolicySpec, observation: Observation): GuardrailVerdict[] {
  const g = policy.guardrails;
  const verdicts: GuardrailVerdict[] = (g.alarmNames ?? []).map((alarmName) => {
    const breached = observation.breachedAlarms.includes(alarmName);
    return {
      guardrail: 'alarmNames', alarmName, state: breached ? 'breached' : 'ok',
      reason: breached ? `Aborted: guardrail alarm '${alarmName}' is in ALARM.` : `Guardrail alarm '${alarmName}' is not in ALARM.`,
    };
  });
  const windows: Record<GuardrailWindow, RequestCounts> = {
    step: observation.requests.step[policy.candidate] ?? ZERO,
    rollout: observation.requests.total[policy.candidate] ?? ZERO,
  };
  for (const window of ['step', 'rollout'] as const) {
    if (g.maxErrorRate !== undefined) {
      verdicts.push(errorRateVerdict(window, windows[window], g.maxErrorRate));
    }
    if (g.maxP99LatencyMs !== undefined) {
      verdicts.push(latencyVerdict(window, windows[window], g.maxP99LatencyMs));
    }
  }
  return verdicts;
}

/** The first breached guardrail, if any: the one a rollout is aborted for. */
export function firstBreach(verdicts: readonly GuardrailVerdict[]): GuardrailVerdict | undefined {
  return verdicts.find((v) => v.state === 'breached');
}
