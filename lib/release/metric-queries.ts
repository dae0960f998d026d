import type { VariantCounts } from './rollout-types';

/**
 * The GetMetricData queries that read a rollout's per-variant counts (from the inference
 * gateway's EMF metrics, or any metrics the user names), and the counts read back. Shared by the controller and the CLI. Pure:
 * query and result shapes match the CloudWatch API structurally, without its client.
 */

/** Where the gateway's metrics are. */
export interface GatewayMetricSource {
  readonly namespace: string;
  /** The `service` dimension Powertools adds. */
  readonly service: string;
  readonly endpointName: string;
  /** The outcome type of the primary metric. */
  readonly outcomeType: string;
}

/** The counts read per variant: each a key of `VariantCounts`. */
export type SeriesKey = keyof VariantCounts;

/** One CloudWatch metric and the statistic to read it with. */
export interface MetricSpec {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** `Sum` for counts and sums; a percentile such as `p99` for latency. */
  readonly stat: string;
}

/** Where a variant's counts come from: invocations at least; a missing series reads as 0. */
export type VariantMetrics = { readonly invocations: MetricSpec } & Partial<Record<Exclude<SeriesKey, 'invocations'>, MetricSpec>>;

/** A GetMetricData query (the subset used). */
export interface MetricQuery {
  readonly Id: string;
  readonly MetricStat: {
    readonly Metric: { readonly Namespace: string; readonly MetricName: string; readonly Dimensions: { Name: string; Value: string }[] };
    readonly Period: number;
    readonly Stat: string;
  };
  readonly ReturnData: boolean;
}

/** A GetMetricData result (the subset used). */
export interface MetricResult {
  readonly Id?: string;
  readonly Values?: number[];
  /** The start of each value's period, in the order of `Values`. */
  readonly Timestamps?: Date[];
  readonly StatusCode?: string;
}

/**
 * The names of the metrics the inference gateway's handlers emit (EMF, per variant; the outcome
 * metrics per outcome type too), for the handlers, the construct's metric methods and the readers.
 */
export const GATEWAY_METRIC_NAMES = {
  invocations: 'Invocations',
  errors: 'Errors',
  gatewayLatency: 'GatewayLatency',
  modelLatency: 'ModelLatency',
  outcomes: 'Outcomes',
  conversions: 'Conversions',
  outcomeValue: 'OutcomeValue',
  outcomeValueSquared: 'OutcomeValueSquared',
  experimentExposures: 'ExperimentExposures',
  experimentConversions: 'ExperimentConversions',
  experimentOutcomeValue: 'ExperimentOutcomeValue',
} as const;

/**
 * The experiment metrics' cluster dimension: every unit falls in one of `UNIT_BUCKETS` buckets
 * (from its keyed hash, independent of its variant), and the release decisions estimate
 * variances from the spread between buckets, so repeated requests of one unit are never taken
 * as independent.
 */
export const UNIT_BUCKET_DIMENSION = 'UnitBucket';

/** How many unit buckets the experiment metrics are split into. */
export const UNIT_BUCKETS = 32;

/**
 * CloudWatch accepts metric datapoints up to two weeks old: an outcome reported later than this
 * after its prediction cannot be attributed to the prediction's time, so the attribution window
 * (the gateway's `outcomeWindow` and the policy's `outcomeDelayMinutes`) stays below it.
 */
export const MAX_ATTRIBUTION_SECONDS = 13 * 86_400;

const names = GATEWAY_METRIC_NAMES;
/** The gateway's metric behind each count, and whether it is counted per outcome type. */
const GATEWAY_SERIES: readonly { key: SeriesKey; metric: string; stat: string; perOutcome: boolean }[] = [
  { key: 'invocations', metric: names.invocations, stat: 'Sum', perOutcome: false },
  { key: 'errors', metric: names.errors, stat: 'Sum', perOutcome: false },
  { key: 'conversions', metric: names.conversions, stat: 'Sum', perOutcome: true },
  { key: 'valueSum', metric: names.outcomeValue, stat: 'Sum', perOutcome: true },
  { key: 'valueSumOfSquares', metric: names.outcomeValueSquared, stat: 'Sum', perOutcome: true },
  { key: 'p99LatencyMs', metric: names.gatewayLatency, stat: 'p99', perOutcome: false },
];

/** Each variant's counts as the inference gateway emits them. */
export function gatewayMetrics(source: GatewayMetricSource, variants: readonly string[]): Record<string, VariantMetrics> {
  const spec = (variant: string, series: (typeof GATEWAY_SERIES)[number]): MetricSpec => ({
    namespace: source.namespace,
    metricName: series.metric,
    dimensions: {
      service: source.service,
      EndpointName: source.endpointName,
      VariantName: variant,
      ...(series.perOutcome ? { OutcomeType: source.outcomeType } : {}),
    },
    stat: series.stat,
  });
  return Object.fromEntries(variants.map((variant) => {
    const [invocations, ...rest] = GATEWAY_SERIES;
    const metrics: VariantMetrics = { invocations: spec(variant, invocations), ...Object.fromEntries(rest.map((series) => [series.key, spec(variant, series)])) };
    return [variant, metrics];
  }));
}

