/**
 * Synth speed benchmark: the example app (`bin/app.ts`, run as cdk.json's `app` command) against
 * a raw app that emits the same templates with one `CfnResource` per resource, generated from the
 * example's own assembly in the same run and checked to produce identical templates and asset
 * manifests. Both run alternately as fresh processes with the environment and context the CDK CLI
 * gives an app (asked of the CLI itself), each a full cold synthesis; a CPU profile of each says
 * where the time goes. Run: `npm run bench:synth`.
 * The handlers ship prebuilt (`npm run bundle`, run by `prebench:synth`), so neither app bundles.
 */
import { spawnSync } from 'child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { cpus, loadavg, tmpdir } from 'os';
import { join, relative } from 'path';
import { seededRandom } from '../../lib/release/random';
import { MedianInterval, medianInterval } from '../../lib/release/statistics';
import { ACTIVITIES, attributeProfile, ProfileBreakdown } from './profile';
import { compareAssemblies, countResources, writeRawApp } from './raw-app';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 15);
const TARGET_RATIO = 1.5;
const BOOTSTRAP_RESAMPLES = 4000;
const repo = join(__dirname, '..', '..');

/** The app command from cdk.json, as argv. cdk.json's `app` must stay a plain command. */
function appCommand(): string[] {
  const { app } = JSON.parse(readFileSync(join(repo, 'cdk.json'), 'utf8')) as { app: string };
  if (/[|&;<>()$`"'\\*?]/.test(app)) {
    throw new Error(`cdk.json 'app' must be a plain command for this bench, got ${app}`);
  }
  const argv = app.trim().split(/\s+/);
  if (argv[0] !== 'node') {
    throw new Error(`cdk.json 'app' must start with 'node', got ${app}`);
  }
  return argv;
}

interface CliLaunch {
  /** The CDK_* variables the CLI sets for an app. */
  readonly env: Record<string, string>;
  /** The context it passes: cdk.json's plus its own defaults. */
  readonly context: Record<string, unknown>;
}

/** Asks the CDK CLI how it launches an app, by synthesizing a stand-in app that records it. */
function cliLaunch(work: string): CliLaunch {
  const record = join(work, 'launch.json');
  const standIn = join(work, 'stand-in.js');
  writeFileSync(standIn, [
    "const fs = require('fs');",
    "const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('CDK_')));",
    "const overflow = process.env.CONTEXT_OVERFLOW_LOCATION_ENV;",
    "const context = JSON.parse(overflow ? fs.readFileSync(overflow, 'utf8') : process.env.CDK_CONTEXT_JSON);",
    `fs.writeFileSync(${JSON.stringify(record)}, JSON.stringify({ env, context }));`,
    "fs.writeFileSync(require('path').join(process.env.CDK_OUTDIR, 'manifest.json'), JSON.stringify({ version: process.env.CDK_CLI_ASM_VERSION, artifacts: {} }));",
  ].join('\n'));
  // The CLI then complains that the stand-in's assembly has no stacks; only the record matters.
  const cli = spawnSync(join(repo, 'node_modules', '.bin', 'cdk'), ['synth', '--quiet', '--app', `node ${standIn}`, '--output', join(work, 'stand-in.out')], {
    cwd: repo,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (!existsSync(record)) {
    throw new Error(`the CDK CLI did not run the stand-in app:\n${cli.stderr.toString()}`);
  }
  return JSON.parse(readFileSync(record, 'utf8')) as CliLaunch;
}

interface Runner {
  readonly name: string;
  readonly argv: string[];
  /** The entry file as profile frames end with it. */
  readonly entry: string;
}

interface RunResult {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** Runs an app once as a fresh process, the way the CLI would, writing its assembly to `outdir`. */
function runApp(runner: Runner, launch: CliLaunch, context: Record<string, unknown>, outdir: string, work: string, nodeOptions: string[] = []): RunResult {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const cpuFile = join(work, 'cpu.json');
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CDK_'))),
    ...launch.env,
    CDK_OUTDIR: outdir,
    CDK_CONTEXT_JSON: JSON.stringify(context),
    CDK_ERROR_FILE: join(outdir, 'error.txt'),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    BENCH_CPU_FILE: cpuFile,
    NODE_OPTIONS: `--require ${join(work, 'cpu-usage.js')}`,
  };
  delete env.CDK_PERF_COUNTERS_FILE;
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [...nodeOptions, ...runner.argv.slice(1)], { cwd: repo, env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) {
    throw new Error(`${runner.name} failed (exit ${result.status}):\n${result.stderr.toString().slice(-4000)}`);
  }
  const { user, system } = JSON.parse(readFileSync(cpuFile, 'utf8')) as { user: number; system: number };
  return { wallMs, cpuMs: (user + system) / 1000 };
}

interface Ratio {
  /** median(example) / median(raw). */
  readonly ratio: number;
  /** Bootstrap 95% interval of that ratio, resampling pairs. */
  readonly low: number;
  readonly high: number;
  /** The median of the pairs' own ratios, with its distribution-free 95% interval. */
  readonly pairedMedian: MedianInterval;
}

const medianOf = (values: readonly number[]) => medianInterval(values)!.median;

function ratioOf(example: readonly number[], raw: readonly number[], seed: number): Ratio {
  const random = seededRandom(seed);
  const boot: number[] = [];
  for (let i = 0; i < BOOTSTRAP_RESAMPLES; i++) {
    const picks = example.map(() => Math.floor(random() * example.length));
    boot.push(medianOf(picks.map((p) => example[p])) / medianOf(picks.map((p) => raw[p])));
  }
  boot.sort((a, b) => a - b);
  return {
    ratio: medianOf(example) / medianOf(raw),
    low: boot[Math.floor(0.025 * boot.length)],
    high: boot[Math.ceil(0.975 * boot.length) - 1],
    pairedMedian: medianInterval(example.map((e, i) => e / raw[i]))!,
  };
}

interface Measurement {
  readonly pairs: number;
  readonly stacks: number;
  readonly resources: number;
  readonly example: { readonly wallMs: MedianInterval; readonly cpuMs: MedianInterval };
  readonly raw: { readonly wallMs: MedianInterval; readonly cpuMs: MedianInterval };
  readonly wallRatio: Ratio;
  readonly cpuRatio: Ratio;
  readonly runs: { readonly example: RunResult[]; readonly raw: RunResult[] };
  readonly profiles: { readonly example: ProfileBreakdown; readonly raw: ProfileBreakdown };
}

/** Synthesizes the example, generates and checks the raw app, then alternates the two. */
function measure(pairs: number, launch: CliLaunch, example: Runner, work: string): Measurement {
  const { context } = launch;
  const dir = join(work, 'runs');
  const original = join(dir, 'original.out');
  const rawOut = join(dir, 'raw.out');
  const exampleOut = join(dir, 'example.out');
  mkdirSync(dir, { recursive: true });
  runApp(example, launch, context, original, work);
  const raw: Runner = { name: 'raw CfnResource app', argv: ['node', writeRawApp(original, original, dir)], entry: 'app.js' };
  runApp(raw, launch, context, rawOut, work);
  const problems = compareAssemblies(original, rawOut);
  if (problems.length) {
    throw new Error(`the raw app does not reproduce the example's assembly:\n  ${problems.join('\n  ')}`);
  }
  const runs = { example: [] as RunResult[], raw: [] as RunResult[] };
  // A warm-up pair (file cache, lazy disk reads), then pairs in alternating order.
  runApp(example, launch, context, exampleOut, work);
  runApp(raw, launch, context, rawOut, work);
  for (let i = 0; i < pairs; i++) {
    const first = i % 2 === 0;
    if (first) {
      runs.example.push(runApp(example, launch, context, exampleOut, work));
    }
    runs.raw.push(runApp(raw, launch, context, rawOut, work));
    if (!first) {
      runs.example.push(runApp(example, launch, context, exampleOut, work));
    }
    process.stderr.write(`  pair ${i + 1}/${pairs}: example ${runs.example[i].wallMs.toFixed(0)} ms, raw ${runs.raw[i].wallMs.toFixed(0)} ms\n`);
  }
  // Not compared file by file: EndpointModel.latestApproved puts the synthesis time into its lookup.
  if (countResources(exampleOut).resources !== countResources(original).resources) {
    throw new Error("the example app's assembly changed between runs");
  }
  const profiles = { example: profileRun(example, launch, context, dir, work), raw: profileRun(raw, launch, context, dir, work) };
  const wall = (r: RunResult[]) => r.map((x) => x.wallMs);
  const cpu = (r: RunResult[]) => r.map((x) => x.cpuMs);
  return {
    pairs,
    ...countResources(original),
    example: { wallMs: medianInterval(wall(runs.example))!, cpuMs: medianInterval(cpu(runs.example))! },
    raw: { wallMs: medianInterval(wall(runs.raw))!, cpuMs: medianInterval(cpu(runs.raw))! },
    wallRatio: ratioOf(wall(runs.example), wall(runs.raw), 11),
    cpuRatio: ratioOf(cpu(runs.example), cpu(runs.raw), 12),
    runs,
    profiles,
  };
}

/** One more run under `node --cpu-prof`, attributed. */
function profileRun(runner: Runner, launch: CliLaunch, context: Record<string, unknown>, dir: string, work: string): ProfileBreakdown {
  const profileDir = join(dir, `profile-${runner.entry.replace(/\W/g, '-')}`);
  rmSync(profileDir, { recursive: true, force: true });
  runApp(runner, launch, context, join(dir, 'profiled.out'), work, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]);
  const [file] = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
  if (process.env.BENCH_KEEP_PROFILES) {
    cpSync(join(profileDir, file), join(process.env.BENCH_KEEP_PROFILES, `${runner.entry.replace(/\W/g, '-')}.cpuprofile`));
  }
  return attributeProfile(join(profileDir, file), runner.entry);
}

