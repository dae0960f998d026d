import { randomBytes } from 'crypto';
import { DescribeTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, HistoryEvent, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { AwsClients } from '../aws';
import { CliError, EXIT } from '../errors';
import { formatDuration, formatNumber, formatTime } from '../format';
import { Io, paint } from '../io';

/** Options of `modelship train start <pipeline>`. */
export interface TrainStartOptions {
  /** The training pipeline's state machine ARN. */
  readonly pipeline: string;
  /** Follow the execution until it ends (exit 1 unless it succeeds). @default false */
  readonly follow?: boolean;
  /** Print JSON instead of text. @default false */
  readonly json?: boolean;
  readonly region?: string;
  readonly profile?: string;
}

/** Options of `modelship train status <execution>`. */
export interface TrainStatusOptions {
  /** The execution's ARN. */
  readonly execution: string;
  /** Follow the execution until it ends (exit 1 unless it succeeds). @default false */
  readonly follow?: boolean;
  /** Print JSON instead of text. @default false */
  readonly json?: boolean;
  readonly region?: string;
  readonly profile?: string;
}

/** The training job a pipeline execution runs. */
export interface TrainingJobView {
  readonly name: string;
  /** `InProgress`, `Completed`, `Failed`, `Stopping`, `Stopped`; absent until the job is created. */
  readonly status?: string;
  /** What the job is doing (`Starting`, `Downloading`, `Training`, `Uploading`, ...). */
  readonly secondaryStatus?: string;
  readonly failureReason?: string;
  /** The latest value of each metric the job emitted. */
  readonly metrics: Record<string, number>;
  readonly trainingTimeSeconds?: number;
  readonly billableTimeSeconds?: number;
}

/** A state the execution entered. */
export interface StepView {
  readonly name: string;
  readonly enteredAtMs: number;
}

/** What `train status --json` prints. */
export interface ExecutionView {
  readonly executionArn: string;
  readonly name: string;
  readonly stateMachineArn: string;
  /** `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED` or `PENDING_REDRIVE`. */
  readonly status: string;
  readonly startMs?: number;
  readonly stopMs?: number;
  readonly error?: string;
  readonly cause?: string;
  /** The state entered last. */
  readonly currentStep?: string;
  /** Every state entered, in order. */
  readonly steps: StepView[];
  /** Absent until the pipeline has named the job. */
  readonly trainingJob?: TrainingJobView;
}

/** How often `--follow` looks again. */
export const FOLLOW_POLL_MS = 15_000;

/** The state that names the training job (`$.run.jobName` in its output). */
const NAME_STATE = 'NameRun';

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:\s]+$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:\s]+:[^:\s]+$/;

/** Statuses of an execution that has not ended. */
function active(status: string): boolean {
  return status === 'RUNNING' || status === 'PENDING_REDRIVE';
}

/** An execution name from the time and a short random suffix, e.g. `modelship-20261122T120000Z-1a2b3c`. */
export function executionName(nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `modelship-${stamp}-${randomBytes(3).toString('hex')}`;
}

function rethrowUnknown(error: unknown, what: string, arn: string): never {
  const name = (error as Error).name;
  if (name === 'StateMachineDoesNotExist' || name === 'ExecutionDoesNotExist' || name === 'InvalidArn') {
    throw new CliError(EXIT.USAGE, `unknown ${what} '${arn}'`);
  }
  throw error;
}

/**
 * `modelship train start <pipeline>`: starts an execution of the training pipeline (input `{}`)
 * and prints its ARN; with `--follow`, follows it like `train status --follow`.
 */
export async function trainStart(options: TrainStartOptions, io: Io, aws: AwsClients): Promise<number> {
  if (!STATE_MACHINE_ARN.test(options.pipeline ?? '')) {
    throw new CliError(EXIT.USAGE, `<pipeline> must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>), got '${options.pipeline}'`);
  }
  const name = executionName(io.now());
  let out;
  try {
    out = await aws.sfn.send(new StartExecutionCommand({ stateMachineArn: options.pipeline, name, input: '{}' }));
  } catch (error) {
    rethrowUnknown(error, 'pipeline', options.pipeline);
  }
  const executionArn = out.executionArn ?? '';
  if (!options.follow) {
    if (options.json) {
      io.out(JSON.stringify({ executionArn, name, startMs: out.startDate?.getTime() }));
    } else {
      io.out(`started ${executionArn}`);
      io.out(paint(io, 'dim', `follow it with: modelship train status ${executionArn} --follow`));
    }
    return 0;
  }
  if (!options.json) {
    io.out(`started ${executionArn}`);
  }
  return trainStatus({ execution: executionArn, follow: true, ...(options.json ? { json: true } : {}) }, io, aws);
}

