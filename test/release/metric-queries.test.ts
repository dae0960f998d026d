import * as fc from 'fast-check';
import {
  cohortPeriodSeconds, cohortQueries, cohortsFromResults, countsFromResults, GatewayMetricSource, MetricResult, MetricSpec, rolloutMetrics,
  UNIT_BUCKETS, VariantMetrics,
} from '../../lib/release/metric-queries';

const MINUTE = 60_000;
const PERIOD_SECONDS = 900;
const PERIOD = PERIOD_SECONDS * 1000;
const DAY = 86_400_000;
/** A period boundary (a multiple of 15 minutes since the epoch). */
const T0 = Date.parse('2026-11-20T12:00:00Z');
const VARIANTS = ['baseline', 'candidate'];

const GATEWAY: GatewayMetricSource = { namespace: 'Modelship', service: 'modelship-gateway', endpointName: 'churn-ab', outcomeType: 'purchase' };
const gatewayRate = rolloutMetrics({ gateway: GATEWAY }, VARIANTS, 'rate');

const spec = (metricName: string, arm: string): MetricSpec => ({ namespace: 'Shop', metricName, dimensions: { Arm: arm }, stat: 'Sum' });
const shop = (arm: string): VariantMetrics => ({
  invocations: spec('Sessions', arm), conversions: spec('Orders', arm), valueSum: spec('Revenue', arm), valueSumOfSquares: spec('RevenueSquared', arm), errors: spec('Failures', arm),
});
const CUSTOM = { baseline: shop('a'), candidate: shop('b') };

/** One datapoint of a cohort series: variant index, bucket, series, the period's start and a value. */
interface Point { readonly v: number; readonly b: number; readonly series: 'exposures' | 'outcomes' | 'outcomesquares'; readonly atMs: number; readonly value: number }

/** GetMetricData results for the points, one result per series as CloudWatch returns them. */
function results(points: readonly Point[], statusCode = 'Complete'): MetricResult[] {
  const byId = new Map<string, { Values: number[]; Timestamps: Date[] }>();
  for (const p of points) {
    const id = `c${p.v}_${p.b}_${p.series}`;
    const r = byId.get(id) ?? { Values: [], Timestamps: [] };
    r.Values.push(p.value);
    r.Timestamps.push(new Date(p.atMs));
    byId.set(id, r);
  }
  return [...byId].map(([Id, r]) => ({ Id, ...r, StatusCode: statusCode }));
}

/** A period's predictions and their outcomes in one bucket of one variant. */
const cohort = (v: number, b: number, atMs: number, exposures: number, outcomes: number): Point[] => [
  { v, b, series: 'exposures', atMs, value: exposures }, { v, b, series: 'outcomes', atMs, value: outcomes },
];

const sum = (values: readonly number[]) => values.reduce((a, x) => a + x, 0);

/** Four whole periods from T0, the step from T0 as well. */
const WINDOW = { startMs: T0, stepStartMs: T0, endMs: T0 + 4 * PERIOD, periodSeconds: PERIOD_SECONDS };

