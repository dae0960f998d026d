import { Metrics } from '@aws-lambda-powertools/metrics';
import { BatchWriteItemCommand, BatchWriteItemCommandInput, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { FirehoseClient, PutRecordBatchCommand, PutRecordBatchCommandInput, ResourceNotFoundException, ServiceUnavailableException } from '@aws-sdk/client-firehose';
import { SendMessageBatchCommand, SendMessageBatchCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler, ship, ShipperSettings } from '../../lambda/log-shipper';
import { lineKey } from '../../lib/hooks/runtime/delivery-ledger';
import { seededRandom as prng } from '../../lib/release/random';
import { ledgerTable, logsEvent, memoryLedger } from './log-shipper-world';

const firehose = mockClient(FirehoseClient);
const sqs = mockClient(SQSClient);
const dynamodb = mockClient(DynamoDBClient);
let ledger = memoryLedger(dynamodb);
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/111111111111/dead-letters';
const FAILED_AT = '2026-11-02T10:00:00.000Z';
const context = { getRemainingTimeInMillis: () => 60_000 };
const sleeps: number[] = [];
const settings: ShipperSettings = {
  deliveryStreamName: 'inference-records',
  deadLetterQueueUrl: QUEUE_URL,
  sleep: async (ms) => { sleeps.push(ms); },
  random: () => 0.5,
  now: () => new Date(FAILED_AT),
  ledgerTableName: 'delivery-ledger',
  ledgerTtlSeconds: 15 * 86_400,
};
const NOTHING_SKIPPED = { skipped: 0, possibleDuplicates: 0 };

const record = (i: number) => JSON.stringify({ recordType: 'modelship.inference', schemaVersion: 1, recordId: `inf-${i}`, status: 200 });

const data = (line: string) => ({ Data: Buffer.from(`${line}\n`, 'utf8') });
const ok = (n: number) => ({ FailedPutCount: 0, RequestResponses: Array.from({ length: n }, (_, i) => ({ RecordId: `id-${i}` })) });
const throttled = () => new ServiceUnavailableException({ message: 'Slow down.', $metadata: {} });
const sentLines = (input: unknown) => ((input as PutRecordBatchCommandInput).Records ?? []).map((r) => Buffer.from(r.Data as Uint8Array).toString('utf8'));

beforeEach(() => {
  firehose.reset();
  sqs.reset();
  dynamodb.reset();
  ledger = memoryLedger(dynamodb);
  sleeps.length = 0;
  sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({ Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })), Failed: [] }));
});

