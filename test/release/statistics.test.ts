import * as fc from 'fast-check';
import {
  BERNOULLI_FLOOR, binomialUpperTail, estimateArm, fixedHorizonSampleSize, logGamma, MIN_EXPECTED_CONVERSIONS, MIN_INVOCATIONS_PER_ARM,
  MIN_SAMPLE_RATIO_PREDICTIONS, mixtureLikelihoodRatio, normalCdf, normalPdf, normalQuantile, oneSidedMixtureLikelihoodRatio, pooledVariance,
  probabilityBest, regularizedIncompleteBeta, SAMPLE_RATIO_ALPHA, SAMPLE_RATIO_LEAN, sampleRatioTest, sequentialTest, wilsonInterval, medianInterval,
} from '../../lib/release/statistics';
import type { CohortCounts, PrimaryMetricSpec } from '../../lib/release/rollout-types';
import { seededRandom as prng } from '../../lib/release/random';
import { BUCKETS, cohort, spread, total } from './counts';

/** Composite Simpson's rule over [a, b] with n (even) intervals. */
function simpson(f: (x: number) => number, a: number, b: number, n = 4000): number {
  const h = (b - a) / n;
  let sum = f(a) + f(b);
  for (let i = 1; i < n; i += 1) {
    sum += (i % 2 ? 4 : 2) * f(a + i * h);
  }
  return sum * h / 3;
}

/** P(X = k) for X ~ Binomial(n, p), from the binomial coefficient as a product (no special functions). */
function binomialPmf(k: number, n: number, p: number): number {
  let logChoose = 0;
  for (let i = 0; i < k; i += 1) {
    logChoose += Math.log((n - i) / (i + 1));
  }
  return Math.exp(logChoose + k * Math.log(p) + (n - k) * Math.log(1 - p));
}

const rate: PrimaryMetricSpec = { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: 0.1, betterWhen: 'higher' };
const lower: PrimaryMetricSpec = { ...rate, betterWhen: 'lower' };

describe('the normal distribution', () => {
  test('Φ matches published values', () => {
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 12);
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(-1)).toBeCloseTo(0.15865525393145707, 12);
    expect(normalCdf(3)).toBeCloseTo(0.9986501019683699, 12);
    // Beyond 7.07 the approximation switches to a short continued fraction: relative error ~1e-8.
    expect(normalCdf(-8) / 6.220960574271784e-16).toBeCloseTo(1, 6);
  });

  test('Φ agrees with a numeric integration of the density', () => {
    for (const x of [-6, -3.3, -1.2, -0.4, 0.25, 0.9, 1.645, 2.5, 4.1]) {
      expect(normalCdf(x)).toBeCloseTo(simpson(normalPdf, -12, x), 10);
    }
  });

  test('Φ⁻¹ matches published values', () => {
    expect(normalQuantile(0.8)).toBeCloseTo(0.8416212335729143, 10);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 10);
    expect(normalQuantile(0.95)).toBeCloseTo(1.6448536269514722, 10);
    expect(normalQuantile(1e-6)).toBeCloseTo(-4.753424308822899, 8);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
  });

  test('Φ⁻¹ inverts Φ across the range', () => {
    fc.assert(fc.property(fc.double({ min: 1e-12, max: 1 - 1e-12, noNaN: true }), (p) => {
      expect(Math.abs(normalCdf(normalQuantile(p)) - p)).toBeLessThan(1e-12 + 1e-9 * Math.min(p, 1 - p));
    }));
  });
});

describe('the binomial tail', () => {
  test('ln Γ matches factorials and Γ(1/2) = √π', () => {
    let factorial = 1;
    for (let n = 1; n <= 20; n += 1) {
      expect(logGamma(n + 1)).toBeCloseTo(Math.log((factorial *= n)), 9);
    }
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
  });

  test('the closed form I_p(k, n-k+1) equals summing the probabilities', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 300 }), fc.double({ min: 0.001, max: 0.999, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }),
      (n, p, at) => {
        const k = Math.round(at * n);
        let sum = 0;
        for (let i = k; i <= n; i += 1) {
          sum += binomialPmf(i, n, p);
        }
        expect(binomialUpperTail(k, n, p)).toBeCloseTo(sum, 9);
      }));
  });

  test('the incomplete beta is symmetric: I_x(a, b) = 1 - I_(1-x)(b, a)', () => {
    fc.assert(fc.property(fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.double({ min: 0.5, max: 50, noNaN: true }), fc.double({ min: 0.5, max: 50, noNaN: true }),
      (x, a, b) => {
        expect(regularizedIncompleteBeta(x, a, b)).toBeCloseTo(1 - regularizedIncompleteBeta(1 - x, b, a), 10);
      }));
  });
});