describe('rolloutMetrics from the inference gateway', () => {
  test('reads the six operational series per variant for the guardrails and the people', () => {
    expect(Object.keys(gatewayRate.requests)).toEqual(VARIANTS);
    expect(Object.keys(gatewayRate.requests.candidate).sort()).toEqual(['conversions', 'errors', 'invocations', 'p99LatencyMs', 'valueSum', 'valueSumOfSquares']);
    expect(gatewayRate.requests.candidate.invocations).toEqual({
      namespace: 'Modelship', metricName: 'Invocations', stat: 'Sum', dimensions: { service: 'modelship-gateway', EndpointName: 'churn-ab', VariantName: 'candidate' },
    });
    expect(gatewayRate.requests.candidate.p99LatencyMs).toMatchObject({ metricName: 'GatewayLatency', stat: 'p99' });
  });

  test('reads each variant\'s experiment series in every unit bucket, the outcomes of the policy\'s outcome type', () => {
    for (const variant of VARIANTS) {
      const buckets = gatewayRate.cohorts[variant];
      expect(buckets).toHaveLength(UNIT_BUCKETS);
      buckets.forEach((bucket, b) => {
        const dimensions = { service: 'modelship-gateway', EndpointName: 'churn-ab', VariantName: variant, UnitBucket: String(b) };
        expect(bucket).toEqual({
          exposures: { namespace: 'Modelship', metricName: 'ExperimentExposures', stat: 'Sum', dimensions },
          outcomes: { namespace: 'Modelship', metricName: 'ExperimentConversions', stat: 'Sum', dimensions: { ...dimensions, OutcomeType: 'purchase' } },
        });
      });
    }
  });

  test('reads the outcome values\' sum for a mean metric', () => {
    const mean = rolloutMetrics({ gateway: GATEWAY }, VARIANTS, 'mean');
    expect(new Set(mean.cohorts.baseline.map((b) => b.outcomes.metricName))).toEqual(new Set(['ExperimentOutcomeValue']));
    expect(mean.cohorts.baseline.every((b) => b.outcomeSquares === undefined)).toBe(true);
  });
});

describe('rolloutMetrics from metrics the user names', () => {
  test('reads a rate from one bucket: invocations as exposures, conversions as outcomes', () => {
    const metrics = rolloutMetrics({ custom: CUSTOM }, VARIANTS, 'rate');
    expect(metrics.requests).toEqual(CUSTOM);
    expect(metrics.cohorts).toEqual({
      baseline: [{ exposures: spec('Sessions', 'a'), outcomes: spec('Orders', 'a') }],
      candidate: [{ exposures: spec('Sessions', 'b'), outcomes: spec('Orders', 'b') }],
    });
  });

  test('reads a mean from one bucket: the values\' sum as outcomes and their squares', () => {
    const metrics = rolloutMetrics({ custom: CUSTOM }, VARIANTS, 'mean');
    expect(metrics.cohorts.candidate).toEqual([{ exposures: spec('Sessions', 'b'), outcomes: spec('Revenue', 'b'), outcomeSquares: spec('RevenueSquared', 'b') }]);
  });

  test('reads no cohort for a variant without the metric\'s outcome series, and nothing for a variant it does not name', () => {
    const metrics = rolloutMetrics({ custom: { baseline: { invocations: spec('Sessions', 'a') } } }, VARIANTS, 'rate');
    expect(metrics.requests).toEqual({ baseline: { invocations: spec('Sessions', 'a') } });
    expect(metrics.cohorts).toEqual({ baseline: [] });
  });
});

