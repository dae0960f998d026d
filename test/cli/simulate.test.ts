import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { SimulateReport, simulateCommand } from '../../lib/cli/commands/simulate';
import { CliError } from '../../lib/cli/errors';
import { RolloutPolicy } from '../../lib/release/rollout-policy';
import { Scenario, simulate } from '../../lib/release/simulate';
import { fakeIo } from './fakes';

const policy = RolloutPolicy.experiment({
  baseline: 'blue', candidate: 'green', evaluationIntervalMinutes: 60, maxDurationHours: 48, minRunHours: 12, outcomeDelayMinutes: 15,
  metric: { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: 0.1, betterWhen: 'higher' },
}).spec;

let dir: string;
let file: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelship-simulate-'));
  file = join(dir, 'policy.json');
  writeFileSync(file, JSON.stringify(policy));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = { baselineRate: '0.1', candidateRate: '0.115', traffic: '2000', hours: '48', runs: '10', seed: '7' };
const scenario: Scenario = {
  kind: 'rate', baseline: { conversionRate: 0.1, outcomeDelayMinutes: 0 }, candidate: { conversionRate: 0.115, outcomeDelayMinutes: 0 },
  trafficPerHour: 2000, maxHours: 48, preRolloutHours: 0, users: { requestsPerUser: 1 },
};

