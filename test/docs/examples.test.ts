import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { SimulateReport, simulateCommand } from '../../lib/cli/commands/simulate';
import { parsePolicy } from '../../lib/release/rollout-policy';
import { fakeIo } from '../cli/fakes';

const repo = join(__dirname, '..', '..');
const examplesDir = join(repo, 'docs', 'examples');
const examples = readdirSync(examplesDir).filter((name) => name.endsWith('.json')).sort();

/** Every `examples/<name>.json` the guides and the README link or name. */
function documentedExamples(): string[] {
  const docs = ['README.md', ...readdirSync(join(repo, 'docs')).filter((name) => name.endsWith('.md')).map((name) => join('docs', name))];
  const names = docs.flatMap((doc) => [...readFileSync(join(repo, doc), 'utf8').matchAll(/examples\/([a-z0-9-]+\.json)/g)].map((m) => m[1]));
  return [...new Set(names)].sort();
}

/** A candidate 20% better than a 10% baseline, at 2,000 requests an hour with outcomes an hour late: every policy should find it. */
const betterCandidate = { baselineRate: '0.1', candidateRate: '0.12', traffic: '2000', hours: '240', runs: '10', seed: '11', outcomeDelay: '60' };

describe('the example policy files in docs/examples', () => {
  test('are exactly the ones the docs name', () => {
    expect(examples).toEqual(['bandit-policy.json', 'experiment-policy.json', 'progressive-policy.json']);
    expect(documentedExamples()).toEqual(examples);
  });

  test.each(examples)('%s runs through `modelship simulate` and promotes a clearly better candidate', async (name) => {
    const file = join(examplesDir, name);
    const policy = parsePolicy(JSON.parse(readFileSync(file, 'utf8')));
    expect(name).toBe(`${policy.kind}-policy.json`);

    const io = fakeIo();
    expect(await simulateCommand({ policy: file, ...betterCandidate, json: true }, io)).toBe(0);
    expect(io.errors).toEqual([]);
    expect(io.lines).toHaveLength(1);
    const report = JSON.parse(io.lines[0]) as SimulateReport;
    expect(report.trajectory.length).toBeGreaterThan(0);
    expect(report.trajectory[0].atMs).toBe(policy.evaluationIntervalMinutes * 60_000);
    expect(Object.keys(report.trajectory[0].weights).sort()).toEqual([policy.baseline, policy.candidate].sort());
    const c = report.characteristics;
    expect(c.runs).toBe(10);
    expect(c.promoted.count + c.aborted.count + c.paused.count + c.undecided.count).toBe(10);
    expect(c.promoted.count).toBeGreaterThanOrEqual(9);
    expect(c.aborted.count).toBe(0);

    const text = fakeIo();
    expect(await simulateCommand({ policy: file, ...betterCandidate, runs: '2' }, text)).toBe(0);
    expect(text.lines[0]).toBe(`${policy.kind} policy, ${policy.baseline} at 10.00% vs ${policy.candidate} at 12.00%, 2,000 requests/h, up to 240 h`);
    expect(text.output()).toContain('Operating characteristics over 2 runs');
  }, 60_000);
});