describe('cohortQueries', () => {
  test('names every bucket\'s exposures and outcomes of both variants, in periods of the window', () => {
    const queries = cohortQueries(gatewayRate, VARIANTS, PERIOD_SECONDS);
    // 2 variants × 32 buckets × (exposures, outcomes).
    expect(queries).toHaveLength(2 * UNIT_BUCKETS * 2);
    expect(new Set(queries.map((q) => q.Id)).size).toBe(queries.length);
    for (const q of queries) {
      const [, v, b, series] = /^c(\d)_(\d+)_(exposures|outcomes)$/.exec(q.Id)!;
      const dimensions = Object.fromEntries(q.MetricStat.Metric.Dimensions.map((d) => [d.Name, d.Value]));
      expect(q).toMatchObject({ ReturnData: true, MetricStat: { Period: PERIOD_SECONDS, Stat: 'Sum', Metric: { Namespace: 'Modelship' } } });
      expect(q.MetricStat.Metric.MetricName).toBe(series === 'exposures' ? 'ExperimentExposures' : 'ExperimentConversions');
      expect(dimensions).toEqual({
        service: 'modelship-gateway', EndpointName: 'churn-ab', VariantName: VARIANTS[Number(v)], UnitBucket: b,
        ...(series === 'outcomes' ? { OutcomeType: 'purchase' } : {}),
      });
    }
  });

  test('names a user\'s mean metric as one bucket with its squares', () => {
    const queries = cohortQueries(rolloutMetrics({ custom: CUSTOM }, VARIANTS, 'mean'), VARIANTS, 3600);
    expect(queries.map((q) => [q.Id, q.MetricStat.Metric.MetricName, q.MetricStat.Period])).toEqual([
      ['c0_0_exposures', 'Sessions', 3600], ['c0_0_outcomes', 'Revenue', 3600], ['c0_0_outcomesquares', 'RevenueSquared', 3600],
      ['c1_0_exposures', 'Sessions', 3600], ['c1_0_outcomes', 'Revenue', 3600], ['c1_0_outcomesquares', 'RevenueSquared', 3600],
    ]);
  });

  test('reads 15-minute periods, or hours once the start is older than CloudWatch keeps 5-minute data', () => {
    expect(cohortPeriodSeconds(T0, T0 + 63 * DAY)).toBe(900);
    expect(cohortPeriodSeconds(T0, T0 + 63 * DAY + 1)).toBe(3600);
  });
});