describe('modelship simulate', () => {
  test('prints the first run\'s trajectory and the operating characteristics as JSON, reproducibly', async () => {
    const io = fakeIo();
    expect(await simulateCommand({ policy: file, ...options, json: true }, io)).toBe(0);
    expect(io.lines).toHaveLength(1);
    const report = JSON.parse(io.lines[0]) as SimulateReport;
    expect(Object.keys(report)).toEqual(['scenario', 'seed', 'trajectory', 'characteristics']);
    expect(report.scenario).toEqual(scenario);
    expect(report.trajectory).toEqual(simulate(policy, scenario, 7).trajectory);
    const c = report.characteristics;
    expect(c).toMatchObject({ runs: 10, firstSeed: 7 });
    expect(c.promoted.count + c.aborted.count + c.paused.count + c.undecided.count).toBe(10);
    // A 15% lift at this traffic is found nearly always.
    expect(c.promoted.count).toBeGreaterThanOrEqual(9);
    for (const share of [c.promoted, c.aborted, c.paused, c.undecided]) {
      expect(share.rate).toBeCloseTo(share.count / 10, 12);
      expect(share.low).toBeLessThanOrEqual(share.rate);
      expect(share.high).toBeGreaterThanOrEqual(share.rate);
    }
    const decided = [...Array(10).keys()].map((i) => simulate(policy, scenario, 7 + i)).filter((r) => r.phase !== 'running');
    expect(c.decided).toBe(decided.length);
    const hours = decided.map((r) => r.hours).sort((a, b) => a - b);
    expect(c.medianHours).toBe(hours.length % 2 ? hours[(hours.length - 1) / 2] : (hours[hours.length / 2 - 1] + hours[hours.length / 2]) / 2);
    expect(c.medianInvocations).toBeGreaterThan(0);

    const again = fakeIo();
    await simulateCommand({ policy: file, ...options, json: true }, again);
    expect(again.lines).toEqual(io.lines);
  }, 60_000);

  test('shows a compact trajectory and the shares with Wilson intervals for people', async () => {
    const io = fakeIo();
    expect(await simulateCommand({ policy: file, ...options }, io)).toBe(0);
    const first = simulate(policy, scenario, 7);
    const text = io.output();
    expect(io.lines[0]).toBe('experiment policy, blue at 10.00% vs green at 11.50%, 2,000 requests/h, up to 48 h');
    expect(text).toContain(`First run (seed 7): ${first.phase} after ${first.hours} h`);
    expect(first.phase).toBe('promoted');
    expect(io.lines).toContain('  elapsed  weights             action   reason');
    expect(io.lines).toContain(`    ${first.hours}:00  blue 0 / green 100  promote  ${first.last.reason}`);
    expect(text).toContain('Operating characteristics over 10 runs (seeds 7-16; 95% Wilson intervals)');
    expect(text).toMatch(/ {2}promoted +\d+ +\d+\.\d% \[\d+\.\d%, \d+\.\d%\]/);
    expect(text).toMatch(/median to a decision: [\d,]+ predictions with outcomes in, [\d.]+ h \(\d+ decided runs\)/);
    // Uneventful holds are left out.
    const holds = first.trajectory.length - 2;
    expect(text).toContain(`; ${holds} uneventful holds not shown`);
    expect(io.lines.filter((l) => / hold /.test(l))).toHaveLength(1);
  }, 60_000);

  test('keeps the beginning and the end of a long trajectory', async () => {
    const bandit = join(dir, 'bandit.json');
    writeFileSync(bandit, JSON.stringify(RolloutPolicy.bandit({ baseline: 'blue', candidate: 'green', metric: policy.metric }).spec));
    const io = fakeIo();
    await simulateCommand({ policy: bandit, baselineRate: '0.1', candidateRate: '0.1', hours: '24', runs: '1' }, io);
    const start = io.lines.indexOf('  elapsed  weights             action   reason');
    const end = io.lines.indexOf('', start);
    const rows = io.lines.slice(start + 1, end);
    expect(rows).toHaveLength(41);
    expect(rows[20]).toMatch(/^ {2}… \d+ more ticks …$/);
    expect(rows[40]).toMatch(/^ +24:00 /);
  }, 60_000);

  test('models the world the options and a --world file describe', async () => {
    const world = join(dir, 'world.json');
    writeFileSync(world, JSON.stringify({ propensityShape: 0.5, candidateOutcomeDelayMinutes: 20, missingOutcomes: { variant: 'baseline', fromHour: 2, hours: 1 }, forcedPerHour: 50 }));
    const io = fakeIo();
    await simulateCommand({ policy: file, runs: '1', hours: '6', json: true, outcomeDelay: '90', preRollout: '12', requestsPerUser: '4', world }, io);
    const report = JSON.parse(io.lines[0]) as SimulateReport;
    expect(report.scenario).toEqual({
      kind: 'rate', baseline: { conversionRate: 0.1, outcomeDelayMinutes: 90 }, candidate: { conversionRate: 0.1, outcomeDelayMinutes: 20 },
      trafficPerHour: 2000, maxHours: 6, preRolloutHours: 12, users: { requestsPerUser: 4, propensityShape: 0.5 },
      missingOutcomes: { variant: 'baseline', fromHour: 2, hours: 1 }, forcedPerHour: 50,
    });
    expect(report.trajectory).toEqual(simulate(policy, report.scenario, 1).trajectory);
  }, 60_000);

  test('refuses a world file that is not JSON or names what the simulator does not know, with exit 2', async () => {
    const bad = join(dir, 'bad-world.json');
    writeFileSync(bad, JSON.stringify({ candidateUndercount: 1.5, weather: 'rain' }));
    await expect(simulateCommand({ policy: file, world: bad }, fakeIo())).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/^world file '.*bad-world\.json' is invalid:\n {2}- /) });
    const text = join(dir, 'text-world.json');
    writeFileSync(text, 'not json');
    await expect(simulateCommand({ policy: file, world: text }, fakeIo())).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/^world file '.*text-world\.json' is not valid JSON/) });
    await expect(simulateCommand({ policy: file, requestsPerUser: '0.5' }, fakeIo())).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining("--requests-per-user must be") });
  });

  test('takes the command line\'s defaults when options are left out', async () => {
    const io = fakeIo();
    await simulateCommand({ policy: file, runs: '2', hours: '4', json: true }, io);
    expect(JSON.parse(io.lines[0])).toMatchObject({
      seed: 1, scenario: { baseline: { conversionRate: 0.1 }, candidate: { conversionRate: 0.1 }, trafficPerHour: 2000, maxHours: 4 }, characteristics: { runs: 2 },
    });
  });

  test('reports every bad number at once, naming the option, the range and the value', async () => {
    const run = simulateCommand({ policy: file, baselineRate: '1.5', candidateRate: '-0.1', traffic: '0', hours: 'x', runs: '10001', seed: '1.5' }, fakeIo());
    await expect(run).rejects.toThrow(CliError);
    await expect(run).rejects.toMatchObject({
      exitCode: 2,
      message: [
        'bad options:',
        "  - --baseline-rate must be a number from 0 to 1, got '1.5'",
        "  - --candidate-rate must be a number from 0 to 1, got '-0.1'",
        "  - --traffic must be a number greater than 0, got '0'",
        "  - --hours must be a number greater than 0, got 'x'",
        "  - --runs must be an integer from 1 to 10000, got '10001'",
        "  - --seed must be an integer from 0 to 4294967295, got '1.5'",
      ].join('\n'),
    });
  });

  test('rejects fewer hours than one evaluation interval', async () => {
    await expect(simulateCommand({ policy: file, hours: '0.5' }, fakeIo()))
      .rejects.toMatchObject({ exitCode: 2, message: "--hours must be at least the policy's evaluation interval (1 h), got 0.5" });
  });

  test('a missing policy file is bad input', async () => {
    const missing = join(dir, 'nope.json');
    await expect(simulateCommand({ policy: missing }, fakeIo())).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining(`cannot read policy file '${missing}'`) });
  });

  test('a malformed policy file is bad input, naming the file', async () => {
    const bad = join(dir, 'malformed.json');
    writeFileSync(bad, '{ "kind": "experiment", ');
    await expect(simulateCommand({ policy: bad }, fakeIo())).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining(`policy file '${bad}' is not valid JSON`) });
  });

  test('an invalid policy is bad input, listing every problem', async () => {
    const bad = join(dir, 'invalid.json');
    writeFileSync(bad, JSON.stringify({ ...policy, candidateWeight: 150, alpha: 0.7 }));
    const run = simulateCommand({ policy: bad }, fakeIo());
    await expect(run).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(new RegExp(`^policy file '${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' is invalid:\n  - `)) });
    await expect(run).rejects.toThrow(/candidateWeight[\s\S]*alpha|alpha[\s\S]*candidateWeight/);
  });
});
