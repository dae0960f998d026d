/**
 * Release controller benchmark: error rates, samples to a decision and regret of the controller's
 * own `decide()`, run tick by tick through `simulate()` on synthetic traffic with known truth.
 *
 * - A/A (no difference): how often a candidate is promoted as significantly better (target ≤ alpha);
 * - candidate better by the minimum detectable effect (MDE): promoted (target ≥ power);
 * - candidate worse by the MDE: not promoted (target ≥ 95%);
 * - median invocations to a decision against the fixed-horizon z-test's sample size for the same
 *   alpha and power, at the MDE and at twice it;
 * - the same for a heavy-tailed mean (log-normal value per conversion);
 * - expected regret of a Thompson bandit against a 50/50 experiment.
 *
 * Proportions carry Wilson 95% intervals, medians distribution-free 95% intervals (order
 * statistics), means normal 95% intervals. Runs on two worker threads.
 * Run: `npm run bench:release` (BENCH_SCALE=0.25 for a quick look).
 */
import { writeFileSync } from 'fs';
import { cpus } from 'os';
import { join } from 'path';
import { isMainThread, parentPort, Worker, workerData } from 'worker_threads';
import { RolloutPolicy } from '../../lib/release/rollout-policy';
import type { PolicySpec, PrimaryMetricSpec } from '../../lib/release/rollout-types';
import { Scenario, simulate } from '../../lib/release/simulate';
import { fixedHorizonSampleSize, MedianInterval, medianInterval, normalQuantile, wilsonInterval } from '../../lib/release/statistics';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const BASE_RATE = 0.1;
const MDE = 0.1;
const TRAFFIC = 2000;
const ALPHA = 0.05;
const POWER = 0.8;
const LOG_MEAN = 0;
const LOG_SD = 1;
const REGRET_HOURS = 72;

const rateMetric: PrimaryMetricSpec = { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: MDE, betterWhen: 'higher' };
const meanMetric: PrimaryMetricSpec = { kind: 'mean', outcomeType: 'revenue', minimumDetectableEffect: MDE, betterWhen: 'higher' };
const variants = { baseline: 'blue', candidate: 'green' };

const policies: Record<string, PolicySpec> = {
  experiment: RolloutPolicy.experiment({ ...variants, metric: rateMetric, alpha: ALPHA, power: POWER }).spec,
  progressive: RolloutPolicy.progressive({ ...variants, metric: rateMetric, stepPercent: 10, maxPercent: 50, minStepMinutes: 240, minSamplesPerStep: 500 }).spec,
  experimentMean: RolloutPolicy.experiment({ ...variants, metric: meanMetric }).spec,
  bandit: RolloutPolicy.bandit({ ...variants, metric: rateMetric, floorPercent: 10 }).spec,
};

const SEASONAL = { trafficAmplitude: 0.5, conversionAmplitude: 0.3 };
const rate = (lift: number, maxHours: number, seasonal = false): Scenario => ({
  kind: 'rate', baseline: { conversionRate: BASE_RATE }, candidate: { conversionRate: BASE_RATE * (1 + lift) },
  trafficPerHour: TRAFFIC, maxHours, ...(seasonal ? { seasonality: SEASONAL } : {}),
});
// A lift of the mean value per invocation through the value per conversion (same conversion rate).
const mean = (lift: number, maxHours: number): Scenario => ({
  kind: 'mean', baseline: { conversionRate: BASE_RATE, logMean: LOG_MEAN, logSd: LOG_SD },
  candidate: { conversionRate: BASE_RATE, logMean: LOG_MEAN + Math.log(1 + lift), logSd: LOG_SD },
  trafficPerHour: TRAFFIC, maxHours,
});

interface Job { readonly id: string; readonly title: string; readonly policy: string; readonly scenario: Scenario; readonly runs: number }
interface RunResult { decision: string; phase: string; significant: boolean; samples: number; hours: number; regret: number }

