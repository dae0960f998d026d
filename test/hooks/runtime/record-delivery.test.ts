import fc from 'fast-check';
import {
  backoffCeiling, backoffDelay, batchRecords, BatchLimits, DeadLetter, DeadLetterMessage, deadLetterMessages,
  DeadLetterBody, deliverRecords, DeliveryDeps, FIREHOSE_LIMITS, isRecordLine, messageBatches, QueueEntry, recordData, sendDeadLetters, SQS_LIMITS, utf8Bytes,
} from '../../../lib/hooks/runtime/record-delivery';
import type { KeyedLine } from '../../../lib/hooks/runtime/delivery-ledger';
import { seededRandom as prng } from '../../../lib/release/random';

const FAILED_AT = '2026-11-02T10:00:00.000Z';

/** Lines that are unique (a record id each), so "sent twice" is observable even for equal payloads. */
const uniqueLines = (payloads: string[]) => payloads.map((p, i) => JSON.stringify({ recordType: 'modelship.inference', recordId: `r${i}`, p }));

const sorted = (lines: readonly string[]) => [...lines].sort();

/** Lines with a key each (their index), as the shipper passes them. */
const keyed = (lines: readonly string[]): KeyedLine[] => lines.map((line, i) => ({ key: `k${i}`, line }));
const linesOf = (items: readonly { line: string }[]) => items.map((item) => item.line);

/** A Firehose stand-in that fails records and whole calls at random and remembers what it accepted. */
function flakyFirehose(seed: number, recordFailure: number, callFailure: number) {
  const random = prng(seed);
  const accepted: string[] = [];
  const sends: string[][] = [];
  const send: DeliveryDeps['send'] = async (data) => {
    sends.push([...data]);
    if (random() < callFailure) {
      throw Object.assign(new Error('Slow down'), { name: 'ServiceUnavailableException', $fault: 'server' });
    }
    return data.map((d) => {
      if (random() < recordFailure) {
        return { errorCode: 'ServiceUnavailableException' };
      }
      accepted.push(d);
      return {};
    });
  };
  return { send, accepted, sends };
}

const noTimeLimit = { sleep: async () => undefined, random: () => 0.5, remainingMs: () => 900_000 };

describe('batching record lines for PutRecordBatch', () => {
  const limitsArb: fc.Arbitrary<BatchLimits> = fc.record({
    maxRecords: fc.integer({ min: 1, max: 8 }),
    maxRecordBytes: fc.integer({ min: 4, max: 40 }),
    extra: fc.integer({ min: 0, max: 80 }),
  }).map(({ maxRecords, maxRecordBytes, extra }) => ({ maxRecords, maxRecordBytes, maxBatchBytes: maxRecordBytes + extra }));

  test('every batch is within the record count and byte limits, and order and content are conserved', () => {
    fc.assert(fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 30 }), { maxLength: 60 }), limitsArb, (lines, limits) => {
      const items = keyed(lines);
      const { batches, tooLarge } = batchRecords(items, limits);
      for (const batch of batches) {
        expect(batch.length).toBeGreaterThan(0);
        expect(batch.length).toBeLessThanOrEqual(limits.maxRecords);
        expect(batch.reduce((sum, item) => sum + utf8Bytes(recordData(item.line)), 0)).toBeLessThanOrEqual(limits.maxBatchBytes);
      }
      const fits = (item: KeyedLine) => utf8Bytes(recordData(item.line)) <= limits.maxRecordBytes;
      expect(batches.flat()).toEqual(items.filter(fits));
      expect(tooLarge).toEqual(items.filter((item) => !fits(item)));
    }));
  });

  test('fills a batch before starting the next one', () => {
    fc.assert(fc.property(fc.array(fc.string({ maxLength: 10 }), { maxLength: 60 }), limitsArb, (lines, limits) => {
      const { batches } = batchRecords(keyed(lines), limits);
      batches.slice(0, -1).forEach((batch, i) => {
        const next = recordData(batches[i + 1][0].line);
        const bytes = batch.reduce((sum, item) => sum + utf8Bytes(recordData(item.line)), 0);
        expect(batch.length === limits.maxRecords || bytes + utf8Bytes(next) > limits.maxBatchBytes).toBe(true);
      });
    }));
  });

  test('cuts at 500 records and at 4 MiB, and sets aside records over 1,000 KiB (counting the newline)', () => {
    expect(batchRecords(keyed(Array.from({ length: 1001 }, (_, i) => `{"n":${i}}`))).batches.map((b) => b.length)).toEqual([500, 500, 1]);
    const big = 'x'.repeat(1000 * 1024 - 1); // 1,000 KiB with its newline
    expect(batchRecords(keyed([big, big, big, big, big])).batches.map((b) => b.length)).toEqual([4, 1]);
    expect(batchRecords(keyed([`${big}y`, 'ok']))).toEqual({ batches: [[{ key: 'k1', line: 'ok' }]], tooLarge: [{ key: 'k0', line: `${big}y` }] });
    // Multi-byte characters count in bytes, not characters.
    expect(batchRecords(keyed(['é'.repeat(512 * 1000)])).tooLarge).toHaveLength(1);
    expect(FIREHOSE_LIMITS).toEqual({ maxRecords: 500, maxBatchBytes: 4 * 1024 * 1024, maxRecordBytes: 1000 * 1024 });
  });
});

