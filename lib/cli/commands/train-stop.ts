import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { formatValue } from '../../runtime/errors';
import type { AwsClients } from '../aws';
import { CliError, EXIT } from '../errors';
import { formatDuration, formatTime } from '../format';
import type { Io } from '../io';
import { readOptions } from '../options';
import { describeExecution, executionArgument, executionFields, namedTrainingJob, rethrowUnknown } from './train';

/** Options of `modelship train stop <execution>`. */
export interface TrainStopOptions {
  /** The execution's ARN. */
  readonly execution: string;
  /** Why: sent as the execution's `cause`, at most 32,768 characters. @default - no cause */
  readonly reason?: string;
  /** Do not ask for confirmation (required without a terminal). @default false */
  readonly yes?: boolean;
  /** Show what would stop without stopping it. @default false */
  readonly dryRun?: boolean;
  /** Print JSON instead of text. @default false */
  readonly json?: boolean;
  readonly region?: string;
  readonly profile?: string;
}

/** What `train stop --json` prints. */
export interface StopView {
  readonly executionArn: string;
  readonly name: string;
  readonly stateMachineArn: string;
  readonly startMs?: number;
  /** When Step Functions stopped it; absent on a dry run. */
  readonly stopMs?: number;
  /** The training job Step Functions stops with it; absent while the run has not named one. */
  readonly trainingJobName?: string;
  /** The reason, as sent. */
  readonly cause?: string;
  readonly dryRun: boolean;
}

/** StopExecution's limit on `cause`. */
export const MAX_CAUSE = 32_768;

/** What happens to the training job (the `createTrainingJob.sync` integration stops it). */
const STOPS_TRAINING_JOB = 'Step Functions stops the running training job with it (StopTrainingJob): SageMaker sends the container SIGTERM, allows 120 s to save, then marks the job Stopped';

function reasonOption(value: unknown): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_CAUSE) {
    throw new CliError(EXIT.USAGE, `--reason must be text of 1 to ${MAX_CAUSE} characters, got ${formatValue(typeof value === 'string' && value.length > 40 ? `${value.length} characters` : value)}`);
  }
  return value;
}

/**
 * `modelship train stop <execution>`: stops a running pipeline execution (`StopExecution`, the
 * reason as its `cause`); the execution ends ABORTED and, through the `createTrainingJob.sync`
 * integration, Step Functions stops its training job (SIGTERM, 120 s to save, then Stopped). Refuses
 * (exit 3) an execution that is not RUNNING, and without `--yes` one it cannot confirm at a terminal.
 *
 * AWS calls: `DescribeExecution`, `GetExecutionHistory` (one page: the job's name), then
 * `StopExecution` unless refused or a dry run.
 */
export async function trainStop(options: TrainStopOptions, io: Io, aws: AwsClients): Promise<number> {
  const { executionArn, reason } = readOptions({
    executionArn: () => executionArgument(options.execution),
    reason: () => reasonOption(options.reason),
  });
  const execution = executionFields(executionArn, await describeExecution(aws, executionArn));
  if (execution.status !== 'RUNNING') {
    throw new CliError(EXIT.REFUSED, `execution ${execution.name} is ${execution.status}, not RUNNING: nothing to stop`);
  }
  const jobName = await namedTrainingJob(aws, executionArn);
  const plan: StopView = {
    executionArn,
    name: execution.name,
    stateMachineArn: execution.stateMachineArn,
    ...(execution.startMs !== undefined ? { startMs: execution.startMs } : {}),
    ...(jobName ? { trainingJobName: jobName } : {}),
    ...(reason !== undefined ? { cause: reason } : {}),
    dryRun: Boolean(options.dryRun),
  };
  if (!options.json) {
    describePlan(plan, io).forEach((line) => io.out(line));
  }
  if (options.dryRun) {
    io.out(options.json ? JSON.stringify(plan) : 'dry run: nothing changed');
    return EXIT.OK;
  }
  if (!options.yes) {
    if (!io.interactive) {
      throw new CliError(EXIT.REFUSED, `stopping ${execution.name} needs confirmation: pass --yes; nothing changed`);
    }
    if (!(await io.confirm(`Stop execution ${execution.name}${jobName ? ` and its training job ${jobName}` : ''}?`))) {
      throw new CliError(EXIT.REFUSED, 'not confirmed; nothing changed');
    }
  }
  let out;
  try {
    out = await aws.sfn.send(new StopExecutionCommand({ executionArn, ...(reason !== undefined ? { cause: reason } : {}) }));
  } catch (error) {
    rethrowUnknown(error, 'execution', executionArn);
  }
  const stopped: StopView = { ...plan, ...(out.stopDate ? { stopMs: out.stopDate.getTime() } : {}) };
  if (options.json) {
    io.out(JSON.stringify(stopped));
  } else {
    io.out(`stopped ${stopped.name}${stopped.stopMs !== undefined ? ` at ${formatTime(stopped.stopMs)}` : ''}${jobName ? `; its training job ${jobName} is stopping` : ''}`);
    io.out(`follow it with: modelship train status ${executionArn}`);
  }
  return EXIT.OK;
}

/** What stopping would do, for a person. */
function describePlan(plan: StopView, io: Pick<Io, 'now'>): string[] {
  return [
    `Stop execution ${plan.name}`,
    `  pipeline  ${plan.stateMachineArn}`,
    ...(plan.startMs !== undefined ? [`  started   ${formatTime(plan.startMs)} (running ${formatDuration((io.now() - plan.startMs) / 1000)})`] : []),
    `  training  ${plan.trainingJobName ?? 'no job named yet'}`,
    `  reason    ${plan.cause ?? '-'}`,
    `  ${STOPS_TRAINING_JOB}`,
  ];
}
