/**
 * CLI start-up benchmark, on the CLI as shipped (compiled by the package build into dist/, next
 * to package.json), against a Node.js process that runs nothing (`node -e ''`), all in the same
 * run and alternating, so every row sees the same machine:
 * - `modelship --help`, `--version`, and `<command> --help` for every command in the table
 *   (commander parses and prints the command's help: the command table alone is loaded);
 * - loading each compiled command module in a fresh process (what a command loads before its
 *   first AWS call, which cannot be reached offline), and building the AWS clients;
 * - a tiny `simulate` run (no AWS).
 * Also lists what each process loads, to show which ones load aws-cdk-lib or the AWS SDK.
 * Run: `npm run bench:cli`.
 */
import { execFileSync, spawnSync } from 'child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { cpus, tmpdir } from 'os';
import { join } from 'path';
import type { Command } from 'commander';
import { buildProgram } from '../../lib/cli/program';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const TARGET_MS = 300;
const repo = join(__dirname, '..', '..');
const POLICY = join(repo, 'docs', 'examples', 'progressive-policy.json');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Wall time of a fresh process, in milliseconds. */
function timed(args: string[], env: NodeJS.ProcessEnv): number {
  const start = process.hrtime.bigint();
  execFileSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'ignore'] });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Every command a user can run, by its full name (`train start`), from the command table itself. */
function leafCommands(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((c) => (c.commands.length > 0 ? leafCommands(c, [...prefix, c.name()]) : [[...prefix, c.name()]]));
}

/** A process to measure: what it is, its arguments after `node`. */
interface Probe {
  readonly kind: 'floor' | 'cli' | 'command help' | 'module';
  readonly label: string;
  readonly args: string[];
}

/** What a process loads: its modules and the packages they come from. */
function loads(probeFile: string, args: string[], env: NodeJS.ProcessEnv): { modules: number; packages: string[] } {
  // The probe's list is the last line of stderr (the CLI may print its Node.js end-of-life notice first).
  const loaded: string[] = JSON.parse(spawnSync(process.execPath, ['-r', probeFile, ...args], { env, encoding: 'utf8' }).stderr.trim().split('\n').at(-1) || '[]');
  const packages = [...new Set(loaded.map((path) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(path)?.[1]).filter((p): p is string => Boolean(p)))].sort();
  return { modules: loaded.length, packages };
}