describe('backoff with full jitter', () => {
  test('the ceiling starts at the base, doubles per retry and never exceeds the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((r) => backoffCeiling(r))).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    fc.assert(fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 60_000 }), (retry, base, cap) => {
      const options = { baseDelayMs: base, maxDelayMs: cap };
      expect(backoffCeiling(retry, options)).toBeLessThanOrEqual(cap);
      expect(backoffCeiling(retry + 1, options)).toBeGreaterThanOrEqual(backoffCeiling(retry, options));
      expect(backoffCeiling(retry + 1, options)).toBe(Math.min(cap, 2 * backoffCeiling(retry, options)));
    }));
  });

  test('a delay is uniform below the ceiling: never negative, never reaching it', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (retry, r) => {
      const delay = backoffDelay(retry, () => r);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.max(1, backoffCeiling(retry)));
      expect(delay).toBeLessThanOrEqual(5000);
    }));
    expect(backoffDelay(3, () => 0)).toBe(0);
    expect(backoffDelay(3, () => 0.999999)).toBe(399);
  });
});

describe('delivering records with retries', () => {
  test('for any failure pattern, every line is delivered once or dead-lettered once: nothing lost, nothing duplicated', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.string({ maxLength: 20 }), { maxLength: 120 }),
      fc.integer(), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 0.5, noNaN: true }), fc.integer({ min: 1, max: 8 }),
      async (payloads, seed, recordFailure, callFailure, maxAttempts) => {
        const lines = uniqueLines(payloads);
        const firehose = flakyFirehose(seed, recordFailure, callFailure);
        const limits = { maxRecords: 7, maxBatchBytes: 4 * 1024 * 1024, maxRecordBytes: 1000 * 1024 };
        const outcome = await deliverRecords(keyed(lines), { ...noTimeLimit, send: firehose.send }, { maxAttempts, limits });

        expect(sorted([...linesOf(outcome.delivered), ...linesOf(outcome.deadLettered)])).toEqual(sorted(lines));
        expect(sorted(firehose.accepted)).toEqual(sorted(linesOf(outcome.delivered).map(recordData)));
        // Every failure carried the service's answer: nothing is uncertain.
        expect(outcome.delivered.every((d) => !d.uncertain)).toBe(true);
        expect(new Set(firehose.accepted).size).toBe(firehose.accepted.length);
        expect(outcome.attempts).toBe(firehose.sends.length);
        expect(outcome.retries).toBe(firehose.sends.flat().length - lines.length);
        // Each record is sent at most maxAttempts times, in calls within the limits.
        const sendsPerLine = new Map<string, number>();
        firehose.sends.flat().forEach((d) => sendsPerLine.set(d, (sendsPerLine.get(d) ?? 0) + 1));
        expect(Math.max(0, ...sendsPerLine.values())).toBeLessThanOrEqual(maxAttempts);
        firehose.sends.forEach((call) => expect(call.length).toBeLessThanOrEqual(7));
        outcome.deadLettered.forEach((d) => expect(d).toEqual({ key: d.key, line: d.line, reason: 'delivery-failed', error: 'ServiceUnavailableException' }));
      },
    ), { numRuns: 200 });
  });

  test('resends only the records that failed, after a jittered backoff', async () => {
    const sends: string[][] = [];
    const sleeps: number[] = [];
    const delivered: string[][] = [];
    const outcome = await deliverRecords(keyed(['a', 'b', 'c']), {
      send: async (data) => {
        sends.push([...data]);
        return sends.length === 1 ? [{}, { errorCode: 'InternalFailure' }, {}] : [{}];
      },
      sleep: async (ms) => { sleeps.push(ms); },
      random: () => 0.5,
      remainingMs: () => 60_000,
      onBatchDelivered: async (lines) => { delivered.push(linesOf(lines)); },
    });
    expect(sends).toEqual([['a\n', 'b\n', 'c\n'], ['b\n']]);
    expect(sleeps).toEqual([50]);
    expect(outcome).toEqual({
      delivered: [{ key: 'k0', line: 'a', uncertain: false }, { key: 'k2', line: 'c', uncertain: false }, { key: 'k1', line: 'b', uncertain: false }],
      deadLettered: [], attempts: 2, retries: 1,
    });
    // The ledger hears of a batch once it is done, with every line Firehose took.
    expect(delivered).toEqual([['a', 'c', 'b']]);
  });

  test('a thrown error fails the whole call, which is retried; attempts run out at maxAttempts', async () => {
    const sleeps: number[] = [];
    const send = jest.fn(async () => { throw Object.assign(new Error('rate exceeded'), { name: 'ServiceUnavailableException', $fault: 'server' }); });
    const outcome = await deliverRecords(keyed(['a', 'b']), { send, sleep: async (ms) => { sleeps.push(ms); }, random: () => 0.999, remainingMs: () => 60_000 }, { maxAttempts: 4 });
    expect(send).toHaveBeenCalledTimes(4);
    expect(sleeps).toEqual([99, 199, 399]);
    expect(outcome.deadLettered).toEqual([
      { key: 'k0', line: 'a', reason: 'delivery-failed', error: 'ServiceUnavailableException' },
      { key: 'k1', line: 'b', reason: 'delivery-failed', error: 'ServiceUnavailableException' },
    ]);
  });

  test('marks lines uncertain when a call carrying them went unanswered (a timeout), and still delivers them', async () => {
    let calls = 0;
    const send = jest.fn(async (data: readonly string[]) => {
      calls++;
      if (calls === 1) {
        throw Object.assign(new Error('Connection timed out after 5000 ms'), { name: 'TimeoutError' });
      }
      // A short answer: the second record has none.
      return calls === 2 ? [{}] : data.map(() => ({}));
    });
    const outcome = await deliverRecords(keyed(['a', 'b', 'c']), { ...noTimeLimit, send }, { limits: { ...FIREHOSE_LIMITS, maxRecords: 2 } });
    expect(send.mock.calls.map(([data]) => data)).toEqual([['a\n', 'b\n'], ['a\n', 'b\n'], ['b\n'], ['c\n']]);
    expect(outcome.delivered).toEqual([
      { key: 'k0', line: 'a', uncertain: true }, { key: 'k1', line: 'b', uncertain: true }, { key: 'k2', line: 'c', uncertain: false },
    ]);
  });

  test('does not retry errors another attempt cannot fix', async () => {
    const send = jest.fn(async () => { throw Object.assign(new Error('no such stream'), { name: 'ResourceNotFoundException', $fault: 'client' }); });
    const outcome = await deliverRecords(keyed(['a']), { ...noTimeLimit, send });
    expect(send).toHaveBeenCalledTimes(1);
    expect(outcome.deadLettered).toEqual([{ key: 'k0', line: 'a', reason: 'delivery-failed', error: 'ResourceNotFoundException' }]);
  });

  test('a missing answer for a record counts as a failure, never as a success', async () => {
    const send = jest.fn(async (data: readonly string[]) => (data.length === 2 ? [{}] : data.map(() => ({}))));
    const outcome = await deliverRecords(keyed(['a', 'b']), { ...noTimeLimit, send });
    expect(send).toHaveBeenNthCalledWith(2, ['b\n']);
    expect(outcome.delivered).toEqual([{ key: 'k0', line: 'a', uncertain: false }, { key: 'k1', line: 'b', uncertain: true }]);
  });

  test('stops retrying when the time left would not cover another attempt, and never sends inside the reserve', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 30_000 }), fc.integer({ min: 1, max: 20 }), fc.integer(), async (budget, batches, seed) => {
      let elapsed = 0;
      const reserveMs = 10_000;
      const remainingMs = () => reserveMs + budget - elapsed;
      const send = jest.fn(async (data: readonly string[]) => {
        expect(remainingMs()).toBeGreaterThanOrEqual(reserveMs);
        elapsed += 700;
        return data.map(() => ({ errorCode: 'ServiceUnavailableException' }));
      });
      const lines = Array.from({ length: batches * 2 }, (_, i) => `line-${i}`);
      const outcome = await deliverRecords(keyed(lines), {
        send, sleep: async (ms) => { elapsed += ms; }, random: prng(seed), remainingMs,
      }, { maxAttempts: 50, reserveMs, limits: { ...FIREHOSE_LIMITS, maxRecords: 2 } });
      expect(linesOf(outcome.deadLettered)).toEqual(lines);
      expect(elapsed).toBeLessThanOrEqual(budget + 700);
    }));
  });

  test('sets aside records that are too large without sending them', async () => {
    const send = jest.fn(async (data: readonly string[]) => data.map(() => ({})));
    const outcome = await deliverRecords(keyed(['x'.repeat(20), 'ok']), { ...noTimeLimit, send }, { limits: { maxRecords: 10, maxBatchBytes: 100, maxRecordBytes: 10 } });
    expect(send).toHaveBeenCalledWith(['ok\n']);
    expect(outcome.deadLettered).toEqual([{ key: 'k0', line: 'x'.repeat(20), reason: 'too-large' }]);
  });
});