describe('the log shipper handler', () => {
  test('sends each record line, with a newline, to the delivery stream in one PutRecordBatch', async () => {
    firehose.on(PutRecordBatchCommand).resolves(ok(3));
    const lines = [record(1), record(2), record(3)];
    await expect(ship(logsEvent(lines), context, settings)).resolves.toEqual({ received: 3, delivered: 3, deadLettered: 0, retries: 0, ...NOTHING_SKIPPED });
    expect(firehose).toHaveReceivedCommandTimes(PutRecordBatchCommand, 1);
    expect(firehose).toHaveReceivedCommandWith(PutRecordBatchCommand, { DeliveryStreamName: 'inference-records', Records: lines.map(data) });
    expect(sqs).not.toHaveReceivedAnyCommand();
  });

  test('takes a trailing newline off a log message instead of doubling it', async () => {
    firehose.on(PutRecordBatchCommand).resolves(ok(1));
    await ship(logsEvent([`${record(1)}\n`]), context, settings);
    expect(firehose).toHaveReceivedCommandWith(PutRecordBatchCommand, { Records: [data(record(1))] });
  });

  test('retries only the records a partial failure names, then delivers them', async () => {
    firehose.on(PutRecordBatchCommand)
      .resolvesOnce({
        FailedPutCount: 2,
        RequestResponses: [
          { RecordId: 'id-0' },
          { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' },
          { RecordId: 'id-2' },
          { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal failure.' },
        ],
      })
      .resolvesOnce(ok(2));
    const lines = [record(0), record(1), record(2), record(3)];
    await expect(ship(logsEvent(lines), context, settings)).resolves.toEqual({ received: 4, delivered: 4, deadLettered: 0, retries: 2, ...NOTHING_SKIPPED });
    expect(firehose).toHaveReceivedCommandTimes(PutRecordBatchCommand, 2);
    expect(firehose).toHaveReceivedNthCommandWith(2, PutRecordBatchCommand, { DeliveryStreamName: 'inference-records', Records: [data(record(1)), data(record(3))] });
    expect(sleeps).toEqual([50]);
    expect(sqs).not.toHaveReceivedAnyCommand();
  });

  test('retries the whole call when Firehose throttles it', async () => {
    firehose.on(PutRecordBatchCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves(ok(2));
    await expect(ship(logsEvent([record(1), record(2)]), context, settings)).resolves.toMatchObject({ delivered: 2, deadLettered: 0, retries: 4 });
    expect(firehose).toHaveReceivedCommandTimes(PutRecordBatchCommand, 3);
    expect(firehose).toHaveReceivedNthCommandWith(3, PutRecordBatchCommand, { Records: [data(record(1)), data(record(2))] });
    expect(sleeps).toEqual([50, 100]);
  });

  test('dead-letters records that still fail after the last attempt, in one SendMessageBatch of the documented shape', async () => {
    firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => ({
      FailedPutCount: 1,
      RequestResponses: (input.Records ?? []).map((_, i) => (i === 0 && input.Records!.length === 2 ? { RecordId: 'id-0' } : { ErrorCode: 'ServiceUnavailableException' })),
    }));
    const lines = [record(1), record(2)];
    await expect(ship(logsEvent(lines), context, { ...settings, maxAttempts: 3 })).resolves.toEqual({ received: 2, delivered: 1, deadLettered: 1, retries: 2, ...NOTHING_SKIPPED });
    expect(firehose).toHaveReceivedCommandTimes(PutRecordBatchCommand, 3);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
    expect(sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      QueueUrl: QUEUE_URL,
      Entries: [{
        Id: 'm0',
        MessageBody: JSON.stringify({ reason: 'delivery-failed', error: 'ServiceUnavailableException', records: [record(2)], failedAt: FAILED_AT }),
      }],
    });
  });

  test('dead-letters at once when the stream does not exist, without retrying', async () => {
    firehose.on(PutRecordBatchCommand).rejects(new ResourceNotFoundException({ message: 'Stream not found', $metadata: {} }));
    await expect(ship(logsEvent([record(1)]), context, settings)).resolves.toMatchObject({ delivered: 0, deadLettered: 1 });
    expect(firehose).toHaveReceivedCommandTimes(PutRecordBatchCommand, 1);
    expect(JSON.parse(sqs.commandCalls(SendMessageBatchCommand)[0].args[0].input.Entries![0].MessageBody!)).toMatchObject({ error: 'ResourceNotFoundException' });
  });

  test('dead-letters lines that are not records, as malformed, and delivers the rest', async () => {
    firehose.on(PutRecordBatchCommand).resolves(ok(1));
    const junk = ['not json', '{"recordType":"other"}'];
    await expect(ship(logsEvent([junk[0], record(1), junk[1]]), context, settings)).resolves.toEqual({ received: 3, delivered: 1, deadLettered: 2, retries: 0, ...NOTHING_SKIPPED });
    expect(firehose).toHaveReceivedCommandWith(PutRecordBatchCommand, { Records: [data(record(1))] });
    expect(sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      QueueUrl: QUEUE_URL,
      Entries: [{ Id: 'm0', MessageBody: JSON.stringify({ reason: 'malformed', records: junk, failedAt: FAILED_AT }) }],
    });
  });

  test('resends only the dead-letter entries SQS failed', async () => {
    firehose.on(PutRecordBatchCommand).resolves(ok(0));
    sqs.on(SendMessageBatchCommand)
      .rejectsOnce(Object.assign(new Error('throttled'), { name: 'RequestThrottled' }))
      .resolvesOnce({ Successful: [{ Id: 'm0', MessageId: '1', MD5OfMessageBody: 'x' }], Failed: [] })
      .resolves({ Successful: [{ Id: 'm0', MessageId: '2', MD5OfMessageBody: 'x' }], Failed: [] });
    await ship(logsEvent(['bad line']), context, settings);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 2);
  });

  test('throws when the dead-letter queue keeps refusing, so Lambda retries the event', async () => {
    firehose.on(PutRecordBatchCommand).resolves(ok(0));
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Successful: [], Failed: (input.Entries ?? []).map((e) => ({ Id: e.Id, SenderFault: false, Code: 'InternalError' })),
    }));
    await expect(ship(logsEvent(['bad line']), context, settings))
      .rejects.toThrow('1 line(s) neither delivered nor dead-lettered: Could not send 1 dead-letter message(s) after retries: InternalError');
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 6);
    // The queue answered every time, so the line surely is not in it: its claim is released.
    expect(ledger.size).toBe(0);
  });

  test('ignores the control message CloudWatch Logs sends when a subscription is created', async () => {
    await expect(ship(logsEvent(['CWL CONTROL MESSAGE: Checking health of destination Lambda.'], { messageType: 'CONTROL_MESSAGE' }), context, settings))
      .resolves.toEqual({ received: 0, delivered: 0, deadLettered: 0, retries: 0, ...NOTHING_SKIPPED });
    expect(firehose).not.toHaveReceivedAnyCommand();
    expect(sqs).not.toHaveReceivedAnyCommand();
  });

  test('rejects an event that is not a subscription delivery before calling AWS', async () => {
    await expect(ship({} as CloudWatchLogsEvent, context, settings)).rejects.toThrow("Invalid event: expected a CloudWatch Logs subscription event with 'awslogs.data'");
    await expect(ship({ awslogs: { data: 'bm90IGd6aXA=' } }, context, settings)).rejects.toThrow();
    expect(firehose).not.toHaveReceivedAnyCommand();
  });

  test('emits delivered, dead-lettered and retry counts as metrics', async () => {
    const addMetric = jest.spyOn(Metrics.prototype, 'addMetric');
    firehose.on(PutRecordBatchCommand).rejectsOnce(throttled()).resolves(ok(2));
    await ship(logsEvent([record(1), record(2), 'junk']), context, settings);
    expect(addMetric.mock.calls).toEqual([
      ['RecordsDelivered', 'Count', 2], ['RecordsDeadLettered', 'Count', 1], ['DeliveryRetries', 'Count', 2],
      ['RecordsPossiblyDuplicated', 'Count', 0], ['LedgerWriteFailures', 'Count', 0],
    ]);
    addMetric.mockRestore();
  });

  test('the entry point reads its settings from the environment', async () => {
    const saved = { ...process.env };
    delete process.env.DELIVERY_STREAM_NAME;
    await expect(handler(logsEvent([record(1)]), context as never)).rejects.toThrow("Invalid environment: expected 'DELIVERY_STREAM_NAME'");
    Object.assign(process.env, { DELIVERY_STREAM_NAME: 'from-env', DEAD_LETTER_QUEUE_URL: QUEUE_URL, LEDGER_TABLE_NAME: 'ledger', LEDGER_TTL_SECONDS: '1296000', MAX_ATTEMPTS: '2' });
    firehose.on(PutRecordBatchCommand).resolves(ok(1));
    await handler(logsEvent([record(1)]), context as never);
    expect(firehose).toHaveReceivedCommandWith(PutRecordBatchCommand, { DeliveryStreamName: 'from-env' });
    expect(dynamodb).toHaveReceivedCommandWith(PutItemCommand, { TableName: 'ledger' });
    process.env = saved;
  });
});

