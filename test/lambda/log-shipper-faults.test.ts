/**
 * The log shipper across Lambda's retries, with faults at every call it makes: Firehose, the
 * dead-letter queue and the delivery ledger throw, refuse, answer in part or short, time out
 * before or after taking effect, or the function dies there. Each event is invoked up to three
 * times, as Lambda does; an event that fails all three lands in the failed-event queue and is
 * replayed once at the end, without faults. Then every line must be exactly once in
 * delivered ∪ dead-lettered.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { BatchWriteItemCommand, BatchWriteItemCommandInput, DynamoDBClient, PutItemCommand, PutItemCommandInput } from '@aws-sdk/client-dynamodb';
import { FirehoseClient, PutRecordBatchCommand, PutRecordBatchCommandInput, ServiceUnavailableException } from '@aws-sdk/client-firehose';
import { SendMessageBatchCommand, SendMessageBatchCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { ship, ShipperSettings } from '../../lambda/log-shipper';
import { lineKey } from '../../lib/hooks/runtime/delivery-ledger';
import { seededRandom } from '../../lib/release/random';
import { ledgerTable, logsEvent } from './log-shipper-world';

const firehose = mockClient(FirehoseClient);
const sqs = mockClient(SQSClient);
const dynamodb = mockClient(DynamoDBClient);

/** Faults whose call answers: the shipper knows the call took no effect (or which part did). */
const ANSWERED = ['throttle', 'refuse', 'partial', 'unprocessed'] as const;
/** Faults that leave the shipper without an answer: the call may have taken effect. */
const UNANSWERED = ['short', 'timeout-before', 'timeout-after', 'crash-before', 'crash-after'] as const;
type Fault = typeof ANSWERED[number] | typeof UNANSWERED[number];
type Service = 'firehose' | 'sqs' | 'dynamodb';

/** Which faults each call can suffer. */
const FAULTS: Record<'firehose' | 'sqs' | 'claim' | 'write', readonly Fault[]> = {
  firehose: ['throttle', 'partial', 'short', 'timeout-before', 'timeout-after', 'crash-before', 'crash-after'],
  sqs: ['throttle', 'refuse', 'partial', 'timeout-before', 'timeout-after', 'crash-before', 'crash-after'],
  claim: ['throttle', 'timeout-before', 'timeout-after', 'crash-before', 'crash-after'],
  write: ['throttle', 'unprocessed', 'timeout-before', 'timeout-after', 'crash-before', 'crash-after'],
};

const timeout = () => Object.assign(new Error('Connection timed out after 5000 ms'), { name: 'TimeoutError' });
const answeredError = (name: string) => Object.assign(new Error(name), { name, $fault: 'server', $metadata: { httpStatusCode: 500 } });
const never = () => new Promise<never>(() => undefined);

interface Totals {
  runs: number;
  lines: number;
  faults: number;
  byFault: Partial<Record<Fault, number>>;
  invocations: number;
  parkedEvents: number;
  lost: number;
  duplicated: number;
  /** Lines the shipper counted as possibly duplicated (`RecordsPossiblyDuplicated`). */
  flagged: number;
  /** Duplicated lines the shipper did not name as possibly duplicated. */
  duplicatedUnflagged: number;
  /**
   * Lines named as possibly duplicated that no earlier invocation could have sent (none carried
   * them, died holding them, or lost the answer to their claim) and no call of the naming
   * invocation left unanswered.
   */
  flaggedNeverExposed: number;
  /** Ledger writes after delivery that failed every attempt (`LedgerWriteFailures`). */
  ledgerWriteFailures: number;
  /** Duplicated lines in runs where every ledger write after a delivery succeeded (in the end). */
  duplicatedWithLedgerWrites: number;
}

/** The sum of a metric the shipper emitted since the spy was last cleared. */
function emitted(addMetric: jest.SpyInstance, name: string): number {
  return addMetric.mock.calls.filter(([metric]) => metric === name).reduce((sum, [, , value]) => sum + (value as number), 0);
}