type Unpacked = Omit<DeadLetter, 'key'>;

/** The lines in dead-letter bodies, fragments joined, each with its reason. */
function unpack(bodies: readonly DeadLetterBody[]): Unpacked[] {
  const out: Unpacked[] = [];
  const fragments = new Map<string, { base: DeadLetterMessage; parts: string[] }>();
  for (const { body, keys } of bodies) {
    const message = JSON.parse(body) as DeadLetterMessage;
    expect(message.failedAt).toBe(FAILED_AT);
    const meta = message.error === undefined ? { reason: message.reason } : { reason: message.reason, error: message.error };
    message.records.forEach((line) => out.push({ line, ...meta }));
    expect(keys).toHaveLength(message.fragment ? 1 : message.records.length);
    if (message.fragment) {
      expect(message.fragment.key).toBe(keys[0]);
      const entry = fragments.get(message.fragment.key) ?? { base: message, parts: new Array(message.fragment.count) };
      entry.parts[message.fragment.index] = message.fragment.text;
      fragments.set(message.fragment.key, entry);
    }
  }
  for (const { base, parts } of fragments.values()) {
    expect(parts.every((p) => typeof p === 'string')).toBe(true);
    out.push({ line: parts.join(''), ...(base.error === undefined ? { reason: base.reason } : { reason: base.reason, error: base.error }) });
  }
  return out;
}