describe('the mixture likelihood ratio', () => {
  /** ∫ exp((θθ̂ − θ²/2)/V) · prior(θ) dθ, numerically. */
  function integrated(thetaHat: number, v: number, tau2: number, oneSided: boolean): number {
    const tau = Math.sqrt(tau2);
    const f = (t: number) => Math.exp((t * thetaHat - t * t / 2) / v) * normalPdf(t / tau) / tau * (oneSided ? 2 : 1);
    return simpson(f, oneSided ? 0 : -12 * tau, 12 * tau, 20000);
  }

  test('the closed forms equal a direct numeric integration over the mixing distribution', () => {
    fc.assert(fc.property(fc.double({ min: -3, max: 3, noNaN: true }), fc.double({ min: 0.2, max: 5, noNaN: true }), fc.double({ min: 0.1, max: 4, noNaN: true }),
      (z, v, tau2) => {
        const thetaHat = z * Math.sqrt(v);
        expect(mixtureLikelihoodRatio(thetaHat, v, tau2) / integrated(thetaHat, v, tau2, false)).toBeCloseTo(1, 8);
        expect(oneSidedMixtureLikelihoodRatio(thetaHat, v, tau2) / integrated(thetaHat, v, tau2, true)).toBeCloseTo(1, 8);
      }), { numRuns: 40 });
  });

  test('the two one-sided ratios average to the two-sided one', () => {
    fc.assert(fc.property(fc.double({ min: -5, max: 5, noNaN: true }), fc.double({ min: 0.01, max: 10, noNaN: true }), fc.double({ min: 0.01, max: 10, noNaN: true }),
      (z, v, tau2) => {
        const thetaHat = z * Math.sqrt(v);
        const mean = (oneSidedMixtureLikelihoodRatio(thetaHat, v, tau2) + oneSidedMixtureLikelihoodRatio(-thetaHat, v, tau2)) / 2;
        expect(mean / mixtureLikelihoodRatio(thetaHat, v, tau2)).toBeCloseTo(1, 10);
      }));
  });
});

