import { Command, CommanderError, Option } from 'commander';
import type * as AwsModule from './aws';
import type { AwsClients, AwsOptions } from './aws';
import type * as HistoryModule from './commands/history';
import type * as ListModule from './commands/list';
import type * as ManualActionModule from './commands/manual-action';
import type * as RolloutStartModule from './commands/rollout-start';
import type * as ShiftModule from './commands/shift';
import type * as SimulateModule from './commands/simulate';
import type * as StatusModule from './commands/status';
import type * as TrainModule from './commands/train';
import type * as TrainListModule from './commands/train-list';
import type * as TrainStopModule from './commands/train-stop';
import { CliError, EXIT } from './errors';
import { Io, processIo } from './io';
import { endOfLifeNotice } from './node-support';
import { packageVersion } from './version';

/** How the shell builds AWS clients; tests replace it. */
export type ClientFactory = (options: AwsOptions) => AwsClients | Promise<AwsClients>;

/**
 * Loads a module when a command runs, not when the CLI starts: `--help` then loads neither the
 * AWS SDK nor the release logic.
 */
function lazy<T>(path: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path) as T;
}

const realClients: ClientFactory = (options) => lazy<typeof AwsModule>('./aws').awsClients(options);

/** Options every command takes. */
export interface GlobalOptions extends AwsOptions {
  /** Machine-readable output. */
  readonly json?: boolean;
}

const EXAMPLES = `
Examples:
  $ modelship list
  $ modelship status churn-ab
  $ modelship status churn-ab --timeout 3600      # exit 0 healthy, 6 paused, 7 degraded, 5 still progressing
  $ modelship shift churn-ab --to candidate --weight 25 --reason "canary looks healthy"
  $ modelship shift churn-ab --weights baseline=50,candidate=50 --yes --reason "second step"
  $ modelship promote churn-ab --reason "step 2 looks healthy"
  $ modelship promote churn-ab --full --reason "conversion +3.1%, p = 0.004"
  $ modelship abort churn-ab --reason "latency regression"
  $ modelship retry churn-ab --reason "the feature store outage is fixed"
  $ modelship undo churn-ab --reason "complaints about v7's recommendations"
  $ modelship rollout start churn-ab --reason "re-run v7 after the holiday"
  $ modelship history churn-ab --limit 20
  $ modelship simulate --policy policy.json --baseline-rate 0.10 --candidate-rate 0.11
  $ modelship train start arn:aws:states:eu-west-1:111111111111:stateMachine:churn-training --follow
  $ modelship train list arn:aws:states:eu-west-1:111111111111:stateMachine:churn-training --status FAILED

Exit codes: 0 done, 1 failed, 2 bad input, 3 refused, 4 conflict (the rollout changed), 5 timed out,
6 paused and 7 degraded (status --timeout).`;

/** Whether errors are to be JSON: `--json` is among the arguments (known before commander parses them). */
export function errorsAsJson(argv: readonly string[]): boolean {
  return argv.includes('--json');
}

/** Prints an error or warning on standard error: `modelship: <message>`, or one JSON line under `--json`. */
function report(io: Io, json: boolean, kind: 'error' | 'warning', message: string, exitCode?: number): void {
  if (json) {
    io.err(JSON.stringify({ [kind]: { ...(exitCode !== undefined ? { exitCode } : {}), message } }));
  } else {
    io.err(kind === 'error' ? `modelship: ${message}` : message);
  }
}

/**
 * The command table. Each command's module is loaded only when it runs, so `--help` loads
 * neither the AWS SDK nor the release logic; a command declared with `offline` builds no AWS
 * client either, so it loads no SDK client. With `json`, commander's own error output (usage
 * errors and the help after them) is left to `run`, which prints the error as one JSON line.
 */