/** One seeded run: events, fault rates per service, up to three invocations per event, a replay of parked events. */
async function run(seed: number, faults: readonly Fault[], totals: Totals, addMetric: jest.SpyInstance, warn: jest.SpyInstance): Promise<void> {
  firehose.reset();
  sqs.reset();
  dynamodb.reset();
  addMetric.mockClear();
  warn.mockClear();
  const random = seededRandom(seed);
  const ratePicks = [0, 0.1, 0.3, 1];
  const rates: Record<Service, number> = {
    firehose: ratePicks[Math.floor(random() * 4)], sqs: ratePicks[Math.floor(random() * 4)], dynamodb: ratePicks[Math.floor(random() * 4)],
  };
  let faultsOn = true;
  let crashed = false;
  let onCrash = () => undefined as void;
  const stored: string[] = [];
  const deadLettered: string[] = [];
  const table = ledgerTable();
  /** Lines an earlier invocation may have sent: carried by a call, held by an invocation that died, or claimed without an answer. */
  const exposed = new Set<string>();
  /** Lines carried by a call of this invocation that went unanswered. */
  const unanswered = new Set<string>();
  /** Keys whose last claim call of this invocation took effect without an answer. */
  const hangingClaims = new Set<string>();
  /** Lines carried by a call of this invocation. */
  const carried = new Set<string>();
  const flagged = new Set<string>();
  const lineOfKey = new Map<string, string>();
  const lineOfEventId = new Map<string, string>();
  const isUnanswered = (fault: Fault | undefined) => fault !== undefined && (UNANSWERED as readonly string[]).includes(fault);

  const draw = (service: Service, call: keyof typeof FAULTS): Fault | undefined => {
    if (!faultsOn || random() >= rates[service]) {
      return undefined;
    }
    const possible = FAULTS[call].filter((f) => faults.includes(f));
    if (possible.length === 0) {
      return undefined;
    }
    const fault = possible[Math.floor(random() * possible.length)];
    totals.faults++;
    totals.byFault[fault] = (totals.byFault[fault] ?? 0) + 1;
    return fault;
  };
  const crash = (): Promise<never> => {
    crashed = true;
    onCrash();
    return never();
  };
  /** Applies a call's effect around the drawn fault; `apply` answers what the call returns. */
  async function call<R>(fault: Fault | undefined, apply: () => R): Promise<R> {
    switch (fault) {
      case 'timeout-before': throw timeout();
      case 'crash-before': return crash();
      case 'timeout-after': apply(); throw timeout();
      case 'crash-after': apply(); return crash();
      case 'throttle': throw answeredError('ThrottlingException');
      default: return apply();
    }
  }

  firehose.on(PutRecordBatchCommand).callsFake(async (input: PutRecordBatchCommandInput) => {
    if (crashed) return never();
    const lines = (input.Records ?? []).map((r) => Buffer.from(r.Data as Uint8Array).toString('utf8').replace(/\n$/, ''));
    const fault = draw('firehose', 'firehose');
    lines.forEach((line) => { carried.add(line); if (isUnanswered(fault)) unanswered.add(line); });
    if (fault === 'throttle') {
      throw new ServiceUnavailableException({ message: 'Slow down.', $metadata: { httpStatusCode: 503 } });
    }
    return call(fault, () => {
      const responses = lines.map((line) => {
        if (fault === 'partial' && random() < 0.5) {
          return { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' };
        }
        stored.push(line);
        return { RecordId: `r${stored.length}` };
      });
      const answered = fault === 'short' ? responses.slice(0, Math.floor(random() * responses.length)) : responses;
      return { FailedPutCount: responses.filter((r) => r.ErrorCode).length, RequestResponses: answered };
    });
  });
  sqs.on(SendMessageBatchCommand).callsFake(async (input: SendMessageBatchCommandInput) => {
    if (crashed) return never();
    const fault = draw('sqs', 'sqs');
    (input.Entries ?? []).forEach((e) => (JSON.parse(e.MessageBody!).records as string[]).forEach((line) => {
      carried.add(line);
      if (isUnanswered(fault)) unanswered.add(line);
    }));
    return call(fault, () => {
      const entries = input.Entries ?? [];
      const refused = entries.filter(() => fault === 'refuse' || (fault === 'partial' && random() < 0.5));
      const taken = entries.filter((e) => !refused.includes(e));
      taken.forEach((e) => {
        const message = JSON.parse(e.MessageBody!);
        expect(message.fragment).toBeUndefined();
        deadLettered.push(...message.records);
      });
      return { Successful: taken.map((e) => ({ Id: e.Id, MessageId: e.Id, MD5OfMessageBody: '' })), Failed: refused.map((e) => ({ Id: e.Id, SenderFault: false, Code: 'InternalError' })) };
    });
  });
  dynamodb.on(PutItemCommand).callsFake(async (input: PutItemCommandInput) => {
    if (crashed) return never();
    const fault = draw('dynamodb', 'claim');
    const key = input.Item!.id.S!;
    if (fault === undefined) {
      hangingClaims.delete(key);
    } else if (fault === 'timeout-after') {
      hangingClaims.add(key);
    }
    return call(fault, () => table.put(input));
  });
  dynamodb.on(BatchWriteItemCommand).callsFake(async (input: BatchWriteItemCommandInput) => {
    if (crashed) return never();
    const fault = draw('dynamodb', 'write');
    if (fault === 'unprocessed') {
      return { UnprocessedItems: input.RequestItems };
    }
    return call(fault, () => table.write(input));
  });

  // The events: 1 to 3 subscription deliveries of 1 to 20 lines, one in ten not a record.
  const events: CloudWatchLogsEvent[] = [];
  const linesOf = new Map<CloudWatchLogsEvent, readonly string[]>();
  const allLines: string[] = [];
  const eventCount = 1 + Math.floor(random() * 3);
  for (let e = 0; e < eventCount; e++) {
    const lines = Array.from({ length: 1 + Math.floor(random() * 20) }, (_, i) => (random() < 0.1
      ? `junk ${seed}-${e}-${i}`
      : JSON.stringify({ recordType: 'modelship.inference', schemaVersion: 1, recordId: `${seed}-${e}-${i}`, status: 200 })));
    allLines.push(...lines);
    lines.forEach((line, i) => {
      lineOfKey.set(lineKey('/aws/lambda/gateway', `${seed}-${e}-${i}`), line);
      lineOfEventId.set(`${seed}-${e}-${i}`, line);
    });
    const event = logsEvent(lines, { idPrefix: `${seed}-${e}-` });
    events.push(event);
    linesOf.set(event, lines);
  }

  let clock = Date.parse('2026-11-02T10:00:00.000Z');
  const settings = (): ShipperSettings => ({
    deliveryStreamName: 'inference-records', deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111111111111/dead-letters',
    ledgerTableName: 'ledger', ledgerTtlSeconds: 15 * 86_400, maxAttempts: 3,
    sleep: async () => undefined, random, now: () => new Date(clock),
  });
  const context = { getRemainingTimeInMillis: () => 60_000 };
  /** One invocation: it returns, throws, or dies at a fault. */
  const invoke = async (event: CloudWatchLogsEvent, eventLines: readonly string[]): Promise<'returned' | 'threw' | 'died'> => {
    crashed = false;
    carried.clear();
    unanswered.clear();
    hangingClaims.clear();
    warn.mockClear();
    totals.invocations++;
    const died = new Promise<'died'>((resolve) => { onCrash = () => resolve('died'); });
    const outcome = await Promise.race([ship(event, context, settings()).then(() => 'returned' as const, () => 'threw' as const), died]);
    // Let the dead invocation's other calls reach their hang before the next one starts.
    await new Promise((resolve) => setImmediate(resolve));
    const named = warn.mock.calls.filter(([message]) => message === 'records possibly duplicated')
      .flatMap(([, extra]) => (extra as { eventIds: string[] }).eventIds.map((id) => lineOfEventId.get(id)!));
    named.forEach((line) => flagged.add(line));
    totals.flaggedNeverExposed += named.filter((line) => !exposed.has(line) && !unanswered.has(line)).length;
    carried.forEach((line) => exposed.add(line));
    hangingClaims.forEach((key) => exposed.add(lineOfKey.get(key)!));
    if (outcome === 'died') {
      eventLines.forEach((line) => exposed.add(line));
    }
    // Lambda retries after a minute or two; the failed invocation's lease (its 60 s) has run out.
    clock += 120_000;
    return outcome;
  };

  const parked: CloudWatchLogsEvent[] = [];
  for (const event of events) {
    let outcome = await invoke(event, linesOf.get(event)!);
    for (let retry = 0; retry < 2 && outcome !== 'returned'; retry++) {
      outcome = await invoke(event, linesOf.get(event)!);
    }
    if (outcome !== 'returned') {
      parked.push(event);
    }
  }
  // The operator replays the failed-event queue once the outage is over.
  faultsOn = false;
  clock += 86_400_000;
  for (const event of parked) {
    expect(await invoke(event, linesOf.get(event)!)).toBe('returned');
  }

  const seen = new Map<string, number>();
  [...stored, ...deadLettered].forEach((line) => seen.set(line, (seen.get(line) ?? 0) + 1));
  expect([...seen.keys()].every((line) => allLines.includes(line))).toBe(true);
  totals.runs++;
  totals.lines += allLines.length;
  totals.parkedEvents += parked.length;
  totals.lost += allLines.filter((line) => !seen.has(line)).length;
  const duplicated = allLines.reduce((sum, line) => sum + Math.max(0, (seen.get(line) ?? 0) - 1), 0);
  const ledgerWriteFailures = emitted(addMetric, 'LedgerWriteFailures');
  totals.duplicated += duplicated;
  totals.duplicatedUnflagged += allLines.filter((line) => (seen.get(line) ?? 0) > 1 && !flagged.has(line)).length;
  totals.flagged += emitted(addMetric, 'RecordsPossiblyDuplicated');
  totals.ledgerWriteFailures += ledgerWriteFailures;
  totals.duplicatedWithLedgerWrites += ledgerWriteFailures === 0 ? duplicated : 0;
}

const RUNS = 200;

describe('the log shipper across retried invocations, with faults at every call', () => {
  let addMetric: jest.SpyInstance;
  let warn: jest.SpyInstance;
  beforeEach(() => {
    addMetric = jest.spyOn(Metrics.prototype, 'addMetric');
    warn = jest.spyOn(Logger.prototype, 'warn');
  });
  afterEach(() => {
    addMetric.mockRestore();
    warn.mockRestore();
  });
  const emptyTotals = (): Totals => ({
    runs: 0, lines: 0, faults: 0, byFault: {}, invocations: 0, parkedEvents: 0, lost: 0, duplicated: 0, flagged: 0, duplicatedUnflagged: 0, flaggedNeverExposed: 0, ledgerWriteFailures: 0, duplicatedWithLedgerWrites: 0,
  });

  test(`${RUNS} seeded runs with answered faults only (throttled, refused, partial, unprocessed; the dead-letter queue and the ledger down for whole runs): none lost; none duplicated while the ledger records deliveries`, async () => {
    const totals = emptyTotals();
    for (let seed = 1; seed <= RUNS; seed++) {
      await run(seed, ANSWERED, totals, addMetric, warn);
    }
    console.info('answered faults', JSON.stringify(totals));
    expect(totals.runs).toBe(RUNS);
    expect(Object.keys(totals.byFault).sort()).toEqual([...ANSWERED].sort());
    expect(totals.faults).toBeGreaterThan(1000);
    expect(totals.parkedEvents).toBeGreaterThan(0);
    expect(totals.lost).toBe(0);
    // A line goes out twice only when the ledger refused, on every attempt, to record its
    // delivery and the invocation then failed for another reason; the retry counts it.
    expect(totals.duplicatedWithLedgerWrites).toBe(0);
    expect(totals.duplicatedUnflagged).toBe(0);
    expect(totals.flaggedNeverExposed).toBe(0);
  }, 300_000);

  test(`${RUNS} seeded runs with every fault, timeouts, short answers and deaths included: none lost, and every duplicate counted as possible`, async () => {
    const totals = emptyTotals();
    for (let seed = 1; seed <= RUNS; seed++) {
      await run(seed, [...ANSWERED, ...UNANSWERED], totals, addMetric, warn);
    }
    console.info('all faults', JSON.stringify(totals));
    expect(totals.runs).toBe(RUNS);
    expect(Object.keys(totals.byFault).sort()).toEqual([...ANSWERED, ...UNANSWERED].sort());
    expect(totals.parkedEvents).toBeGreaterThan(0);
    expect(totals.lost).toBe(0);
    expect(totals.duplicatedUnflagged).toBe(0);
    expect(totals.flaggedNeverExposed).toBe(0);
  }, 300_000);
});