describe('arm estimates', () => {
  test("one bucket of a mean: the variance from the sum and sum of squares equals the sample variance of the values", () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 1000, noNaN: true }), { minLength: 2, maxLength: 50 }), fc.integer({ min: 0, max: 50 }), (values, zeros) => {
      const all = [...values, ...new Array<number>(zeros).fill(0)];
      const n = all.length;
      const mean = all.reduce((a, b) => a + b, 0) / n;
      const variance = all.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
      const estimate = estimateArm('mean', { exposures: [n], outcomes: [total(values)], outcomeSquares: [values.reduce((a, b) => a + b * b, 0)] });
      expect(estimate.mean).toBeCloseTo(mean, 8);
      expect(estimate.buckets).toBe(1);
      expect(Math.abs(estimate.variance - variance)).toBeLessThan(1e-7 * (1 + variance));
    }));
  });

  test('one bucket of a rate: the Bernoulli variance p(1 − p)', () => {
    expect(estimateArm('rate', cohort(1000, 100, 1))).toEqual({ n: 1000, total: 100, mean: 0.1, variance: 0.1 * 0.9, buckets: 1 });
  });

  test('unit buckets: the variance is B/(B−1) · Σ (x_b − m·n_b)² / n over the B buckets with predictions', () => {
    const bucketArb = fc.record({ n: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 500 })), share: fc.double({ min: 0, max: 1, noNaN: true }) });
    fc.assert(fc.property(fc.array(bucketArb, { minLength: 2, maxLength: 64 }), fc.constantFrom('rate' as const, 'mean' as const), (buckets, kind) => {
      const exposures = buckets.map((b) => b.n);
      // A mean's outcome per prediction goes up to 7 (a revenue), a rate's up to 1.
      const outcomes = buckets.map((b) => Math.round(b.share * b.n * (kind === 'mean' ? 7 : 1)));
      const live = buckets.map((_, i) => i).filter((i) => exposures[i] > 0);
      fc.pre(live.length >= 2);
      // Independently, from each bucket's own rate r_b: (x_b − m·n_b)² = n_b² (r_b − m)².
      const n = total(exposures);
      const m = total(outcomes) / n;
      const squares = total(live.map((i) => exposures[i] ** 2 * (outcomes[i] / exposures[i] - m) ** 2));
      const expected = live.length / (live.length - 1) * squares / n;
      const estimate = estimateArm(kind, { exposures, outcomes });
      expect(estimate).toMatchObject({ n, total: total(outcomes), buckets: live.length });
      expect(estimate.mean).toBeCloseTo(m, 12);
      expect(Math.abs(estimate.variance - expected)).toBeLessThanOrEqual(1e-9 * (1 + expected));
    }));
  });

  test('unit buckets: one bucket with predictions gives no variance, and no predictions nothing at all', () => {
    expect(estimateArm('rate', { exposures: [0, 500, 0], outcomes: [0, 50, 0] })).toEqual({ n: 500, total: 50, mean: 0.1, variance: 0, buckets: 1 });
    expect(estimateArm('rate', { exposures: [], outcomes: [] })).toEqual({ n: 0, total: 0, mean: 0, variance: 0, buckets: 0 });
  });

  test("unit buckets: the variance matches the mean's sampling variance when users repeat requests with different propensities", () => {
    // 1,600 users, 10 requests each; a fifth convert at 30%, the rest at 2%. Independent predictions
    // would have p(1 − p) ≈ 0.070 per prediction; the clustered truth is about 0.183.
    const random = prng(12);
    const runs = 400;
    const means: number[] = [];
    const estimates: number[] = [];
    for (let r = 0; r < runs; r += 1) {
      const exposures = new Array<number>(BUCKETS).fill(0);
      const outcomes = new Array<number>(BUCKETS).fill(0);
      for (let u = 0; u < 1600; u += 1) {
        const propensity = random() < 0.2 ? 0.3 : 0.02;
        exposures[u % BUCKETS] += 10;
        for (let request = 0; request < 10; request += 1) {
          outcomes[u % BUCKETS] += random() < propensity ? 1 : 0;
        }
      }
      const e = estimateArm('rate', { exposures, outcomes });
      means.push(e.mean);
      estimates.push(e.variance / e.n);
    }
    const grand = total(means) / runs;
    const sampling = means.reduce((a, m) => a + (m - grand) ** 2, 0) / (runs - 1);
    const estimated = total(estimates) / runs;
    // The empirical variance of 400 runs is within about ±7% (1 SE) of the truth.
    expect(estimated / sampling).toBeGreaterThan(0.8);
    expect(estimated / sampling).toBeLessThan(1.25);
    // The variance of independent predictions would understate it more than twofold.
    expect(grand * (1 - grand) / 16_000 / sampling).toBeLessThan(0.5);
  });
});

describe('the pooled variance', () => {
  const armArb = fc.record({
    n: fc.integer({ min: 0, max: 100_000 }),
    rate: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.5, noNaN: true })),
    buckets: fc.constantFrom(1, 2, BUCKETS),
    even: fc.boolean(),
  }).map(({ n, rate: p, buckets, even }): CohortCounts => {
    const conversions = Math.round(n * p);
    // An exactly even spread has no bucket variance at all.
    return even ? { exposures: spread(n, buckets), outcomes: spread(conversions, buckets) } : cohort(n, conversions, buckets);
  });

  test("of a rate is the arms' variances weighted by predictions, never below BERNOULLI_FLOOR · p̄(1 − p̄)", () => {
    fc.assert(fc.property(armArb, armArb, (a, b) => {
      const arms = [estimateArm('rate', a), estimateArm('rate', b)];
      const n = arms[0].n + arms[1].n;
      fc.pre(n > 0);
      const pBar = (arms[0].total + arms[1].total) / n;
      const weighted = (arms[0].n * arms[0].variance + arms[1].n * arms[1].variance) / n;
      const pooled = pooledVariance('rate', arms);
      expect(pooled).toBeGreaterThanOrEqual(BERNOULLI_FLOOR * pBar * (1 - pBar));
      expect(pooled).toBeCloseTo(Math.max(weighted, BERNOULLI_FLOOR * pBar * (1 - pBar)), 12);
    }));
  });

  test('does not collapse when one arm has no conversions', () => {
    const none = estimateArm('rate', cohort(1000, 0, 1));
    expect(none.variance).toBe(0);
    const pooled = pooledVariance('rate', [estimateArm('rate', cohort(9000, 90, 1)), none]);
    expect(pooled).toBeCloseTo(9000 * 0.01 * 0.99 / 10_000, 12);
    // Exactly even buckets: no bucket variance in either arm, so the floor decides.
    const even = (n: number, c: number) => estimateArm('rate', { exposures: spread(n, BUCKETS), outcomes: spread(c, BUCKETS) });
    expect(pooledVariance('rate', [even(3200, 320), even(3200, 0)])).toBeCloseTo(BERNOULLI_FLOOR * 0.05 * 0.95, 12);
  });

  test('of a mean has no floor, and of nothing is 0', () => {
    const arm = estimateArm('mean', { exposures: [100], outcomes: [0], outcomeSquares: [0] });
    expect(pooledVariance('mean', [arm, arm])).toBe(0);
    expect(pooledVariance('rate', [])).toBe(0);
  });
});

