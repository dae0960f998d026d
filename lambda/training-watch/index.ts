import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchLogsClient, FilterLogEventsCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTrainingJobCommand, SageMakerClient, StopTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { findNonFinite, WatchedMetric } from '../../lib/training/runtime/non-finite';

/** SageMaker writes every training job's logs here, one stream per host: `<job>/algo-N-...`. */
export const TRAINING_LOG_GROUP = '/aws/sagemaker/TrainingJobs';

/** Only lines that could hold a non-finite number are fetched. */
const FILTER_PATTERN = '?nan ?NaN ?NAN ?inf ?Inf ?INF';
const MAX_PAGES = 20;
const FINISHED = new Set(['Completed', 'Failed', 'Stopped']);

const logger = new Logger({ serviceName: 'modelship-training-watch' });
const sagemaker = new SageMakerClient({});
const logs = new CloudWatchLogsClient({});

/** One look at a running job: its name, the watched metrics and how far the log was read. */
export interface WatchEvent {
  readonly trainingJobName: string;
  readonly metrics: WatchedMetric[];
  /** Epoch milliseconds of the newest log event already read. */
  readonly cursor?: number;
}

/** RUNNING: look again later; DONE: the job ended; NON_FINITE: the job was stopped. */
export type WatchOutput =
  | { readonly state: 'RUNNING' | 'DONE'; readonly cursor?: number }
  | { readonly state: 'NON_FINITE'; readonly metric: string; readonly line: string; readonly cursor?: number };

async function jobStatus(trainingJobName: string): Promise<string | undefined> {
  try {
    const job = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: trainingJobName }));
    return job.TrainingJobStatus;
  } catch (e) {
    // The job is created by the other branch of the same Parallel state: it may not exist yet.
    if ((e as Error).name === 'ValidationException' || (e as Error).name === 'ResourceNotFound') {
      return undefined;
    }
    throw e;
  }
}

async function suspiciousLines(trainingJobName: string, since?: number): Promise<{ lines: string[]; cursor?: number }> {
  const lines: string[] = [];
  let cursor = since;
  let nextToken: string | undefined;
  try {
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await logs.send(new FilterLogEventsCommand({
        logGroupName: TRAINING_LOG_GROUP,
        logStreamNamePrefix: `${trainingJobName}/`,
        filterPattern: FILTER_PATTERN,
        startTime: since,
        nextToken,
      }));
      for (const event of out.events ?? []) {
        lines.push(event.message ?? '');
        cursor = Math.max(cursor ?? 0, event.timestamp ?? 0);
      }
      nextToken = out.nextToken;
      if (!nextToken) {
        break;
      }
    }
  } catch (e) {
    if (!(e instanceof ResourceNotFoundException)) {
      throw e;
    }
  }
  return { lines, cursor };
}

/**
 * Reads the job's new log lines and stops the job when a watched metric is NaN or Infinity,
 * so a diverged run fails in minutes instead of burning the rest of its budget.
 */
export async function watch(event: WatchEvent): Promise<WatchOutput> {
  if (!event?.trainingJobName || !Array.isArray(event.metrics)) {
    throw new Error("Invalid watch event: expected 'trainingJobName' and 'metrics'");
  }
  const status = await jobStatus(event.trainingJobName);
  const { lines, cursor } = await suspiciousLines(event.trainingJobName, event.cursor);
  const sighting = findNonFinite(lines, event.metrics);
  if (sighting && status === 'InProgress') {
    logger.warn('stopping training job: metric is not finite', { trainingJobName: event.trainingJobName, ...sighting });
    await sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: event.trainingJobName }));
    return { state: 'NON_FINITE', ...sighting, cursor };
  }
  return { state: status !== undefined && FINISHED.has(status) ? 'DONE' : 'RUNNING', cursor };
}

export const handler = watch;
