import type { VariantCounts } from './rollout-types';

/**
 * The GetMetricData queries that read a rollout's per-variant counts from the inference
 * gateway's EMF metrics, and the counts read back. Shared by the controller and the CLI. Pure:
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
  readonly StatusCode?: string;
}

/** The metrics read per variant, their query id suffix and statistic. */
const SERIES = [
  { key: 'invocations', metric: 'Invocations', stat: 'Sum', outcome: false },
  { key: 'errors', metric: 'Errors', stat: 'Sum', outcome: false },
  { key: 'conversions', metric: 'Conversions', stat: 'Sum', outcome: true },
  { key: 'valueSum', metric: 'OutcomeValue', stat: 'Sum', outcome: true },
  { key: 'valueSumOfSquares', metric: 'OutcomeValueSquared', stat: 'Sum', outcome: true },
  { key: 'p99LatencyMs', metric: 'GatewayLatency', stat: 'p99', outcome: false },
] as const;

/** The whole window as one period: whole minutes, at least one. */
export function windowPeriodSeconds(startMs: number, endMs: number): number {
  return Math.max(60, Math.ceil((endMs - startMs) / 60_000) * 60);
}

/** One query per metric and variant over the window [startMs, endMs], each as a single period. */
export function metricQueries(source: GatewayMetricSource, variants: readonly string[], startMs: number, endMs: number): MetricQuery[] {
  const period = windowPeriodSeconds(startMs, endMs);
  return variants.flatMap((variant, v) => SERIES.map((series) => ({
    Id: `v${v}_${series.key.toLowerCase()}`,
    MetricStat: {
      Metric: {
        Namespace: source.namespace,
        MetricName: series.metric,
        Dimensions: [
          { Name: 'service', Value: source.service },
          { Name: 'EndpointName', Value: source.endpointName },
          { Name: 'VariantName', Value: variant },
          ...(series.outcome ? [{ Name: 'OutcomeType', Value: source.outcomeType }] : []),
        ],
      },
      Period: period,
      Stat: series.stat,
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
      const values = byId.get(`v${v}_${key.toLowerCase()}`)?.Values ?? [];
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
