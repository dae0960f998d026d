import fc from 'fast-check';
import { GatewayKeyRing, nextGatewayKey, parseGatewayKey, ROOT_BYTES } from '../../../lib/hooks/runtime/gateway-keys';
import { captureIdOf as captureIdWith, Cohort, MAX_KEY_VERSION, NONCE_BYTES, signInferenceId, verifyInferenceId } from '../../../lib/hooks/runtime/inference-token';
import { UNIT_BUCKETS } from '../../../lib/release/metric-queries';

/** The secret as CloudFormation generated it (key version 0), and two rotations. */
const GENERATED = 'k'.repeat(64);
const v0 = parseGatewayKey(GENERATED);
const v1 = nextGatewayKey(v0, Buffer.alloc(ROOT_BYTES, 1));
const v2 = nextGatewayKey(v1, Buffer.alloc(ROOT_BYTES, 2));
/** The gateway after one rotation: v1 signs, v0 still verifies. */
const ring = new GatewayKeyRing(v1, v0);
const key = ring.signing.key;
const captureIdOf = (t: number, nonce: Uint8Array, cohort: Cohort) => captureIdWith(1, t, nonce, cohort);
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
/** A capture id of version m1, issued before ids carried a cohort (or a key version). */
const m1CaptureId = (t: number, nonce: Uint8Array) => `m1.${Math.floor(t).toString(36)}.${Buffer.from(nonce).toString('base64url')}`;
/** A capture id of version m2, issued before ids carried a key version. */
const m2CaptureId = (t: number, nonce: Uint8Array, cohort: string) => `m2.${Math.floor(t).toString(36)}.${Buffer.from(nonce).toString('base64url')}.${cohort}`;
/** The key m1 and m2 ids were signed with: the generated secret's text. */
const LEGACY = Buffer.from(GENERATED);

