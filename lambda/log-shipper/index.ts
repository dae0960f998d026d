import { randomUUID } from 'crypto';
import { gunzipSync } from 'zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { BatchWriteItemCommand, ConditionalCheckFailedException, DynamoDBClient, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent, Context } from 'aws-lambda';
import {
  claimLines, KeyedLine, LEDGER_ATTRIBUTES, LedgerEntry, LedgerTable, lineKey, Settlement, settleLines,
} from '../../lib/hooks/runtime/delivery-ledger';
import {
  DeadLetter, DeadLetterError, deadLetterMessages, deliverRecords, isRecordLine, LOG_SHIPPER_METRICS, sendDeadLetters,
} from '../../lib/hooks/runtime/record-delivery';

const logger = new Logger({ serviceName: LOG_SHIPPER_METRICS.service });
const metrics = new Metrics({ namespace: LOG_SHIPPER_METRICS.namespace, serviceName: LOG_SHIPPER_METRICS.service });
// One attempt per SDK call with a bounded wait: the delivery loop owns retries and the time budget.
const httpOptions = { requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 }, maxAttempts: 1 };
const firehose = new FirehoseClient(httpOptions);
const sqs = new SQSClient(httpOptions);
const dynamodb = new DynamoDBClient(httpOptions);

/** Where the shipper delivers, and the seams tests replace. */
export interface ShipperSettings {
  readonly deliveryStreamName: string;
  readonly deadLetterQueueUrl: string;
  /** The delivery ledger's table. */
  readonly ledgerTableName: string;
  /** How long ledger entries are kept, in seconds. */
  readonly ledgerTtlSeconds: number;
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
  /** Lines an earlier invocation had already delivered or dead-lettered. */
  readonly skipped: number;
  /** Lines sent after a send whose answer was lost (or by an invocation that died): the sink may hold them twice. */
  readonly possibleDuplicates: number;
}

/** Some lines were neither delivered nor dead-lettered: the invocation fails so Lambda retries it. */
export class ShipIncompleteError extends Error {
  constructor(public readonly pending: number, reason: string) {
    super(`${pending} line(s) neither delivered nor dead-lettered: ${reason}`);
    this.name = 'ShipIncompleteError';
  }
}

let fromEnvironment: ShipperSettings | undefined;

