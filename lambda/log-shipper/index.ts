import { gunzipSync } from 'zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent, Context } from 'aws-lambda';
import {
  DeadLetter, deadLetterMessages, deliverRecords, isRecordLine, LOG_SHIPPER_METRICS, sendDeadLetters,
} from '../../lib/hooks/runtime/record-delivery';

const logger = new Logger({ serviceName: LOG_SHIPPER_METRICS.service });
const metrics = new Metrics({ namespace: LOG_SHIPPER_METRICS.namespace, serviceName: LOG_SHIPPER_METRICS.service });
// One attempt per SDK call with a bounded wait: the delivery loop owns retries and the time budget.
const httpOptions = { requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 }, maxAttempts: 1 };
const firehose = new FirehoseClient(httpOptions);
const sqs = new SQSClient(httpOptions);

/** Where the shipper delivers, and the seams tests replace. */
export interface ShipperSettings {
  readonly deliveryStreamName: string;
  readonly deadLetterQueueUrl: string;
  /** @default 6 */
  readonly maxAttempts?: number;
  /** @default - a real timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
  /** @default - the current time */
  readonly now?: () => Date;
}

/** What one invocation did. */
export interface ShipSummary {
  readonly received: number;
  readonly delivered: number;
  readonly deadLettered: number;
  readonly retries: number;
}

let fromEnvironment: ShipperSettings | undefined;

/** The settings in the environment, read once. */
function environmentSettings(): ShipperSettings {
  if (!fromEnvironment) {
    const { DELIVERY_STREAM_NAME, DEAD_LETTER_QUEUE_URL, MAX_ATTEMPTS } = process.env;
    const maxAttempts = MAX_ATTEMPTS === undefined ? undefined : Number(MAX_ATTEMPTS);
    if (!DELIVERY_STREAM_NAME || !DEAD_LETTER_QUEUE_URL || (maxAttempts !== undefined && !(Number.isInteger(maxAttempts) && maxAttempts >= 1))) {
      throw new Error("Invalid environment: expected 'DELIVERY_STREAM_NAME', 'DEAD_LETTER_QUEUE_URL' and an optional whole 'MAX_ATTEMPTS' of at least 1");
    }
    fromEnvironment = { deliveryStreamName: DELIVERY_STREAM_NAME, deadLetterQueueUrl: DEAD_LETTER_QUEUE_URL, maxAttempts };
  }
  return fromEnvironment;
}

/** The subscription's payload: base64 of gzipped JSON. Throws on anything else, so the event is retried or dead-lettered whole. */
function decode(event: CloudWatchLogsEvent): CloudWatchLogsDecodedData {
  if (typeof event?.awslogs?.data !== 'string') {
    throw new Error("Invalid event: expected a CloudWatch Logs subscription event with 'awslogs.data'");
  }
  return JSON.parse(gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8'));
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Ships the record lines of one subscription delivery to Firehose; what Firehose will not take,
 * and lines that are not records, go to the dead-letter queue. Throws when the dead-letter queue
 * refuses them too, so Lambda retries the event and finally sends it to the on-failure destination.
 */
export async function ship(event: CloudWatchLogsEvent, context: Pick<Context, 'getRemainingTimeInMillis'>, settings: ShipperSettings = environmentSettings()): Promise<ShipSummary> {
  const data = decode(event);
  if (data.messageType === 'CONTROL_MESSAGE') {
    return { received: 0, delivered: 0, deadLettered: 0, retries: 0 };
  }
  const lines = (data.logEvents ?? []).map((e) => e.message.replace(/\r?\n$/, ''));
  const records: string[] = [];
  const malformed: DeadLetter[] = [];
  for (const line of lines) {
    if (isRecordLine(line)) {
      records.push(line);
    } else {
      malformed.push({ line, reason: 'malformed' });
    }
  }
  const sleep = settings.sleep ?? realSleep;
  const random = settings.random ?? Math.random;
  const retry = { maxAttempts: settings.maxAttempts };

  const outcome = await deliverRecords(records, {
    send: async (records) => {
      const out = await firehose.send(new PutRecordBatchCommand({
        DeliveryStreamName: settings.deliveryStreamName,
        Records: records.map((record) => ({ Data: Buffer.from(record, 'utf8') })),
      }));
      return (out.RequestResponses ?? []).map((r) => ({ errorCode: r.ErrorCode }));
    },
    sleep, random, remainingMs: () => context.getRemainingTimeInMillis(),
  }, retry);

  const deadLetters = [...malformed, ...outcome.deadLettered];
  const summary = { received: lines.length, delivered: outcome.delivered.length, deadLettered: deadLetters.length, retries: outcome.retries };
  metrics.addMetric(LOG_SHIPPER_METRICS.delivered, MetricUnit.Count, summary.delivered);
  metrics.addMetric(LOG_SHIPPER_METRICS.deadLettered, MetricUnit.Count, summary.deadLettered);
  metrics.addMetric(LOG_SHIPPER_METRICS.retries, MetricUnit.Count, summary.retries);
  try {
    if (deadLetters.length > 0) {
      const reasons: Record<string, number> = {};
      deadLetters.forEach((d) => { reasons[d.error ?? d.reason] = (reasons[d.error ?? d.reason] ?? 0) + 1; });
      logger.warn('dead-lettering records', { logGroup: data.logGroup, count: deadLetters.length, reasons });
      const failedAt = (settings.now?.() ?? new Date()).toISOString();
      await sendDeadLetters(deadLetterMessages(deadLetters, failedAt), {
        send: async (entries) => {
          const out = await sqs.send(new SendMessageBatchCommand({
            QueueUrl: settings.deadLetterQueueUrl,
            Entries: entries.map((e) => ({ Id: e.id, MessageBody: e.body })),
          }));
          const succeeded = new Set((out.Successful ?? []).map((s) => s.Id));
          const codes = new Map((out.Failed ?? []).map((f) => [f.Id, f.Code]));
          return entries.filter((e) => !succeeded.has(e.id)).map((e) => ({ id: e.id, code: codes.get(e.id) ?? 'NoResult' }));
        },
        sleep, random,
      }, retry);
    }
    logger.info('shipped records', { logGroup: data.logGroup, logStream: data.logStream, ...summary, attempts: outcome.attempts });
    return summary;
  } finally {
    metrics.publishStoredMetrics();
  }
}

/** The Lambda entry point: settings from the environment. */
export const handler = (event: CloudWatchLogsEvent, context: Context): Promise<ShipSummary> => ship(event, context);