describe('inference ids', () => {
  test('fit SageMaker\'s 64-character InferenceId and verify for the variant that served them, with their cohort', () => {
    fc.assert(fc.property(times, nonces, fc.constantFrom(...variants), cohorts, (t, nonce, variant, cohort) => {
      const captureId = captureIdOf(t, nonce, cohort);
      const id = signInferenceId(key, 'churn-ab', variant, captureId);
      expect(captureId.length).toBeLessThanOrEqual(64);
      expect(id.startsWith(`${captureId}.`)).toBe(true);
      expect(verifyInferenceId(ring, id, options(t + 60))).toEqual({ ok: true, captureId, variant, issuedAtSeconds: t, cohort });
    }));
  });

  test('stay within 64 characters at the largest key version, time and cohort', () => {
    const longest = captureIdWith(MAX_KEY_VERSION, 36 ** 9 - 1, Buffer.alloc(NONCE_BYTES, 255), { assignment: 'sticky', unitBucket: UNIT_BUCKETS - 1 });
    expect(longest).toBe(`m3.zzzzzz.zzzzzzzzz.${Buffer.alloc(NONCE_BYTES, 255).toString('base64url')}.u31`);
    expect(longest.length).toBe(40);
    expect(() => captureIdWith(MAX_KEY_VERSION + 1, 1, Buffer.alloc(NONCE_BYTES), STICKY)).toThrow(`A key version must be a whole number from 0 to ${MAX_KEY_VERSION}, got ${MAX_KEY_VERSION + 1}`);
    expect(() => captureIdWith(-1, 1, Buffer.alloc(NONCE_BYTES), STICKY)).toThrow('A key version must be a whole number');
  });

  test('name the key version and the cohort in the capture id: u<bucket>, o or w', () => {
    const nonce = Buffer.alloc(NONCE_BYTES, 9);
    expect(captureIdWith(71, 36, nonce, { assignment: 'sticky', unitBucket: 31 })).toBe(`m3.1z.10.${nonce.toString('base64url')}.u31`);
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
      expect(verifyInferenceId(ring, moved, options(t + 60))).toEqual({ ok: false, reason: 'forged' });
    }));
  });

  test('cannot move an id to another key version: the signature covers it, and a version not held is refused before any signature is checked', () => {
    const both = new GatewayKeyRing(v2, v1);
    fc.assert(fc.property(times, nonces, cohorts, fc.integer({ min: 0, max: MAX_KEY_VERSION }), (t, nonce, cohort, claimed) => {
      fc.pre(claimed !== 2);
      const id = signInferenceId(both.signing.key, 'churn-ab', 'candidate', captureIdWith(2, t, nonce, cohort));
      const moved = `${captureIdWith(claimed, t, nonce, cohort)}.${id.slice(id.lastIndexOf('.') + 1)}`;
      expect(verifyInferenceId(both, moved, options(t + 60))).toEqual(claimed === 1 ? { ok: false, reason: 'forged' } : { ok: false, reason: 'unknown-key', key: claimed });
    }));
  });

  test('verify with the key version they name: the current key\'s and the previous key\'s ids, not older ones', () => {
    const t = 1_800_000_000;
    const nonce = Buffer.alloc(NONCE_BYTES, 4);
    const signedBy = (signer: GatewayKeyRing) => signInferenceId(signer.signing.key, 'churn-ab', 'baseline', captureIdWith(signer.signing.keyVersion, t, nonce, STICKY));
    const [byV0, byV1, byV2] = [new GatewayKeyRing(v0), new GatewayKeyRing(v1, v0), new GatewayKeyRing(v2, v1)].map(signedBy);
    const afterTwo = new GatewayKeyRing(v2, v1);
    expect(verifyInferenceId(afterTwo, byV2, options(t + 60)).ok).toBe(true);
    expect(verifyInferenceId(afterTwo, byV1, options(t + 60)).ok).toBe(true);
    expect(verifyInferenceId(afterTwo, byV0, options(t + 60))).toEqual({ ok: false, reason: 'unknown-key', key: 0 });
    expect(verifyInferenceId(ring, byV0, options(t + 60)).ok).toBe(true);
    expect(verifyInferenceId(ring, byV2, options(t + 60))).toEqual({ ok: false, reason: 'unknown-key', key: 2 });
  });

  test('still verify m2 and m1 ids, signed with the generated secret\'s text before ids carried a key version, while that version is held', () => {
    fc.assert(fc.property(times, nonces, fc.constantFrom(...variants), cohorts, (t, nonce, variant, cohort) => {
      const m2 = m2CaptureId(t, nonce, captureIdOf(t, nonce, cohort).split('.').at(-1)!);
      const m1 = m1CaptureId(t, nonce);
      for (const [captureId, expected] of [[m2, cohort], [m1, { assignment: 'unknown' }]] as const) {
        const id = signInferenceId(LEGACY, 'churn-ab', variant, captureId);
        expect(verifyInferenceId(ring, id, options(t + 60))).toEqual({ ok: true, captureId, variant, issuedAtSeconds: t, cohort: expected });
        expect(verifyInferenceId(new GatewayKeyRing(v0), id, options(t + 60)).ok).toBe(true);
        expect(verifyInferenceId(new GatewayKeyRing(v2, v1), id, options(t + 60))).toEqual({ ok: false, reason: 'unknown-key', key: 'legacy' });
        // An m3 id of key version 0 is signed with the derived key, not the text: the legacy key signs no new id.
        expect(verifyInferenceId(ring, signInferenceId(LEGACY, 'churn-ab', variant, captureIdWith(0, t, nonce, STICKY)), options(t + 60))).toEqual({ ok: false, reason: 'forged' });
      }
    }));
  });

  test('rejects any id with a changed character as forged or malformed, never as valid', () => {
    fc.assert(fc.property(times, nonces, fc.nat(), fc.constantFrom(...'abcouwXYZ019-_.'), (t, nonce, position, replacement) => {
      const id = signInferenceId(key, 'churn-ab', 'candidate', captureIdOf(t, nonce, STICKY));
      const at = position % id.length;
      fc.pre(id[at] !== replacement);
      const tampered = id.slice(0, at) + replacement + id.slice(at + 1);
      const result = verifyInferenceId(ring, tampered, options(t + 60));
      expect(result.ok).toBe(false);
    }));
  });

  test('accepts only one spelling of a signature', () => {
    const id = signInferenceId(key, 'churn-ab', 'candidate', captureIdOf(1_800_000_000, Buffer.alloc(NONCE_BYTES, 3), STICKY));
    const accepted = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_']
      .map((last) => id.slice(0, -1) + last)
      .filter((spelling) => verifyInferenceId(ring, spelling, options(1_800_000_060)).ok);
    expect(accepted).toEqual([id]);
  });

  test('rejects ids signed with another key, for another endpoint, or for a variant not on the list', () => {
    const id = signInferenceId(key, 'churn-ab', 'candidate', captureIdOf(1_800_000_000, Buffer.alloc(NONCE_BYTES, 1), { assignment: 'weighted' }));
    const now = options(1_800_000_060);
    const otherSecret = parseGatewayKey('x'.repeat(64));
    expect(verifyInferenceId(new GatewayKeyRing(nextGatewayKey(otherSecret, Buffer.alloc(ROOT_BYTES, 9)), otherSecret), id, now)).toEqual({ ok: false, reason: 'forged' });
    expect(verifyInferenceId(ring, id, { ...now, endpointName: 'other' })).toEqual({ ok: false, reason: 'forged' });
    expect(verifyInferenceId(ring, id, { ...now, variants: ['baseline'] })).toEqual({ ok: false, reason: 'forged' });
  });

  test('rejects ids older than the window and ids from the future beyond the skew', () => {
    const t = 1_800_000_000;
    const id = signInferenceId(key, 'churn-ab', 'baseline', captureIdOf(t, Buffer.alloc(NONCE_BYTES, 2), { assignment: 'override' }));
    expect(verifyInferenceId(ring, id, options(t + 7 * 86400)).ok).toBe(true);
    expect(verifyInferenceId(ring, id, options(t + 7 * 86400 + 1))).toEqual({ ok: false, reason: 'expired' });
    expect(verifyInferenceId(ring, id, options(t - 300)).ok).toBe(true);
    expect(verifyInferenceId(ring, id, options(t - 301))).toEqual({ ok: false, reason: 'future' });
  });

  test('rejects strings that are not ids as malformed', () => {
    const [t, n, sig] = ['a'.repeat(7), 'b'.repeat(16), 'c'.repeat(22)];
    for (const bad of ['', 'abc', 'm1.x.y.z', `m2.${t}.${n}.${sig}`, `m1.${t}.${n}.u3.${sig}`, `m2.${t}.${n}.u32.${sig}`, `m2.${t}.${n}.u07.${sig}`,
      `m2.${t}.${n}.x.${sig}`, `m3.${t}.${n}.w.${sig}`, `m1.abc.${n}.${'c'.repeat(21)}`, `m3.1.${t}.${n}.${sig}`, `m3.01.${t}.${n}.w.${sig}`,
      `m3.zzzzzzz.${t}.${n}.w.${sig}`, `m3.A.${t}.${n}.w.${sig}`, `m3..${t}.${n}.w.${sig}`, `m4.1.${t}.${n}.w.${sig}`]) {
      expect(verifyInferenceId(ring, bad, options(1))).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  test('refuses a nonce of the wrong size', () => {
    expect(() => captureIdOf(1, Buffer.alloc(4), STICKY)).toThrow('A nonce must have 12 bytes, got 4');
  });
});
