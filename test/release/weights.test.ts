import fc from 'fast-check';
import { percentages, sameWeights } from '../../lib/release/weights';

describe('weights', () => {
  test('turns relative weights into whole percentages', () => {
    expect(percentages({ baseline: 0.9, candidate: 0.1 })).toEqual({ baseline: 90, candidate: 10 });
    expect(percentages({ a: 1, b: 1, c: 2 })).toEqual({ a: 25, b: 25, c: 50 });
    expect(percentages({ a: 0, b: 0 })).toEqual({ a: 0, b: 0 });
    fc.assert(fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.double({ min: 0, max: 1000, noNaN: true })), (weights) =>
      Object.values(percentages(weights)).every((w) => Number.isInteger(w) && w >= 0 && w <= 100)));
  });

  test('compares weights variant by variant, a missing variant counting as 0', () => {
    expect(sameWeights({ a: 50, b: 50 }, { b: 50, a: 50 })).toBe(true);
    expect(sameWeights({ a: 100 }, { a: 100, b: 0 })).toBe(true);
    expect(sameWeights({ a: 100 }, { a: 90, b: 10 })).toBe(false);
  });
});
