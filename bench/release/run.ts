/**
 * Release controller benchmark: the operating characteristics of the controller's own `decide()`,
 * run tick by tick through `simulate()` in worlds that are not ideal (`worlds` below: delayed
 * outcomes after pre-rollout traffic, outcomes reported sooner for one variant, repeated users
 * with different propensities, a missing series, a sample-ratio mismatch, novelty, daily cycles,
 * forced traffic, a small arm, and all at once).
 *
 * - experiments: equal variants promoted ≤ alpha and aborted ≤ alpha, a candidate better by the
 *   minimum detectable effect (MDE) promoted ≥ power, one worse by the MDE promoted ≤ alpha;
 * - progressive: an equal candidate reaches promotion ≥ power, one worse by the margin ≤ alpha;
 * - median predictions to a decision against the fixed-horizon z-test's sample size for the same
 *   effect, alpha and power (MDE and 2×MDE, each against its own);
 * - a heavy-tailed mean (log-normal value per conversion), bandits, and regret.
 *
 * Proportions carry Wilson 95% intervals, medians distribution-free 95% intervals (order
 * statistics), means normal 95% intervals. Runs on two worker threads.
 * Run: `npm run bench:release` (BENCH_SCALE=0.1 for a quick look).
 */
import { writeFileSync } from 'fs';
import { cpus } from 'os';
import { join } from 'path';
import { isMainThread, parentPort, Worker, workerData } from 'worker_threads';
import { RolloutPolicy } from '../../lib/release/rollout-policy';
import type { PolicySpec, PrimaryMetricSpec } from '../../lib/release/rollout-types';
import { Scenario, simulate, VariantTruth } from '../../lib/release/simulate';
import { fixedHorizonSampleSize, MedianInterval, medianInterval, normalQuantile, wilsonInterval } from '../../lib/release/statistics';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const BASE_RATE = 0.1;
const MDE = 0.1;
const TRAFFIC = 320;
const FAST_TRAFFIC = 2000;
const ALPHA = 0.05;
const POWER = 0.8;
const LOG_MEAN = 0;
const LOG_SD = 1;
const REGRET_HOURS = 72;
const TICK_MINUTES = 30;
const ATTRIBUTION_MINUTES = 360;

const rateMetric: PrimaryMetricSpec = { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: MDE, betterWhen: 'higher' };
const meanMetric: PrimaryMetricSpec = { kind: 'mean', outcomeType: 'revenue', minimumDetectableEffect: MDE, betterWhen: 'higher' };
const common = { baseline: 'blue', candidate: 'green', alpha: ALPHA, power: POWER, evaluationIntervalMinutes: TICK_MINUTES, outcomeDelayMinutes: ATTRIBUTION_MINUTES };

const policies: Record<string, PolicySpec> = {
  // Defaults: a week's minimum run, a day's burn-in, 336 h at most.
  experiment: RolloutPolicy.experiment({ ...common, metric: rateMetric }).spec,
  experiment90: RolloutPolicy.experiment({ ...common, metric: rateMetric, candidateWeight: 10 }).spec,
  // The idealised comparison with the fixed horizon: no minimum run, outcomes at once.
  experimentNoMinRun: RolloutPolicy.experiment({ ...common, metric: rateMetric, minRunHours: 0, outcomeDelayMinutes: 15, evaluationIntervalMinutes: 15, maxDurationHours: 72 }).spec,
  // The example production policy's shape: 10, 25, 50, then 100 once non-inferiority is shown.
  progressive: RolloutPolicy.progressive({ ...common, metric: rateMetric, steps: [10, 25, 50, 100], minStepMinutes: 240, minSamplesPerStep: 500, maxDurationHours: 168 }).spec,
  experimentMean: RolloutPolicy.experiment({ ...common, metric: meanMetric }).spec,
  bandit: RolloutPolicy.bandit({ ...common, metric: rateMetric, floorPercent: 10 }).spec,
  banditNoMinRun: RolloutPolicy.bandit({ ...common, metric: rateMetric, floorPercent: 10, minRunHours: 0 }).spec,
  experimentNoMinRun72: RolloutPolicy.experiment({ ...common, metric: rateMetric, minRunHours: 0 }).spec,
};