describe('the sequential test', () => {
  test('concludes nothing before each variant has its minimum predictions', () => {
    const result = sequentialTest(rate, 0.05, cohort(MIN_INVOCATIONS_PER_ARM - 1, 0), cohort(100_000, 90_000));
    expect(result.verdict).toBe('inconclusive');
    expect(result.notReady).toBe(`each variant needs ${MIN_INVOCATIONS_PER_ARM} predictions whose outcomes are in`);
  });

  test('concludes nothing while a variant has predictions in fewer than half the unit buckets', () => {
    const narrow: CohortCounts = { exposures: [...spread(20_000, 15), ...new Array<number>(BUCKETS - 15).fill(0)], outcomes: [...spread(4000, 15), ...new Array<number>(BUCKETS - 15).fill(0)] };
    const result = sequentialTest(rate, 0.05, cohort(20_000, 2000), narrow);
    expect(result.verdict).toBe('inconclusive');
    expect(result.notReady).toBe(`each variant needs predictions in 16 of the ${BUCKETS} unit buckets`);
    const half: CohortCounts = { exposures: [...spread(20_000, 16), ...new Array<number>(BUCKETS - 16).fill(0)], outcomes: [...spread(4000, 16), ...new Array<number>(BUCKETS - 16).fill(0)] };
    expect(sequentialTest(rate, 0.05, cohort(20_000, 2000), half).notReady).toBeUndefined();
  });

  test('concludes nothing until the smaller variant expects its minimum conversions at the pooled rate', () => {
    // 0.4% of 2,000 predictions: 8 conversions expected in the smaller variant; 0.6% of 2,000: 12.
    const few = sequentialTest(rate, 0.05, cohort(8000, 32), cohort(2000, 8));
    expect(few.notReady).toBe(`the smaller variant needs ${MIN_EXPECTED_CONVERSIONS} conversions expected at the pooled rate`);
    expect(sequentialTest(rate, 0.05, cohort(8000, 48), cohort(2000, 12)).notReady).toBeUndefined();
  });

  test('finds a clear improvement better and its mirror image worse', () => {
    const better = sequentialTest(rate, 0.05, cohort(20_000, 2000), cohort(20_000, 2400));
    expect(better.verdict).toBe('better');
    expect(better.lift).toBeCloseTo(0.2, 10);
    expect(better.statistic!).toBeGreaterThanOrEqual(better.threshold);
    expect(better.pValue).toBeCloseTo(1 / better.statistic!, 12);
    const worse = sequentialTest(rate, 0.05, cohort(20_000, 2400), cohort(20_000, 2000));
    expect(worse.verdict).toBe('worse');
    expect(worse.leansWorse).toBe(true);
  });

  test('turns round when lower is better', () => {
    expect(sequentialTest(lower, 0.05, cohort(20_000, 2000), cohort(20_000, 2400)).verdict).toBe('worse');
  });

  test('is inconclusive on identical counts, with p = 1', () => {
    const result = sequentialTest(rate, 0.05, cohort(5000, 500), cohort(5000, 500));
    expect(result.verdict).toBe('inconclusive');
    expect(result.leansWorse).toBe(false);
    expect(result.pValue).toBe(1);
  });

  test('with a margin of 0 is the superiority test', () => {
    const b = cohort(20_000, 2000);
    const c = cohort(20_000, 2100);
    expect(sequentialTest(rate, 0.05, b, c, 0)).toEqual(sequentialTest(rate, 0.05, b, c));
  });
});