export function buildProgram(io: Io, clients: ClientFactory, done: (code: number) => void, json = false): Command {
  const program = new Command('modelship')
    .description('Release-manager CLI for modelship endpoints: list, see, shift, promote, abort, retry, undo, with an audit trail')
    .addOption(new Option('--region <region>', 'AWS region (default: the SDK\'s resolution)'))
    .addOption(new Option('--profile <profile>', 'AWS profile (default: the SDK\'s resolution)'))
    .option('--json', 'machine-readable output (errors too: one JSON line on standard error)')
    .option('-V, --version', 'print the version of modelship')
    .addHelpText('after', EXAMPLES)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: json ? () => undefined : (s) => io.err(s.trimEnd()) });
  // Read when asked for, not at every start-up.
  program.on('option:version', () => {
    const version = packageVersion();
    io.out(version);
    throw new CommanderError(EXIT.OK, 'commander.version', version);
  });

  const parse = <T>(args: unknown[], build: (...args: unknown[]) => T) => {
    const command = args[args.length - 1] as Command;
    return { ...command.optsWithGlobals(), ...build(...args) } as T & GlobalOptions;
  };
  /** A command that calls AWS: its clients are built when it runs; it checks its options before its first call. */
  const action = <T>(load: () => (options: T, io: Io, aws: AwsClients) => Promise<number>, build: (...args: unknown[]) => T) =>
    async (...args: unknown[]) => {
      const options = parse(args, build);
      const run = load();
      done(await run(options, io, await clients(options)));
    };
  /** A command that needs no AWS: no client is built, so no SDK client is loaded. */
  const offline = <T>(load: () => (options: T, io: Io) => Promise<number>, build: (...args: unknown[]) => T) =>
    async (...args: unknown[]) => {
      done(await load()(parse(args, build), io));
    };

  const changing = (command: Command) => command
    .option('--reason <text>', 'why (recorded in the audit trail; required for production endpoints)')
    .option('--yes', 'do not ask for confirmation')
    .option('--dry-run', 'show the change without making it')
    .option('--table <name>', 'the rollout table (default: modelship-rollouts-<endpoint>)')
    .option('--timeout <seconds>', 'how long to wait for InService', '900');

  program.command('list')
    .description('endpoints with a rollout: rollout, candidate version, phase, weights, last decision')
    .option('--name-contains <text>', 'only endpoints whose name contains this')
    .option('--all', 'also endpoints without a rollout')
    .option('--limit <n>', 'how many endpoints to look at, newest first', '100')
    .action(action(() => lazy<typeof ListModule>('./commands/list').list, () => ({})));

  program.command('status')
    .description('endpoint, variants, rollout, recent decisions and metrics')
    .argument('<endpoint>')
    .option('--watch [seconds]', 'refresh every so many seconds (default 10)')
    .option('--timeout <seconds>', 'wait until the rollout is healthy (exit 0), paused (6) or degraded (7); 5 if still progressing')
    .option('--table <name>', 'the rollout table (default: modelship-rollouts-<endpoint>)')
    .action(action(() => lazy<typeof StatusModule>('./commands/status').status, (endpoint) => ({ endpoint: String(endpoint) })));

  changing(program.command('shift')
    .description('move traffic between variants')
    .argument('<endpoint>')
    .option('--to <variant>', 'the variant to give --weight')
    .option('--weight <percent>', 'its weight, 0-100; the others share the rest in proportion')
    .option('--weights <list>', 'every weight at once, e.g. baseline=90,candidate=10')
    .option('--keep-automation', 'do not pause an automated rollout'))
    .action(action(() => lazy<typeof ShiftModule>('./commands/shift').shift, (endpoint) => ({ endpoint: String(endpoint) })));

  for (const [verb, summary, alias] of [
    ['promote', 'advance the candidate one step (--full: all traffic to it, ending the rollout)', undefined],
    ['abort', 'send all traffic back to the baseline and end the rollout', 'rollback'],
    ['pause', 'stop the automation where it is', undefined],
    ['resume', 'hand a paused rollout back to the automation', undefined],
    ['retry', 'restart an aborted rollout from its first step', undefined],
    ['undo', 'all traffic back to the baseline (the version to go back to), even after a promotion; needs --reason', undefined],
  ] as const) {
    const command = changing(program.command(verb).description(summary).argument('<endpoint>'));
    if (alias) {
      command.alias(alias);
    }
    if (verb === 'promote') {
      command.option('--full', 'all traffic to the candidate at once');
    }
    command.action(action(() => lazy<typeof ManualActionModule>('./commands/manual-action').manualAction, (endpoint) => ({ endpoint: String(endpoint), action: verb })));
  }

  const rollout = program.command('rollout').description('rollouts of an endpoint');
  changing(rollout.command('start')
    .description('begin a rollout for the model version the candidate variant serves now')
    .argument('<endpoint>'))
    .action(action(() => lazy<typeof RolloutStartModule>('./commands/rollout-start').rolloutStart, (endpoint) => ({ endpoint: String(endpoint) })));

  program.command('history')
    .description('the rollout\'s audit trail, newest first')
    .argument('<endpoint>')
    .option('--limit <n>', 'how many entries', '20')
    .option('--table <name>', 'the rollout table (default: modelship-rollouts-<endpoint>)')
    .action(action(() => lazy<typeof HistoryModule>('./commands/history').history, (endpoint) => ({ endpoint: String(endpoint) })));

  program.command('simulate')
    .description('preview a policy on synthetic traffic: a trajectory and operating characteristics')
    .requiredOption('--policy <file>', 'a rollout policy as JSON')
    .option('--baseline-rate <rate>', 'the baseline\'s true conversion rate', '0.1')
    .option('--candidate-rate <rate>', 'the candidate\'s true conversion rate', '0.1')
    .option('--traffic <perHour>', 'invocations per hour', '2000')
    .option('--hours <hours>', 'how long each simulated rollout may run', '336')
    .option('--runs <n>', 'simulated rollouts for the operating characteristics', '200')
    .option('--seed <n>', 'random seed', '1')
    .option('--outcome-delay <minutes>', 'mean minutes from a prediction to its outcome\'s report', '0')
    .option('--pre-rollout <hours>', 'hours the baseline served all traffic before the rollout', '0')
    .option('--requests-per-user <n>', 'mean requests per user (1: every request a new user)', '1')
    .option('--world <file>', 'more of the simulated world as JSON: propensities, missing series, mismatch, novelty, cycles, forced traffic')
    .action(offline(() => lazy<typeof SimulateModule>('./commands/simulate').simulateCommand, () => ({})));

  const train = program.command('train').description('training pipelines');
  train.command('start')
    .description('start a training pipeline execution')
    .argument('<pipeline>', 'the pipeline\'s state machine ARN')
    .option('--follow', 'follow it until it ends')
    .action(action(() => lazy<typeof TrainModule>('./commands/train').trainStart, (pipeline) => ({ pipeline: String(pipeline) })));
  train.command('status')
    .description('an execution\'s state, current step and metrics')
    .argument('<execution>', 'the execution ARN')
    .option('--follow', 'follow it until it ends')
    .action(action(() => lazy<typeof TrainModule>('./commands/train').trainStatus, (execution) => ({ execution: String(execution) })));
  train.command('list')
    .description('recent executions, newest first: status, duration, billable seconds, quality gate')
    .argument('<pipeline>', 'the pipeline\'s state machine ARN')
    .option('--limit <n>', 'how many, 1-100 (default 20)')
    .option('--status <status>', 'only RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED ones')
    .action(action(() => lazy<typeof TrainListModule>('./commands/train-list').trainList, (pipeline) => ({ pipeline: String(pipeline) })));
  train.command('stop')
    .description('stop a running execution; Step Functions stops its training job (SIGTERM, 120 s to save)')
    .argument('<execution>', 'the execution ARN')
    .option('--reason <text>', 'why (sent as the execution\'s cause)')
    .option('--yes', 'do not ask for confirmation (required without a terminal)')
    .option('--dry-run', 'show what would stop without stopping it')
    .action(action(() => lazy<typeof TrainStopModule>('./commands/train-stop').trainStop, (execution) => ({ execution: String(execution) })));

  return program;
}

