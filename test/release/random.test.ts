import { sampleGamma, sampleNormal, samplePoisson, seededRandom } from '../../lib/release/random';

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
    ['Poisson(4), exact', (r: () => number) => samplePoisson(4, r), 4, 4],
    ['Poisson(500), normal', (r: () => number) => samplePoisson(500, r), 500, 500],
  ])('%s has the right mean and variance', (_, draw, mean, variance) => {
    const random = seededRandom(7);
    const m = moments(() => draw(random), 40_000);
    // Five standard errors of the mean, and 5% of the variance.
    expect(Math.abs(m.mean - mean)).toBeLessThan(5 * Math.sqrt(variance / 40_000));
    expect(Math.abs(m.variance - variance)).toBeLessThan(0.05 * variance);
  });
});