/** The settings in the environment, read once. */
function environmentSettings(): ShipperSettings {
  if (!fromEnvironment) {
    const { DELIVERY_STREAM_NAME, DEAD_LETTER_QUEUE_URL, LEDGER_TABLE_NAME, LEDGER_TTL_SECONDS, MAX_ATTEMPTS } = process.env;
    const maxAttempts = MAX_ATTEMPTS === undefined ? undefined : Number(MAX_ATTEMPTS);
    const ledgerTtlSeconds = Number(LEDGER_TTL_SECONDS);
    if (!DELIVERY_STREAM_NAME || !DEAD_LETTER_QUEUE_URL || !LEDGER_TABLE_NAME || !(Number.isInteger(ledgerTtlSeconds) && ledgerTtlSeconds >= 1)
      || (maxAttempts !== undefined && !(Number.isInteger(maxAttempts) && maxAttempts >= 1))) {
      throw new Error("Invalid environment: expected 'DELIVERY_STREAM_NAME', 'DEAD_LETTER_QUEUE_URL', 'LEDGER_TABLE_NAME', a whole 'LEDGER_TTL_SECONDS' of at least 1 and an optional whole 'MAX_ATTEMPTS' of at least 1");
    }
    fromEnvironment = { deliveryStreamName: DELIVERY_STREAM_NAME, deadLetterQueueUrl: DEAD_LETTER_QUEUE_URL, ledgerTableName: LEDGER_TABLE_NAME, ledgerTtlSeconds, maxAttempts };
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

/** A ledger entry read back from DynamoDB. */
function entryOf(item: Record<string, AttributeValue> | undefined): LedgerEntry | undefined {
  const state = item?.[LEDGER_ATTRIBUTES.state]?.S;
  if (state === 'sending') {
    return { state, leaseUntil: Number(item?.[LEDGER_ATTRIBUTES.leaseUntil]?.N ?? 0), owner: item?.[LEDGER_ATTRIBUTES.owner]?.S };
  }
  return state === 'delivered' || state === 'dead-lettered' ? { state } : undefined;
}

/** The ledger on DynamoDB: conditional puts claim, batch writes settle and release. */
function dynamoLedger(tableName: string, sleep: (ms: number) => Promise<void>, random: () => number): LedgerTable {
  const { id, state, leaseUntil, owner, expiresAt } = LEDGER_ATTRIBUTES;
  return {
    claim: async (key, lease) => {
      try {
        const out = await dynamodb.send(new PutItemCommand({
          TableName: tableName,
          Item: {
            [id]: { S: key }, [state]: { S: 'sending' }, [leaseUntil]: { N: String(lease.leaseUntil) }, [owner]: { S: lease.owner },
            [expiresAt]: { N: String(lease.expiresAt) },
          },
          // A claim repeated after a lost answer finds its own entry: `#owner = :me`.
          ConditionExpression: 'attribute_not_exists(#id) OR (#state = :sending AND (#lease < :now OR #owner = :me))',
          ExpressionAttributeNames: { '#id': id, '#state': state, '#lease': leaseUntil, '#owner': owner },
          ExpressionAttributeValues: { ':sending': { S: 'sending' }, ':now': { N: String(lease.now) }, ':me': { S: lease.owner } },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }));
        return { claimed: true, previous: entryOf(out.Attributes) };
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) {
          return { claimed: false, previous: entryOf(error.Item) };
        }
        throw error;
      }
    },
    write: async (settled, released) => {
      const out = await dynamodb.send(new BatchWriteItemCommand({
        RequestItems: {
          [tableName]: [
            ...settled.map((s) => ({ PutRequest: { Item: { [id]: { S: s.key }, [state]: { S: s.state }, [expiresAt]: { N: String(s.expiresAt) } } } })),
            ...released.map((key) => ({ DeleteRequest: { Key: { [id]: { S: key } } } })),
          ],
        },
      }));
      return (out.UnprocessedItems?.[tableName] ?? []).flatMap((request) => {
        const key = request.PutRequest?.Item?.[id]?.S ?? request.DeleteRequest?.Key?.[id]?.S;
        return key === undefined ? [] : [key];
      });
    },
    sleep, random,
  };
}

/**
 * Ships the record lines of one subscription delivery to Firehose, each at most once across
 * invocations: the delivery ledger skips lines an earlier invocation delivered or
 * dead-lettered. What Firehose will not take, and lines that are not records, go to the
 * dead-letter queue. Throws when a line is left neither delivered nor dead-lettered (the
 * dead-letter queue or the ledger refused), so Lambda retries the event and finally sends it
 * to the failed-event queue, from which it can be replayed.
 */
export async function ship(event: CloudWatchLogsEvent, context: Pick<Context, 'getRemainingTimeInMillis'>, settings: ShipperSettings = environmentSettings()): Promise<ShipSummary> {
  const data = decode(event);
  if (data.messageType === 'CONTROL_MESSAGE') {
    return { received: 0, delivered: 0, deadLettered: 0, retries: 0, skipped: 0, possibleDuplicates: 0 };
  }
  const lines: KeyedLine[] = (data.logEvents ?? []).map((e) => ({ key: lineKey(data.logGroup, e.id), line: e.message.replace(/\r?\n$/, '') }));
  const eventIds = new Map((data.logEvents ?? []).map((e) => [lineKey(data.logGroup, e.id), e.id]));
  const sleep = settings.sleep ?? realSleep;
  const random = settings.random ?? Math.random;
  const retry = { maxAttempts: settings.maxAttempts };
  const now = (settings.now?.() ?? new Date()).getTime();
  const ledger = dynamoLedger(settings.ledgerTableName, sleep, random);
  // Not the request id: Lambda's retries of an asynchronous event keep it, and a retry must not
  // take the claims of the attempt before it (which may have sent the lines) as its own.
  const ledgerOptions = { now, leaseMs: context.getRemainingTimeInMillis(), ttlSeconds: settings.ledgerTtlSeconds, owner: randomUUID() };

  const claims = await claimLines(lines, ledger, ledgerOptions);
  const takenOver = new Set(claims.takenOver.map((l) => l.key));
  const uncertain = new Set(takenOver);
  const unsettled: Settlement[] = [];
  let unreleased = 0;
  const possibleDuplicates = new Set<string>();
  const settle = async (settled: readonly Settlement[], released: readonly string[]) => {
    // Counted before the ledger says where they went: an invocation that dies after the write
    // would leave them settled and uncounted, and no retry would count them.
    const flagged = settled.filter((s) => uncertain.has(s.key) && !possibleDuplicates.has(s.key)).map((s) => s.key);
    if (flagged.length > 0) {
      flagged.forEach((key) => possibleDuplicates.add(key));
      logger.warn('records possibly duplicated', { logGroup: data.logGroup, eventIds: flagged.map((key) => eventIds.get(key)) });
      metrics.addMetric(LOG_SHIPPER_METRICS.possibleDuplicates, MetricUnit.Count, flagged.length);
      metrics.publishStoredMetrics();
    }
    const failed = await settleLines(settled, released, ledger, ledgerOptions);
    unsettled.push(...failed.unsettled);
    unreleased += failed.unreleased;
  };
  const records: KeyedLine[] = [];
  const malformed: DeadLetter[] = [];
  for (const item of [...claims.fresh, ...claims.takenOver]) {
    if (isRecordLine(item.line)) {
      records.push(item);
    } else {
      malformed.push({ ...item, reason: 'malformed' });
    }
  }

  const outcome = await deliverRecords(records, {
    send: async (batch) => {
      const out = await firehose.send(new PutRecordBatchCommand({
        DeliveryStreamName: settings.deliveryStreamName,
        Records: batch.map((record) => ({ Data: Buffer.from(record, 'utf8') })),
      }));
      return (out.RequestResponses ?? []).map((r) => ({ errorCode: r.ErrorCode }));
    },
    sleep, random, remainingMs: () => context.getRemainingTimeInMillis(),
    onBatchDelivered: (delivered) => {
      delivered.forEach((d) => { if (d.uncertain) uncertain.add(d.key); });
      return settle(delivered.map((d) => ({ key: d.key, state: 'delivered' })), []);
    },
  }, retry);

  const deadLetters = [...malformed, ...outcome.deadLettered];
  deadLetters.forEach((d) => { if (d.uncertain) uncertain.add(d.key); });
  let unsentKeys = new Set<string>();
  let deadLetterError = '';
  try {
    if (deadLetters.length > 0) {
      const reasons: Record<string, number> = {};
      deadLetters.forEach((d) => { reasons[d.error ?? d.reason] = (reasons[d.error ?? d.reason] ?? 0) + 1; });
      logger.warn('dead-lettering records', { logGroup: data.logGroup, count: deadLetters.length, reasons });
      const sent = await sendDeadLetters(deadLetterMessages(deadLetters, new Date(now).toISOString()), {
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
      sent.uncertain.forEach((body) => body.keys.forEach((key) => uncertain.add(key)));
      // A line is dead-lettered when every message that carries it (or a fragment of it) was sent.
      unsentKeys = new Set(sent.unsent.flatMap((body) => body.keys));
      // A line split into fragments of which some were sent: its claim stays, and the retry that
      // sends it whole counts it as a possible duplicate.
      const sentKeys = new Set(sent.sent.flatMap((body) => body.keys));
      unsentKeys.forEach((key) => { if (sentKeys.has(key)) uncertain.add(key); });
      if (sent.unsent.length > 0) {
        deadLetterError = new DeadLetterError(sent.unsent.length, sent.lastError).message;
      }
      // Claims of lines surely not sent anywhere are released; the others run out with their lease.
      await settle(
        deadLetters.filter((d) => !unsentKeys.has(d.key)).map((d) => ({ key: d.key, state: 'dead-lettered' })),
        [...unsentKeys].filter((key) => !uncertain.has(key)),
      );
    }
    const pending = claims.pending.length + unsentKeys.size;
    if (pending > 0 && unsettled.length > 0) {
      // This invocation fails, and its retry would send unrecorded lines again: one more round.
      const retried = await settleLines(unsettled.splice(0), [], ledger, ledgerOptions);
      unsettled.push(...retried.unsettled);
    }
    const ledgerFailures = unsettled.length + unreleased;
    const summary: ShipSummary = {
      received: lines.length,
      delivered: outcome.delivered.length,
      deadLettered: deadLetters.length - unsentKeys.size,
      retries: outcome.retries,
      skipped: claims.settled.length,
      possibleDuplicates: possibleDuplicates.size,
    };
    metrics.addMetric(LOG_SHIPPER_METRICS.delivered, MetricUnit.Count, summary.delivered);
    metrics.addMetric(LOG_SHIPPER_METRICS.deadLettered, MetricUnit.Count, summary.deadLettered);
    metrics.addMetric(LOG_SHIPPER_METRICS.retries, MetricUnit.Count, summary.retries);
    if (possibleDuplicates.size === 0) {
      metrics.addMetric(LOG_SHIPPER_METRICS.possibleDuplicates, MetricUnit.Count, 0);
    }
    metrics.addMetric(LOG_SHIPPER_METRICS.ledgerFailures, MetricUnit.Count, ledgerFailures);
    if (ledgerFailures > 0) {
      logger.warn('could not record deliveries in the ledger: their claims run out with the lease', { count: ledgerFailures });
    }
    if (pending > 0) {
      const reasons = [
        ...(claims.pending.length > 0 ? [`${claims.pending.length} not claimable (leased by another invocation, or the ledger failed)`] : []),
        ...(deadLetterError ? [deadLetterError] : []),
      ];
      throw new ShipIncompleteError(pending, reasons.join('; '));
    }
    logger.info('shipped records', { logGroup: data.logGroup, logStream: data.logStream, ...summary, attempts: outcome.attempts });
    return summary;
  } finally {
    metrics.publishStoredMetrics();
  }
}

/** The Lambda entry point: settings from the environment. */
export const handler = (event: CloudWatchLogsEvent, context: Context): Promise<ShipSummary> => ship(event, context);
