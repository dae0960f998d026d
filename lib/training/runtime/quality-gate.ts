import { formatValue, ModelshipError } from '../../runtime/errors';

/**
 * The error of a run that missed its quality gate; its cause is the thresholds' results as JSON
 * (`ThresholdResult[]`). The pipeline fails with it and the CLI reads it.
 */
export const GATE_MISSED_ERROR = 'Modelship.QualityGateFailed';

/** How a final metric is compared with its threshold. */
export type ThresholdOperator = '>=' | '>' | '<=' | '<';

/** One rule of a quality gate: `validation:auc >= 0.85`. */
export interface MetricThreshold {
  /** The metric's name, as declared in the training job's metric definitions. */
  readonly metric: string;
  /** The comparison. */
  readonly operator: ThresholdOperator;
  /** The finite number the final value is compared with. */
  readonly value: number;
}

/** One final metric value, as `DescribeTrainingJob` reports it in `FinalMetricDataList`. */
export interface FinalMetric {
  readonly MetricName: string;
  /** A number, or a string such as `'NaN'` where the value was not finite. */
  readonly Value: number | string;
  readonly Timestamp?: string | number;
}

/** The outcome of one threshold. */
export interface ThresholdResult extends MetricThreshold {
  /** The final value, or `null` when the job did not report the metric. */
  readonly actual: number | null;
  readonly passed: boolean;
  /** Why it passed or failed, in words: `validation:auc = 0.91 >= 0.85`. */
  readonly reason: string;
}

/** The outcome of a quality gate. */
export interface GateResult {
  /** True only when every threshold passed. */
  readonly passed: boolean;
  readonly results: ThresholdResult[];
}

const THRESHOLD = /^\s*([^\s<>=]+)\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$/;

/**
 * Parses a threshold such as `validation:auc >= 0.85` or `validation:loss <= 0.3`.
 * @throws ModelshipError naming the expected form and the expression received
 */
export function parseThreshold(expression: string): MetricThreshold {
  const match = THRESHOLD.exec(expression);
  const value = match ? Number(match[3]) : NaN;
  if (!match || !Number.isFinite(value)) {
    throw new ModelshipError('Invalid quality gate', [
      `'qualityGate' entries must read '<metric> <op> <number>' with op one of >=, >, <=, < (for example 'validation:auc >= 0.85'), got ${formatValue(expression)}`,
    ]);
  }
  return { metric: match[1], operator: match[2] as ThresholdOperator, value };
}

/** Renders a threshold back to its expression. */
export function formatThreshold(threshold: MetricThreshold): string {
  return `${threshold.metric} ${threshold.operator} ${threshold.value}`;
}

function compare(actual: number, operator: ThresholdOperator, limit: number): boolean {
  switch (operator) {
    case '>=': return actual >= limit;
    case '>': return actual > limit;
    case '<=': return actual <= limit;
    case '<': return actual < limit;
  }
}

/** The last reported value of each metric (by timestamp when there is one). */
function latestValues(metrics: readonly FinalMetric[]): Map<string, number> {
  const sorted = [...metrics].sort((a, b) => Number(new Date(a.Timestamp ?? 0)) - Number(new Date(b.Timestamp ?? 0)));
  return new Map(sorted.map((m) => [m.MetricName, Number(m.Value)]));
}

/**
 * Compares final metrics with thresholds. A missing metric fails its threshold, and so does
 * a value that is not finite (NaN, Infinity): a diverged model never passes a gate.
 */
export function evaluateGate(thresholds: readonly MetricThreshold[], finalMetrics: readonly FinalMetric[]): GateResult {
  const values = latestValues(finalMetrics);
  const results = thresholds.map((threshold): ThresholdResult => {
    const expression = formatThreshold(threshold);
    const actual = values.get(threshold.metric);
    if (actual === undefined) {
      return { ...threshold, actual: null, passed: false, reason: `${threshold.metric} was not reported (needs ${expression})` };
    }
    if (!Number.isFinite(actual)) {
      return { ...threshold, actual: null, passed: false, reason: `${threshold.metric} is ${actual} (needs ${expression})` };
    }
    const passed = compare(actual, threshold.operator, threshold.value);
    return {
      ...threshold,
      actual,
      passed,
      reason: `${threshold.metric} = ${actual} ${passed ? 'meets' : 'misses'} ${threshold.operator} ${threshold.value}`,
    };
  });
  return { passed: results.every((r) => r.passed), results };
}
