/**
 * Random variates drawn from an injected uniform source, so every caller decides where its
 * randomness comes from (a seeded generator in simulations and tests, anything in the Lambda).
 * Pure: no `Math.random`, no clock.
 */

/** A source of uniform numbers in [0, 1). */
export type UniformSource = () => number;

/** A seeded generator of numbers in [0, 1) (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): UniformSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal variate (Box–Muller, one of the pair). */
export function sampleNormal(random: UniformSource): number {
  const u1 = 1 - random(); // in (0, 1]: the log is finite
  const u2 = random();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** A Gamma(shape, 1) variate (Marsaglia–Tsang; shapes below 1 by the boost u^(1/shape)). */
export function sampleGamma(shape: number, random: UniformSource): number {
  if (shape < 1) {
    return sampleGamma(shape + 1, random) * Math.pow(1 - random(), 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = sampleNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
      return d * v;
    }
  }
}

/** Below this mean a Poisson variate is drawn exactly. */
const EXACT_POISSON_LIMIT = 30;

/** A Poisson(lambda) variate: exact (Knuth) below 30, normal approximation above. */
export function samplePoisson(lambda: number, random: UniformSource): number {
  if (lambda <= 0) {
    return 0;
  }
  if (lambda < EXACT_POISSON_LIMIT) {
    const limit = Math.exp(-lambda);
    let k = 0;
    let product = random();
    while (product > limit) {
      k += 1;
      product *= random();
    }
    return k;
  }
  return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * sampleNormal(random)));
}