const metTarget = (m: Measurement) => m.wallRatio.ratio <= TARGET_RATIO;
/** Under the target with the whole interval and in CPU time too. */
const metClearly = (m: Measurement) => m.wallRatio.high <= TARGET_RATIO && m.cpuRatio.ratio <= TARGET_RATIO;

const s = (ms: number) => (ms / 1000).toFixed(2);
const x = (r: number) => `${r.toFixed(2)}x`;
const interval = (m: MedianInterval) => `${s(m.median)} [${s(m.low)}, ${s(m.high)}]`;

function profileTable(breakdown: ProfileBreakdown, raw: ProfileBreakdown): string[] {
  const rawBy = new Map(raw.activities.map((a) => [a.activity, a]));
  const lines = [
    '| activity | example app (s) | share | raw app (s) | share |',
    '|---|---|---|---|---|',
  ];
  for (const a of breakdown.activities) {
    const r = rawBy.get(a.activity);
    lines.push(`| ${a.activity} | ${s(a.ms)} | ${(100 * a.share).toFixed(1)}% | ${r ? s(r.ms) : '0.00'} | ${r ? (100 * r.share).toFixed(1) : '0.0'}% |`);
  }
  lines.push(`| **total profiled** | **${s(breakdown.totalMs)}** | 100% | **${s(raw.totalMs)}** | 100% |`);
  return lines;
}

