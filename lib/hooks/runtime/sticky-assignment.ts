import { createHash } from 'crypto';

/** A production variant and its current routing weight. */
export interface VariantWeight {
  readonly variant: string;
  readonly weight: number;
}

const TWO_TO_52 = 2 ** 52;

/**
 * Where a unit falls for one variant: a uniform number in (0, 1), fixed by the salt, the
 * variant and the unit, and independent between variants.
 */
export function unitDraw(salt: string, variant: string, unitId: string): number {
  const digest = createHash('sha256').update(`${salt}\u0000${variant}\u0000${unitId}`).digest();
  // 52 random bits, shifted off zero so the logarithm below is finite.
  const bits = digest.readUIntBE(0, 6) * 16 + (digest[6] >> 4);
  return (bits + 0.5) / TWO_TO_52;
}

/**
 * The variant a unit is routed to: weighted rendezvous hashing. Each variant scores
 * `weight / -ln(draw)` and the highest score wins, so a unit lands on a variant with probability
 * weight / total, and when weights change a unit moves only to a variant whose weight grew: a
 * unit on a variant whose weight only grows (while the others' shrink or hold) stays on it.
 * Returns undefined when no variant has a positive weight.
 */
export function assignVariant(unitId: string, weights: readonly VariantWeight[], salt: string): string | undefined {
  let best: string | undefined;
  let bestScore = 0;
  for (const { variant, weight } of weights) {
    if (!(weight > 0)) {
      continue;
    }
    const score = weight / -Math.log(unitDraw(salt, variant, unitId));
    if (score > bestScore) {
      best = variant;
      bestScore = score;
    }
  }
  return best;
}

/**
 * The variant a request without a unit is routed to: variant i when `uniform` falls in its
 * slice of [0, 1), each slice weight / total wide, so a uniform draw lands on a variant with
 * probability weight / total. The caller draws `uniform` (the gateway uses crypto randomness).
 * Returns undefined when no variant has a positive weight.
 */
export function drawVariant(weights: readonly VariantWeight[], uniform: number): string | undefined {
  const positive = weights.filter((w) => w.weight > 0);
  const total = positive.reduce((sum, w) => sum + w.weight, 0);
  let upTo = 0;
  for (const { variant, weight } of positive) {
    upTo += weight;
    if (uniform * total < upTo) {
      return variant;
    }
  }
  // Rounding can leave uniform * total just above the last sum: the last slice ends at 1.
  return positive.at(-1)?.variant;
}
