import fc from 'fast-check';
import { endOfLifeNotice } from '../../lib/cli/node-support';

const at = (date: string) => Date.parse(`${date}T00:00:00Z`);

describe('the Node.js end-of-life notice', () => {
  test.each([
    ['v20.20.2', '2026-04-29', undefined],
    ['v20.20.2', '2026-04-30', 'modelship: Node.js v20.20.2 reached its end of life on 2026-04-30 and gets no security fixes; use Node.js 22 or later.'],
    ['v20.20.2', '2026-11-29', 'modelship: Node.js v20.20.2 reached its end of life on 2026-04-30 and gets no security fixes; use Node.js 22 or later.'],
    ['v21.7.3', '2026-11-29', 'modelship: Node.js v21.7.3 reached its end of life on 2024-06-01 and gets no security fixes; use Node.js 22 or later.'],
    ['v22.11.0', '2026-11-29', undefined],
    ['v22.11.0', '2027-05-01', 'modelship: Node.js v22.11.0 reached its end of life on 2027-04-30 and gets no security fixes; use Node.js 24 or later.'],
    ['v24.0.0', '2026-11-29', undefined],
    ['v24.0.0', '2028-05-01', 'modelship: Node.js v24.0.0 reached its end of life on 2028-04-30 and gets no security fixes; use a supported Node.js release.'],
    ['v16.20.2', '2026-11-29', 'modelship: Node.js v16.20.2 is past its end of life and gets no security fixes; use Node.js 22 or later.'],
    ['v26.0.0', '2026-11-29', undefined],
    ['not a version', '2026-11-29', undefined],
  ])('Node.js %s on %s', (version, date, notice) => {
    expect(endOfLifeNotice(version, at(date))).toBe(notice);
  });

  test('is one line or nothing, and once given stays given as time passes', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: at('2020-01-01'), max: at('2035-01-01') }), fc.nat(10 * 365 * 86_400_000),
      (major, minor, nowMs, laterBy) => {
        const version = `v${major}.${minor}.0`;
        const notice = endOfLifeNotice(version, nowMs);
        if (notice !== undefined) {
          expect(notice).toMatch(/^modelship: Node\.js v\d+\.\d+\.0 [^\n]+\.$/);
          expect(endOfLifeNotice(version, nowMs + laterBy)).toBeDefined();
        }
      },
    ));
  });
});