describe('the log shipper across invocations', () => {
  const lines = [record(1), record(2), 'junk'];
  const refusingQueue = (input: SendMessageBatchCommandInput) => ({
    Successful: [], Failed: (input.Entries ?? []).map((e) => ({ Id: e.Id, SenderFault: false, Code: 'InternalError' })),
  });

  test('claims each line with a conditional put carrying a lease and a TTL, then records where it went', async () => {
    firehose.on(PutRecordBatchCommand).resolves(ok(2));
    await ship(logsEvent(lines), context, settings);
    const now = Date.parse(FAILED_AT);
    const key = lineKey('/aws/lambda/gateway', '0');
    expect(dynamodb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: 'delivery-ledger',
      Item: {
        id: { S: key }, state: { S: 'sending' }, leaseUntil: { N: String(now + 60_000) }, owner: { S: expect.stringMatching(/^[0-9a-f-]{36}$/) },
        expiresAt: { N: String(now / 1000 + 15 * 86_400) },
      },
      ConditionExpression: 'attribute_not_exists(#id) OR (#state = :sending AND (#lease < :now OR #owner = :me))',
      ExpressionAttributeValues: { ':sending': { S: 'sending' }, ':now': { N: String(now) }, ':me': { S: expect.stringMatching(/^[0-9a-f-]{36}$/) } },
    });
    expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, 3);
    expect(Object.fromEntries([...ledger].map(([k, item]) => [k, item.state.S]))).toEqual({
      [key]: 'delivered', [lineKey('/aws/lambda/gateway', '1')]: 'delivered', [lineKey('/aws/lambda/gateway', '2')]: 'dead-lettered',
    });
    expect(dynamodb).toHaveReceivedCommandTimes(BatchWriteItemCommand, 2);
  });

  test('a retry after the dead-letter queue refused sends no delivered line again, and dead-letters the rest once', async () => {
    firehose.on(PutRecordBatchCommand).resolves(ok(2));
    sqs.on(SendMessageBatchCommand).callsFake(refusingQueue);
    await expect(ship(logsEvent(lines), context, settings)).rejects.toThrow('neither delivered nor dead-lettered');
    expect(firehose).toHaveReceivedCommandTimes(PutRecordBatchCommand, 1);

    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({ Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })), Failed: [] }));
    const retried = { ...settings, now: () => new Date(Date.parse(FAILED_AT) + 120_000) };
    await expect(ship(logsEvent(lines), context, retried)).resolves.toEqual({ received: 3, delivered: 0, deadLettered: 1, retries: 0, skipped: 2, possibleDuplicates: 0 });
    expect(firehose).toHaveReceivedCommandTimes(PutRecordBatchCommand, 1);
    // A third delivery of the same event (a replay from the failed-event queue) sends nothing at all.
    await expect(ship(logsEvent(lines), context, retried)).resolves.toMatchObject({ delivered: 0, deadLettered: 0, skipped: 3 });
    expect(firehose).toHaveReceivedCommandTimes(PutRecordBatchCommand, 1);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 7);
  });

  test('takes over a line whose lease ran out, sends it, and counts it as a possible duplicate', async () => {
    const stale = Date.parse(FAILED_AT) - 1;
    ledger.set(lineKey('/aws/lambda/gateway', '0'), { id: { S: lineKey('/aws/lambda/gateway', '0') }, state: { S: 'sending' }, leaseUntil: { N: String(stale) } });
    firehose.on(PutRecordBatchCommand).resolves(ok(1));
    await expect(ship(logsEvent([record(1)]), context, settings)).resolves.toMatchObject({ delivered: 1, possibleDuplicates: 1 });
  });

  test('repeats a claim whose answer was lost, finds its own entry, and sends the line as new, not as a possible duplicate', async () => {
    const table = ledgerTable();
    let claims = 0;
    dynamodb.on(PutItemCommand).callsFake((input) => {
      const answer = table.put(input);
      if (++claims === 1) {
        throw Object.assign(new Error('Connection timed out after 5000 ms'), { name: 'TimeoutError' });
      }
      return answer;
    });
    dynamodb.on(BatchWriteItemCommand).callsFake(table.write);
    firehose.on(PutRecordBatchCommand).resolves(ok(1));
    await expect(ship(logsEvent([record(1)]), context, settings)).resolves.toMatchObject({ delivered: 1, possibleDuplicates: 0 });
    expect(claims).toBe(2);
    expect(table.items.get(lineKey('/aws/lambda/gateway', '0'))?.state.S).toBe('delivered');
  });

  test('a retry of the invocation does not take its predecessor\'s live claim as its own', async () => {
    firehose.on(PutRecordBatchCommand).resolves(ok(1));
    // The delivery is not recorded: the line stays claimed by the first invocation.
    dynamodb.on(BatchWriteItemCommand).rejects(Object.assign(new Error('Internal'), { name: 'InternalServerError', $fault: 'server' }));
    await expect(ship(logsEvent([record(1)]), context, settings)).resolves.toMatchObject({ delivered: 1 });
    const retried = { ...settings, now: () => new Date(Date.parse(FAILED_AT) + 1_000) };
    await expect(ship(logsEvent([record(1)]), context, retried)).rejects.toThrow('1 not claimable');
    expect(firehose).toHaveReceivedCommandTimes(PutRecordBatchCommand, 1);
  });

  test('keeps the claim of a line split into dead-letter fragments of which some were sent, and the retry counts it as a possible duplicate', async () => {
    const huge = `junk ${'x'.repeat(600 * 1024)}`;
    let calls = 0;
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => (++calls === 1
      ? { Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })), Failed: [] }
      : refusingQueue(input)));
    await expect(ship(logsEvent([huge]), context, settings)).rejects.toThrow('neither delivered nor dead-lettered');
    expect(ledger.get(lineKey('/aws/lambda/gateway', '0'))?.state.S).toBe('sending');
    expect(dynamodb).not.toHaveReceivedCommandWith(BatchWriteItemCommand, {
      RequestItems: { 'delivery-ledger': [{ DeleteRequest: { Key: { id: { S: lineKey('/aws/lambda/gateway', '0') } } } }] },
    });

    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({ Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })), Failed: [] }));
    const retried = { ...settings, now: () => new Date(Date.parse(FAILED_AT) + 120_000) };
    await expect(ship(logsEvent([huge]), context, retried)).resolves.toMatchObject({ deadLettered: 1, possibleDuplicates: 1 });
  });

  test('leaves a line leased by an invocation that may still run, and fails so Lambda retries the event', async () => {
    const live = Date.parse(FAILED_AT) + 30_000;
    ledger.set(lineKey('/aws/lambda/gateway', '0'), { id: { S: lineKey('/aws/lambda/gateway', '0') }, state: { S: 'sending' }, leaseUntil: { N: String(live) } });
    firehose.on(PutRecordBatchCommand).resolves(ok(1));
    await expect(ship(logsEvent([record(1), record(2)]), context, settings)).rejects.toThrow('1 line(s) neither delivered nor dead-lettered: 1 not claimable');
    expect(firehose).toHaveReceivedCommandWith(PutRecordBatchCommand, { Records: [data(record(2))] });
  });

  test('sends nothing it could not claim while the ledger fails, and fails so Lambda retries the event', async () => {
    dynamodb.on(PutItemCommand).rejects(Object.assign(new Error('Throughput exceeded'), { name: 'ProvisionedThroughputExceededException', $fault: 'client' }));
    await expect(ship(logsEvent([record(1)]), context, { ...settings, maxAttempts: 2 })).rejects.toThrow('1 line(s) neither delivered nor dead-lettered');
    expect(firehose).not.toHaveReceivedAnyCommand();
  });

  test('before failing anyway, tries once more to record deliveries, so the retry does not send them again', async () => {
    firehose.on(PutRecordBatchCommand).resolves(ok(1));
    sqs.on(SendMessageBatchCommand).callsFake(refusingQueue);
    const table = ledgerTable();
    let writes = 0;
    // The three attempts to record the delivery fail; the release of the junk line's claim and the second round succeed.
    dynamodb.on(PutItemCommand).callsFake(table.put);
    dynamodb.on(BatchWriteItemCommand).callsFake((input: BatchWriteItemCommandInput) => {
      if (++writes <= 3) {
        throw Object.assign(new Error('Internal'), { name: 'InternalServerError', $fault: 'server' });
      }
      return table.write(input);
    });
    const addMetric = jest.spyOn(Metrics.prototype, 'addMetric');
    await expect(ship(logsEvent([record(1), 'junk']), context, settings)).rejects.toThrow('1 line(s) neither delivered nor dead-lettered');
    expect(dynamodb).toHaveReceivedCommandTimes(BatchWriteItemCommand, 5);
    expect(table.items.get(lineKey('/aws/lambda/gateway', '0'))?.state.S).toBe('delivered');
    expect(addMetric).toHaveBeenCalledWith('LedgerWriteFailures', 'Count', 0);
    addMetric.mockRestore();

    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({ Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })), Failed: [] }));
    const retried = { ...settings, now: () => new Date(Date.parse(FAILED_AT) + 120_000) };
    await expect(ship(logsEvent([record(1), 'junk']), context, retried)).resolves.toMatchObject({ delivered: 0, deadLettered: 1, skipped: 1, possibleDuplicates: 0 });
    expect(firehose).toHaveReceivedCommandTimes(PutRecordBatchCommand, 1);
  });

  test('returns normally when only the ledger write after delivery fails, so Lambda does not resend', async () => {
    firehose.on(PutRecordBatchCommand).resolves(ok(1));
    dynamodb.on(BatchWriteItemCommand).rejects(Object.assign(new Error('Internal'), { name: 'InternalServerError', $fault: 'server' }));
    const addMetric = jest.spyOn(Metrics.prototype, 'addMetric');
    await expect(ship(logsEvent([record(1)]), context, settings)).resolves.toMatchObject({ delivered: 1 });
    expect(addMetric).toHaveBeenCalledWith('LedgerWriteFailures', 'Count', 1);
    addMetric.mockRestore();
  });
});

