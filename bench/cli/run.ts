/**
 * CLI start-up benchmark: `modelship --help` as shipped (compiled by the package build), against
 * a Node.js process that runs nothing, in the same run. Also lists what `--help` loads, to show
 * it never loads aws-cdk-lib or the AWS SDK. Run: `npm run bench:cli`.
 */
import { execFileSync, spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { cpus, tmpdir } from 'os';
import { join } from 'path';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const TARGET_MS = 300;
const repo = join(__dirname, '..', '..');

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

function main(): void {
  const outDir = mkdtempSync(join(tmpdir(), 'modelship-cli-bench-'));
  try {
    execFileSync(join(repo, 'node_modules', '.bin', 'tsc'), ['-p', join(repo, 'tsconfig.build.json'), '--outDir', outDir, '--sourceMap', 'false'], { cwd: repo });
    const cli = join(outDir, 'bin', 'modelship.js');
    const env = { ...process.env, NODE_PATH: join(repo, 'node_modules') };
    // Warm the file cache, then alternate the two so both see the same machine.
    timed([cli, '--help'], env);
    const help: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      bare.push(timed(['-e', ''], env));
      help.push(timed([cli, '--help'], env));
    }
    const probe = join(outDir, 'probe.js');
    writeFileSync(probe, "process.on('exit', () => process.stderr.write(JSON.stringify(Object.keys(require.cache))));\n");
    // The probe's list is the last line of stderr (the CLI may print its Node.js end-of-life notice first).
    const loaded: string[] = JSON.parse(spawnSync(process.execPath, ['-r', probe, cli, '--help'], { env, encoding: 'utf8' }).stderr.trim().split('\n').at(-1) || '[]');
    const packages = [...new Set(loaded.map((path) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(path)?.[1]).filter((p): p is string => Boolean(p)))].sort();
    const report = {
      measuredAt: new Date().toISOString(),
      machine: `${process.platform} ${process.arch}, Node.js ${process.version}, ${cpus().length} CPUs`,
      runs: RUNS,
      helpMs: { median: median(help), max: Math.max(...help) },
      bareNodeMs: { median: median(bare), max: Math.max(...bare) },
      ratio: median(help) / median(bare),
      modulesLoaded: loaded.length,
      packagesLoaded: packages,
      loadsAwsCdkLib: packages.includes('aws-cdk-lib'),
      loadsAwsSdk: packages.some((p) => p.startsWith('@aws-sdk/')),
      targetMs: TARGET_MS,
      met: median(help) < TARGET_MS && !packages.includes('aws-cdk-lib'),
    };
    writeFileSync(join(__dirname, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
    const lines = [
      '# CLI start-up benchmark results', '',
      `Measured ${report.measuredAt} on ${report.machine}; ${RUNS} runs each, alternating.`, '',
      '| process | median (ms) | max (ms) |', '|---|---|---|',
      `| \`modelship --help\` (compiled, as shipped) | ${report.helpMs.median.toFixed(1)} | ${report.helpMs.max.toFixed(1)} |`,
      `| \`node -e ''\` (the floor) | ${report.bareNodeMs.median.toFixed(1)} | ${report.bareNodeMs.max.toFixed(1)} |`, '',
      `Ratio: ${report.ratio.toFixed(2)}. \`--help\` loads ${report.modulesLoaded} modules from ${packages.length} package(s): ${packages.join(', ') || 'none'}`,
      `(aws-cdk-lib: ${report.loadsAwsCdkLib ? 'yes' : 'no'}, AWS SDK: ${report.loadsAwsSdk ? 'yes' : 'no'}).`, '',
      `Target: \`--help\` under ${TARGET_MS} ms without aws-cdk-lib. Met: ${report.met ? 'yes' : 'no'}.`, '',
    ];
    writeFileSync(join(__dirname, 'results.md'), lines.join('\n'));
    console.log(lines.join('\n'));
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

main();