/** What the profile says about the rest of the gap; facts about the code, not about one run. */
const EXPLANATION = [
  '## What was changed, what is left, and why it stays', '',
  '- Done: cdk.json runs the app through esbuild-register instead of ts-node. ts-node loads the TypeScript',
  '  compiler (8.9 MB of JavaScript) and transpiles each lib/ file with it; that was 19% of the profile, and',
  '  the loader is now a few percent. The command stays plain and `npm run synth` works from a clean clone.',
  '- CloudFormation Validate runs in both apps (a feature flag of cdk.json, a post-synth check we keep): a',
  '  WebAssembly engine that loads its rules and resource schemas once, then checks each template. It is most',
  "  of the raw app's time. For the same, byte-identical templates its profiled time is about 2 s longer in",
  "  the example app (a third of the gap); its work depends only on the templates, and we did not find what",
  '  in the larger process slows it (its time is inside the engine\'s WebAssembly frames).',
  "- cdk-nag must run every AwsSolutions rule over every resource. Besides the rules themselves, each rule's",
  '  `node instanceof <service>.Cfn<Resource>` test makes aws-cdk-lib load that service\'s L1 module, for',
  '  services the app does not use (QuickSight\'s alone is 5 MB of JavaScript; about 12 MB is loaded during',
  '  validation). Only cdk-nag could avoid it (testing `cfnResourceType` before `instanceof`).',
  '- The L2 constructs themselves: building the tree, finding cross-stack references in every token of every',
  '  resource (prepare), resolving tokens into templates, construct metadata, creation stack traces, tree.json,',
  '  and the garbage they leave. The raw app has none of that by construction (its templates are literals',
  '  taken from our output), so this is the price of the abstractions, not a defect: no phase in it is',
  '  quadratic, and our own code in it (acknowledge-wildcards: each policy resolved once, patterns compiled',
  "  once per construct, most of its time being aws-cdk-lib recording each acknowledgement's stack trace) is",
  '  under 1%.',
  '- Tried and dropped: a larger young generation (`--max-semi-space-size=64`: no gain measurable in CPU',
  "  time), a V8 compile cache (v8-compile-cache: about 1 s, but it bypasses Node's source-map registration,",
  '  so stack traces lose their .ts lines). Not done because they are features rather than waste: turning off',
  '  creation stack traces, tree.json or CDK usage metadata (each well under 1 s).', '',
];