function main(): void {
  const outDir = mkdtempSync(join(tmpdir(), 'modelship-cli-bench-'));
  try {
    const dist = join(outDir, 'dist');
    execFileSync(join(repo, 'node_modules', '.bin', 'tsc'), ['-p', join(repo, 'tsconfig.build.json'), '--outDir', dist, '--sourceMap', 'false'], { cwd: repo });
    copyFileSync(join(repo, 'package.json'), join(outDir, 'package.json'));
    const cli = join(dist, 'bin', 'modelship.js');
    const env = { ...process.env, NODE_PATH: join(repo, 'node_modules'), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    // The command table (the same one that was just compiled).
    const program = buildProgram(
      { out: () => undefined, err: () => undefined, interactive: false, colour: false, confirm: async () => false, progress: () => undefined, now: () => 0, sleep: async () => undefined },
      () => {
        throw new Error('the bench builds no clients');
      },
      () => undefined,
    );
    const commands = leafCommands(program);
    const modulesDir = join(dist, 'lib', 'cli', 'commands');
    const modules = readdirSync(modulesDir).filter((f) => f.endsWith('.js')).sort();
    const probes: Probe[] = [
      { kind: 'floor', label: "`node -e ''`", args: ['-e', ''] },
      { kind: 'cli', label: '`modelship --help`', args: [cli, '--help'] },
      { kind: 'cli', label: '`modelship --version`', args: [cli, '--version'] },
      { kind: 'cli', label: '`modelship simulate` (2 runs of 24 h)', args: [cli, 'simulate', '--policy', POLICY, '--runs', '2', '--hours', '24', '--traffic', '500'] },
      ...commands.map((c): Probe => ({ kind: 'command help', label: `\`modelship ${c.join(' ')} --help\``, args: [cli, ...c, '--help'] })),
      ...modules.map((m): Probe => ({ kind: 'module', label: `load \`commands/${m}\``, args: ['-e', `require(${JSON.stringify(join(modulesDir, m))})`] })),
      {
        kind: 'module', label: 'load `aws.js` and build the clients',
        args: ['-e', `require(${JSON.stringify(join(dist, 'lib', 'cli', 'aws.js'))}).awsClients({ region: 'eu-west-1' })`],
      },
    ];
    // Each must succeed before it is timed.
    for (const probe of probes) {
      timed(probe.args, env);
    }
    const times = probes.map(() => [] as number[]);
    for (let i = 0; i < RUNS; i++) {
      probes.forEach((probe, j) => times[j].push(timed(probe.args, env)));
    }
    const probeFile = join(outDir, 'probe.js');
    writeFileSync(probeFile, "process.on('exit', () => process.stderr.write(JSON.stringify(Object.keys(require.cache))));\n");
    const floor = median(times[0]);
    const rows = probes.map((probe, j) => {
      const { modules: loaded, packages } = loads(probeFile, probe.args, env);
      return {
        kind: probe.kind,
        process: probe.label,
        medianMs: median(times[j]),
        maxMs: Math.max(...times[j]),
        ratio: median(times[j]) / floor,
        modulesLoaded: loaded,
        packagesLoaded: packages,
        loadsAwsCdkLib: packages.includes('aws-cdk-lib'),
        loadsAwsSdk: packages.some((p) => p.startsWith('@aws-sdk/')),
      };
    });
    const help = rows[1];
    const withoutAws = rows.filter((r) => r.kind === 'cli' || r.kind === 'command help');
    const report = {
      measuredAt: new Date().toISOString(),
      machine: `${process.platform} ${process.arch}, Node.js ${process.version}, ${cpus().length} CPUs`,
      runs: RUNS,
      helpMs: { median: help.medianMs, max: help.maxMs },
      bareNodeMs: { median: floor, max: rows[0].maxMs },
      ratio: help.ratio,
      modulesLoaded: help.modulesLoaded,
      packagesLoaded: help.packagesLoaded,
      loadsAwsCdkLib: help.loadsAwsCdkLib,
      loadsAwsSdk: help.loadsAwsSdk,
      targetMs: TARGET_MS,
      met: help.medianMs < TARGET_MS && !help.loadsAwsCdkLib,
      // --help, --version, simulate and every command's --help load no AWS SDK; nothing loads aws-cdk-lib.
      noAwsWithoutAws: withoutAws.every((r) => !r.loadsAwsSdk),
      noAwsCdkLib: rows.every((r) => !r.loadsAwsCdkLib),
      processes: rows,
    };
    writeFileSync(join(__dirname, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
    const yesNo = (b: boolean) => (b ? 'yes' : 'no');
    const lines = [
      '# CLI start-up benchmark results', '',
      `Measured ${report.measuredAt} on ${report.machine}; ${RUNS} runs of each process, alternating, the CLI compiled as shipped.`,
      'A command\'s own start-up until its first AWS call cannot be reached offline: it is its `--help` (the command table and',
      'commander) plus loading its module (and, for commands that call AWS, building the clients), each measured in a fresh process.', '',
      '| process | median (ms) | max (ms) | × bare node | modules | AWS SDK | aws-cdk-lib |', '|---|---|---|---|---|---|---|',
      ...rows.map((r) => `| ${r.process} | ${r.medianMs.toFixed(1)} | ${r.maxMs.toFixed(1)} | ${r.ratio.toFixed(2)} | ${r.modulesLoaded} | ${yesNo(r.loadsAwsSdk)} | ${yesNo(r.loadsAwsCdkLib)} |`),
      '',
      `\`--help\` loads ${report.modulesLoaded} modules from ${report.packagesLoaded.length} package(s): ${report.packagesLoaded.join(', ') || 'none'}.`,
      `\`--help\`, \`--version\`, \`simulate\` and every command's \`--help\` load no AWS SDK: ${yesNo(report.noAwsWithoutAws)}. Nothing loads aws-cdk-lib: ${yesNo(report.noAwsCdkLib)}.`, '',
      `Target: \`--help\` under ${TARGET_MS} ms without aws-cdk-lib. Met: ${yesNo(report.met)}.`, '',
    ];
    writeFileSync(join(__dirname, 'results.md'), lines.join('\n'));
    console.log(lines.join('\n'));
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

main();