// maxHours one tick past maxDurationHours (336) so an inconclusive rollout reaches its pause.
const FULL = 336.25;
const jobs: Job[] = [
  { id: 'exp-aa', title: 'experiment 50/50, A/A', policy: 'experiment', scenario: rate(0, FULL), runs: 4000 },
  { id: 'exp-better', title: 'experiment 50/50, candidate +MDE', policy: 'experiment', scenario: rate(MDE, FULL), runs: 2000 },
  { id: 'exp-worse', title: 'experiment 50/50, candidate −MDE', policy: 'experiment', scenario: rate(-MDE, FULL), runs: 2000 },
  { id: 'exp-better2', title: 'experiment 50/50, candidate +2×MDE', policy: 'experiment', scenario: rate(2 * MDE, FULL), runs: 2000 },
  { id: 'exp-aa-seasonal', title: 'experiment 50/50, A/A, daily cycles', policy: 'experiment', scenario: rate(0, FULL, true), runs: 2000 },
  { id: 'prog-aa', title: 'progressive 10-50% then 100, A/A', policy: 'progressive', scenario: rate(0, FULL), runs: 2000 },
  { id: 'prog-aa-seasonal', title: 'progressive, A/A, daily cycles', policy: 'progressive', scenario: rate(0, FULL, true), runs: 2000 },
  { id: 'prog-worse', title: 'progressive, candidate −MDE', policy: 'progressive', scenario: rate(-MDE, FULL), runs: 2000 },
  { id: 'mean-aa', title: 'experiment on revenue (log-normal), A/A', policy: 'experimentMean', scenario: mean(0, FULL), runs: 2000 },
  { id: 'mean-better', title: 'experiment on revenue, candidate +MDE', policy: 'experimentMean', scenario: mean(MDE, FULL), runs: 1000 },
  { id: 'mean-worse', title: 'experiment on revenue, candidate −MDE', policy: 'experimentMean', scenario: mean(-MDE, FULL), runs: 1000 },
  { id: 'bandit-aa', title: 'bandit (floor 10%), A/A', policy: 'bandit', scenario: rate(0, FULL), runs: 400 },
  { id: 'bandit-aa-seasonal', title: 'bandit (floor 10%), A/A, daily cycles', policy: 'bandit', scenario: rate(0, FULL, true), runs: 200 },
  ...[MDE, -MDE, 2 * MDE].flatMap((lift) => ['bandit', 'experiment'].map((policy): Job => ({
    id: `regret-${policy}-${lift}`, title: `${policy}, candidate ${lift > 0 ? '+' : '−'}${Math.abs(lift / MDE)}×MDE, ${REGRET_HOURS} h`,
    policy, scenario: rate(lift, REGRET_HOURS), runs: 400,
  }))),
].map((job) => ({ ...job, runs: Math.max(20, Math.round(job.runs * SCALE)) }));

function runSeeds(job: Job, seeds: readonly number[]): RunResult[] {
  const policy = policies[job.policy];
  return seeds.map((seed) => {
    const r = simulate(policy, job.scenario, seed);
    const e = r.last.evidence;
    return {
      decision: r.decision,
      phase: r.phase,
      significant: r.phase === 'promoted' && e.statistic !== undefined && e.statistic >= (e.threshold ?? Infinity),
      samples: r.samples,
      hours: r.hours,
      regret: r.regret,
    };
  });
}

if (!isMainThread) {
  const { job, seeds } = workerData as { job: Job; seeds: number[] };
  parentPort!.postMessage(runSeeds(job, seeds));
} else {
  void main();
}

/** Runs a job's seeds split over `threads` worker threads. */
async function runJob(job: Job, threads: number): Promise<RunResult[]> {
  const seeds = Array.from({ length: job.runs }, (_, i) => 1 + i);
  const parts = Array.from({ length: threads }, (_, t) => seeds.filter((_, i) => i % threads === t));
  const results = await Promise.all(parts.map((part) => new Promise<RunResult[]>((resolve, reject) => {
    const worker = new Worker(__filename, { execArgv: ['-r', 'ts-node/register/transpile-only'], workerData: { job, seeds: part } });
    worker.once('message', resolve);
    worker.once('error', reject);
  })));
  return results.flat();
}

interface Share { count: number; n: number; rate: number; low: number; high: number }

/** A share with its Wilson 95% interval. */
function wilson(count: number, n: number): Share {
  return { count, n, ...wilsonInterval(count, n) };
}