describe('the non-inferiority test', () => {
  test('never finds a candidate at or below (1 − margin) × the baseline better, at any size', () => {
    fc.assert(fc.property(
      fc.double({ min: 0.01, max: 0.5, noNaN: true }), fc.double({ min: 0.02, max: 0.5, noNaN: true }), fc.double({ min: 0.5, max: 1, noNaN: true }),
      fc.integer({ min: MIN_INVOCATIONS_PER_ARM, max: 2_000_000 }), fc.integer({ min: MIN_INVOCATIONS_PER_ARM, max: 2_000_000 }), fc.constantFrom(1, BUCKETS),
      (margin, p, below, nb, nc, buckets) => {
        const baseline = cohort(nb, Math.round(p * nb), buckets);
        const candidate = cohort(nc, Math.floor((1 - margin) * below * (total(baseline.outcomes) / nb) * nc), buckets);
        expect(sequentialTest(rate, 0.05, baseline, candidate, margin).verdict).not.toBe('better');
      }));
  });

  test('when lower is better, never finds a candidate at or above (1 + margin) × the baseline better', () => {
    fc.assert(fc.property(
      fc.double({ min: 0.01, max: 0.5, noNaN: true }), fc.double({ min: 0.02, max: 0.5, noNaN: true }), fc.double({ min: 1, max: 1.3, noNaN: true }),
      fc.integer({ min: MIN_INVOCATIONS_PER_ARM, max: 2_000_000 }), fc.integer({ min: MIN_INVOCATIONS_PER_ARM, max: 2_000_000 }),
      (margin, p, above, nb, nc) => {
        const baseline = cohort(nb, Math.round(p * nb));
        const candidate = cohort(nc, Math.ceil((1 + margin) * above * (total(baseline.outcomes) / nb) * nc));
        expect(sequentialTest(lower, 0.05, baseline, candidate, margin).verdict).not.toBe('better');
      }));
  });

  test('shows an equal candidate no worse than the margin, given enough predictions', () => {
    fc.assert(fc.property(fc.double({ min: 0.05, max: 0.5, noNaN: true }), fc.double({ min: 0.05, max: 0.5, noNaN: true }), (margin, p) => {
      const equal = cohort(1_000_000, Math.round(p * 1_000_000));
      expect(sequentialTest(rate, 0.05, equal, equal, margin).verdict).toBe('better');
      expect(sequentialTest(lower, 0.05, equal, equal, margin).verdict).toBe('better');
      // Without the margin the same counts show nothing.
      expect(sequentialTest(rate, 0.05, equal, equal).verdict).toBe('inconclusive');
    }), { numRuns: 50 });
  });
});

