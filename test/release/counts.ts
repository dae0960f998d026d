import type { CohortCounts, Observation, RequestCounts } from '../../lib/release/rollout-types';

/** The gateway's unit buckets. */
export const BUCKETS = 32;

/** The sum of the values. */
export function total(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** `n` split over `buckets` in whole numbers, as evenly as they allow (the first buckets take the remainder). */
export function spread(n: number, buckets: number): number[] {
  return Array.from({ length: buckets }, (_, b) => Math.floor(n / buckets) + (b < n % buckets ? 1 : 0));
}

/**
 * A cohort of `n` predictions with `conversions` conversions over `buckets` unit buckets: the
 * predictions spread as evenly as whole numbers allow, each bucket's conversions at the cohort's
 * rate alternately one binomial standard deviation above and below it, so the bucket variance is
 * about p(1 − p), as for independent predictions. (An exactly even spread would give a bucket
 * variance of 0 and leave the test to the Bernoulli floor.) The totals are exact.
 */
export function cohort(n: number, conversions: number, buckets = BUCKETS): CohortCounts {
  const exposures = spread(n, buckets);
  const p = n > 0 ? conversions / n : 0;
  const outcomes = exposures.map((e, b) => {
    const sign = b === buckets - 1 && buckets % 2 === 1 ? 0 : b % 2 === 0 ? 1 : -1;
    return Math.min(e, Math.max(0, Math.round(p * e + sign * Math.sqrt(p * (1 - p) * e))));
  });
  // Whole conversions: move the rounding difference one at a time into buckets that can take it.
  let left = conversions - total(outcomes);
  for (let b = 0; left !== 0 && b < 4 * buckets; b += 1) {
    const i = b % buckets;
    if (left > 0 && outcomes[i] < exposures[i]) {
      outcomes[i] += 1;
      left -= 1;
    } else if (left < 0 && outcomes[i] > 0) {
      outcomes[i] -= 1;
      left += 1;
    }
  }
  if (left !== 0) {
    throw new Error(`cohort(${n}, ${conversions}, ${buckets}): the conversions do not fit the predictions`);
  }
  return { exposures, outcomes };
}

/** The bucket-wise sum of two cohorts of the same buckets. */
export function plus(a: CohortCounts, b: CohortCounts): CohortCounts {
  return { exposures: a.exposures.map((e, i) => e + b.exposures[i]), outcomes: a.outcomes.map((o, i) => o + b.outcomes[i]) };
}

/** A variant's requests for the guardrails. */
export function requests(invocations: number, errors = 0, p99LatencyMs?: number): RequestCounts {
  return { invocations, errors, ...(p99LatencyMs !== undefined ? { p99LatencyMs } : {}) };
}

/**
 * What the controller saw at `atMs` for baseline `blue` and candidate `green`: the same cohorts
 * since the rollout and since the step, ending at the tick; each variant's requests its
 * predictions, without errors; no alarm. `more` overrides any of it.
 */
export function observe(atMs: number, baseline: CohortCounts, candidate: CohortCounts, more: Partial<Observation> = {}): Observation {
  const window = { blue: baseline, green: candidate };
  const seen = { blue: requests(total(baseline.exposures)), green: requests(total(candidate.exposures)) };
  return { atMs, complete: true, cohortEndMs: atMs, total: window, step: window, requests: { total: seen, step: seen }, breachedAlarms: [], ...more };
}