/** The worlds: each a function of the candidate's lift. */
interface World { readonly title: string; readonly scenario: (lift: number, kind: 'rate' | 'mean') => Scenario }
const SEASONAL = { trafficAmplitude: 0.5, conversionAmplitude: 0.3 };
const DELAY = 120;
const truth = (kind: 'rate' | 'mean', lift: number, rate = BASE_RATE, delay = DELAY): VariantTruth => (kind === 'rate'
  ? { conversionRate: rate * (1 + lift), outcomeDelayMinutes: delay }
  // A lift of the mean value per request through the value per conversion (same conversion rate).
  : { conversionRate: rate, logMean: LOG_MEAN + Math.log(1 + lift), logSd: LOG_SD, outcomeDelayMinutes: delay });
const base = (kind: 'rate' | 'mean', lift: number, maxHours: number, extra: Partial<Scenario> = {}): Scenario => ({
  kind, baseline: truth(kind, 0), candidate: truth(kind, lift), trafficPerHour: TRAFFIC, maxHours, preRolloutHours: 72, ...extra,
});
const REPEAT = { requestsPerUser: 10, propensityShape: 1, hoursBetweenRequests: 12 };
// maxHours one tick past maxDurationHours (336) so an inconclusive rollout reaches its pause.
const FULL = 336.5;
const worlds: Record<string, World> = {
  ideal: { title: 'idealised: outcomes at once, one request per user, no traffic before', scenario: (lift, kind) => ({ ...base(kind, lift, FULL), baseline: { ...truth(kind, 0), outcomeDelayMinutes: 0 }, candidate: { ...truth(kind, lift), outcomeDelayMinutes: 0 }, preRolloutHours: 0 }) },
  delays: { title: 'outcomes 2 h late on average, 72 h of baseline traffic before', scenario: (lift, kind) => base(kind, lift, FULL) },
  faster: { title: 'the candidate\'s outcomes reported sooner (20 min against 3 h)', scenario: (lift, kind) => ({ ...base(kind, lift, FULL), baseline: truth(kind, 0, BASE_RATE, 180), candidate: truth(kind, lift, BASE_RATE, 20) }) },
  repeat: { title: 'repeated users: 10 requests each, propensities with CV 1 (2.5× traffic)', scenario: (lift, kind) => base(kind, lift, FULL, { users: REPEAT, trafficPerHour: TRAFFIC * 2.5 }) },
  missing: { title: 'the baseline\'s outcome series missing for 2 h', scenario: (lift, kind) => base(kind, lift, FULL, { missingOutcomes: { variant: 'baseline', fromHour: 30, hours: 2 } }) },
  srm: { title: 'sample-ratio mismatch: 3% of the candidate\'s non-converting predictions not counted', scenario: (lift, kind) => base(kind, lift, FULL, { candidateUndercount: 0.03 }) },
  novelty: { title: 'novelty: the candidate +2×MDE on its first day, equal after', scenario: (lift, kind) => base(kind, lift, FULL, { novelty: { hours: 24, lift: 2 * MDE } }) },
  cycles: { title: 'daily cycles: traffic ±50%, conversion ±30%', scenario: (lift, kind) => base(kind, lift, FULL, { seasonality: SEASONAL }) },
  forced: { title: 'forced and unit-less requests: 100 per hour to the candidate, never converting', scenario: (lift, kind) => base(kind, lift, FULL, { forcedPerHour: 100 }) },
  small: { title: 'small arm: 1% conversion, 90/10 split', scenario: (lift, kind) => ({ ...base(kind, lift, FULL), baseline: truth(kind, 0, 0.01), candidate: truth(kind, lift, 0.01) }) },
  everything: { title: 'all at once: repeated users, delays, cycles, forced traffic, a missing series', scenario: (lift, kind) => base(kind, lift, FULL, { users: REPEAT, trafficPerHour: TRAFFIC * 2.5, seasonality: SEASONAL, forcedPerHour: 100, missingOutcomes: { variant: 'candidate', fromHour: 50, hours: 3 } }) },
};

interface Job { readonly id: string; readonly title: string; readonly policy: string; readonly world: string; readonly lift: number; readonly kind: 'rate' | 'mean'; readonly runs: number; readonly scenario?: Scenario }
interface RunResult { decision: string; phase: string; significant: boolean; reason: string; samples: number; hours: number; regret: number }

