import fc from 'fast-check';
import { isSampled, recordedBody, redact, REDACTED, redactionSet } from '../../../lib/hooks/runtime/record-content';

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
});