describe('the sample-ratio test', () => {
  test('never finds the expected split a mismatch, at any share and size', () => {
    fc.assert(fc.property(
      fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.integer({ min: MIN_SAMPLE_RATIO_PREDICTIONS, max: 10_000_000 }), fc.constantFrom(1, BUCKETS),
      (share, n, buckets) => {
        // Exactly the expected share in every bucket (fractional counts are fine: they are sums).
        const predictions = spread(n, buckets);
        const result = sampleRatioTest(
          { exposures: predictions.map((t) => (1 - share) * t), outcomes: [] },
          { exposures: predictions.map((t) => share * t), outcomes: [] }, share);
        expect(result).toBeDefined();
        expect(result!.expected).toBe(share);
        expect(result!.observed).toBeCloseTo(share, 9);
        expect(result!.mismatch).toBe(false);
        expect(result!.leansMismatched).toBe(false);
      }));
  });

  test.each([[0.5], [0.1], [0.9]])('finds a 5%% shortfall of the candidate at 200k predictions a mismatch (expected share %s)', (share) => {
    const n = 200_000;
    for (const buckets of [1, BUCKETS]) {
      const result = sampleRatioTest(cohort(Math.round((1 - share) * n), 0, buckets), cohort(Math.round(0.95 * share * n), 0, buckets), share)!;
      expect(result.observed).toBeLessThan(share);
      expect(result.mismatch).toBe(true);
      expect(result.statistic).toBeGreaterThanOrEqual(1 / SAMPLE_RATIO_ALPHA);
    }
  });

  test('is undefined below the minimum predictions or for an expected share of 0 or 1', () => {
    expect(sampleRatioTest(cohort(500, 0), cohort(MIN_SAMPLE_RATIO_PREDICTIONS - 501, 0), 0.5)).toBeUndefined();
    expect(sampleRatioTest(cohort(500, 0), cohort(MIN_SAMPLE_RATIO_PREDICTIONS - 500, 0), 0.5)).toBeDefined();
    expect(sampleRatioTest(cohort(10_000, 0), cohort(0, 0), 0)).toBeUndefined();
    expect(sampleRatioTest(cohort(0, 0), cohort(10_000, 0), 1)).toBeUndefined();
  });

  test('calls a mismatch exactly when the statistic reaches 1 / SAMPLE_RATIO_ALPHA, and leans at SAMPLE_RATIO_LEAN', () => {
    fc.assert(fc.property(
      fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.double({ min: 0.8, max: 1.2, noNaN: true }),
      fc.integer({ min: MIN_SAMPLE_RATIO_PREDICTIONS, max: 1_000_000 }), fc.constantFrom(1, BUCKETS),
      (share, skew, n, buckets) => {
        const c = Math.min(n, Math.round(share * skew * n));
        const result = sampleRatioTest(cohort(n - c, 0, buckets), cohort(c, 0, buckets), share)!;
        expect(result.observed).toBeCloseTo(c / n, 9);
        expect(result.mismatch).toBe(result.statistic >= 1 / SAMPLE_RATIO_ALPHA);
        expect(result.leansMismatched).toBe(result.statistic >= SAMPLE_RATIO_LEAN);
      }));
  });

  // BUG (reported to the integrator): with unit buckets the variance is Σ d_b² / n², d_b being each
  // bucket's deviation from the *expected* share, so it contains the mismatch itself: Σ d_b² ≥ (Σ d_b)² / B
  // bounds z² by B (32) at any size, and a large mismatch is never called (Λ ≈ 3.1 here, however many
  // predictions). Remove `.failing` once lib/release/statistics.ts `sampleRatioTest` is fixed.
  test('finds the candidate at 40% of the predictions where its weight expects 50% a mismatch, with unit buckets', () => {
    for (const n of [10_000, 1_000_000]) {
      expect(sampleRatioTest(cohort(0.6 * n, 0), cohort(0.4 * n, 0), 0.5)!.mismatch).toBe(true);
    }
  });
});

describe('the fixed-horizon sample size', () => {
  /** Power of the one-sided z-test at n per arm: the inverse of the sample-size formula. */
  function power(n: number, p1: number, p2: number, zAlpha: number): number {
    const pBar = (p1 + p2) / 2;
    return normalCdf(((p2 - p1) * Math.sqrt(n) - zAlpha * Math.sqrt(2 * pBar * (1 - pBar))) / Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2)));
  }

  test('is the smallest n whose power reaches the target', () => {
    fc.assert(fc.property(
      fc.double({ min: 0.01, max: 0.5, noNaN: true }), fc.double({ min: 0.05, max: 0.5, noNaN: true }),
      fc.double({ min: 0.01, max: 0.2, noNaN: true }), fc.double({ min: 0.5, max: 0.99, noNaN: true }), fc.constantFrom('one' as const, 'two' as const),
      (p, mde, alpha, target, sided) => {
        const n = fixedHorizonSampleSize({ baselineRate: p, minimumDetectableEffect: mde, alpha, power: target, sided });
        const zAlpha = normalQuantile(1 - (sided === 'two' ? alpha / 2 : alpha));
        expect(power(n, p, p * (1 + mde), zAlpha)).toBeGreaterThanOrEqual(target - 1e-9);
        expect(power(n - 1, p, p * (1 + mde), zAlpha)).toBeLessThan(target);
      }));
  });

  test('needs more with a two-sided alpha than a one-sided one', () => {
    const base = { baselineRate: 0.1, minimumDetectableEffect: 0.1, alpha: 0.05, power: 0.8 };
    expect(fixedHorizonSampleSize({ ...base, sided: 'two' })).toBeGreaterThan(fixedHorizonSampleSize({ ...base, sided: 'one' }));
  });
});