const AA_RUNS = 2000;
const EFFECT_RUNS = 300;
const job = (policy: string, world: string, lift: number, runs: number, kind: 'rate' | 'mean' = 'rate'): Job => ({
  id: `${policy}/${world}/${lift}`, title: `${worlds[world].title}`, policy, world, lift, kind, runs,
});
const EXPERIMENT_WORLDS = ['ideal', 'delays', 'faster', 'repeat', 'missing', 'srm', 'novelty', 'cycles', 'forced', 'everything'];
const PROGRESSIVE_WORLDS = ['ideal', 'delays', 'faster', 'repeat', 'missing', 'everything'];
const fast = (lift: number, runs: number, policy = 'experimentNoMinRun'): Job => ({
  id: `${policy}/fast/${lift}`, title: 'idealised, 2,000 requests per hour, no minimum run', policy, world: 'ideal', lift, kind: 'rate', runs,
  scenario: { kind: 'rate', baseline: { conversionRate: BASE_RATE }, candidate: { conversionRate: BASE_RATE * (1 + lift) }, trafficPerHour: FAST_TRAFFIC, maxHours: 72.25 },
});
const jobs: Job[] = [
  ...EXPERIMENT_WORLDS.flatMap((w) => [job('experiment', w, 0, AA_RUNS), job('experiment', w, MDE, EFFECT_RUNS), job('experiment', w, -MDE, EFFECT_RUNS)]),
  job('experiment90', 'small', 0, AA_RUNS),
  ...PROGRESSIVE_WORLDS.flatMap((w) => [job('progressive', w, 0, AA_RUNS), job('progressive', w, -MDE, EFFECT_RUNS)]),
  job('progressive', 'srm', 0, EFFECT_RUNS),
  job('experimentMean', 'delays', 0, AA_RUNS, 'mean'), job('experimentMean', 'delays', MDE, EFFECT_RUNS, 'mean'), job('experimentMean', 'delays', -MDE, EFFECT_RUNS, 'mean'),
  job('experimentMean', 'repeat', 0, AA_RUNS, 'mean'),
  job('bandit', 'delays', 0, 400), job('bandit', 'cycles', 0, 400),
  fast(MDE, 1000), fast(2 * MDE, 400), fast(-MDE, 400),
  ...[MDE, -MDE, 2 * MDE].flatMap((lift) => ['banditNoMinRun', 'experimentNoMinRun72'].map((policy): Job => ({
    id: `regret/${policy}/${lift}`, title: `${policy}, candidate ${lift > 0 ? '+' : '−'}${Math.abs(lift / MDE)}×MDE, ${REGRET_HOURS} h`,
    policy, world: 'delays', lift, kind: 'rate', runs: 300, scenario: { ...worlds.delays.scenario(lift, 'rate'), maxHours: REGRET_HOURS },
  }))),
].map((j) => ({ ...j, runs: Math.max(20, Math.round(j.runs * SCALE)) }));

function runSeeds(j: Job, seeds: readonly number[]): RunResult[] {
  const policy = policies[j.policy];
  const scenario = j.scenario ?? worlds[j.world].scenario(j.lift, j.kind);
  return seeds.map((seed) => {
    const r = simulate(policy, scenario, seed);
    const e = r.last.evidence;
    return {
      decision: r.decision,
      phase: r.phase,
      significant: r.phase === 'promoted' && r.last.reason.includes('significantly better') && e.statistic !== undefined,
      reason: r.last.reason.split(':')[0],
      samples: r.samples,
      hours: r.hours,
      regret: r.regret,
    };
  });
}

if (!isMainThread) {
  const { job: j, seeds } = workerData as { job: Job; seeds: number[] };
  parentPort!.postMessage(runSeeds(j, seeds));
} else {
  void main();
}

