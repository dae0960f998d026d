import fc from 'fast-check';
import { isSampled, recordedBody, redact, REDACTED, redactionSet, unitBucketOf, unitHashOf } from '../../../lib/hooks/runtime/record-content';
import { assignVariant } from '../../../lib/hooks/runtime/sticky-assignment';
import { UNIT_BUCKETS } from '../../../lib/release/metric-queries';

/** Pearson's chi-square statistic of counts against equal expected counts. */
function chiSquare(counts: readonly number[]): number {
  const expected = counts.reduce((a, b) => a + b, 0) / counts.length;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}
/** The 0.999 quantile of chi-square with 31 degrees of freedom (UNIT_BUCKETS - 1). */
const CHI_SQUARE_31_999 = 61.1;

function bucketCounts(units: readonly string[], key: Uint8Array): number[] {
  const counts = new Array<number>(UNIT_BUCKETS).fill(0);
  for (const unit of units) {
    counts[unitBucketOf(unitHashOf(key, unit))]++;
  }
  return counts;
}

describe('record content', () => {
  test('redacts listed fields at any depth and in arrays, by name regardless of case', () => {
    const fields = redactionSet(['email', 'SSN']);
    expect(redact({ Email: 'a@b.c', user: { ssn: '123', age: 40 }, items: [{ email: 'x' }, 3], note: 'email' }, fields)).toEqual({
      Email: REDACTED, user: { ssn: REDACTED, age: 40 }, items: [{ email: REDACTED }, 3], note: 'email',
    });
  });

  test('leaves no listed field unredacted and changes nothing else', () => {
    const fields = redactionSet(['secret']);
    const hasSecret = (v: unknown): boolean => v !== null && typeof v === 'object'
      && Object.entries(v).some(([k, item]) => (k.toLowerCase() === 'secret' && item !== REDACTED) || hasSecret(item));
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      const out = redact(value, fields);
      expect(hasSecret(out)).toBe(false);
      expect(redact(value, new Set())).toBe(value);
    }));
    fc.assert(fc.property(fc.dictionary(fc.constantFrom('Secret', 'secret', 'other'), fc.jsonValue()), (value) => {
      const out = redact(value, fields) as Record<string, unknown>;
      expect(Object.keys(out)).toEqual(Object.keys(value));
      if ('other' in value) {
        expect(out.other).toEqual(redact(value.other, fields));
      }
    }));
  });

  test('samples a share of ids that matches the rate, the same way every time', () => {
    for (const rate of [0.01, 0.1, 0.5]) {
      const ids = Array.from({ length: 20000 }, (_, i) => `m1.id.${i}`);
      const share = ids.filter((id) => isSampled(id, rate)).length / ids.length;
      expect(Math.abs(share - rate)).toBeLessThan(5 * Math.sqrt((rate * (1 - rate)) / ids.length));
      expect(ids.filter((id) => isSampled(id, rate))).toEqual(ids.filter((id) => isSampled(id, rate)));
    }
    fc.assert(fc.property(fc.string(), (id) => isSampled(id, 1) && !isSampled(id, 0)));
  });

  test('keeps a body that fits and leaves out one that does not', () => {
    const fields = redactionSet(['token']);
    expect(recordedBody({ token: 't', x: 1 }, fields, 100)).toEqual({ body: { token: REDACTED, x: 1 }, truncated: false });
    expect(recordedBody({ x: 'y'.repeat(200) }, fields, 100)).toEqual({ truncated: true });
    // The limit applies after redaction.
    expect(recordedBody({ token: 'y'.repeat(200) }, fields, 100).truncated).toBe(false);
  });

  test('puts every unit in one bucket from 0 to UNIT_BUCKETS - 1, the same one every time', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 64 }), fc.string({ minLength: 1, maxLength: 256 }), (key, unit) => {
      const bucket = unitBucketOf(unitHashOf(key, unit));
      expect(Number.isInteger(bucket) && bucket >= 0 && bucket < UNIT_BUCKETS).toBe(true);
      expect(unitBucketOf(unitHashOf(key, unit))).toBe(bucket);
    }));
  });

  test('spreads units evenly over the buckets, whatever the key', () => {
    const units = Array.from({ length: 100 * UNIT_BUCKETS }, (_, i) => `user-${i}`);
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (key) => {
      const counts = bucketCounts(units, key);
      expect(counts).toHaveLength(UNIT_BUCKETS);
      expect(chiSquare(counts)).toBeLessThan(CHI_SQUARE_31_999);
    }), { seed: 12, numRuns: 10 });
  });

  test('spreads each variant\'s units evenly over the buckets: a bucket says nothing of the variant', () => {
    const key = Buffer.alloc(32, 3);
    const weights = [{ variant: 'baseline', weight: 50 }, { variant: 'candidate', weight: 50 }];
    const units = Array.from({ length: 400 * UNIT_BUCKETS }, (_, i) => `account-${i}`);
    for (const variant of ['baseline', 'candidate']) {
      const on = units.filter((u) => assignVariant(u, weights, 'churn') === variant);
      expect(on.length).toBeGreaterThan(0.45 * units.length);
      expect(chiSquare(bucketCounts(on, key))).toBeLessThan(CHI_SQUARE_31_999);
    }
  });
});
