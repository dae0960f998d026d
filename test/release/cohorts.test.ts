import * as fc from 'fast-check';
import { CohortAccumulator, COHORT_PERIOD_SECONDS, cohortPeriods, hasMissingSeries, PeriodSeries } from '../../lib/release/cohorts';

const MINUTE = 60_000;
const PERIOD = COHORT_PERIOD_SECONDS * 1000;

describe('cohortPeriods', () => {
  test('are the whole periods inside the window, aligned to the epoch', () => {
    expect(cohortPeriods(0, 3.5 * PERIOD)).toEqual({ firstMs: 0, count: 3 });
    expect(cohortPeriods(1, 3.5 * PERIOD)).toEqual({ firstMs: PERIOD, count: 2 });
    expect(cohortPeriods(PERIOD, 2 * PERIOD)).toEqual({ firstMs: PERIOD, count: 1 });
    expect(cohortPeriods(0, 10 * MINUTE, 60)).toEqual({ firstMs: 0, count: 10 });
  });

  test('are none when the window holds no whole period, or ends before it starts', () => {
    expect(cohortPeriods(1, PERIOD + 1).count).toBe(0);
    expect(cohortPeriods(5 * PERIOD, 2 * PERIOD).count).toBe(0);
  });

  test('start at or after the window (no prediction from before it), fit inside it and leave no room for another', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 4_000_000_000_000 }), fc.integer({ min: -10 * PERIOD, max: 30 * 86_400_000 }), fc.constantFrom(60, 300, 900, 3600),
      (startMs, length, periodSeconds) => {
        const endMs = startMs + length;
        const p = periodSeconds * 1000;
        const { firstMs, count } = cohortPeriods(startMs, endMs, periodSeconds);
        expect(Number.isInteger(count) && count >= 0).toBe(true);
        expect(firstMs % p).toBe(0);
        expect(firstMs).toBeGreaterThanOrEqual(startMs);
        expect(firstMs - startMs).toBeLessThan(p);
        if (count > 0) {
          expect(count * p).toBeLessThanOrEqual(endMs - startMs);
        }
        expect(firstMs + (count + 1) * p).toBeGreaterThan(endMs);
      }));
  });
});

describe('hasMissingSeries', () => {
  test('is true when a variant has predictions in a bucket without an outcome datapoint', () => {
    expect(hasMissingSeries({ blue: { exposures: [10, 5], outcomes: [1, 0] }, green: { exposures: [3, 4], outcomes: [0, undefined] } })).toBe(true);
  });

  test('is false when every bucket with predictions has its outcome datapoint', () => {
    expect(hasMissingSeries({ blue: { exposures: [10, 5], outcomes: [1, 0] }, green: { exposures: [3, 4], outcomes: [0, 2] } })).toBe(false);
  });

  test('is false where there are no predictions to attribute outcomes to', () => {
    expect(hasMissingSeries({ blue: { exposures: [0, undefined], outcomes: [undefined, undefined] } })).toBe(false);
    expect(hasMissingSeries({ blue: undefined, green: { exposures: [1], outcomes: [0] } })).toBe(false);
    expect(hasMissingSeries({})).toBe(false);
  });
});

