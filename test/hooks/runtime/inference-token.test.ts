import fc from 'fast-check';
import { captureIdOf, NONCE_BYTES, signInferenceId, verifyInferenceId } from '../../../lib/hooks/runtime/inference-token';

const key = Buffer.alloc(32, 7);
const nonces = fc.uint8Array({ minLength: NONCE_BYTES, maxLength: NONCE_BYTES });
const times = fc.integer({ min: 1_600_000_000, max: 2_500_000_000 });
const variants = ['baseline', 'candidate'];
const options = (nowSeconds: number) => ({ endpointName: 'churn-ab', variants, nowSeconds, windowSeconds: 7 * 86400 });

describe('inference ids', () => {
  test('fit SageMaker\'s 64-character InferenceId and verify for the variant that served them', () => {
    fc.assert(fc.property(times, nonces, fc.constantFrom(...variants), (t, nonce, variant) => {
      const captureId = captureIdOf(t, nonce);
      const id = signInferenceId(key, 'churn-ab', variant, captureId);
      expect(id.length).toBeLessThanOrEqual(64);
      expect(id.startsWith(`${captureId}.`)).toBe(true);
      expect(verifyInferenceId(key, id, options(t + 60))).toEqual({ ok: true, captureId, variant, issuedAtSeconds: t });
    }));
  });

  test('rejects any id with a changed character as forged or malformed, never as valid', () => {
    fc.assert(fc.property(times, nonces, fc.nat(), fc.constantFrom(...'abcXYZ019-_.'), (t, nonce, position, replacement) => {
      const id = signInferenceId(key, 'churn-ab', 'candidate', captureIdOf(t, nonce));
      const at = position % id.length;
      fc.pre(id[at] !== replacement);
      const tampered = id.slice(0, at) + replacement + id.slice(at + 1);
      const result = verifyInferenceId(key, tampered, options(t + 60));
      expect(result.ok).toBe(false);
    }));
  });

  test('accepts only one spelling of a signature', () => {
    const id = signInferenceId(key, 'churn-ab', 'candidate', captureIdOf(1_800_000_000, Buffer.alloc(NONCE_BYTES, 3)));
    const accepted = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_']
      .map((last) => id.slice(0, -1) + last)
      .filter((spelling) => verifyInferenceId(key, spelling, options(1_800_000_060)).ok);
    expect(accepted).toEqual([id]);
  });

  test('rejects ids signed with another key, for another endpoint, or for a variant not on the list', () => {
    const id = signInferenceId(key, 'churn-ab', 'candidate', captureIdOf(1_800_000_000, Buffer.alloc(NONCE_BYTES, 1)));
    const now = options(1_800_000_060);
    expect(verifyInferenceId(Buffer.alloc(32, 8), id, now)).toEqual({ ok: false, reason: 'forged' });
    expect(verifyInferenceId(key, id, { ...now, endpointName: 'other' })).toEqual({ ok: false, reason: 'forged' });
    expect(verifyInferenceId(key, id, { ...now, variants: ['baseline'] })).toEqual({ ok: false, reason: 'forged' });
  });

  test('rejects ids older than the window and ids from the future beyond the skew', () => {
    const t = 1_800_000_000;
    const id = signInferenceId(key, 'churn-ab', 'baseline', captureIdOf(t, Buffer.alloc(NONCE_BYTES, 2)));
    expect(verifyInferenceId(key, id, options(t + 7 * 86400)).ok).toBe(true);
    expect(verifyInferenceId(key, id, options(t + 7 * 86400 + 1))).toEqual({ ok: false, reason: 'expired' });
    expect(verifyInferenceId(key, id, options(t - 300)).ok).toBe(true);
    expect(verifyInferenceId(key, id, options(t - 301))).toEqual({ ok: false, reason: 'future' });
  });

  test('rejects strings that are not ids as malformed', () => {
    for (const bad of ['', 'abc', 'm1.x.y.z', `m2.${'a'.repeat(7)}.${'b'.repeat(16)}.${'c'.repeat(22)}`, `m1.abc.${'b'.repeat(16)}.${'c'.repeat(21)}`]) {
      expect(verifyInferenceId(key, bad, options(1))).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  test('refuses a nonce of the wrong size', () => {
    expect(() => captureIdOf(1, Buffer.alloc(4))).toThrow('A nonce must have 12 bytes, got 4');
  });
});