/** What the example app spends beyond the raw app, activity by activity, in profiled seconds. */
function differenceLines(example: ProfileBreakdown, raw: ProfileBreakdown): string[] {
  const rawBy = new Map(raw.activities.map((a) => [a.activity, a.ms]));
  const extra = example.activities
    .map((a) => ({ activity: a.activity, ms: a.ms - (rawBy.get(a.activity) ?? 0) }))
    .filter((d) => d.ms > 0)
    .sort((a, b) => b.ms - a.ms);
  const total = example.totalMs - raw.totalMs;
  return [
    `The example's profile is ${s(total)} s longer than the raw app's. The activities that make up that difference:`, '',
    ...extra.slice(0, 10).map((d) => `- ${d.activity}: +${s(d.ms)} s (${(100 * d.ms / total).toFixed(0)}% of the difference)`), '',
  ];
}

function report(main: Measurement, example: Runner, machine: string, load: string): string[] {
  const lines = [
    '# Synth speed benchmark results', '',
    `Measured ${new Date().toISOString()} on ${machine} (load average before the run: ${load}).`,
    `Example app: \`${example.argv.join(' ')}\` (cdk.json's \`app\`), ${main.stacks} stacks, ${main.resources} resources.`,
    'Raw app: a generated `app.js`, run with plain `node`, building the same stages and stacks with one',
    '`new CfnResource(stack, logicalId, { type, properties })` per resource (attributes as overrides), plus the',
    "conditions, mappings and outputs of the templates and the same file assets (registered with the stack's",
    'synthesizer; staged directories copied). Its templates are byte-identical to the example\'s and its asset',
    'manifests equal; both synthesize with the context and environment the CDK CLI gives an app, so both run',
    'aws-cdk-lib\'s CloudFormation Validate plugin (cdk.json flag `@aws-cdk/core:validateAgainstDefaultRules`);',
    'only the example runs cdk-nag (registered by `bin/app.ts`).', '',
    'The Lambda handlers ship prebuilt (`npm run bundle`), so neither app bundles during synthesis.', '',
    '## Synthesis time', '',
    `${main.pairs} pairs after a warm-up pair, alternating which app runs first. Medians with distribution-free 95% intervals.`, '',
    '| | example app | raw app | ratio of medians [bootstrap 95%] | median of paired ratios [95%] |',
    '|---|---|---|---|---|',
    `| wall time (s) | ${interval(main.example.wallMs)} | ${interval(main.raw.wallMs)} | **${x(main.wallRatio.ratio)}** [${x(main.wallRatio.low)}, ${x(main.wallRatio.high)}] | ${x(main.wallRatio.pairedMedian.median)} [${x(main.wallRatio.pairedMedian.low)}, ${x(main.wallRatio.pairedMedian.high)}] |`,
    `| CPU time, user + system (s) | ${interval(main.example.cpuMs)} | ${interval(main.raw.cpuMs)} | ${x(main.cpuRatio.ratio)} [${x(main.cpuRatio.low)}, ${x(main.cpuRatio.high)}] | ${x(main.cpuRatio.pairedMedian.median)} [${x(main.cpuRatio.pairedMedian.low)}, ${x(main.cpuRatio.pairedMedian.high)}] |`,
    '',
    `Target: wall-time ratio of medians ≤ ${TARGET_RATIO}x. Met: ${metTarget(main) ? 'yes' : 'no'} (${x(main.wallRatio.ratio)}; its interval reaches ${x(main.wallRatio.high)}; the CPU-time ratio, which machine load disturbs less, is ${x(main.cpuRatio.ratio)})${metTarget(main) && !metClearly(main) ? ': at the threshold rather than clearly under it' : ''}.`, '',
  ];
  const { example: ex, raw } = main.profiles;
  lines.push(
    '## Where the time goes (one `--cpu-prof` run of each)', '',
    'Each sample goes to the innermost frame that names an activity (a `require` made while cdk-nag runs is module',
    'loading; token resolution asked for by cdk-nag is cdk-nag); what no narrower rule claims goes to the synthesis',
    'phase it ran in. Profiled runs are slower than plain ones; read shares, not seconds.', '',
    ...profileTable(ex, raw), '',
    ...differenceLines(ex, raw),
    `Token resolution (aws-cdk-lib's resolver, whoever asked): example ${s(ex.tokenResolutionMs)} s (${(100 * ex.tokenResolutionMs / ex.totalMs).toFixed(1)}%), raw ${s(raw.tokenResolutionMs)} s (${(100 * raw.tokenResolutionMs / raw.totalMs).toFixed(1)}%).`, '',
    'Hottest functions of the example app (self time):', '',
    ...ex.hottest.map((h) => `- ${s(h.ms)} s \`${h.frame}\``), '',
    ...EXPLANATION,
  );
  return lines;
}