describe('the log shipper under random failures', () => {
  test.each([1, 2, 3])('5,000 records with ~30%% per-record failures and thrown calls (seed %i): each delivered once or dead-lettered once', async (seed) => {
    const random = prng(seed);
    const accepted: string[] = [];
    let thrown = 0;
    firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => {
      const lines = sentLines(input);
      expect(lines.length).toBeLessThanOrEqual(500);
      if (random() < 0.1) {
        thrown++;
        throw throttled();
      }
      const responses = lines.map((line) => {
        if (random() < 0.3) {
          return { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' };
        }
        accepted.push(line);
        return { RecordId: `id-${accepted.length}` };
      });
      return { FailedPutCount: responses.filter((r) => r.ErrorCode).length, RequestResponses: responses };
    });
    const lines = Array.from({ length: 5000 }, (_, i) => record(i));
    const events = [lines.slice(0, 2500), lines.slice(2500)].map((part, i) => logsEvent(part, { idPrefix: `e${i}-` }));

    let delivered = 0;
    for (const event of events) {
      delivered += (await ship(event, context, { ...settings, random })).delivered;
    }

    const deadLettered = sqs.commandCalls(SendMessageBatchCommand)
      .flatMap((call) => call.args[0].input.Entries ?? [])
      .flatMap((entry) => JSON.parse(entry.MessageBody!).records as string[]);
    const outcomes = [...accepted.map((data) => data.replace(/\n$/, '')), ...deadLettered];
    expect(accepted.every((d) => d.endsWith('\n'))).toBe(true);
    expect(outcomes).toHaveLength(5000);
    expect(new Set(outcomes).size).toBe(5000);
    expect([...outcomes].sort()).toEqual([...lines].sort());
    expect(delivered).toBe(accepted.length);
    expect(thrown).toBeGreaterThan(0);
    expect(deadLettered.length).toBeGreaterThan(0);
    expect(accepted.length).toBeGreaterThan(4900);
  });
});
