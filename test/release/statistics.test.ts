import * as fc from 'fast-check';
import {
  binomialUpperTail, estimateArm, fixedHorizonSampleSize, logGamma, MIN_INVOCATIONS_PER_ARM, mixtureLikelihoodRatio,
  normalCdf, normalPdf, normalQuantile, oneSidedMixtureLikelihoodRatio, probabilityBest, regularizedIncompleteBeta, sequentialTest, wilsonInterval, medianInterval,
} from '../../lib/release/statistics';
import type { PrimaryMetricSpec, VariantCounts } from '../../lib/release/rollout-types';
import { seededRandom as prng } from '../../lib/release/random';

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

function counts(invocations: number, conversions: number): VariantCounts {
  return { invocations, errors: 0, conversions, valueSum: conversions, valueSumOfSquares: conversions };
}

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
  test("a mean's variance from the sum and sum of squares equals the sample variance of the values", () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 1000, noNaN: true }), { minLength: 2, maxLength: 50 }), fc.integer({ min: 0, max: 50 }), (values, zeros) => {
      const all = [...values, ...new Array<number>(zeros).fill(0)];
      const n = all.length;
      const mean = all.reduce((a, b) => a + b, 0) / n;
      const variance = all.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
      const estimate = estimateArm('mean', {
        invocations: n, errors: 0, conversions: values.length,
        valueSum: values.reduce((a, b) => a + b, 0), valueSumOfSquares: values.reduce((a, b) => a + b * b, 0),
      });
      expect(estimate.mean).toBeCloseTo(mean, 8);
      expect(Math.abs(estimate.variance - variance)).toBeLessThan(1e-7 * (1 + variance));
    }));
  });
});

describe('the sequential test', () => {
  test('concludes nothing before each variant has its minimum invocations', () => {
    const result = sequentialTest(rate, 0.05, counts(MIN_INVOCATIONS_PER_ARM - 1, 0), counts(100_000, 90_000));
    expect(result.verdict).toBe('inconclusive');
    expect(result.notReady).toMatch(/invocations/);
  });

  test('finds a clear improvement better and its mirror image worse', () => {
    const better = sequentialTest(rate, 0.05, counts(20_000, 2000), counts(20_000, 2400));
    expect(better.verdict).toBe('better');
    expect(better.lift).toBeCloseTo(0.2, 10);
    expect(better.statistic!).toBeGreaterThanOrEqual(better.threshold);
    expect(better.pValue).toBeCloseTo(1 / better.statistic!, 12);
    expect(sequentialTest(rate, 0.05, counts(20_000, 2400), counts(20_000, 2000)).verdict).toBe('worse');
  });

  test('turns round when lower is better', () => {
    const lower: PrimaryMetricSpec = { ...rate, betterWhen: 'lower' };
    expect(sequentialTest(lower, 0.05, counts(20_000, 2000), counts(20_000, 2400)).verdict).toBe('worse');
  });

  test('is inconclusive on identical counts, with p = 1', () => {
    const result = sequentialTest(rate, 0.05, counts(5000, 500), counts(5000, 500));
    expect(result.verdict).toBe('inconclusive');
    expect(result.pValue).toBe(1);
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
    const best = probabilityBest(rate, { a: counts(10_000, 1000), b: counts(10_000, 1300) }, prng(1));
    expect(best.a + best.b).toBeCloseTo(1, 12);
    expect(best.b).toBeGreaterThan(0.99);
  });

  test('is near even for equal evidence, and follows the posterior for a small difference', () => {
    const equal = probabilityBest(rate, { a: counts(1000, 100), b: counts(1000, 100) }, prng(2), 20_000);
    expect(equal.a).toBeGreaterThan(0.47);
    expect(equal.a).toBeLessThan(0.53);
    // Normal approximation of P(pB > pA) for Beta posteriors of 100/1000 and 110/1000.
    const [a, b] = [[101, 901], [111, 891]].map(([s, f]) => ({ m: s / (s + f), v: s * f / ((s + f) ** 2 * (s + f + 1)) }));
    const expected = normalCdf((b.m - a.m) / Math.sqrt(a.v + b.v));
    const small = probabilityBest(rate, { a: counts(1000, 100), b: counts(1000, 110) }, prng(3), 20_000);
    expect(Math.abs(small.b - expected)).toBeLessThan(0.02);
  });

  test('is the same for the same random source', () => {
    const input = { a: counts(500, 40), b: counts(500, 55) };
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
