import { CohortAccumulator, cohortPeriods } from './cohorts';
import type { CohortCounts, PrimaryMetricSpec, RequestCounts } from './rollout-types';

/**
 * The GetMetricData queries that read a rollout's counts (from the inference gateway's EMF
 * metrics, or metrics the user names), and the counts read back: each variant's requests for the
 * guardrails, and its experiment counts by cohort period for the test. Shared by the controller
 * and the CLI. Pure: query and result shapes match the CloudWatch API structurally, without its
 * client.
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

/**
 * One variant's operational counts over a window, as read from the gateway's metrics (all
 * traffic, outcomes when reported) or a user's: what people see, and the guardrails' requests.
 */
export interface VariantCounts extends RequestCounts {
  /** Conversions of the metric's outcome type. */
  readonly conversions: number;
  /** Sum of the outcome values of the metric's type. */
  readonly valueSum: number;
  /** Sum of the squared outcome values. */
  readonly valueSumOfSquares: number;
}

/** The series a variant's metrics may name: each a key of `VariantCounts`. */
export type SeriesKey = keyof VariantCounts;

/** One CloudWatch metric and the statistic to read it with. */
export interface MetricSpec {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** `Sum` for counts and sums; a percentile such as `p99` for latency. */
  readonly stat: string;
}

/**
 * Where a variant's counts come from: invocations at least. The gateway's are its operational
 * metrics (all traffic); a user's are read as one bucket of independent predictions.
 */
export type VariantMetrics = { readonly invocations: MetricSpec } & Partial<Record<Exclude<SeriesKey, 'invocations'>, MetricSpec>>;

/** One unit bucket's experiment series. */
export interface BucketMetrics {
  readonly exposures: MetricSpec;
  /** Conversions (rate) or the outcome values' sum (mean). */
  readonly outcomes: MetricSpec;
  /** The sum of squared outcome values (a user's mean metric, one bucket). @default - absent */
  readonly outcomeSquares?: MetricSpec;
}

/** Where a rollout's counts are read: the gateway's metrics, or metrics the user named per variant. */
export interface RolloutMetricSource {
  /** The gateway's metrics. @default - absent when `custom` is given */
  readonly gateway?: GatewayMetricSource;
  /** Metrics the user named, per variant. @default - absent when `gateway` is given */
  readonly custom?: Readonly<Record<string, VariantMetrics>>;
}

/** Every metric a rollout reads, per variant. */
export interface RolloutMetrics {
  /** Requests, errors and latency, for the guardrails. */
  readonly requests: Readonly<Record<string, VariantMetrics>>;
  /** The experiment series per unit bucket, for the test. */
  readonly cohorts: Readonly<Record<string, readonly BucketMetrics[]>>;
  /**
   * Whether an outcome series has a datapoint wherever there are exposures (the gateway writes a
   * zero with each): then an absent one is missing data; otherwise (a user's metrics, emitted
   * only when something happens) it is a zero.
   */
  readonly zeroFilled: boolean;
}

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
/** The gateway's operational metric behind each count, and whether it is counted per outcome type. */
const GATEWAY_SERIES: readonly { key: SeriesKey; metric: string; stat: string; perOutcome: boolean }[] = [
  { key: 'invocations', metric: names.invocations, stat: 'Sum', perOutcome: false },
  { key: 'errors', metric: names.errors, stat: 'Sum', perOutcome: false },
  { key: 'conversions', metric: names.conversions, stat: 'Sum', perOutcome: true },
  { key: 'valueSum', metric: names.outcomeValue, stat: 'Sum', perOutcome: true },
  { key: 'valueSumOfSquares', metric: names.outcomeValueSquared, stat: 'Sum', perOutcome: true },
  { key: 'p99LatencyMs', metric: names.gatewayLatency, stat: 'p99', perOutcome: false },
];

function gatewaySpec(source: GatewayMetricSource, metricName: string, stat: string, dimensions: Record<string, string>): MetricSpec {
  return { namespace: source.namespace, metricName, dimensions: { service: source.service, EndpointName: source.endpointName, ...dimensions }, stat };
}