/** A median with its distribution-free 95% interval. */
function median(values: readonly number[]): MedianInterval {
  return medianInterval(values) ?? { median: NaN, low: NaN, high: NaN };
}

function meanCi(values: readonly number[]): { mean: number; low: number; high: number } {
  const n = values.length;
  const m = values.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - m) * (b - m), 0) / (n - 1));
  return { mean: m, low: m - 1.96 * sd / Math.sqrt(n), high: m + 1.96 * sd / Math.sqrt(n) };
}

const pct = (s: Share) => `${(s.rate * 100).toFixed(2)}% [${(s.low * 100).toFixed(2)}, ${(s.high * 100).toFixed(2)}]`;
const int = (x: number) => Math.round(x).toLocaleString('en-US');

function summarize(results: readonly RunResult[]) {
  const n = results.length;
  const count = (f: (r: RunResult) => boolean) => wilson(results.filter(f).length, n);
  return {
    runs: n,
    promoted: count((r) => r.phase === 'promoted'),
    promotedAsSignificant: count((r) => r.significant),
    aborted: count((r) => r.phase === 'aborted'),
    paused: count((r) => r.phase === 'paused'),
    notPromoted: count((r) => r.phase !== 'promoted'),
    samplesToDecision: median(results.filter((r) => r.phase === 'promoted' || r.phase === 'aborted').map((r) => r.samples)),
    hoursToDecision: median(results.map((r) => r.hours)),
    regret: meanCi(results.map((r) => r.regret)),
  };
}

/** Per-arm n of a one- or two-sided z-test on a difference of means with these variances. */
function fixedHorizonMeans(varianceB: number, varianceC: number, delta: number, sided: 'one' | 'two'): number {
  const z = normalQuantile(1 - (sided === 'two' ? ALPHA / 2 : ALPHA)) + normalQuantile(POWER);
  return Math.ceil(z * z * (varianceB + varianceC) / (delta * delta));
}

function valueMoments(lift: number): { mean: number; variance: number } {
  const mu = LOG_MEAN + Math.log(1 + lift);
  const m1 = BASE_RATE * Math.exp(mu + LOG_SD * LOG_SD / 2);
  const m2 = BASE_RATE * Math.exp(2 * mu + 2 * LOG_SD * LOG_SD);
  return { mean: m1, variance: m2 - m1 * m1 };
}

