import { sampleBeta, sampleBinomial, sampleGamma, sampleNormal, samplePoisson, seededRandom } from '../../lib/release/random';

function moments(draw: () => number, n: number): { mean: number; variance: number } {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i += 1) {
    const x = draw();
    sum += x;
    sumSq += x * x;
  }
  const mean = sum / n;
  return { mean, variance: sumSq / n - mean * mean };
}

describe('seeded random variates', () => {
  test('the same seed gives the same sequence, another seed another', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const first = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(first);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(first);
    expect(first.every((u) => u >= 0 && u < 1)).toBe(true);
  });

  test.each([
    ['normal', (r: () => number) => sampleNormal(r), 0, 1],
    ['Gamma(0.5)', (r: () => number) => sampleGamma(0.5, r), 0.5, 0.5],
    ['Gamma(7)', (r: () => number) => sampleGamma(7, r), 7, 7],
    ['Beta(2, 5)', (r: () => number) => sampleBeta(2, 5, r), 2 / 7, (2 * 5) / (49 * 8)],
    ['Binomial(40, 0.1), exact', (r: () => number) => sampleBinomial(40, 0.1, r), 4, 3.6],
    ['Binomial(5000, 0.3), normal', (r: () => number) => sampleBinomial(5000, 0.3, r), 1500, 1050],
    ['Binomial(100, 0.97), mirrored', (r: () => number) => sampleBinomial(100, 0.97, r), 97, 2.91],
    ['Poisson(4), exact', (r: () => number) => samplePoisson(4, r), 4, 4],
    ['Poisson(500), normal', (r: () => number) => samplePoisson(500, r), 500, 500],
  ])('%s has the right mean and variance', (_, draw, mean, variance) => {
    const random = seededRandom(7);
    const m = moments(() => draw(random), 40_000);
    // Five standard errors of the mean, and 5% of the variance.
    expect(Math.abs(m.mean - mean)).toBeLessThan(5 * Math.sqrt(variance / 40_000));
    expect(Math.abs(m.variance - variance)).toBeLessThan(0.05 * variance);
  });

  test('binomial draws stay within 0 and n', () => {
    const random = seededRandom(1);
    for (let i = 0; i < 2000; i += 1) {
      const n = Math.floor(random() * 200);
      const k = sampleBinomial(n, random(), random);
      expect(k).toBeGreaterThanOrEqual(0);
      expect(k).toBeLessThanOrEqual(n);
      expect(Number.isInteger(k)).toBe(true);
    }
  });
});