describe('CohortAccumulator', () => {
  const complete = (blue: PeriodSeries, green: PeriodSeries) => ({ blue, green });

  test('adds up complete periods per variant and bucket', () => {
    const acc = new CohortAccumulator(['blue', 'green'], 2);
    expect(acc.addPeriod(complete({ exposures: [10, 20], outcomes: [1, 2] }, { exposures: [5, 5], outcomes: [0, 1] }))).toBe(true);
    expect(acc.addPeriod(complete({ exposures: [1, 2], outcomes: [0, 1] }, { exposures: [3, 0], outcomes: [1, undefined] }))).toBe(true);
    expect(acc.counts()).toEqual({
      blue: { exposures: [11, 22], outcomes: [1, 3] },
      green: { exposures: [8, 5], outcomes: [1, 1] },
    });
    expect(acc.missingPeriods).toBe(0);
  });

  test('leaves a period with predictions but no outcome datapoint out for every variant, and counts it', () => {
    const acc = new CohortAccumulator(['blue', 'green'], 2);
    acc.addPeriod(complete({ exposures: [10, 20], outcomes: [1, 2] }, { exposures: [5, 5], outcomes: [0, 1] }));
    // The baseline's outcome series is missing in bucket 1: the candidate's complete series is left out too.
    expect(acc.addPeriod(complete({ exposures: [10, 20], outcomes: [1, undefined] }, { exposures: [5, 5], outcomes: [3, 3] }))).toBe(false);
    expect(acc.counts()).toEqual({
      blue: { exposures: [10, 20], outcomes: [1, 2] },
      green: { exposures: [5, 5], outcomes: [0, 1] },
    });
    expect(acc.missingPeriods).toBe(1);
  });

  test('reads a variant without any datapoint in a period as no predictions', () => {
    const acc = new CohortAccumulator(['blue', 'green'], 1);
    expect(acc.addPeriod({ blue: { exposures: [4], outcomes: [1] } })).toBe(true);
    expect(acc.counts()).toEqual({ blue: { exposures: [4], outcomes: [1] }, green: { exposures: [0], outcomes: [0] } });
  });

  test('adds sums of squares when asked to', () => {
    const acc = new CohortAccumulator(['blue'], 1, true);
    acc.addPeriod({ blue: { exposures: [3], outcomes: [5], outcomeSquares: [13] } });
    acc.addPeriod({ blue: { exposures: [1], outcomes: [0] } });
    expect(acc.counts()).toEqual({ blue: { exposures: [4], outcomes: [5], outcomeSquares: [13] } });
  });

  test('addOutcome adds a late outcome to its bucket, and its square', () => {
    const acc = new CohortAccumulator(['blue', 'green'], 3, true);
    acc.addPeriod({ blue: { exposures: [1, 1, 1], outcomes: [0, 0, 0], outcomeSquares: [0, 0, 0] } });
    acc.addOutcome('blue', 2, 3);
    acc.addOutcome('blue', 2, 1);
    acc.addOutcome('purple', 0, 7);
    expect(acc.counts()).toEqual({
      blue: { exposures: [1, 1, 1], outcomes: [0, 0, 4], outcomeSquares: [0, 0, 10] },
      green: { exposures: [0, 0, 0], outcomes: [0, 0, 0], outcomeSquares: [0, 0, 0] },
    });
  });

  // GAP (reported to the integrator): `hasMissingSeries` looks only at outcome series. Outcomes in a
  // bucket whose exposure series has no datapoint can only mean the exposures went missing (an outcome
  // belongs to a prediction of its period and bucket), yet they are added with 0 predictions, which
  // inflates that variant's rate. Remove `.failing` once lib/release/cohorts.ts treats it as missing.
  test('leaves a period out when a bucket has outcomes but no exposure datapoint', () => {
    const acc = new CohortAccumulator(['blue', 'green'], 1);
    expect(acc.addPeriod(complete({ exposures: [undefined], outcomes: [5] }, { exposures: [100], outcomes: [5] }))).toBe(false);
    expect(acc.missingPeriods).toBe(1);
  });

  test('hands out copies of its counts', () => {
    const acc = new CohortAccumulator(['blue'], 1);
    acc.addPeriod({ blue: { exposures: [2], outcomes: [1] } });
    (acc.counts().blue.exposures as number[])[0] = 99;
    expect(acc.counts().blue.exposures).toEqual([2]);
  });

  test('never reads a missing series as zero: the counts are the sums over the complete periods only', () => {
    const buckets = 4;
    const variants = ['blue', 'green'];
    const datapoint = fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined, freq: 4 });
    const seriesArb = fc.option(fc.record({
      exposures: fc.array(datapoint, { minLength: buckets, maxLength: buckets }),
      outcomes: fc.array(datapoint, { minLength: buckets, maxLength: buckets }),
    }), { nil: undefined, freq: 8 });
    const periodArb = fc.record({ blue: seriesArb, green: seriesArb });
    fc.assert(fc.property(fc.array(periodArb, { maxLength: 12 }), (periods) => {
      const acc = new CohortAccumulator(variants, buckets);
      periods.forEach((p) => acc.addPeriod(p));
      // Independently: a period is complete when no bucket of any variant has a positive exposure
      // and no outcome, or an outcome and no exposure.
      const isComplete = (p: (typeof periods)[number]) => variants.every((v) => {
        const s = p[v as 'blue' | 'green'];
        return s === undefined || (s.exposures.every((e, b) => !(e !== undefined && e > 0) || s.outcomes[b] !== undefined)
          && s.outcomes.every((o, b) => o === undefined || s.exposures[b] !== undefined));
      });
      const kept = periods.filter(isComplete);
      const expected = Object.fromEntries(variants.map((v) => {
        const sum = (key: 'exposures' | 'outcomes') => Array.from({ length: buckets }, (_, b) =>
          kept.reduce((a, p) => a + (p[v as 'blue' | 'green']?.[key][b] ?? 0), 0));
        return [v, { exposures: sum('exposures'), outcomes: sum('outcomes') }];
      }));
      expect(acc.counts()).toEqual(expected);
      expect(acc.missingPeriods).toBe(periods.length - kept.length);
    }), { numRuns: 300 });
  });
});
