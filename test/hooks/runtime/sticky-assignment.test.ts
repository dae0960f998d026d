import fc from 'fast-check';
import { assignVariant, drawVariant, unitDraw, VariantWeight } from '../../../lib/hooks/runtime/sticky-assignment';

const variantNames = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/), { minLength: 2, maxLength: 5 });
const unitIds = fc.string({ minLength: 1, maxLength: 40 });

/** Weights for the given variants, each 0-100 with at least one positive. */
const weightsFor = (names: string[]) => fc.tuple(...names.map(() => fc.integer({ min: 0, max: 100 })))
  .filter((ws) => ws.some((w) => w > 0))
  .map((ws) => ws.map((weight, i) => ({ variant: names[i], weight })));

describe('sticky assignment', () => {
  test('draws are uniform numbers strictly between 0 and 1', () => {
    fc.assert(fc.property(fc.string(), fc.string(), unitIds, (salt, variant, unit) => {
      const u = unitDraw(salt, variant, unit);
      return u > 0 && u < 1;
    }));
  });

  test('is deterministic for a salt and changes with the salt', () => {
    const weights = [{ variant: 'baseline', weight: 50 }, { variant: 'candidate', weight: 50 }];
    fc.assert(fc.property(unitIds, fc.string(), (unit, salt) =>
      assignVariant(unit, weights, salt) === assignVariant(unit, weights, salt)));
    const units = Array.from({ length: 2000 }, (_, i) => `user-${i}`);
    const moved = units.filter((u) => assignVariant(u, weights, 'one') !== assignVariant(u, weights, 'two')).length;
    // Independent salts agree on about half the units at 50/50.
    expect(moved / units.length).toBeGreaterThan(0.4);
    expect(moved / units.length).toBeLessThan(0.6);
  });

  test('routes each variant a share of units that matches its weight', () => {
    fc.assert(fc.property(variantNames.chain(weightsFor), fc.string({ maxLength: 8 }), (weights, salt) => {
      const n = 4000;
      const counts = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const v = assignVariant(`unit-${i}`, weights, salt)!;
        counts.set(v, (counts.get(v) ?? 0) + 1);
      }
      const total = weights.reduce((s, w) => s + w.weight, 0);
      return weights.every(({ variant, weight }) => {
        const p = weight / total;
        // Five standard deviations of a binomial share: fails by chance about once in 3 million.
        const tolerance = 5 * Math.sqrt((p * (1 - p)) / n) + 1e-9;
        return Math.abs((counts.get(variant) ?? 0) / n - p) <= tolerance;
      });
    }), { numRuns: 40 });
  });

  test('never routes to a variant with zero weight, and routes nowhere when every weight is zero', () => {
    fc.assert(fc.property(unitIds, (unit) => {
      expect(assignVariant(unit, [{ variant: 'a', weight: 0 }, { variant: 'b', weight: 30 }], 's')).toBe('b');
      expect(assignVariant(unit, [{ variant: 'a', weight: 0 }, { variant: 'b', weight: 0 }], 's')).toBeUndefined();
    }));
  });

  test('keeps a unit on a variant whose weight only grows while the others shrink', () => {
    const schedules = variantNames.chain((names) => fc.tuple(
      fc.constant(names),
      fc.integer({ min: 0, max: names.length - 1 }),
      // Successive changes: the growing variant gains, the others each lose a share.
      fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: names.length, maxLength: names.length })), { minLength: 1, maxLength: 6 }),
    ));
    fc.assert(fc.property(schedules, fc.array(unitIds, { minLength: 1, maxLength: 50 }), fc.string({ maxLength: 6 }), ([names, grower, steps], units, salt) => {
      let weights: VariantWeight[] = names.map((variant, i) => ({ variant, weight: i === grower ? 5 : 95 / (names.length - 1) }));
      let onGrower = units.filter((u) => assignVariant(u, weights, salt) === names[grower]);
      for (const [gain, keeps] of steps) {
        weights = weights.map((w, i) => ({ variant: w.variant, weight: i === grower ? w.weight + gain : w.weight * keeps[i] }));
        const now = units.filter((u) => assignVariant(u, weights, salt) === names[grower]);
        // Everyone who was on the growing variant still is.
        expect(onGrower.every((u) => now.includes(u))).toBe(true);
        onGrower = now;
      }
    }));
  });

  test('moves the candidate from 5% to 50% without sending any of its users back', () => {
    const units = Array.from({ length: 5000 }, (_, i) => `account-${i}`);
    let previous = new Set<string>();
    for (const candidate of [5, 10, 25, 50]) {
      const weights = [{ variant: 'baseline', weight: 100 - candidate }, { variant: 'candidate', weight: candidate }];
      const on = new Set(units.filter((u) => assignVariant(u, weights, 'churn') === 'candidate'));
      expect([...previous].filter((u) => !on.has(u))).toEqual([]);
      expect(Math.abs(on.size / units.length - candidate / 100)).toBeLessThan(0.02);
      previous = on;
    }
  });
});

describe('weighted draws for requests without a unit', () => {
  test('give each variant a share of uniform draws equal to its weight', () => {
    fc.assert(fc.property(variantNames.chain(weightsFor), fc.integer({ min: 100, max: 5000 }), (weights, n) => {
      // n evenly spaced draws: each variant's slice of [0, 1) holds its share of them, to within one draw.
      const counts = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const v = drawVariant(weights, (i + 0.5) / n)!;
        counts.set(v, (counts.get(v) ?? 0) + 1);
      }
      const total = weights.reduce((s, w) => s + w.weight, 0);
      expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(n);
      for (const { variant, weight } of weights) {
        expect(Math.abs((counts.get(variant) ?? 0) - (n * weight) / total)).toBeLessThanOrEqual(1);
      }
    }));
  });

  test('never draw a variant with zero weight, and draw nothing when every weight is zero', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (u) => {
      expect(drawVariant([{ variant: 'a', weight: 0 }, { variant: 'b', weight: 30 }, { variant: 'c', weight: 0 }], u)).toBe('b');
      expect(drawVariant([{ variant: 'a', weight: 0 }, { variant: 'b', weight: 0 }], u)).toBeUndefined();
      expect(drawVariant([], u)).toBeUndefined();
    }));
  });

  test('cut [0, 1) at the cumulative weights, in order', () => {
    const weights = [{ variant: 'a', weight: 1 }, { variant: 'b', weight: 3 }];
    expect([0, 0.2499, 0.25, 0.9999999].map((u) => drawVariant(weights, u))).toEqual(['a', 'a', 'b', 'b']);
  });
});