/**
 * Runs the CLI on `argv` (without the node and script paths); resolves to the exit code. Every
 * error ends here and is printed once: as text, or with `--json` as one JSON line
 * `{"error":{"exitCode":2,"message":"..."}}` on standard error.
 */
export async function run(argv: readonly string[], io: Io, clients: ClientFactory = realClients): Promise<number> {
  const json = errorsAsJson(argv);
  let code: number = EXIT.OK;
  const program = buildProgram(io, clients, (c) => {
    code = c;
  }, json);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) {
        return EXIT.OK;
      }
      // Commander has printed its text (unless under --json); a group without its subcommand prints its help.
      if (json) {
        report(io, json, 'error', error.code === 'commander.help' ? 'a command is required (see --help)' : error.message.replace(/^error: /, ''), EXIT.USAGE);
      }
      return EXIT.USAGE;
    }
    if (error instanceof CliError) {
      report(io, json, 'error', error.message, error.exitCode);
      return error.exitCode;
    }
    report(io, json, 'error', `${(error as Error).name}: ${(error as Error).message}`, EXIT.FAILED);
    return EXIT.FAILED;
  }
}

/** The outer shell: the only place that touches `process`. */
export async function main(): Promise<void> {
  // Before any SDK client exists (commands load the SDK when they run): the SDK's own
  // multi-line Node.js notice would otherwise come with every command; ours is one line.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const io = processIo();
  const argv = process.argv.slice(2);
  const notice = endOfLifeNotice(process.version, Date.now());
  if (notice !== undefined) {
    report(io, errorsAsJson(argv), 'warning', notice);
  }
  process.exitCode = await run(argv, io);
}
