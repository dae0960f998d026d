import { execFile } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { promisify } from 'util';
import { DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import type { Command } from 'commander';
import { buildProgram, run } from '../../lib/cli/program';
import { packageVersion } from '../../lib/cli/version';
import { fakeIo, mockedAws, serviceError } from './fakes';

const repo = join(__dirname, '..', '..');
const POLICY = join(repo, 'docs', 'examples', 'progressive-policy.json');
const execute = promisify(execFile);

/** Every command a user can run, by its full name (`train start`), from the command table itself. */
function leafCommands(command: Command, prefix: string[] = []): string[] {
  return command.commands.flatMap((c) => (c.commands.length > 0 ? leafCommands(c, [...prefix, c.name()]) : [[...prefix, c.name()].join(' ')]));
}

describe('modelship --version', () => {
  test('prints the version in package.json and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) {
      const io = fakeIo();
      await expect(run([flag], io, () => {
        throw new Error('--version must build no AWS client');
      })).resolves.toBe(0);
      expect(io.lines).toEqual([version]);
      expect(io.errors).toEqual([]);
    }
  });

  test('reads the package.json named modelship above the compiled file, not merely the nearest one', () => {
    const root = mkdtempSync(join(tmpdir(), 'modelship-version-'));
    try {
      const cli = join(root, 'dist', 'lib', 'cli');
      mkdirSync(cli, { recursive: true });
      writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'modelship', version: '9.8.7' }));
      writeFileSync(join(root, 'dist', 'package.json'), JSON.stringify({ type: 'commonjs' }));
      expect(packageVersion(cli)).toBe('9.8.7');
      expect(() => packageVersion(join(root, 'dist'))).not.toThrow();
      rmSync(join(root, 'package.json'));
      expect(() => packageVersion(cli)).toThrow(`no package.json of modelship above ${cli}`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('modelship errors', () => {
  const endpointMissing = () => {
    const mocks = mockedAws();
    mocks.sagemaker.on(DescribeEndpointCommand).rejects(serviceError('ValidationException', 'Could not find endpoint "nope".'));
    return mocks.aws;
  };
  const unexpected = () => {
    const mocks = mockedAws();
    mocks.sagemaker.on(DescribeEndpointCommand).rejects(serviceError('ThrottlingException', 'Rate exceeded'));
    return mocks.aws;
  };

  test.each([
    ['an unknown option', ['--bogus'], () => mockedAws().aws, 2, "unknown option '--bogus'"],
    ['a missing argument', ['shift'], () => mockedAws().aws, 2, "missing required argument 'endpoint'"],
    ['an unknown command', ['shfit', 'e'], () => mockedAws().aws, 2, "unknown command 'shfit'\n(Did you mean shift?)"],
    ['a group without its command', ['train'], () => mockedAws().aws, 2, 'a command is required (see --help)'],
    ['a bad option value', ['promote', 'e', '--timeout', 'abc'], () => mockedAws().aws, 2, "--timeout must be an integer from 1 to 86400, got 'abc'"],
    ['an unknown endpoint', ['status', 'nope'], endpointMissing, 2, "unknown endpoint 'nope' in region eu-west-1"],
    ['an unexpected error', ['status', 'e'], unexpected, 1, 'ThrottlingException: Rate exceeded'],
  ])('prints %s as one JSON line on standard error under --json, with the same exit code', async (_, argv, clients, exitCode, message) => {
    const json = fakeIo();
    await expect(run([...argv, '--json'], json, clients)).resolves.toBe(exitCode);
    expect(json.errors).toHaveLength(1);
    expect(JSON.parse(json.errors[0])).toEqual({ error: { exitCode, message } });
    expect(json.lines).toEqual([]);

    const text = fakeIo();
    await expect(run([...argv], text, clients)).resolves.toBe(exitCode);
    expect(text.errors.join('\n')).toContain(message === 'a command is required (see --help)' ? 'Usage: modelship train' : message);
    expect(() => JSON.parse(text.errors[0])).toThrow();
  });
});

describe('every command checks its arguments before any AWS call', () => {
  // One bad argument per command; each must fail with exit 2 naming the option, the allowed range and the value.
  const cases: Record<string, { argv: string[]; message: string }> = {
    'status': { argv: ['status', 'e', '--watch', '0'], message: "--watch must be an integer from 1 to 3600, got '0'" },
    'shift': { argv: ['shift', 'e', '--to', 'b', '--weight', '150'], message: "--weight must be an integer from 0 to 100, got '150'" },
    'promote': { argv: ['promote', 'e', '--timeout', 'abc'], message: "--timeout must be an integer from 1 to 86400, got 'abc'" },
    'abort': { argv: ['rollback', 'e', '--timeout', '0'], message: "--timeout must be an integer from 1 to 86400, got '0'" },
    'pause': { argv: ['pause', 'e', '--timeout', '86401'], message: "--timeout must be an integer from 1 to 86400, got '86401'" },
    'resume': { argv: ['resume', 'e', '--timeout', '1.5'], message: "--timeout must be an integer from 1 to 86400, got '1.5'" },
    'history': { argv: ['history', 'e', '--limit', '1001'], message: "--limit must be an integer from 1 to 1000, got '1001'" },
    'simulate': { argv: ['simulate', '--policy', POLICY, '--runs', '0'], message: "--runs must be an integer from 1 to 10000, got '0'" },
    'train start': { argv: ['train', 'start', 'churn-training'], message: "<pipeline> must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>), got 'churn-training'" },
    'train status': { argv: ['train', 'status', 'run-1'], message: "<execution> must be an execution ARN (arn:aws:states:<region>:<account>:execution:<pipeline>:<name>), got 'run-1'" },
    'train list': { argv: ['train', 'list', 'arn:aws:states:eu-west-1:111111111111:stateMachine:churn', '--limit', '101'], message: "--limit must be an integer from 1 to 100, got '101'" },
    'train stop': { argv: ['train', 'stop', 'run-1'], message: "<execution> must be an execution ARN (arn:aws:states:<region>:<account>:execution:<pipeline>:<name>), got 'run-1'" },
    'list': { argv: ['list', '--limit', '0'], message: "--limit must be an integer from 1 to 500, got '0'" },
    'retry': { argv: ['retry', 'e', '--timeout', '0'], message: "--timeout must be an integer from 1 to 86400, got '0'" },
    'undo': { argv: ['undo', 'e', '--timeout', 'abc', '--reason', 'r'], message: "--timeout must be an integer from 1 to 86400, got 'abc'" },
    'rollout start': { argv: ['rollout', 'start', 'e', '--timeout', 'abc'], message: "--timeout must be an integer from 1 to 86400, got 'abc'" },
  };

  test('the cases cover every command in the table', () => {
    const commands = leafCommands(buildProgram(fakeIo(), () => mockedAws().aws, () => undefined));
    expect(commands).toHaveLength(16);
    expect(commands.sort()).toEqual(Object.keys(cases).sort());
  });

  test.each(Object.entries(cases))('%s exits 2 naming the option, the range and the value, sending nothing', async (_, { argv, message }) => {
    for (const json of [false, true]) {
      const mocks = mockedAws();
      const clients = [mocks.sagemaker, mocks.dynamodb, mocks.cloudwatch, mocks.sts, mocks.sfn];
      const io = fakeIo();
      await expect(run(json ? [...argv, '--json'] : argv, io, () => mocks.aws)).resolves.toBe(2);
      expect(io.errors).toEqual([json ? JSON.stringify({ error: { exitCode: 2, message } }) : `modelship: ${message}`]);
      expect(clients.map((c) => c.calls().length)).toEqual([0, 0, 0, 0, 0]);
    }
  });

  test('the commands that need no AWS build no client', async () => {
    let built = 0;
    const io = fakeIo();
    await expect(run(['simulate', '--policy', POLICY, '--runs', '2', '--hours', '24', '--traffic', '500'], io, () => {
      built += 1;
      return mockedAws().aws;
    })).resolves.toBe(0);
    expect(io.output()).toContain('Operating characteristics over 2 runs');
    expect(built).toBe(0);
  });
});

describe('start-up of the commands that need no AWS', () => {
  /** Runs `run(argv)` in a fresh Node.js process and returns its exit code, output, and the AWS SDK modules it loaded. */
  async function fresh(argv: string[]): Promise<{ code: number; lines: string[]; sdk: string[] }> {
    const script = `
      const { run } = require(${JSON.stringify(join(repo, 'lib', 'cli', 'program.ts'))});
      const lines = [];
      const io = { out: (l) => lines.push(l), err: (l) => lines.push(l), interactive: false, colour: false,
        confirm: async () => false, progress: () => undefined, now: () => 0, sleep: async () => undefined };
      run(${JSON.stringify(argv)}, io).then((code) => process.stdout.write(JSON.stringify({
        code, lines, sdk: Object.keys(require.cache).filter((p) => p.includes('/@aws-sdk/')),
      })));`;
    const { stdout } = await execute(process.execPath, ['-r', 'esbuild-register', '-e', script], { cwd: repo, env: { ...process.env, AWS_REGION: 'eu-west-1' } });
    return JSON.parse(stdout) as { code: number; lines: string[]; sdk: string[] };
  }

  test.each([
    [['--version'], '0'],
    [['--help'], 'Usage: modelship'],
    [['simulate', '--policy', POLICY, '--runs', '2', '--hours', '24', '--traffic', '500'], 'Operating characteristics over 2 runs'],
  ])('%p loads no module of the AWS SDK', async (argv, expected) => {
    const { code, lines, sdk } = await fresh(argv);
    expect(code).toBe(0);
    expect(lines.join('\n')).toContain(expected);
    expect(sdk).toEqual([]);
  }, 30_000);

  test('while a command that calls AWS does load it (the probe sees SDK modules)', async () => {
    // A bad argument: the clients are built, the command refuses before its first call.
    const { code, sdk } = await fresh(['status', 'e', '--watch', '0']);
    expect(code).toBe(2);
    expect(sdk.some((p) => p.includes('/@aws-sdk/client-sagemaker/'))).toBe(true);
  }, 30_000);
});