async function main(): Promise<void> {
  const threads = Math.max(1, Math.min(2, cpus().length));
  const started = Date.now();
  const summaries: Record<string, ReturnType<typeof summarize> & { title: string; seconds: number }> = {};
  for (const job of jobs) {
    const t0 = Date.now();
    const results = await runJob(job, threads);
    summaries[job.id] = { title: job.title, ...summarize(results), seconds: (Date.now() - t0) / 1000 };
    console.log(`${job.title}: ${results.length} runs in ${summaries[job.id].seconds.toFixed(1)} s`);
  }
  const fixedRate = (effect: number, sided: 'one' | 'two') => 2 * fixedHorizonSampleSize({ baselineRate: BASE_RATE, minimumDetectableEffect: effect, alpha: ALPHA, power: POWER, sided });
  const b = valueMoments(0);
  const c = valueMoments(MDE);
  const fixed = {
    rateMde: { one: fixedRate(MDE, 'one'), two: fixedRate(MDE, 'two') },
    rate2Mde: { one: fixedRate(2 * MDE, 'one'), two: fixedRate(2 * MDE, 'two') },
    meanMde: { one: 2 * fixedHorizonMeans(b.variance, c.variance, c.mean - b.mean, 'one'), two: 2 * fixedHorizonMeans(b.variance, c.variance, c.mean - b.mean, 'two') },
  };
  const s = summaries;
  const targets = [
    { target: 'A/A experiment: false promotion ≤ 5%', value: pct(s['exp-aa'].promoted), met: s['exp-aa'].promoted.rate <= ALPHA, sure: s['exp-aa'].promoted.high <= ALPHA },
    { target: 'A/A progressive: promoted as significantly better ≤ 5%', value: pct(s['prog-aa'].promotedAsSignificant), met: s['prog-aa'].promotedAsSignificant.rate <= ALPHA, sure: s['prog-aa'].promotedAsSignificant.high <= ALPHA },
    { target: 'candidate +MDE: promoted ≥ 80%', value: pct(s['exp-better'].promoted), met: s['exp-better'].promoted.rate >= POWER, sure: s['exp-better'].promoted.low >= POWER },
    { target: 'candidate −MDE: not promoted ≥ 95%', value: pct(s['exp-worse'].notPromoted), met: s['exp-worse'].notPromoted.rate >= 0.95, sure: s['exp-worse'].notPromoted.low >= 0.95 },
    { target: `median samples at the MDE ≤ fixed horizon (${int(fixed.rateMde.one)} one-sided)`, value: `${int(s['exp-better'].samplesToDecision.median)} [${int(s['exp-better'].samplesToDecision.low)}, ${int(s['exp-better'].samplesToDecision.high)}]`, met: s['exp-better'].samplesToDecision.median <= fixed.rateMde.one, sure: s['exp-better'].samplesToDecision.high <= fixed.rateMde.one },
    { target: `median samples at 2×MDE well below fixed horizon at the MDE (${int(fixed.rateMde.one)})`, value: `${int(s['exp-better2'].samplesToDecision.median)} (${(100 * s['exp-better2'].samplesToDecision.median / fixed.rateMde.one).toFixed(0)}%)`, met: s['exp-better2'].samplesToDecision.median <= 0.5 * fixed.rateMde.one, sure: s['exp-better2'].samplesToDecision.high <= 0.5 * fixed.rateMde.one },
    { target: 'revenue A/A: false promotion ≤ 5%', value: pct(s['mean-aa'].promoted), met: s['mean-aa'].promoted.rate <= ALPHA, sure: s['mean-aa'].promoted.high <= ALPHA },
    { target: 'revenue +MDE: promoted ≥ 80%', value: pct(s['mean-better'].promoted), met: s['mean-better'].promoted.rate >= POWER, sure: s['mean-better'].promoted.low >= POWER },
    { target: `revenue: median samples at the MDE ≤ fixed horizon (${int(fixed.meanMde.one)} one-sided)`, value: `${int(s['mean-better'].samplesToDecision.median)} [${int(s['mean-better'].samplesToDecision.low)}, ${int(s['mean-better'].samplesToDecision.high)}]`, met: s['mean-better'].samplesToDecision.median <= fixed.meanMde.one, sure: s['mean-better'].samplesToDecision.high <= fixed.meanMde.one },
    { target: 'revenue −MDE: not promoted ≥ 95%', value: pct(s['mean-worse'].notPromoted), met: s['mean-worse'].notPromoted.rate >= 0.95, sure: s['mean-worse'].notPromoted.low >= 0.95 },
  ];
  const seconds = (Date.now() - started) / 1000;
  const meta = {
    measuredAt: new Date().toISOString(), platform: `${process.platform} ${process.arch}`, node: process.version, cpus: cpus().length, threads, seconds,
    settings: { baselineRate: BASE_RATE, minimumDetectableEffect: MDE, trafficPerHour: TRAFFIC, alpha: ALPHA, power: POWER, logNormal: { mu: LOG_MEAN, sigma: LOG_SD }, scale: SCALE, seasonality: SEASONAL },
  };
  writeFileSync(join(__dirname, 'results.json'), `${JSON.stringify({ ...meta, fixedHorizonTotalSamples: fixed, targets, scenarios: summaries }, null, 2)}\n`);

  const row = (id: string) => {
    const x = s[id];
    return `| ${x.title} | ${x.runs} | ${pct(x.promoted)} | ${pct(x.aborted)} | ${pct(x.paused)} | ${x.promoted.count + x.aborted.count > 0 ? `${int(x.samplesToDecision.median)} [${int(x.samplesToDecision.low)}, ${int(x.samplesToDecision.high)}]` : '-'} | ${x.hoursToDecision.median.toFixed(1)} |`;
  };
  const regretRow = (lift: number) => {
    const bandit = s[`regret-bandit-${lift}`].regret;
    const experiment = s[`regret-experiment-${lift}`].regret;
    const fixedSplit = 0.5 * TRAFFIC * REGRET_HOURS * BASE_RATE * Math.abs(lift);
    const f = (r: { mean: number; low: number; high: number }) => `${r.mean.toFixed(1)} [${r.low.toFixed(1)}, ${r.high.toFixed(1)}]`;
    return `| ${lift > 0 ? '+' : '−'}${Math.abs(lift / MDE)}×MDE | ${f(bandit)} | ${f(experiment)} | ${fixedSplit.toFixed(1)} |`;
  };
  const md = `# Release controller benchmark results

Measured ${meta.measuredAt} on ${meta.platform}, Node.js ${meta.node}, ${meta.cpus} CPUs (${threads} worker threads), in ${seconds.toFixed(0)} s.
Every rollout runs the controller's own \`decide()\` at every 15-minute tick through \`simulate()\`. Baseline conversion
${BASE_RATE * 100}%, minimum detectable effect (MDE) ${MDE * 100}% relative, ${int(TRAFFIC)} invocations per hour, alpha ${ALPHA}, power ${POWER},
max duration 336 h. Revenue: conversion ${BASE_RATE * 100}%, value per conversion log-normal(μ=${LOG_MEAN}, σ=${LOG_SD}), non-conversions 0; its MDE
scenarios scale the value per conversion. Brackets: 95% intervals (Wilson for shares, order statistics for medians, normal for means).

## Targets

| target | measured | met (estimate) | met (whole 95% interval) |
|---|---|---|---|
${targets.map((t) => `| ${t.target} | ${t.value} | ${t.met ? 'yes' : 'no'} | ${t.sure ? 'yes' : 'no'} |`).join('\n')}

## Scenarios

| scenario | runs | promoted | aborted | paused (max duration) | median invocations to promote/abort | median hours to stop |
|---|---|---|---|---|---|---|
${Object.keys(s).filter((id) => !id.startsWith('regret-')).map(row).join('\n')}

Progressive A/A promoted as significantly better (early, by the test): ${pct(s['prog-aa'].promotedAsSignificant)}; with daily cycles:
${pct(s['prog-aa-seasonal'].promotedAsSignificant)}. Its other promotions are by design: a candidate that is not worse completes the steps.
A progressive rollout is a safety gate, not a test: the "candidate −MDE" row shows how often a worse candidate still
completes its steps. The progressive test runs on each step's counts at alpha / 5 (see \`testWindow\` in
lib/release/decide.ts): pooled over steps with different splits, a daily cycle biases the comparison.

Known limitation: a bandit's weights change with the data all day long, so under a strong daily cycle in conversion
(±${SEASONAL.conversionAmplitude * 100}% here) the pooled comparison is biased and its A/A false-promotion rate is far above alpha
(${pct(s['bandit-aa-seasonal'].promoted)}). Without cycles it holds (${pct(s['bandit-aa'].promoted)}). Use an experiment or a
progressive rollout to decide; a bandit is for limiting regret.

## Fixed-horizon comparison (invocations, both variants)

| effect | two-proportion z-test, one-sided alpha ${ALPHA} | two-sided alpha ${ALPHA} | sequential median (promotions and aborts) |
|---|---|---|---|
| MDE (rate) | ${int(fixed.rateMde.one)} | ${int(fixed.rateMde.two)} | ${int(s['exp-better'].samplesToDecision.median)} |
| 2×MDE (rate) | ${int(fixed.rate2Mde.one)} | ${int(fixed.rate2Mde.two)} | ${int(s['exp-better2'].samplesToDecision.median)} |
| MDE (revenue, z-test on means) | ${int(fixed.meanMde.one)} | ${int(fixed.meanMde.two)} | ${int(s['mean-better'].samplesToDecision.median)} |

The controller's false-promotion guarantee is one-sided (alpha bounds promoting a candidate that is no better), so the
one-sided fixed horizon is the like-for-like comparison; the two-sided one is what a textbook A/B calculator shows.

## Regret over ${REGRET_HOURS} hours (expected conversions lost against always serving the better variant)

| candidate | bandit (floor 10%), stops like an experiment | experiment 50/50, stops when significant | 50/50 that never stops |
|---|---|---|---|
${[MDE, -MDE, 2 * MDE].map(regretRow).join('\n')}

After a stop the traffic stays at the final weights (all on the winner after a promotion or an abort).
`;
  writeFileSync(join(__dirname, 'results.md'), md);
  console.log(md);
}
