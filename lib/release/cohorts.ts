/**
 * Cohort windows: the experiment counts of the predictions made in a window, period by period,
 * with every outcome attributed to its prediction's period. Shared by the controller and the
 * CLI (reading CloudWatch's periods) and the simulator (adding periods as they close). Pure.
 */
import type { CohortCounts } from './rollout-types';

/** The cohort windows are read in periods of this many seconds, aligned to the epoch. */
export const COHORT_PERIOD_SECONDS = 900;

/** The whole periods of [startMs, endMs): the first one's start and how many. */
export function cohortPeriods(startMs: number, endMs: number, periodSeconds = COHORT_PERIOD_SECONDS): { readonly firstMs: number; readonly count: number } {
  const p = periodSeconds * 1000;
  const firstMs = Math.ceil(startMs / p) * p;
  return { firstMs, count: Math.max(0, Math.floor((endMs - firstMs) / p)) };
}

/** One variant's datapoints in one period, per unit bucket: undefined where the series has none. */
export interface PeriodSeries {
  readonly exposures: readonly (number | undefined)[];
  readonly outcomes: readonly (number | undefined)[];
  /** Sums of squared outcome values (metrics of one bucket). @default - absent */
  readonly outcomeSquares?: readonly (number | undefined)[];
}

/**
 * Whether a series is missing in the period: a variant has predictions in a bucket whose outcome
 * series has no datapoint, or outcomes in a bucket whose exposure series has none (outcomes are
 * never written without their predictions' exposures).
 */
export function hasMissingSeries(period: Readonly<Record<string, PeriodSeries | undefined>>): boolean {
  return Object.values(period).some((series) => series !== undefined
    && (series.exposures.some((e, b) => e !== undefined && e > 0 && series.outcomes[b] === undefined)
      || series.outcomes.some((o, b) => o !== undefined && series.exposures[b] === undefined)));
}

/**
 * Adds up a cohort window's periods. A period in which any variant has predictions in a bucket
 * whose outcome series has no datapoint is left out for every variant: a missing series is never
 * read as zero, and leaving the whole period out keeps the comparison between variants fair
 * (the gateway writes a zero outcome with every prediction, so a present series is never empty
 * where there are predictions).
 */
export class CohortAccumulator {
  /** Periods left out for a missing outcome series. */
  public missingPeriods = 0;
  private readonly sums: Map<string, { exposures: number[]; outcomes: number[]; outcomeSquares?: number[] }>;

  constructor(variants: readonly string[], buckets: number, withSquares = false) {
    this.sums = new Map(variants.map((v) => [v, {
      exposures: new Array<number>(buckets).fill(0),
      outcomes: new Array<number>(buckets).fill(0),
      ...(withSquares ? { outcomeSquares: new Array<number>(buckets).fill(0) } : {}),
    }]));
  }

  /** Adds one period's series (variants not named had no datapoint); false when it was left out (`hasMissingSeries`). */
  public addPeriod(period: Readonly<Record<string, PeriodSeries | undefined>>): boolean {
    if (hasMissingSeries(period)) {
      this.missingPeriods += 1;
      return false;
    }
    for (const [variant, sums] of this.sums) {
      const series = period[variant];
      series?.exposures.forEach((e, b) => {
        sums.exposures[b] += e ?? 0;
        sums.outcomes[b] += series.outcomes[b] ?? 0;
        if (sums.outcomeSquares) {
          sums.outcomeSquares[b] += series.outcomeSquares?.[b] ?? 0;
        }
      });
    }
    return true;
  }

  /** Adds an outcome reported late for a prediction in a period already added. */
  public addOutcome(variant: string, bucket: number, value: number): void {
    const sums = this.sums.get(variant);
    if (sums) {
      sums.outcomes[bucket] += value;
      if (sums.outcomeSquares) {
        sums.outcomeSquares[bucket] += value * value;
      }
    }
  }

  /** The window's counts so far, per variant. */
  public counts(): Record<string, CohortCounts> {
    return Object.fromEntries([...this.sums].map(([variant, s]) => [variant, {
      exposures: [...s.exposures],
      outcomes: [...s.outcomes],
      ...(s.outcomeSquares ? { outcomeSquares: [...s.outcomeSquares] } : {}),
    }]));
  }
}
