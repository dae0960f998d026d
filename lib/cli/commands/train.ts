import { randomBytes } from 'crypto';
import { DescribeTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import {
  DescribeExecutionCommand, DescribeExecutionCommandOutput, GetExecutionHistoryCommand, HistoryEvent, StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GATE_MISSED_ERROR, ThresholdResult } from '../../training/runtime/quality-gate';
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

/** The quality gate's verdict on a run, as the pipeline recorded it. */
export interface GateView {
  /** True only when every threshold passed. */
  readonly passed: boolean;
  /** Each threshold's outcome in words, e.g. `validation:auc = 0.91 meets >= 0.85`. */
  readonly reasons: string[];
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
  /** Absent until the gate has decided, and for a pipeline without a gate. */
  readonly gate?: GateView;
}

/** How often `--follow` looks again. */
export const FOLLOW_POLL_MS = 15_000;

/** The state that names the training job (`$.run.jobName` in its output). */
const NAME_STATE = 'NameRun';

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:\s]+$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:\s]+:[^:\s]+$/;

/** Reads `<pipeline>`: a state machine ARN, or bad input (exit 2). */
export function pipelineArgument(value: unknown): string {
  if (typeof value !== 'string' || !STATE_MACHINE_ARN.test(value)) {
    throw new CliError(EXIT.USAGE, `<pipeline> must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>), got '${value}'`);
  }
  return value;
}

/** Reads `<execution>`: an execution ARN, or bad input (exit 2). */
export function executionArgument(value: unknown): string {
  if (typeof value !== 'string' || !EXECUTION_ARN.test(value)) {
    throw new CliError(EXIT.USAGE, `<execution> must be an execution ARN (arn:aws:states:<region>:<account>:execution:<pipeline>:<name>), got '${value}'`);
  }
  return value;
}

/** Statuses of an execution that has not ended. */
export function active(status: string): boolean {
  return status === 'RUNNING' || status === 'PENDING_REDRIVE';
}