describe('Thompson sampling', () => {
  test('probabilities of being best sum to 1 and favour the clear winner', () => {
    const best = probabilityBest(rate, { a: cohort(10_000, 1000), b: cohort(10_000, 1300) }, prng(1));
    expect(best.a + best.b).toBeCloseTo(1, 12);
    expect(best.b).toBeGreaterThan(0.99);
  });

  test('is near even for equal evidence, and follows normal approximations with the pooled variance for a small difference', () => {
    const equal = probabilityBest(rate, { a: cohort(1000, 100), b: cohort(1000, 100) }, prng(2), 20_000);
    expect(equal.a).toBeGreaterThan(0.47);
    expect(equal.a).toBeLessThan(0.53);
    // One bucket each: P(mean_b > mean_a) with means 0.10 and 0.11, each N(mean, σ²/1000), σ² the pooled p(1 − p).
    const sigma2 = (0.1 * 0.9 + 0.11 * 0.89) / 2;
    const expected = normalCdf(0.01 / Math.sqrt(2 * sigma2 / 1000));
    const small = probabilityBest(rate, { a: cohort(1000, 100, 1), b: cohort(1000, 110, 1) }, prng(3), 20_000);
    // 20,000 draws: the Monte Carlo error is about 0.003.
    expect(Math.abs(small.b - expected)).toBeLessThan(0.012);
  });

  test('is the same for the same random source', () => {
    const input = { a: cohort(500, 40), b: cohort(500, 55) };
    expect(probabilityBest(rate, input, prng(9))).toEqual(probabilityBest(rate, input, prng(9)));
  });
});

describe('Wilson score interval', () => {
  test('matches published values', () => {
    // Newcombe (1998), "Two-sided confidence intervals for the single proportion", table I.
    const cases: [number, number, number, number][] = [[81, 263, 0.2553, 0.3662], [15, 148, 0.0624, 0.1605], [0, 20, 0, 0.1611], [1, 29, 0.0061, 0.1718]];
    for (const [count, n, low, high] of cases) {
      const interval = wilsonInterval(count, n);
      expect(interval.rate).toBeCloseTo(count / n, 12);
      expect(interval.low).toBeCloseTo(low, 4);
      expect(interval.high).toBeCloseTo(high, 4);
    }
  });

  test('stays within [0, 1], holds the estimate, and narrows with a lower confidence or more data', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, share) => {
      const count = Math.round(share * n);
      const interval = wilsonInterval(count, n);
      expect(interval.low).toBeGreaterThanOrEqual(0);
      expect(interval.high).toBeLessThanOrEqual(1);
      expect(interval.low).toBeLessThanOrEqual(interval.rate);
      expect(interval.high).toBeGreaterThanOrEqual(interval.rate);
      const narrower = wilsonInterval(count, n, 0.8);
      expect(narrower.high - narrower.low).toBeLessThanOrEqual(interval.high - interval.low + 1e-12);
    }));
    expect(wilsonInterval(50, 100).high - wilsonInterval(50, 100).low).toBeGreaterThan(wilsonInterval(5000, 10_000).high - wilsonInterval(5000, 10_000).low);
  });

  test('knows nothing without data', () => {
    expect(wilsonInterval(0, 0)).toEqual({ rate: 0, low: 0, high: 1 });
  });
});

describe('medianInterval', () => {
  test('finds the median of odd and even samples, none for no values', () => {
    expect(medianInterval([3, 1, 2])?.median).toBe(2);
    expect(medianInterval([4, 1, 3, 2])?.median).toBe(2.5);
    expect(medianInterval([])).toBeUndefined();
  });

  test('brackets the median with order statistics that cover it', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 200 }), (values) => {
      const m = medianInterval(values)!;
      return m.low <= m.median && m.median <= m.high && values.includes(m.low) && values.includes(m.high);
    }));
    // 100 values 1..100: ranks 50 ∓ 9.8 (1.96·√100/2), widened to whole ranks 40 and 60.
    expect(medianInterval(Array.from({ length: 100 }, (_, i) => i + 1))).toEqual({ median: 50.5, low: 40, high: 60 });
  });
});
