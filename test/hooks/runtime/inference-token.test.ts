import fc from 'fast-check';
import { captureIdOf, Cohort, NONCE_BYTES, signInferenceId, verifyInferenceId } from '../../../lib/hooks/runtime/inference-token';
import { UNIT_BUCKETS } from '../../../lib/release/metric-queries';

const key = Buffer.alloc(32, 7);
const nonces = fc.uint8Array({ minLength: NONCE_BYTES, maxLength: NONCE_BYTES });
const times = fc.integer({ min: 1_600_000_000, max: 2_500_000_000 });
const variants = ['baseline', 'candidate'];
const options = (nowSeconds: number) => ({ endpointName: 'churn-ab', variants, nowSeconds, windowSeconds: 7 * 86400 });
const cohorts: fc.Arbitrary<Cohort> = fc.oneof(
  fc.integer({ min: 0, max: UNIT_BUCKETS - 1 }).map((unitBucket) => ({ assignment: 'sticky' as const, unitBucket })),
  fc.constant({ assignment: 'override' as const }),
  fc.constant({ assignment: 'weighted' as const }),
);
const STICKY: Cohort = { assignment: 'sticky', unitBucket: 7 };
/** A capture id of the previous version, issued before ids carried a cohort. */
const m1CaptureId = (t: number, nonce: Uint8Array) => `m1.${Math.floor(t).toString(36)}.${Buffer.from(nonce).toString('base64url')}`;

describe('inference ids', () => {
  test('fit SageMaker\'s 64-character InferenceId and verify for the variant that served them, with their cohort', () => {
    fc.assert(fc.property(times, nonces, fc.constantFrom(...variants), cohorts, (t, nonce, variant, cohort) => {
      const captureId = captureIdOf(t, nonce, cohort);
      const id = signInferenceId(key, 'churn-ab', variant, captureId);
      expect(captureId.length).toBeLessThanOrEqual(64);
      expect(id.startsWith(`${captureId}.`)).toBe(true);
      expect(verifyInferenceId(key, id, options(t + 60))).toEqual({ ok: true, captureId, variant, issuedAtSeconds: t, cohort });
    }));
  });

  test('name the cohort in the capture id: u<bucket>, o or w', () => {
    const nonce = Buffer.alloc(NONCE_BYTES, 9);
    expect(captureIdOf(36, nonce, { assignment: 'sticky', unitBucket: 31 })).toBe(`m2.10.${nonce.toString('base64url')}.u31`);
    expect(captureIdOf(36, nonce, { assignment: 'override' }).endsWith('.o')).toBe(true);
    expect(captureIdOf(36, nonce, { assignment: 'weighted' }).endsWith('.w')).toBe(true);
    expect(() => captureIdOf(36, nonce, { assignment: 'sticky', unitBucket: UNIT_BUCKETS })).toThrow('A unit bucket must be a whole number from 0 to 31, got 32');
  });

  test('cannot move an id to another cohort: the signature covers it', () => {
    fc.assert(fc.property(times, nonces, cohorts, cohorts, (t, nonce, issuedFor, claimed) => {
      fc.pre(JSON.stringify(issuedFor) !== JSON.stringify(claimed));
      const id = signInferenceId(key, 'churn-ab', 'candidate', captureIdOf(t, nonce, issuedFor));
      const signature = id.slice(id.lastIndexOf('.') + 1);
      const moved = `${captureIdOf(t, nonce, claimed)}.${signature}`;
      expect(verifyInferenceId(key, moved, options(t + 60))).toEqual({ ok: false, reason: 'forged' });
    }));
  });

  test('still verify m1 ids, issued before ids carried a cohort, with an unknown cohort', () => {
    fc.assert(fc.property(times, nonces, fc.constantFrom(...variants), (t, nonce, variant) => {
      const captureId = m1CaptureId(t, nonce);
      const id = signInferenceId(key, 'churn-ab', variant, captureId);
      expect(verifyInferenceId(key, id, options(t + 60))).toEqual({ ok: true, captureId, variant, issuedAtSeconds: t, cohort: { assignment: 'unknown' } });
    }));
  });

  test('rejects any id with a changed character as forged or malformed, never as valid', () => {
    fc.assert(fc.property(times, nonces, fc.nat(), fc.constantFrom(...'abcouwXYZ019-_.'), (t, nonce, position, replacement) => {
      const id = signInferenceId(key, 'churn-ab', 'candidate', captureIdOf(t, nonce, STICKY));
      const at = position % id.length;
      fc.pre(id[at] !== replacement);
      const tampered = id.slice(0, at) + replacement + id.slice(at + 1);
      const result = verifyInferenceId(key, tampered, options(t + 60));
      expect(result.ok).toBe(false);
    }));
  });

  test('accepts only one spelling of a signature', () => {
    const id = signInferenceId(key, 'churn-ab', 'candidate', captureIdOf(1_800_000_000, Buffer.alloc(NONCE_BYTES, 3), STICKY));
    const accepted = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_']
      .map((last) => id.slice(0, -1) + last)
      .filter((spelling) => verifyInferenceId(key, spelling, options(1_800_000_060)).ok);
    expect(accepted).toEqual([id]);
  });

  test('rejects ids signed with another key, for another endpoint, or for a variant not on the list', () => {
    const id = signInferenceId(key, 'churn-ab', 'candidate', captureIdOf(1_800_000_000, Buffer.alloc(NONCE_BYTES, 1), { assignment: 'weighted' }));
    const now = options(1_800_000_060);
    expect(verifyInferenceId(Buffer.alloc(32, 8), id, now)).toEqual({ ok: false, reason: 'forged' });
    expect(verifyInferenceId(key, id, { ...now, endpointName: 'other' })).toEqual({ ok: false, reason: 'forged' });
    expect(verifyInferenceId(key, id, { ...now, variants: ['baseline'] })).toEqual({ ok: false, reason: 'forged' });
  });

  test('rejects ids older than the window and ids from the future beyond the skew', () => {
    const t = 1_800_000_000;
    const id = signInferenceId(key, 'churn-ab', 'baseline', captureIdOf(t, Buffer.alloc(NONCE_BYTES, 2), { assignment: 'override' }));
    expect(verifyInferenceId(key, id, options(t + 7 * 86400)).ok).toBe(true);
    expect(verifyInferenceId(key, id, options(t + 7 * 86400 + 1))).toEqual({ ok: false, reason: 'expired' });
    expect(verifyInferenceId(key, id, options(t - 300)).ok).toBe(true);
    expect(verifyInferenceId(key, id, options(t - 301))).toEqual({ ok: false, reason: 'future' });
  });

  test('rejects strings that are not ids as malformed', () => {
    const [t, n, sig] = ['a'.repeat(7), 'b'.repeat(16), 'c'.repeat(22)];
    for (const bad of ['', 'abc', 'm1.x.y.z', `m2.${t}.${n}.${sig}`, `m1.${t}.${n}.u3.${sig}`, `m2.${t}.${n}.u32.${sig}`, `m2.${t}.${n}.u07.${sig}`,
      `m2.${t}.${n}.x.${sig}`, `m3.${t}.${n}.w.${sig}`, `m1.abc.${n}.${'c'.repeat(21)}`]) {
      expect(verifyInferenceId(key, bad, options(1))).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  test('refuses a nonce of the wrong size', () => {
    expect(() => captureIdOf(1, Buffer.alloc(4), STICKY)).toThrow('A nonce must have 12 bytes, got 4');
  });
});