/** An execution name from the time and a short random suffix, e.g. `modelship-20261122T120000Z-1a2b3c`. */
export function executionName(nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `modelship-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** Turns "no such pipeline or execution" into bad input (exit 2); rethrows anything else. */
export function rethrowUnknown(error: unknown, what: string, arn: string): never {
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
  const pipeline = pipelineArgument(options.pipeline);
  const name = executionName(io.now());
  let out;
  try {
    out = await aws.sfn.send(new StartExecutionCommand({ stateMachineArn: pipeline, name, input: '{}' }));
  } catch (error) {
    rethrowUnknown(error, 'pipeline', pipeline);
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
  const watcher = new ExecutionWatcher(aws, executionArgument(options.execution));
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
  const cause = view.gate && !view.gate.passed ? view.gate.reasons.join('; ') : view.cause;
  io.err(`execution ${view.name} ${view.status}${view.error ? `: ${view.error}` : ''}${cause ? ` (${cause})` : ''}`);
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
  // A missed gate's cause is its results as JSON: the gate line says it in words.
  const cause = view.gate ? undefined : view.cause;
  if (view.error || cause) {
    lines.push(paint(io, 'red', `  error     ${[view.error, cause].filter(Boolean).join(': ')}`));
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
  if (view.gate) {
    lines.push(paint(io, view.gate.passed ? 'green' : 'red', `  gate      ${view.gate.passed ? 'passed' : 'failed'}: ${view.gate.reasons.join('; ')}`));
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

/** A training job as `DescribeTrainingJob` returns it, and as the pipeline's output carries it (`training.job`). */
export interface DescribedTrainingJob {
  readonly TrainingJobStatus?: string;
  readonly SecondaryStatus?: string;
  readonly FailureReason?: string;
  readonly FinalMetricDataList?: readonly { readonly MetricName?: string; readonly Value?: number }[];
  readonly TrainingTimeInSeconds?: number;
  readonly BillableTimeInSeconds?: number;
}

/** The one reading of a described training job, wherever it came from. */
export function trainingJobView(name: string, job: DescribedTrainingJob): TrainingJobView {
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
}

/** What a run that registered a version outputs: the pipeline's state at its end. */
export interface RunOutput {
  readonly run?: { readonly jobName?: string };
  /** The createTrainingJob.sync task's result: the job as DescribeTrainingJob returns it. */
  readonly training?: { readonly job?: DescribedTrainingJob & { readonly TrainingJobName?: string } };
  /** The gate function's verdict. */
  readonly gate?: { readonly passed?: boolean; readonly results?: readonly ThresholdResult[] };
}

function parseJson(text: string | undefined): unknown {
  if (!text) {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The output of a run that succeeded; undefined for any other (they have none). */
export function runOutput(execution: Pick<DescribeExecutionCommandOutput, 'output'>): RunOutput | undefined {
  const output = parseJson(execution.output);
  return output !== null && typeof output === 'object' ? output as RunOutput : undefined;
}

function gateReasons(results: unknown): string[] {
  return Array.isArray(results) ? results.map((r: Partial<ThresholdResult>) => r?.reason).filter((r): r is string => typeof r === 'string') : [];
}

/**
 * The quality gate's verdict, from `DescribeExecution` alone: a run that registered carries it
 * in its output (`gate`); a run that missed it failed with `Modelship.QualityGateFailed`, whose
 * cause is the thresholds' results. Undefined for a run the gate has not decided and for a
 * pipeline without thresholds.
 */
export function gateOf(execution: Pick<DescribeExecutionCommandOutput, 'output' | 'error' | 'cause'>): GateView | undefined {
  if (execution.error === GATE_MISSED_ERROR) {
    return { passed: false, reasons: gateReasons(parseJson(execution.cause)) };
  }
  const gate = runOutput(execution)?.gate;
  if (typeof gate?.passed !== 'boolean' || !Array.isArray(gate.results) || gate.results.length === 0) {
    return undefined;
  }
  return { passed: gate.passed, reasons: gateReasons(gate.results) };
}

/** `DescribeExecution`, with an unknown execution as bad input. */
export async function describeExecution(aws: AwsClients, executionArn: string): Promise<DescribeExecutionCommandOutput> {
  try {
    return await aws.sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    rethrowUnknown(error, 'execution', executionArn);
  }
}

/** The fields of `ExecutionView` that `DescribeExecution` alone gives. */
export function executionFields(executionArn: string, execution: DescribeExecutionCommandOutput) {
  return {
    executionArn,
    name: execution.name ?? executionArn.split(':').pop() ?? '',
    stateMachineArn: execution.stateMachineArn ?? '',
    status: execution.status ?? 'UNKNOWN',
    ...(execution.startDate ? { startMs: execution.startDate.getTime() } : {}),
    ...(execution.stopDate ? { stopMs: execution.stopDate.getTime() } : {}),
    ...(execution.error ? { error: execution.error } : {}),
    ...(execution.cause ? { cause: execution.cause } : {}),
  };
}

/** How many of a run's first history events `namedTrainingJob` reads; the naming state exits in the third. */
export const NAMING_EVENTS = 10;

/**
 * The training job's name from one call: the first page of the history, oldest first, which
 * holds the naming state's output. Undefined while the run has not named it.
 */
export async function namedTrainingJob(aws: AwsClients, executionArn: string): Promise<string | undefined> {
  const out = await aws.sfn.send(new GetExecutionHistoryCommand({
    executionArn, reverseOrder: false, maxResults: NAMING_EVENTS, includeExecutionData: true,
  }));
  return trainingJobName(out.events ?? []);
}

/** `DescribeTrainingJob`; a job that is named but not created yet (between NameRun and the training task) has no status. */
export async function describeTrainingJob(aws: AwsClients, name: string): Promise<TrainingJobView> {
  try {
    return trainingJobView(name, await aws.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name })));
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFound' || ((error as Error).name === 'ValidationException' && /not found/i.test((error as Error).message))) {
      return { name, metrics: {} };
    }
    throw error;
  }
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
    const execution = await describeExecution(this.aws, this.executionArn);
    await this.readNewEvents();
    const steps = this.events
      .filter((e) => e.type?.endsWith('StateEntered') && e.stateEnteredEventDetails?.name)
      .map((e) => ({ name: e.stateEnteredEventDetails!.name!, enteredAtMs: e.timestamp ? new Date(e.timestamp).getTime() : 0 }));
    const jobName = trainingJobName(this.events);
    const gate = gateOf(execution);
    return {
      ...executionFields(this.executionArn, execution),
      ...(steps.length > 0 ? { currentStep: steps[steps.length - 1].name } : {}),
      steps,
      ...(jobName ? { trainingJob: await describeTrainingJob(this.aws, jobName) } : {}),
      ...(gate ? { gate } : {}),
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
}