describe('cohortsFromResults', () => {
  test('counts a datapoint in its bucket and its period, whatever minute of the period it is stamped at', () => {
    const read = cohortsFromResults(results([
      ...cohort(0, 5, T0 + 2 * PERIOD, 10, 3),
      ...cohort(1, 31, T0 + 3 * PERIOD + 7 * MINUTE, 20, 4),
    ]), gatewayRate, VARIANTS, WINDOW);
    expect(read.missingPeriods).toBe(0);
    expect(read.total.baseline.exposures).toHaveLength(UNIT_BUCKETS);
    expect(read.total.baseline.exposures[5]).toBe(10);
    expect(read.total.baseline.outcomes[5]).toBe(3);
    expect(read.total.candidate.exposures[31]).toBe(20);
    expect(read.total.candidate.outcomes[31]).toBe(4);
    expect(sum(read.total.baseline.exposures) + sum(read.total.candidate.exposures)).toBe(30);
    expect(read.step).toEqual(read.total);
  });

  test('adds up the datapoints of one series in one bucket across periods', () => {
    const read = cohortsFromResults(results([0, 1, 2, 3].flatMap((i) => cohort(0, 0, T0 + i * PERIOD, 100, i))), gatewayRate, VARIANTS, WINDOW);
    expect(read.total.baseline.exposures[0]).toBe(400);
    expect(read.total.baseline.outcomes[0]).toBe(6);
  });

  test('leaves out a period where a variant has predictions but no outcome datapoint, for every variant, and counts it', () => {
    const read = cohortsFromResults(results([
      ...cohort(0, 0, T0, 10, 1), ...cohort(1, 0, T0, 10, 2),
      // Period 1: the candidate's outcome series is missing in bucket 3.
      ...cohort(0, 0, T0 + PERIOD, 1000, 100), ...cohort(1, 0, T0 + PERIOD, 1000, 50),
      { v: 1, b: 3, series: 'exposures', atMs: T0 + PERIOD, value: 5 },
    ]), gatewayRate, VARIANTS, WINDOW);
    expect(read.missingPeriods).toBe(1);
    expect(sum(read.total.baseline.exposures)).toBe(10);
    expect(sum(read.total.baseline.outcomes)).toBe(1);
    expect(sum(read.total.candidate.exposures)).toBe(10);
    expect(sum(read.total.candidate.outcomes)).toBe(2);
  });

  test('reads an outcome datapoint of 0 as zero outcomes, and outcomes without their exposures as a missing series', () => {
    const read = cohortsFromResults(results([
      ...cohort(0, 0, T0, 10, 0),
      ...cohort(0, 0, T0 + PERIOD, 20, 2),
      { v: 1, b: 0, series: 'outcomes', atMs: T0 + PERIOD, value: 1 },
    ]), gatewayRate, VARIANTS, WINDOW);
    expect(read.missingPeriods).toBe(1);
    expect(sum(read.total.baseline.exposures)).toBe(10);
    expect(sum(read.total.baseline.outcomes)).toBe(0);
    expect(sum(read.total.candidate.outcomes)).toBe(0);
  });

  test('counts in the step window only the periods that start at or after the step began', () => {
    const points = [1, 2, 4, 8].flatMap((exposures, i) => cohort(0, 0, T0 + i * PERIOD, exposures, 0));
    const read = cohortsFromResults(results(points), gatewayRate, VARIANTS, { ...WINDOW, stepStartMs: T0 + 1.5 * PERIOD });
    expect(read.total.baseline.exposures[0]).toBe(15);
    expect(read.step.baseline.exposures[0]).toBe(12);
    const onBoundary = cohortsFromResults(results(points), gatewayRate, VARIANTS, { ...WINDOW, stepStartMs: T0 + PERIOD });
    expect(onBoundary.step.baseline.exposures[0]).toBe(14);
  });

  test('ignores datapoints before the window\'s first whole period and from its end on', () => {
    const read = cohortsFromResults(results([
      ...cohort(0, 0, T0 - PERIOD, 1000, 1000),
      ...cohort(0, 0, T0 + PERIOD, 10, 1),
      ...cohort(0, 0, T0 + 4 * PERIOD, 2000, 2000),
      { v: 1, b: 0, series: 'exposures', atMs: T0 + 5 * PERIOD, value: 7 },
    ]), gatewayRate, VARIANTS, WINDOW);
    expect(read.total.baseline.exposures[0]).toBe(10);
    expect(read.total.baseline.outcomes[0]).toBe(1);
    expect(sum(read.total.candidate.exposures)).toBe(0);
    expect(read.missingPeriods).toBe(0);
  });

  test('starts at the first whole period after a start between period boundaries', () => {
    const read = cohortsFromResults(results([...cohort(0, 0, T0, 10, 1), ...cohort(0, 0, T0 + PERIOD, 20, 2)]), gatewayRate, VARIANTS, {
      ...WINDOW, startMs: T0 + MINUTE,
    });
    expect(read.total.baseline.exposures[0]).toBe(20);
  });

  test('adds up a user\'s mean metric with its squares in one bucket', () => {
    const metrics = rolloutMetrics({ custom: CUSTOM }, VARIANTS, 'mean');
    const read = cohortsFromResults(results([
      ...cohort(0, 0, T0, 100, 250), { v: 0, b: 0, series: 'outcomesquares', atMs: T0, value: 900 },
      ...cohort(0, 0, T0 + PERIOD, 50, 100), { v: 0, b: 0, series: 'outcomesquares', atMs: T0 + PERIOD, value: 400 },
    ]), metrics, VARIANTS, WINDOW);
    expect(read.total.baseline).toEqual({ exposures: [150], outcomes: [350], outcomeSquares: [1300] });
    expect(read.total.candidate).toEqual({ exposures: [0], outcomes: [0], outcomeSquares: [0] });
  });

  // "Attribution never counts a pre-rollout prediction": the gateway stamps an outcome with its
  // prediction's time, so a prediction made before the rollout (its outcome too, whenever it is
  // reported) is a datapoint before the window, and must not reach either window.
  test('never counts a prediction stamped before the window\'s start, whatever its values', () => {
    const series = fc.constantFrom<Point['series']>('exposures', 'outcomes');
    const inWindowArb = fc.array(fc.record({
      v: fc.integer({ min: 0, max: 1 }), b: fc.integer({ min: 0, max: UNIT_BUCKETS - 1 }), period: fc.integer({ min: 0, max: 7 }),
      exposures: fc.integer({ min: 1, max: 10_000 }), outcomes: fc.integer({ min: 0, max: 10_000 }),
    }), { maxLength: 30 });
    const earlierArb = fc.array(fc.record({
      v: fc.integer({ min: 0, max: 1 }), b: fc.integer({ min: 0, max: UNIT_BUCKETS - 1 }), series,
      before: fc.integer({ min: 1, max: 14 * DAY }), value: fc.integer({ min: 0, max: 1_000_000 }),
    }), { minLength: 1, maxLength: 30 });
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 8 * PERIOD }), fc.integer({ min: 0, max: 8 }), inWindowArb, earlierArb,
      (offset, stepPeriods, inWindow, earlier) => {
        const startMs = T0 + offset;
        const firstMs = Math.ceil(startMs / PERIOD) * PERIOD;
        const window = { startMs, stepStartMs: firstMs + stepPeriods * PERIOD, endMs: firstMs + 8 * PERIOD, periodSeconds: PERIOD_SECONDS };
        const rollout = inWindow.flatMap((p) => cohort(p.v, p.b, firstMs + p.period * PERIOD, p.exposures, p.outcomes));
        const preRollout = earlier.map((p): Point => ({ v: p.v, b: p.b, series: p.series, atMs: startMs - p.before, value: p.value }));
        const withEarlier = cohortsFromResults(results([...preRollout, ...rollout]), gatewayRate, VARIANTS, window);
        const without = cohortsFromResults(results(rollout), gatewayRate, VARIANTS, window);
        expect(withEarlier).toEqual(without);
        // And the rollout's own predictions are all there: the comparison is not between two empty reads.
        for (const [v, variant] of VARIANTS.entries()) {
          expect(sum(withEarlier.total[variant].exposures)).toBe(sum(inWindow.filter((p) => p.v === v).map((p) => p.exposures)));
          expect(sum(withEarlier.total[variant].outcomes)).toBe(sum(inWindow.filter((p) => p.v === v).map((p) => p.outcomes)));
          expect(sum(withEarlier.step[variant].exposures)).toBe(sum(inWindow.filter((p) => p.v === v && p.period >= stepPeriods).map((p) => p.exposures)));
        }
        expect(withEarlier.missingPeriods).toBe(0);
      },
    ), { numRuns: 200 });
  });
});