/** Runs a job's seeds split over `threads` worker threads. */
async function runJob(j: Job, threads: number): Promise<RunResult[]> {
  const seeds = Array.from({ length: j.runs }, (_, i) => 1 + i);
  const parts = Array.from({ length: threads }, (_, t) => seeds.filter((_, i) => i % threads === t));
  const results = await Promise.all(parts.map((part) => new Promise<RunResult[]>((resolve, reject) => {
    const worker = new Worker(__filename, { execArgv: ['-r', 'esbuild-register'], workerData: { job: j, seeds: part } });
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
  const reasons: Record<string, number> = {};
  for (const r of results) {
    reasons[r.reason] = (reasons[r.reason] ?? 0) + 1;
  }
  return {
    runs: n,
    promoted: count((r) => r.phase === 'promoted'),
    promotedAsSignificant: count((r) => r.significant),
    aborted: count((r) => r.phase === 'aborted'),
    paused: count((r) => r.phase === 'paused'),
    samplesToDecision: median(results.filter((r) => r.phase === 'promoted' || r.phase === 'aborted').map((r) => r.samples)),
    hoursToStop: median(results.map((r) => r.hours)),
    regret: meanCi(results.map((r) => r.regret)),
    reasons,
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

type Summary = ReturnType<typeof summarize> & { title: string; policy: string; world: string; lift: number; kind: string; seconds: number };

async function main(): Promise<void> {
  const threads = Math.max(1, Math.min(2, cpus().length));
  const started = Date.now();
  const s: Record<string, Summary> = {};
  for (const j of jobs) {
    const t0 = Date.now();
    const results = await runJob(j, threads);
    s[j.id] = { title: j.title, policy: j.policy, world: j.world, lift: j.lift, kind: j.kind, ...summarize(results), seconds: (Date.now() - t0) / 1000 };
    console.log(`${j.id}: ${results.length} runs in ${s[j.id].seconds.toFixed(1)} s`);
  }
  const fixedRate = (effect: number, sided: 'one' | 'two') => 2 * fixedHorizonSampleSize({ baselineRate: BASE_RATE, minimumDetectableEffect: effect, alpha: ALPHA, power: POWER, sided });
  const b = valueMoments(0);
  const c = valueMoments(MDE);
  const fixed = {
    rateMde: { one: fixedRate(MDE, 'one'), two: fixedRate(MDE, 'two') },
    rate2Mde: { one: fixedRate(2 * MDE, 'one'), two: fixedRate(2 * MDE, 'two') },
    meanMde: { one: 2 * fixedHorizonMeans(b.variance, c.variance, c.mean - b.mean, 'one'), two: 2 * fixedHorizonMeans(b.variance, c.variance, c.mean - b.mean, 'two') },
  };
  type Target = { target: string; value: string; met: boolean; sure: boolean };
  const targets: Target[] = [];
  const atMost = (target: string, x: Share, limit: number) => targets.push({ target, value: pct(x), met: x.rate <= limit, sure: x.high <= limit });
  const atLeast = (target: string, x: Share, limit: number) => targets.push({ target, value: pct(x), met: x.rate >= limit, sure: x.low >= limit });
  for (const w of EXPERIMENT_WORLDS) {
    const name = worlds[w].title;
    atMost(`experiment, ${name}, A/A: promoted ≤ 5%`, s[`experiment/${w}/0`].promoted, ALPHA);
    atMost(`experiment, ${name}, A/A: aborted ≤ 5%`, s[`experiment/${w}/0`].aborted, ALPHA);
    if (w !== 'srm') {
      atLeast(`experiment, ${name}, +MDE: promoted ≥ 80%`, s[`experiment/${w}/${MDE}`].promoted, POWER);
    }
    atMost(`experiment, ${name}, −MDE: promoted ≤ 5%`, s[`experiment/${w}/${-MDE}`].promoted, ALPHA);
  }
  atMost('experiment 90/10 at 1% conversion, A/A: promoted ≤ 5%', s['experiment90/small/0'].promoted, ALPHA);
  atMost('experiment 90/10 at 1% conversion, A/A: aborted ≤ 5%', s['experiment90/small/0'].aborted, ALPHA);
  for (const w of PROGRESSIVE_WORLDS) {
    const name = worlds[w].title;
    atLeast(`progressive, ${name}, equal candidate: reaches promotion ≥ 80%`, s[`progressive/${w}/0`].promoted, POWER);
    atMost(`progressive, ${name}, candidate at −margin (−MDE): promoted ≤ 5%`, s[`progressive/${w}/${-MDE}`].promoted, ALPHA);
  }
  atMost('revenue, delays, A/A: promoted ≤ 5%', s['experimentMean/delays/0'].promoted, ALPHA);
  atMost('revenue, delays, A/A: aborted ≤ 5%', s['experimentMean/delays/0'].aborted, ALPHA);
  atLeast('revenue, delays, +MDE: promoted ≥ 80%', s[`experimentMean/delays/${MDE}`].promoted, POWER);
  atMost('revenue, delays, −MDE: promoted ≤ 5%', s[`experimentMean/delays/${-MDE}`].promoted, ALPHA);
  atMost('revenue, repeated users, A/A: promoted ≤ 5%', s['experimentMean/repeat/0'].promoted, ALPHA);
  atMost('revenue, repeated users, A/A: aborted ≤ 5%', s['experimentMean/repeat/0'].aborted, ALPHA);
  const samples = (id: string) => s[id].samplesToDecision;
  const sampleTarget = (target: string, id: string, limit: number) => targets.push({
    target, value: `${int(samples(id).median)} [${int(samples(id).low)}, ${int(samples(id).high)}] (${(samples(id).median / limit).toFixed(2)}×)`, met: samples(id).median <= limit, sure: samples(id).high <= limit,
  });
  sampleTarget(`median samples to a decision at the MDE ≤ fixed horizon (${int(fixed.rateMde.one)}, one-sided)`, `experimentNoMinRun/fast/${MDE}`, fixed.rateMde.one);

  const seconds = (Date.now() - started) / 1000;
  const meta = {
    measuredAt: new Date().toISOString(), platform: `${process.platform} ${process.arch}`, node: process.version, cpus: cpus().length, threads, seconds,
    settings: { baselineRate: BASE_RATE, minimumDetectableEffect: MDE, trafficPerHour: TRAFFIC, alpha: ALPHA, power: POWER, tickMinutes: TICK_MINUTES, attributionMinutes: ATTRIBUTION_MINUTES, logNormal: { mu: LOG_MEAN, sigma: LOG_SD }, scale: SCALE, seasonality: SEASONAL, repeatedUsers: REPEAT },
  };
  writeFileSync(join(__dirname, 'results.json'), `${JSON.stringify({ ...meta, fixedHorizonTotalSamples: fixed, targets, scenarios: s }, null, 2)}\n`);

  const liftLabel = (lift: number) => (lift === 0 ? 'equal' : `${lift > 0 ? '+' : '−'}${Math.abs(lift / MDE)}×MDE`);
  const row = (id: string) => {
    const x = s[id];
    return `| ${x.policy} | ${x.title} | ${x.kind === 'mean' ? 'revenue ' : ''}${liftLabel(x.lift)} | ${x.runs} | ${pct(x.promoted)} | ${pct(x.aborted)} | ${pct(x.paused)} | ${x.promoted.count + x.aborted.count > 0 ? `${int(x.samplesToDecision.median)} [${int(x.samplesToDecision.low)}, ${int(x.samplesToDecision.high)}]` : '-'} | ${x.hoursToStop.median.toFixed(1)} |`;
  };
  const regretRow = (lift: number) => {
    const bandit = s[`regret/banditNoMinRun/${lift}`].regret;
    const experiment = s[`regret/experimentNoMinRun72/${lift}`].regret;
    const fixedSplit = 0.5 * TRAFFIC * REGRET_HOURS * BASE_RATE * Math.abs(lift);
    const f = (r: { mean: number; low: number; high: number }) => `${r.mean.toFixed(1)} [${r.low.toFixed(1)}, ${r.high.toFixed(1)}]`;
    return `| ${liftLabel(lift)} | ${f(bandit)} | ${f(experiment)} | ${fixedSplit.toFixed(1)} |`;
  };
  const missed = targets.filter((t) => !t.met);
  const srmBetter = s[`experiment/srm/${MDE}`];
  const fastMde = samples(`experimentNoMinRun/fast/${MDE}`);
  const fast2Mde = samples(`experimentNoMinRun/fast/${2 * MDE}`);
  const fastWorse = samples(`experimentNoMinRun/fast/${-MDE}`);
  const meanMde = samples(`experimentMean/delays/${MDE}`);
  const md = `# Release controller benchmark results

Measured ${meta.measuredAt} on ${meta.platform}, Node.js ${meta.node}, ${meta.cpus} CPUs (${threads} worker threads), in ${seconds.toFixed(0)} s.

Every rollout runs the controller's own \`decide()\` at every ${TICK_MINUTES}-minute tick through \`simulate()\`, request by
request: users with sticky assignment and unit buckets, outcomes reported after a delay and attributed to their prediction's
15-minute period, cohorts entering the test once older than the attribution window (${ATTRIBUTION_MINUTES} min), through the same
\`CohortAccumulator\` the controller reads CloudWatch with. Baseline conversion ${BASE_RATE * 100}%, minimum detectable effect (MDE)
${MDE * 100}% relative, ${int(TRAFFIC)} requests per hour with a unit id, alpha ${ALPHA}, power ${POWER}, 72 h of baseline traffic before the
rollout unless the world says otherwise. Policies: the experiment and the bandit with their defaults (a week's minimum run,
a day's burn-in, 336 h at most); the progressive rollout 10, 25, 50, then 100% with ≥ 4 h and 500 candidate predictions per
step, 168 h per step at most, non-inferiority margin = MDE. Revenue: value per conversion log-normal(μ=${LOG_MEAN}, σ=${LOG_SD}),
its lifts scale the value. Brackets: 95% intervals (Wilson for shares, order statistics for medians, normal for means).

## Targets

${missed.length === 0 ? 'Every target is met by its estimate.' : `Missed by the estimate: ${missed.map((t) => t.target).join('; ')}.`}

| target | measured | met (estimate) | met (whole 95% interval) |
|---|---|---|---|
${targets.map((t) => `| ${t.target} | ${t.value} | ${t.met ? 'yes' : 'no'} | ${t.sure ? 'yes' : 'no'} |`).join('\n')}

## Scenarios

| policy | world | candidate | runs | promoted | aborted | paused | median predictions to promote/abort | median hours to stop |
|---|---|---|---|---|---|---|---|---|
${Object.keys(s).filter((id) => !id.startsWith('regret/')).map(row).join('\n')}

"Paused" is a pause for a person: no conclusion within the maximum duration, or a sample-ratio mismatch. In the
mismatch world the right outcome is a pause, whatever the candidate: its counts cannot be trusted (+MDE there:
${pct(srmBetter.paused)} paused, ${pct(srmBetter.promoted)} promoted).
Why the runs stopped, per scenario, is in results.json (\`reasons\`).

A progressive rollout is a safety gate: an equal candidate is meant to reach 100%, and it does once it is shown to
be no worse than the margin (a non-inferiority test at alpha on the last step's cohorts), so a candidate worse by
the margin or more is promoted at most alpha of the time. The cost is samples at the last step: about the fixed
horizon for detecting the margin, at that step's split.

## Fixed-horizon comparison (predictions, both variants)

Idealised world at ${int(FAST_TRAFFIC)} requests per hour, experiment without a minimum run (a minimum run sets a floor
on the samples by design).

| effect | fixed horizon, one-sided alpha ${ALPHA} | two-sided | sequential median (promotions and aborts) |
|---|---|---|---|
| MDE | ${int(fixed.rateMde.one)} | ${int(fixed.rateMde.two)} | ${int(fastMde.median)} [${int(fastMde.low)}, ${int(fastMde.high)}] |
| 2×MDE | ${int(fixed.rate2Mde.one)} | ${int(fixed.rate2Mde.two)} | ${int(fast2Mde.median)} [${int(fast2Mde.low)}, ${int(fast2Mde.high)}] |
| −MDE (abort) | ${int(fixed.rateMde.one)} | ${int(fixed.rateMde.two)} | ${int(fastWorse.median)} |
| MDE (revenue, z-test on means) | ${int(fixed.meanMde.one)} | ${int(fixed.meanMde.two)} | ${int(meanMde.median)} (with a week's minimum run) |

Each effect is compared with the fixed horizon for that same effect. With repeated users the fixed horizon grows by
the design effect (1 + (m − 1)ρ for m requests per user and intra-user correlation ρ); the sequential test's variance
is estimated from the unit buckets, so it grows with it.

## Regret over ${REGRET_HOURS} hours (expected conversions lost against always serving the better variant)

| candidate | bandit (floor 10%), no minimum run | experiment 50/50, no minimum run | 50/50 that never stops |
|---|---|---|---|
${[MDE, -MDE, 2 * MDE].map(regretRow).join('\n')}

After a stop the traffic stays at the final weights (all on the winner after a promotion or an abort).
`;
  writeFileSync(join(__dirname, 'results.md'), md);
  console.log(md);
}