/**
 * `modelship train status <execution>`: the execution's status, the state it is in, and its
 * training job's status and metrics; with `--follow`, new states and metrics as they arrive until
 * it ends. Exit 0 unless it ended FAILED, TIMED_OUT or ABORTED (1).
 */
export async function trainStatus(options: TrainStatusOptions, io: Io, aws: AwsClients): Promise<number> {
  if (!EXECUTION_ARN.test(options.execution ?? '')) {
    throw new CliError(EXIT.USAGE, `<execution> must be an execution ARN (arn:aws:states:<region>:<account>:execution:<pipeline>:<name>), got '${options.execution}'`);
  }
  const watcher = new ExecutionWatcher(aws, options.execution);
  const shown = { steps: new Set<string>(), job: '', metrics: '' };
  let view: ExecutionView;
  for (;;) {
    view = await watcher.poll();
    if (options.follow && !options.json) {
      for (const line of newsSince(view, shown, io)) {
        io.out(line);
      }
    }
    if (!options.follow || !active(view.status)) {
      break;
    }
    io.progress(`${view.name}: ${view.currentStep ?? view.status}${view.trainingJob?.secondaryStatus ? ` (${view.trainingJob.secondaryStatus})` : ''}`);
    await io.sleep(FOLLOW_POLL_MS);
  }
  if (options.json) {
    io.out(JSON.stringify(view));
  } else {
    summary(view, io).forEach((line) => io.out(line));
  }
  if (active(view.status) || view.status === 'SUCCEEDED') {
    return EXIT.OK;
  }
  io.err(`execution ${view.name} ${view.status}${view.error ? `: ${view.error}` : ''}${view.cause ? ` (${view.cause})` : ''}`);
  return EXIT.FAILED;
}

/** Lines for what changed since the last look: states entered for the first time, the job's status and metrics. */
function newsSince(view: ExecutionView, shown: { steps: Set<string>; job: string; metrics: string }, io: Pick<Io, 'colour'>): string[] {
  const lines: string[] = [];
  for (const step of view.steps) {
    if (!shown.steps.has(step.name)) {
      shown.steps.add(step.name);
      lines.push(`${formatTime(step.enteredAtMs)}  → ${step.name}`);
    }
  }
  const job = view.trainingJob;
  if (job?.status) {
    const state = `${job.status}${job.secondaryStatus ? ` / ${job.secondaryStatus}` : ''}`;
    if (state !== shown.job) {
      shown.job = state;
      lines.push(`  training job ${job.name}: ${paint(io, 'cyan', state)}`);
    }
    const metrics = metricsText(job.metrics);
    if (metrics && metrics !== shown.metrics) {
      shown.metrics = metrics;
      lines.push(`  metrics ${metrics}`);
    }
  }
  return lines;
}

function metricsText(metrics: Readonly<Record<string, number>>): string {
  return Object.entries(metrics).map(([name, value]) => `${name}=${formatNumber(value, 4)}`).join('  ');
}

/** The execution as a few lines for a person. */
function summary(view: ExecutionView, io: Pick<Io, 'colour'>): string[] {
  const colour = view.status === 'SUCCEEDED' ? 'green' : active(view.status) ? 'cyan' : 'red';
  const took = view.startMs !== undefined && view.stopMs !== undefined ? `, took ${formatDuration((view.stopMs - view.startMs) / 1000)}` : '';
  const lines = [
    `${paint(io, 'bold', `Execution ${view.name}`)}  ${paint(io, colour, view.status)}${view.startMs !== undefined ? `  started ${formatTime(view.startMs)}` : ''}${took}`,
    `  pipeline  ${view.stateMachineArn}`,
    `  step      ${view.currentStep ?? '-'}`,
  ];
  if (view.error || view.cause) {
    lines.push(paint(io, 'red', `  error     ${[view.error, view.cause].filter(Boolean).join(': ')}`));
  }
  const job = view.trainingJob;
  if (job) {
    const state = job.status ? `${job.status}${job.secondaryStatus ? ` / ${job.secondaryStatus}` : ''}` : 'not created yet';
    const times = [
      ...(job.trainingTimeSeconds !== undefined ? [`${formatDuration(job.trainingTimeSeconds)} training`] : []),
      ...(job.billableTimeSeconds !== undefined ? [`${formatDuration(job.billableTimeSeconds)} billable`] : []),
    ];
    lines.push(`  training  ${job.name}  ${state}${times.length > 0 ? `  (${times.join(', ')})` : ''}`);
    if (job.failureReason) {
      lines.push(paint(io, 'red', `  failure   ${job.failureReason}`));
    }
    if (Object.keys(job.metrics).length > 0) {
      lines.push(`  metrics   ${metricsText(job.metrics)}`);
    }
  }
  return lines;
}