const deadLetterArb = fc.record({
  line: fc.string({ unit: 'binary', maxLength: 400 }),
  reason: fc.constantFrom('too-large' as const, 'malformed' as const, 'delivery-failed' as const),
  error: fc.option(fc.constantFrom('ServiceUnavailableException', 'InternalFailure'), { nil: undefined }),
}).map((d) => (d.error === undefined ? { line: d.line, reason: d.reason } : d));

const withKeys = (deadLetters: readonly Unpacked[]): DeadLetter[] => deadLetters.map((d, i) => ({ key: `k${i}`, ...d }));
const key = (d: Unpacked) => JSON.stringify([d.reason, d.error ?? null, d.line]);

describe('dead-letter messages', () => {
  test('each body fits, and unpacking the bodies gives back exactly the dead-lettered lines with their reasons', () => {
    fc.assert(fc.property(fc.array(deadLetterArb, { maxLength: 40 }), fc.integer({ min: 300, max: 2000 }), (deadLetters, maxMessageBytes) => {
      const limits = { ...SQS_LIMITS, maxMessageBytes };
      const bodies = deadLetterMessages(withKeys(deadLetters), FAILED_AT, limits);
      bodies.forEach(({ body }) => {
        expect(utf8Bytes(body)).toBeLessThanOrEqual(maxMessageBytes);
        expect(body).not.toMatch(/[\uFFFE\uFFFF]/);
      });
      expect(unpack(bodies).map(key).sort()).toEqual(deadLetters.map(key).sort());
    }));
  });

  test('groups lines by reason in one message when they fit, in the documented shape', () => {
    const bodies = deadLetterMessages(withKeys([
      { line: '{"a":1}', reason: 'malformed' },
      { line: 'x', reason: 'delivery-failed', error: 'InternalFailure' },
      { line: 'not json', reason: 'malformed' },
    ]), FAILED_AT);
    expect(bodies.map((b) => b.keys)).toEqual([['k0', 'k2'], ['k1']]);
    expect(bodies.map((b) => JSON.parse(b.body))).toEqual([
      { reason: 'malformed', records: ['{"a":1}', 'not json'], failedAt: FAILED_AT },
      { reason: 'delivery-failed', error: 'InternalFailure', records: ['x'], failedAt: FAILED_AT },
    ]);
  });

  test('splits a line too long for one 256 KiB message into fragments', () => {
    const line = JSON.stringify({ recordType: 'modelship.inference', request: '"'.repeat(200_000) });
    const bodies = deadLetterMessages([{ key: 'k0', line, reason: 'too-large' }], FAILED_AT);
    expect(bodies.length).toBeGreaterThan(1);
    bodies.forEach((b) => expect(utf8Bytes(b.body)).toBeLessThanOrEqual(256 * 1024));
    expect(unpack(bodies)).toEqual([{ line, reason: 'too-large' }]);
    // The fragments are tied by the line's key, the same when a retry sends them again.
    expect(deadLetterMessages([{ key: 'k0', line, reason: 'too-large' }], '2026-11-02T10:03:00.000Z').map((b) => JSON.parse(b.body).fragment.key)).toEqual(bodies.map(() => 'k0'));
  });

  test('batches bodies by ten and by the call size limit, in order', () => {
    fc.assert(fc.property(fc.array(fc.string({ maxLength: 50 }), { maxLength: 60 }), fc.integer({ min: 50, max: 300 }), (texts, maxBatchBytes) => {
      const bodies = texts.map((body) => ({ body }));
      const batches = messageBatches(bodies, { ...SQS_LIMITS, maxBatchBytes });
      expect(batches.flat()).toEqual(bodies);
      batches.forEach((batch) => {
        expect(batch.length).toBeGreaterThan(0);
        expect(batch.length).toBeLessThanOrEqual(10);
        expect(batch.length === 1 || batch.reduce((s, b) => s + utf8Bytes(b.body), 0) <= maxBatchBytes).toBe(true);
      });
    }));
  });

  test('resends only failed entries until each message is sent exactly once, or answers which were not sent', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.string({ maxLength: 30 }), { maxLength: 40 }), fc.integer(), fc.double({ min: 0, max: 0.9, noNaN: true }), async (texts, seed, failure) => {
      const bodies = texts.map((t, i) => ({ body: `${i}:${t}`, keys: [`k${i}`] }));
      const random = prng(seed);
      const sent: string[] = [];
      const send = async (entries: readonly QueueEntry[]) => {
        expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
        expect(entries.length).toBeLessThanOrEqual(10);
        if (random() < failure / 3) {
          throw Object.assign(new Error('throttled'), { name: 'RequestThrottled', $fault: 'client' });
        }
        return entries.filter((e) => {
          const ok = random() >= failure;
          if (ok) {
            sent.push(e.body);
          }
          return !ok;
        }).map((e) => ({ id: e.id, code: 'InternalError' }));
      };
      const outcome = await sendDeadLetters(bodies, { send, sleep: async () => undefined, random });
      expect(sorted(sent)).toEqual(sorted(outcome.sent.map((b) => b.body)));
      expect(sorted([...outcome.sent, ...outcome.unsent].map((b) => b.body))).toEqual(sorted(bodies.map((b) => b.body)));
      expect(new Set(sent).size).toBe(sent.length);
      expect(outcome.uncertain.size).toBe(0);
    }), { numRuns: 200 });
  });

  test('answers the unsent messages and the last error when the queue keeps refusing', async () => {
    const sleeps: number[] = [];
    const send = jest.fn(async (entries: readonly QueueEntry[]) => entries.map((e) => ({ id: e.id, code: 'KMS.AccessDeniedException' })));
    const bodies = [{ body: 'a', keys: ['k0'] }, { body: 'b', keys: ['k1'] }];
    const outcome = await sendDeadLetters(bodies, { send, sleep: async (ms) => { sleeps.push(ms); }, random: () => 0.5 }, { maxAttempts: 3 });
    expect(outcome).toEqual({ calls: 3, sent: [], unsent: bodies, uncertain: new Set(), lastError: 'KMS.AccessDeniedException' });
    expect(sleeps).toEqual([50, 100]);
  });

  test('marks messages uncertain when a call carrying them went unanswered', async () => {
    const send = jest.fn()
      .mockRejectedValueOnce(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }))
      .mockResolvedValue([]);
    const bodies = [{ body: 'a', keys: ['k0'] }];
    const outcome = await sendDeadLetters(bodies, { send, sleep: async () => undefined, random: () => 0.5 });
    expect(outcome.sent).toEqual(bodies);
    expect([...outcome.uncertain]).toEqual(bodies);
  });
});

describe('recognizing record lines', () => {
  test.each([
    ['{"recordType":"modelship.inference","recordId":"1"}', true],
    ['{"recordType":"modelship.outcome"}', true],
    ['{"recordType":"other.inference"}', false],
    ['{"recordType":7}', false],
    ['["modelship.inference"]', false],
    ['"modelship.inference"', false],
    ['null', false],
    ['{"recordType":"modelship.inference"', false],
    ['START RequestId: 1234', false],
  ])('%s is a record: %s', (line, expected) => {
    expect(isRecordLine(line)).toBe(expected);
  });
});
