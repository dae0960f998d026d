/**
 * When each Node.js release line stops getting security fixes, from the Node.js release schedule
 * (https://github.com/nodejs/release#release-schedule). Lines older than the first ended long ago;
 * lines newer than the last are taken as supported.
 */
const END_OF_LIFE: ReadonlyArray<readonly [major: number, date: string]> = [
  [18, '2025-04-30'], [19, '2023-06-01'], [20, '2026-04-30'], [21, '2024-06-01'],
  [22, '2027-04-30'], [23, '2025-06-01'], [24, '2028-04-30'], [25, '2026-06-01'],
];

const endOfLifeMs = (date: string) => Date.parse(`${date}T00:00:00Z`);

/**
 * The one line the CLI prints on standard error when Node.js `version` (as `process.version`
 * spells it, `v20.20.2`) is past its end of life at `nowMs`, or undefined when it is not.
 */
export function endOfLifeNotice(version: string, nowMs: number): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1] ?? NaN);
  if (!Number.isInteger(major)) {
    return undefined;
  }
  const line = END_OF_LIFE.find(([m]) => m === major);
  const ended = line === undefined ? major < END_OF_LIFE[0][0] : nowMs >= endOfLifeMs(line[1]);
  if (!ended) {
    return undefined;
  }
  // The oldest long-term-support line (even major) still supported at `nowMs`.
  const supported = END_OF_LIFE.find(([m, date]) => m % 2 === 0 && nowMs < endOfLifeMs(date));
  const when = line === undefined ? 'is past its end of life' : `reached its end of life on ${line[1]}`;
  const use = supported === undefined ? 'a supported Node.js release' : `Node.js ${supported[0]} or later`;
  return `modelship: Node.js ${version} ${when} and gets no security fixes; use ${use}.`;
}