/** Each variant's operational counts as the inference gateway emits them (all traffic, at the time they happen). */
export function gatewayMetrics(source: GatewayMetricSource, variants: readonly string[]): Record<string, VariantMetrics> {
  return Object.fromEntries(variants.map((variant) => {
    const spec = (series: (typeof GATEWAY_SERIES)[number]) =>
      gatewaySpec(source, series.metric, series.stat, { VariantName: variant, ...(series.perOutcome ? { OutcomeType: source.outcomeType } : {}) });
    const [invocations, ...rest] = GATEWAY_SERIES;
    const metrics: VariantMetrics = { invocations: spec(invocations), ...Object.fromEntries(rest.map((series) => [series.key, spec(series)])) };
    return [variant, metrics];
  }));
}

/**
 * Every metric a rollout reads. From the gateway: its operational metrics for the guardrails and
 * its experiment metrics per unit bucket (sticky predictions only, outcomes stamped with their
 * prediction's time) for the test. From a user's metrics: the same series for both, as one bucket.
 */
export function rolloutMetrics(source: RolloutMetricSource, variants: readonly string[], kind: PrimaryMetricSpec['kind']): RolloutMetrics {
  if (source.gateway) {
    const gateway = source.gateway;
    const outcomeMetric = kind === 'rate' ? names.experimentConversions : names.experimentOutcomeValue;
    const buckets = (variant: string): BucketMetrics[] => Array.from({ length: UNIT_BUCKETS }, (_, b) => {
      const dimensions = { VariantName: variant, [UNIT_BUCKET_DIMENSION]: String(b) };
      return {
        exposures: gatewaySpec(gateway, names.experimentExposures, 'Sum', dimensions),
        outcomes: gatewaySpec(gateway, outcomeMetric, 'Sum', { ...dimensions, OutcomeType: gateway.outcomeType }),
      };
    });
    return {
      requests: gatewayMetrics(gateway, variants),
      cohorts: Object.fromEntries(variants.map((v) => [v, buckets(v)])),
      zeroFilled: true,
    };
  }
  const custom = source.custom ?? {};
  const requests = Object.fromEntries(variants.filter((v) => custom[v]).map((v) => [v, custom[v]]));
  const cohorts = Object.fromEntries(variants.filter((v) => custom[v]).map((v): [string, BucketMetrics[]] => {
    const m = custom[v];
    const outcomes = kind === 'rate' ? m.conversions : m.valueSum;
    if (!outcomes) {
      return [v, []];
    }
    return [v, [{ exposures: m.invocations, outcomes, ...(kind === 'mean' && m.valueSumOfSquares ? { outcomeSquares: m.valueSumOfSquares } : {}) }]];
  }));
  return { requests, cohorts, zeroFilled: false };
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

function query(Id: string, spec: MetricSpec, period: number): MetricQuery {
  return {
    Id,
    MetricStat: {
      Metric: { Namespace: spec.namespace, MetricName: spec.metricName, Dimensions: Object.entries(spec.dimensions).map(([Name, Value]) => ({ Name, Value })) },
      Period: period,
      Stat: spec.stat,
    },
    ReturnData: true,
  };
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
  return variants.flatMap((variant, v) => named(variant).map(([key, spec]) => query(queryId(v, key), spec, period)));
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
 * Reads the operational counts back. A metric without datapoints counts 0 (errors and outcomes
 * are emitted only when they happen), except invocations of a variant in `expectTraffic`, whose
 * absence means the metrics are late. The test never reads these: its counts are the cohorts'.
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

/** The period of a cohort read: 15 minutes, or an hour when its start is older than CloudWatch keeps 5-minute data (63 days). */
export function cohortPeriodSeconds(startMs: number, endMs: number): number {
  return endMs - startMs > 63 * 86_400_000 ? 3600 : 900;
}

const cohortId = (v: number, b: number, series: keyof BucketMetrics) => `c${v}_${b}_${series.toLowerCase()}`;

/** The experiment series of every variant and bucket as datapoints of `periodSeconds`. */
export function cohortQueries(metrics: RolloutMetrics, variants: readonly string[], periodSeconds: number): MetricQuery[] {
  return variants.flatMap((variant, v) => (metrics.cohorts[variant] ?? []).flatMap((bucket, b) =>
    (Object.entries(bucket) as [keyof BucketMetrics, MetricSpec | undefined][])
      .filter((entry): entry is [keyof BucketMetrics, MetricSpec] => entry[1] !== undefined)
      .map(([series, spec]) => query(cohortId(v, b, series), spec, periodSeconds))));
}

/** The cohort windows read back. */
export interface ReadCohorts {
  /** Counts of the predictions since `startMs`. */
  readonly total: Record<string, CohortCounts>;
  /** Counts of the predictions since `stepStartMs`. */
  readonly step: Record<string, CohortCounts>;
  /** Periods left out of `total` for a missing outcome series. */
  readonly missingPeriods: number;
}

/**
 * Adds up the results of `cohortQueries` over the whole periods of [startMs, endMs) into the
 * rollout's and the step's cohort windows (`CohortAccumulator`: with the gateway's zero-filled
 * series, a period with a missing outcome series is left out, never read as zero).
 */
export function cohortsFromResults(
  results: readonly MetricResult[], metrics: RolloutMetrics, variants: readonly string[],
  window: { readonly startMs: number; readonly stepStartMs: number; readonly endMs: number; readonly periodSeconds: number },
): ReadCohorts {
  const { firstMs, count } = cohortPeriods(window.startMs, window.endMs, window.periodSeconds);
  const periodMs = window.periodSeconds * 1000;
  const byId = new Map(results.map((r) => [r.Id, r]));
  const column = (v: number, b: number, series: keyof BucketMetrics): (number | undefined)[] => {
    const values = new Array<number | undefined>(count).fill(undefined);
    const result = byId.get(cohortId(v, b, series));
    (result?.Values ?? []).forEach((value, i) => {
      const at = result?.Timestamps?.[i];
      const index = at === undefined ? -1 : Math.floor((new Date(at).getTime() - firstMs) / periodMs);
      if (index >= 0 && index < count) {
        values[index] = (values[index] ?? 0) + value;
      }
    });
    return values;
  };
  const bucketCount = (variant: string) => (metrics.cohorts[variant] ?? []).length;
  const withSquares = variants.some((variant) => (metrics.cohorts[variant] ?? []).some((b) => b.outcomeSquares));
  const columns = variants.map((variant, v) => Array.from({ length: bucketCount(variant) }, (_, b) => ({
    exposures: column(v, b, 'exposures'),
    outcomes: column(v, b, 'outcomes'),
    outcomeSquares: column(v, b, 'outcomeSquares'),
  })));
  const buckets = Math.max(1, ...variants.map(bucketCount));
  const total = new CohortAccumulator(variants, buckets, withSquares);
  const step = new CohortAccumulator(variants, buckets, withSquares);
  // A user's series have no datapoint where nothing happened: that is a zero, not a missing series.
  const zero = (value: number | undefined, other: number | undefined) => (value === undefined && other !== undefined && !metrics.zeroFilled ? 0 : value);
  for (let i = 0; i < count; i += 1) {
    const period = Object.fromEntries(variants.map((variant, v) => [variant, {
      exposures: columns[v].map((c) => zero(c.exposures[i], c.outcomes[i])),
      outcomes: columns[v].map((c) => zero(c.outcomes[i], c.exposures[i])),
      outcomeSquares: columns[v].map((c) => c.outcomeSquares[i]),
    }]));
    total.addPeriod(period);
    if (firstMs + i * periodMs >= window.stepStartMs) {
      step.addPeriod(period);
    }
  }
  return { total: total.counts(), step: step.counts(), missingPeriods: total.missingPeriods };
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
