import { ExecutionListItem, ExecutionStatus, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { AwsClients } from '../aws';
import { CliError, EXIT } from '../errors';
import { formatDuration, formatTime, table } from '../format';
import { Io, paint } from '../io';
import { numberOption, readOptions } from '../options';
import {
  active, describeExecution, describeTrainingJob, executionFields, GateView, gateOf, namedTrainingJob, pipelineArgument, rethrowUnknown, runOutput,
  trainingJobView,
} from './train';

/** Options of `modelship train list <pipeline>`. */
export interface TrainListOptions {
  /** The training pipeline's state machine ARN. */
  readonly pipeline: string;
  /** How many runs, 1-100 (a string from the command line). @default 20 */
  readonly limit?: string | number;
  /** Only runs with this status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED. @default - every status */
  readonly status?: string;
  /** Print a JSON array instead of a table. @default false */
  readonly json?: boolean;
  readonly region?: string;
  readonly profile?: string;
}

/** One run, as `train list --json` prints it. */
export interface RunSummary {
  readonly executionArn: string;
  readonly name: string;
  /** `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED` or `PENDING_REDRIVE`. */
  readonly status: string;
  readonly startMs?: number;
  readonly stopMs?: number;
  /** From start to stop; for a run that has not ended, to now. */
  readonly durationSeconds?: number;
  /** Absent until the run has named its job. */
  readonly trainingJobName?: string;
  /** What SageMaker bills for the job; absent until the job has ended. */
  readonly billableSeconds?: number;
  /** Absent until the gate has decided, and for a pipeline without a gate. */
  readonly gate?: GateView;
}

/** The most runs one call lists. */
export const MAX_RUNS = 100;
/** The statuses `--status` accepts. */
export const RUN_STATUSES: readonly ExecutionStatus[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];
/** How many runs are looked at in parallel: a few, to stay far from Step Functions' throttles. */
export const LOOKUPS_IN_PARALLEL = 4;

function statusOption(value: unknown): ExecutionStatus | undefined {
  if (value === undefined) {
    return undefined;
  }
  const status = typeof value === 'string' ? value.toUpperCase() : '';
  if (!(RUN_STATUSES as readonly string[]).includes(status)) {
    throw new CliError(EXIT.USAGE, `--status must be one of ${RUN_STATUSES.join(', ')}, got '${String(value)}'`);
  }
  return status as ExecutionStatus;
}

/** Applies `lookup` to each item, at most `parallel` at a time, keeping their order. */
async function mapInParallel<T, R>(items: readonly T[], parallel: number, lookup: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await lookup(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
  return results;
}

/** The newest `limit` executions (ListExecutions returns them newest first), page after page. */
async function recentExecutions(aws: AwsClients, pipeline: string, limit: number, status: ExecutionStatus | undefined): Promise<ExecutionListItem[]> {
  const found: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    let out;
    try {
      out = await aws.sfn.send(new ListExecutionsCommand({
        stateMachineArn: pipeline, maxResults: limit - found.length, ...(status ? { statusFilter: status } : {}), ...(nextToken ? { nextToken } : {}),
      }));
    } catch (error) {
      rethrowUnknown(error, 'pipeline', pipeline);
    }
    found.push(...(out.executions ?? []).slice(0, limit - found.length));
    nextToken = out.nextToken;
  } while (nextToken && found.length < limit);
  return found;
}

/**
 * One run: `DescribeExecution` (status, times, and for a run that succeeded its output: the
 * training job as the pipeline received it and the gate's verdict; for one that missed the gate,
 * the verdict in its error). A run without output takes two more calls for its billable seconds:
 * the first page of its history (the job's name) and `DescribeTrainingJob`.
 */
async function runSummary(aws: AwsClients, executionArn: string, nowMs: number): Promise<RunSummary> {
  const execution = await describeExecution(aws, executionArn);
  const fields = executionFields(executionArn, execution);
  const trained = runOutput(execution)?.training?.job;
  let job;
  if (trained?.TrainingJobName) {
    job = trainingJobView(trained.TrainingJobName, trained);
  } else {
    const name = await namedTrainingJob(aws, executionArn);
    job = name ? await describeTrainingJob(aws, name) : undefined;
  }
  const gate = gateOf(execution);
  const endMs = fields.stopMs ?? (active(fields.status) ? nowMs : undefined);
  return {
    executionArn,
    name: fields.name,
    status: fields.status,
    ...(fields.startMs !== undefined ? { startMs: fields.startMs } : {}),
    ...(fields.stopMs !== undefined ? { stopMs: fields.stopMs } : {}),
    ...(fields.startMs !== undefined && endMs !== undefined ? { durationSeconds: Math.max(0, (endMs - fields.startMs) / 1000) } : {}),
    ...(job ? { trainingJobName: job.name } : {}),
    ...(job?.billableTimeSeconds !== undefined ? { billableSeconds: job.billableTimeSeconds } : {}),
    ...(gate ? { gate } : {}),
  };
}

function statusColour(status: string): 'green' | 'cyan' | 'red' {
  return status === 'SUCCEEDED' ? 'green' : active(status) ? 'cyan' : 'red';
}

/**
 * `modelship train list <pipeline>`: the pipeline's recent runs, newest first, as a table
 * (name, status, started, duration, billable seconds, gate) or a JSON array of `RunSummary`.
 *
 * AWS calls: `ListExecutions` (one page per 100 runs at most, until `--limit`), then per run
 * `DescribeExecution` alone for a run that succeeded, plus `GetExecutionHistory` (one page) and
 * `DescribeTrainingJob` for any other: at most three per run, four runs at a time.
 */
export async function trainList(options: TrainListOptions, io: Io, aws: AwsClients): Promise<number> {
  const { pipeline, limit, status } = readOptions({
    pipeline: () => pipelineArgument(options.pipeline),
    limit: () => numberOption('limit', options.limit, { min: 1, max: MAX_RUNS, integer: true }, 20),
    status: () => statusOption(options.status),
  });
  const executions = await recentExecutions(aws, pipeline, limit, status);
  const nowMs = io.now();
  const runs = await mapInParallel(executions.filter((e) => e.executionArn), LOOKUPS_IN_PARALLEL, (e) => runSummary(aws, e.executionArn!, nowMs));
  if (options.json) {
    io.out(JSON.stringify(runs));
    return EXIT.OK;
  }
  if (runs.length === 0) {
    io.out(`no ${status ? `${status} ` : ''}runs of ${pipeline}`);
    return EXIT.OK;
  }
  const rows = runs.map((r) => [
    r.name,
    r.status,
    r.startMs !== undefined ? formatTime(r.startMs) : '-',
    r.durationSeconds !== undefined ? formatDuration(r.durationSeconds) : '-',
    r.billableSeconds !== undefined ? String(r.billableSeconds) : '-',
    r.gate ? (r.gate.passed ? 'passed' : 'failed') : '-',
  ]);
  const lines = table(['name', 'status', 'started', 'duration', 'billable s', 'gate'], rows, [3, 4]);
  io.out(lines[0]);
  // Colour after padding, so escape codes do not skew the columns: the status follows the name.
  lines.slice(1).forEach((line, i) => {
    const { name, status: runStatus } = runs[i];
    const at = line.indexOf(runStatus, name.length);
    io.out(`${line.slice(0, at)}${paint(io, statusColour(runStatus), runStatus)}${line.slice(at + runStatus.length)}`);
  });
  return EXIT.OK;
}