/** The whole window as one period, in the finest unit CloudWatch still keeps at its start: at least a minute. */
export function windowPeriodSeconds(startMs: number, endMs: number): number {
  // CloudWatch keeps minutes for 15 days, 5 minutes for 63, then hours: a finer period than the
  // window's start still has is refused.
  const day = 86_400_000;
  const age = endMs - startMs;
  const unit = age > 63 * day ? 3600 : age > 15 * day ? 300 : 60;
  return Math.max(60, Math.ceil(age / (unit * 1000)) * unit);
}

const queryId = (index: number, key: string) => `v${index}_${key.toLowerCase()}`;

/**
 * One query per series and variant over the window [startMs, endMs], each as a single period,
 * or as datapoints of `periodSeconds` (a multiple of 60) when given, e.g. 3600 for hourly series.
 */
export function metricQueries(
  metrics: Readonly<Record<string, VariantMetrics>>, variants: readonly string[], startMs: number, endMs: number, periodSeconds?: number,
): MetricQuery[] {
  const period = periodSeconds ?? windowPeriodSeconds(startMs, endMs);
  const named = (variant: string) => Object.entries(metrics[variant] ?? {}).filter((entry): entry is [string, MetricSpec] => entry[1] !== undefined);
  return variants.flatMap((variant, v) => named(variant).map(([key, spec]) => ({
    Id: queryId(v, key),
    MetricStat: {
      Metric: {
        Namespace: spec.namespace,
        MetricName: spec.metricName,
        Dimensions: Object.entries(spec.dimensions).map(([Name, Value]) => ({ Name, Value })),
      },
      Period: period,
      Stat: spec.stat,
    },
    ReturnData: true,
  })));
}

/** Per-variant counts from the results, and whether they are complete enough to decide on. */
export interface ReadCounts {
  readonly counts: Record<string, VariantCounts>;
  /**
   * False when CloudWatch reported partial data, or a variant that should have traffic has no
   * invocation datapoint yet: the controller then holds.
   */
  readonly complete: boolean;
}

/**
 * Reads the results back. A metric without datapoints counts 0 (no outcomes yet is a real
 * zero), except invocations of a variant in `expectTraffic`, whose absence means the metrics
 * are late.
 */
export function countsFromResults(results: readonly MetricResult[], variants: readonly string[], expectTraffic: readonly string[]): ReadCounts {
  const byId = new Map(results.map((r) => [r.Id, r]));
  let complete = results.every((r) => r.StatusCode === undefined || r.StatusCode === 'Complete');
  const counts = Object.fromEntries(variants.map((variant, v) => {
    // Sums add up across datapoints (a window CloudWatch splits at a period boundary); a
    // percentile cannot, so the worst one stands.
    const value = (key: string, combine = (a: number, b: number) => a + b) => {
      const values = byId.get(queryId(v, key))?.Values ?? [];
      return values.length === 0 ? undefined : values.reduce(combine);
    };
    const invocations = value('invocations');
    if (invocations === undefined && expectTraffic.includes(variant)) {
      complete = false;
    }
    const p99 = value('p99LatencyMs', (a, b) => Math.max(a, b));
    return [variant, {
      invocations: invocations ?? 0,
      errors: value('errors') ?? 0,
      conversions: value('conversions') ?? 0,
      valueSum: value('valueSum') ?? 0,
      valueSumOfSquares: value('valueSumOfSquares') ?? 0,
      ...(p99 === undefined ? {} : { p99LatencyMs: p99 }),
    }];
  }));
  return { counts, complete };
}

/**
 * Per-variant counts per period, from the results of `metricQueries` with `periodSeconds`: entry
 * i covers [startMs + i × period, startMs + (i + 1) × period). A period without datapoints reads
 * as undefined (no traffic or late metrics; a chart shows a gap), a missing series within a
 * period with invocations as 0; datapoints outside the periods are ignored.
 */
export function countsByPeriod(
  results: readonly MetricResult[], variants: readonly string[], startMs: number, periodSeconds: number, periods: number,
): Record<string, (VariantCounts | undefined)[]> {
  const byId = new Map(results.map((r) => [r.Id, r]));
  const periodMs = periodSeconds * 1000;
  return Object.fromEntries(variants.map((variant, v) => {
    const series = (key: string) => {
      const values = new Array<number | undefined>(periods).fill(undefined);
      const result = byId.get(queryId(v, key));
      (result?.Values ?? []).forEach((value, i) => {
        const at = result?.Timestamps?.[i];
        const index = at === undefined ? -1 : Math.floor((new Date(at).getTime() - startMs) / periodMs);
        if (index >= 0 && index < periods) {
          values[index] = key === 'p99LatencyMs' ? Math.max(values[index] ?? value, value) : (values[index] ?? 0) + value;
        }
      });
      return values;
    };
    const keys: SeriesKey[] = ['invocations', 'errors', 'conversions', 'valueSum', 'valueSumOfSquares', 'p99LatencyMs'];
    const columns = Object.fromEntries(keys.map((key) => [key, series(key)])) as Record<SeriesKey, (number | undefined)[]>;
    return [variant, columns.invocations.map((invocations, i): VariantCounts | undefined => {
      if (invocations === undefined) {
        return undefined;
      }
      const p99 = columns.p99LatencyMs[i];
      return {
        invocations,
        errors: columns.errors[i] ?? 0,
        conversions: columns.conversions[i] ?? 0,
        valueSum: columns.valueSum[i] ?? 0,
        valueSumOfSquares: columns.valueSumOfSquares[i] ?? 0,
        ...(p99 === undefined ? {} : { p99LatencyMs: p99 }),
      };
    })];
  }));
}