describe('countsFromResults', () => {
  const ids = (v: number, values: Record<string, number[]>, statusCode = 'Complete'): MetricResult[] =>
    Object.entries(values).map(([key, Values]) => ({ Id: `v${v}_${key}`, Values, StatusCode: statusCode }));

  test('adds up sums over datapoints, keeps the worst p99, and reads an absent error series as none', () => {
    const read = countsFromResults([
      ...ids(0, { invocations: [600, 400], p99latencyms: [120, 180] }),
      ...ids(1, { invocations: [50], errors: [5] }),
    ], VARIANTS, VARIANTS);
    expect(read.complete).toBe(true);
    expect(read.counts.baseline).toEqual({ invocations: 1000, errors: 0, conversions: 0, valueSum: 0, valueSumOfSquares: 0, p99LatencyMs: 180 });
    expect(read.counts.candidate).toMatchObject({ invocations: 50, errors: 5 });
    expect(read.counts.candidate.p99LatencyMs).toBeUndefined();
  });

  test('is incomplete when a variant expected to have traffic has no invocations, or CloudWatch returned partial data', () => {
    expect(countsFromResults(ids(0, { invocations: [10] }), VARIANTS, VARIANTS).complete).toBe(false);
    expect(countsFromResults(ids(0, { invocations: [10] }), VARIANTS, ['baseline']).complete).toBe(true);
    expect(countsFromResults([...ids(0, { invocations: [10] }, 'PartialData'), ...ids(1, { invocations: [10] })], VARIANTS, VARIANTS).complete).toBe(false);
  });
});