function main(): void {
  const work = mkdtempSync(join(tmpdir(), 'modelship-synth-bench-'));
  try {
    writeFileSync(join(work, 'cpu-usage.js'), [
      "process.on('exit', () => {",
      '  const { user, system } = process.cpuUsage();',
      "  require('fs').writeFileSync(process.env.BENCH_CPU_FILE, JSON.stringify({ user, system }));",
      '});',
    ].join('\n'));
    const load = loadavg().map((l) => l.toFixed(2)).join(', ');
    const launch = cliLaunch(work);
    const argv = appCommand();
    const example: Runner = { name: 'example app', argv, entry: relative(repo, join(repo, argv[argv.length - 1])) };
    const mainMeasurement = measure(PAIRS, launch, example, work);
    const machine = `${process.platform} ${process.arch}, Node.js ${process.version}, ${cpus().length} CPUs`;
    const lines = report(mainMeasurement, example, machine, load);
    const { profiles, ...rest } = mainMeasurement;
    writeFileSync(join(__dirname, 'results.json'), `${JSON.stringify({
      measuredAt: new Date().toISOString(),
      machine,
      loadAverageBefore: load,
      exampleCommand: argv.join(' '),
      targetRatio: TARGET_RATIO,
      met: metTarget(mainMeasurement),
      metClearly: metClearly(mainMeasurement),
      measurement: { ...rest, profiles },
      activities: Object.values(ACTIVITIES),
    }, null, 2)}\n`);
    writeFileSync(join(__dirname, 'results.md'), `${lines.join('\n')}\n`);
    console.log(lines.join('\n'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