/** The training job's name, from the naming state's output or the createTrainingJob task's parameters. */
function trainingJobName(events: readonly HistoryEvent[]): string | undefined {
  for (const event of events) {
    const exited = event.stateExitedEventDetails;
    if (exited?.name === NAME_STATE && exited.output) {
      try {
        const name = JSON.parse(exited.output)?.run?.jobName;
        if (typeof name === 'string' && name) {
          return name;
        }
      } catch {
        // Not JSON: look further.
      }
    }
    const scheduled = event.taskScheduledEventDetails;
    if (scheduled?.resourceType === 'sagemaker' && scheduled.resource?.startsWith('createTrainingJob') && scheduled.parameters) {
      try {
        const name = JSON.parse(scheduled.parameters)?.TrainingJobName;
        if (typeof name === 'string' && name) {
          return name;
        }
      } catch {
        // Not JSON: look further.
      }
    }
  }
  return undefined;
}

/**
 * Looks at an execution again and again, reading only the history events that are new since
 * the last look (newest first, stopping at the first one already seen).
 */
class ExecutionWatcher {
  private readonly events: HistoryEvent[] = [];
  private lastId = 0;

  constructor(private readonly aws: AwsClients, private readonly executionArn: string) {}

  public async poll(): Promise<ExecutionView> {
    let execution;
    try {
      execution = await this.aws.sfn.send(new DescribeExecutionCommand({ executionArn: this.executionArn }));
    } catch (error) {
      rethrowUnknown(error, 'execution', this.executionArn);
    }
    await this.readNewEvents();
    const steps = this.events
      .filter((e) => e.type?.endsWith('StateEntered') && e.stateEnteredEventDetails?.name)
      .map((e) => ({ name: e.stateEnteredEventDetails!.name!, enteredAtMs: e.timestamp ? new Date(e.timestamp).getTime() : 0 }));
    const jobName = trainingJobName(this.events);
    return {
      executionArn: this.executionArn,
      name: execution.name ?? this.executionArn.split(':').pop() ?? '',
      stateMachineArn: execution.stateMachineArn ?? '',
      status: execution.status ?? 'UNKNOWN',
      ...(execution.startDate ? { startMs: execution.startDate.getTime() } : {}),
      ...(execution.stopDate ? { stopMs: execution.stopDate.getTime() } : {}),
      ...(execution.error ? { error: execution.error } : {}),
      ...(execution.cause ? { cause: execution.cause } : {}),
      ...(steps.length > 0 ? { currentStep: steps[steps.length - 1].name } : {}),
      steps,
      ...(jobName ? { trainingJob: await this.trainingJob(jobName) } : {}),
    };
  }

  private async readNewEvents(): Promise<void> {
    const fresh: HistoryEvent[] = [];
    let nextToken: string | undefined;
    let reachedSeen = false;
    do {
      const out = await this.aws.sfn.send(new GetExecutionHistoryCommand({
        executionArn: this.executionArn, reverseOrder: true, maxResults: 1000, includeExecutionData: true, ...(nextToken ? { nextToken } : {}),
      }));
      for (const event of out.events ?? []) {
        if ((event.id ?? 0) <= this.lastId) {
          reachedSeen = true;
          break;
        }
        fresh.push(event);
      }
      nextToken = out.nextToken;
    } while (nextToken && !reachedSeen);
    fresh.reverse();
    this.events.push(...fresh);
    this.lastId = Math.max(this.lastId, ...fresh.map((e) => e.id ?? 0));
  }

  private async trainingJob(name: string): Promise<TrainingJobView> {
    try {
      const job = await this.aws.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
      return {
        name,
        ...(job.TrainingJobStatus ? { status: job.TrainingJobStatus } : {}),
        ...(job.SecondaryStatus ? { secondaryStatus: job.SecondaryStatus } : {}),
        ...(job.FailureReason ? { failureReason: job.FailureReason } : {}),
        metrics: Object.fromEntries((job.FinalMetricDataList ?? [])
          .filter((m) => m.MetricName !== undefined && m.Value !== undefined)
          .map((m) => [m.MetricName!, m.Value!])),
        ...(job.TrainingTimeInSeconds !== undefined ? { trainingTimeSeconds: job.TrainingTimeInSeconds } : {}),
        ...(job.BillableTimeInSeconds !== undefined ? { billableTimeSeconds: job.BillableTimeInSeconds } : {}),
      };
    } catch (error) {
      // Named but not created yet (between NameRun and the training task).
      if ((error as Error).name === 'ResourceNotFound' || ((error as Error).name === 'ValidationException' && /not found/i.test((error as Error).message))) {
        return { name, metrics: {} };
      }
      throw error;
    }
  }
}
