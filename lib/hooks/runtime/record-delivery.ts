/**
 * How the log shipper delivers record lines: batching for Firehose `PutRecordBatch`, a retry loop
 * that resends only the records that failed, and dead-letter messages for SQS. Pure: no SDK, no
 * environment, no clock; sending, sleeping, randomness and the time left are passed in.
 *
 * The guarantee: every line given to `deliverRecords` comes back exactly once, either in
 * `delivered` or in `deadLettered`. A record that Firehose accepted is never sent again.
 */

/** Names shared by the log shipper's EMF output and the construct's `metric*` methods. */
export const LOG_SHIPPER_METRICS = {
  namespace: 'Modelship',
  service: 'modelship-log-shipper',
  delivered: 'RecordsDelivered',
  deadLettered: 'RecordsDeadLettered',
  retries: 'DeliveryRetries',
} as const;

const KIB = 1024;
const MIB = 1024 * KIB;

/** Firehose `PutRecordBatch` quotas: records per call, bytes per call, bytes per record. */
export interface BatchLimits {
  readonly maxRecords: number;
  readonly maxBatchBytes: number;
  readonly maxRecordBytes: number;
}

/** The quotas of `PutRecordBatch`: 500 records and 4 MiB per call, 1,000 KiB per record. */
export const FIREHOSE_LIMITS: BatchLimits = { maxRecords: 500, maxBatchBytes: 4 * MIB, maxRecordBytes: 1000 * KIB };

/** Why a line went to the dead-letter queue instead of Firehose. */
export type DeadLetterReason =
  /** Larger than one Firehose record may be. */
  | 'too-large'
  /** Not a JSON object with a `recordType` starting `modelship.`. */
  | 'malformed'
  /** Firehose refused it on every attempt, or there was no time left to try again. */
  | 'delivery-failed';

/** A line that was not delivered, and why. */
export interface DeadLetter {
  readonly line: string;
  readonly reason: DeadLetterReason;
  /** The last error code (or thrown error name) Firehose answered with, for `delivery-failed`. */
  readonly error?: string;
}

/** Firehose's answer for one record of a call, in the call's order (like `RequestResponses`). */
export interface RecordResult {
  /** Set when the record failed, e.g. `ServiceUnavailableException` or `InternalFailure`. */
  readonly errorCode?: string;
}

/** Retry settings: exponential backoff with full jitter. */
export interface RetryOptions {
  /** Sends per record (or per dead-letter message), the first one included. @default 6 */
  readonly maxAttempts?: number;
  /** The ceiling of the first delay, doubled for every further attempt. @default 100 */
  readonly baseDelayMs?: number;
  /** The largest ceiling. @default 5000 */
  readonly maxDelayMs?: number;
}

/** How the delivery loop reaches the world. */
export interface DeliveryDeps {
  /** Sends one batch of record data (each a line plus '\n'); answers per record, or throws. */
  readonly send: (data: readonly string[]) => Promise<readonly RecordResult[]>;
  /** Waits the given milliseconds. */
  readonly sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1), for jitter. */
  readonly random: () => number;
  /** Milliseconds left before the function times out. */
  readonly remainingMs: () => number;
}

/** Settings of the delivery loop. */
export interface DeliveryOptions extends RetryOptions {
  /**
   * The time that must be left, after a backoff delay, to send again: enough for one more call
   * and for dead-lettering what still fails. Below it, failures are dead-lettered at once.
   * @default 10000
   */
  readonly reserveMs?: number;
  /** The batch and record limits to group records by. @default FIREHOSE_LIMITS */
  readonly limits?: BatchLimits;
}

/** What became of the lines given to `deliverRecords`. */
export interface DeliveryOutcome {
  /** The lines Firehose accepted, each once. */
  readonly delivered: readonly string[];
  /** The lines that were not delivered, each once. */
  readonly deadLettered: readonly DeadLetter[];
  /** Calls to `send`. */
  readonly attempts: number;
  /** Records sent again after a failure. */
  readonly retries: number;
}

/** Thrown errors that another attempt cannot fix. */
const PERMANENT_ERRORS = new Set(['ResourceNotFoundException', 'InvalidArgumentException', 'AccessDeniedException']);

/** The UTF-8 size of a string in bytes. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The Firehose record data for a line: the line and a newline, so the S3 objects are JSON Lines. */
export function recordData(line: string): string {
  return `${line}\n`;
}

/**
 * Whether a line is a gateway record: a JSON object whose `recordType` starts with `modelship.`.
 * Anything else is dead-lettered as 'malformed' rather than stored.
 */
export function isRecordLine(line: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return false;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return false;
  }
  const recordType = (parsed as Record<string, unknown>).recordType;
  return typeof recordType === 'string' && recordType.startsWith('modelship.');
}

/**
 * Splits items, in order, into consecutive groups of at most `maxCount` items and `maxBytes`
 * bytes (an item larger than `maxBytes` alone makes a group of its own).
 */
function groupWithin<T>(items: readonly T[], sizeOf: (item: T) => number, maxCount: number, maxBytes: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (const item of items) {
    const bytes = sizeOf(item);
    if (current.length > 0 && (current.length >= maxCount || currentBytes + bytes > maxBytes)) {
      groups.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(item);
    currentBytes += bytes;
  }
  if (current.length > 0) {
    groups.push(current);
  }
  return groups;
}

/**
 * Splits lines, in order, into batches within the limits. A line whose record data is larger
 * than one record may be is set aside, not batched.
 */
export function batchRecords(lines: readonly string[], limits: BatchLimits = FIREHOSE_LIMITS): { batches: string[][]; tooLarge: string[] } {
  const size = (line: string) => utf8Bytes(recordData(line));
  const fits = lines.filter((line) => size(line) <= limits.maxRecordBytes);
  return {
    batches: groupWithin(fits, size, limits.maxRecords, limits.maxBatchBytes),
    tooLarge: lines.filter((line) => size(line) > limits.maxRecordBytes),
  };
}

/** The largest delay before the given retry (1 = the first retry): base × 2^(retry−1), capped. */
export function backoffCeiling(retry: number, options: RetryOptions = {}): number {
  const base = options.baseDelayMs ?? 100;
  const cap = options.maxDelayMs ?? 5000;
  return Math.min(cap, base * 2 ** Math.max(0, retry - 1));
}

/** The delay before the given retry, with full jitter: uniform in [0, ceiling). */
export function backoffDelay(retry: number, random: () => number, options: RetryOptions = {}): number {
  return Math.floor(random() * backoffCeiling(retry, options));
}

function errorName(error: unknown): string {
  return (error as Error | undefined)?.name ?? 'Error';
}

/**
 * Sends one batch, then only its failed records again with backoff until all are accepted, the
 * attempts run out, the error is permanent or the time left is too short.
 */
async function deliverBatch(
  batch: readonly string[], deps: DeliveryDeps, options: DeliveryOptions, outcome: { delivered: string[]; deadLettered: DeadLetter[]; attempts: number; retries: number },
): Promise<void> {
  const maxAttempts = options.maxAttempts ?? 6;
  const reserveMs = options.reserveMs ?? 10_000;
  let pending: { line: string; error?: string }[] = batch.map((line) => ({ line }));
  for (let attempt = 1; pending.length > 0; attempt++) {
    if (attempt > 1) {
      const delay = backoffDelay(attempt - 1, deps.random, options);
      const permanent = pending.some((p) => p.error !== undefined && PERMANENT_ERRORS.has(p.error));
      if (attempt > maxAttempts || permanent || deps.remainingMs() - delay < reserveMs) {
        break;
      }
      await deps.sleep(delay);
      outcome.retries += pending.length;
    } else if (deps.remainingMs() < reserveMs) {
      pending = pending.map((p) => ({ ...p, error: 'NoTimeLeft' }));
      break;
    }
    outcome.attempts++;
    let results: readonly RecordResult[];
    try {
      results = await deps.send(pending.map((p) => recordData(p.line)));
    } catch (error) {
      pending = pending.map((p) => ({ line: p.line, error: errorName(error) }));
      continue;
    }
    const failed: { line: string; error: string }[] = [];
    pending.forEach((p, i) => {
      // A missing answer counts as a failure: resending risks a duplicate, not a loss.
      const result = results[i];
      if (result === undefined || result.errorCode) {
        failed.push({ line: p.line, error: result?.errorCode ?? 'NoResult' });
      } else {
        outcome.delivered.push(p.line);
      }
    });
    pending = failed;
  }
  outcome.deadLettered.push(...pending.map((p) => ({ line: p.line, reason: 'delivery-failed' as const, error: p.error })));
}

/**
 * Delivers lines to Firehose in batches within its limits, retrying only failed records with
 * exponential backoff and full jitter. Each line ends up exactly once in `delivered` or in
 * `deadLettered`: too large, or still failing when attempts or time run out.
 */
export async function deliverRecords(lines: readonly string[], deps: DeliveryDeps, options: DeliveryOptions = {}): Promise<DeliveryOutcome> {
  const { batches, tooLarge } = batchRecords(lines, options.limits ?? FIREHOSE_LIMITS);
  const outcome = {
    delivered: [] as string[],
    deadLettered: tooLarge.map((line): DeadLetter => ({ line, reason: 'too-large' })),
    attempts: 0,
    retries: 0,
  };
  for (const batch of batches) {
    await deliverBatch(batch, deps, options, outcome);
  }
  return outcome;
}

/** SQS quotas: bytes per message body, bytes per `SendMessageBatch` call, entries per call. */
export interface QueueLimits {
  readonly maxMessageBytes: number;
  readonly maxBatchBytes: number;
  readonly maxEntries: number;
}

/**
 * 256 KiB per message and per call (the classic SQS quotas, which stay valid where larger
 * messages are allowed), 10 entries per call.
 */
export const SQS_LIMITS: QueueLimits = { maxMessageBytes: 256 * KIB, maxBatchBytes: 256 * KIB, maxEntries: 10 };

/**
 * One dead-letter message body. Lines too long for one message travel in `fragment`s instead
 * of `records`: join `text` of the fragments with the same `key` in `index` order.
 */
export interface DeadLetterMessage {
  readonly reason: DeadLetterReason;
  readonly error?: string;
  readonly records: string[];
  readonly failedAt: string;
  readonly fragment?: { readonly key: string; readonly index: number; readonly count: number; readonly text: string };
}

/** The message as JSON in the documented key order, which SQS accepts: the two non-characters it rejects are escaped like control characters. */
function messageBody(message: DeadLetterMessage): string {
  const { reason, error, records, failedAt, fragment } = message;
  const ordered = { reason, ...(error === undefined ? {} : { error }), records, failedAt, ...(fragment ? { fragment } : {}) };
  return JSON.stringify(ordered).replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** FNV-1a of a line, to tie its fragments together. */
function fragmentKey(line: string, failedAt: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < line.length; i++) {
    hash = Math.imul(hash ^ line.charCodeAt(i), 0x01000193) >>> 0;
  }
  return `${failedAt}-${line.length}-${hash.toString(16).padStart(8, '0')}`;
}

/** The longest prefix of `text` (not splitting a surrogate pair) whose message fits. */
function fittingPrefix(text: string, fits: (prefix: string) => boolean): number {
  let low = 1;
  let high = text.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(text.slice(0, mid))) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  const code = text.charCodeAt(low - 1);
  return low > 1 && low < text.length && code >= 0xd800 && code <= 0xdbff ? low - 1 : low;
}

function fragmentsOf(line: string, base: Omit<DeadLetterMessage, 'records' | 'fragment'>, limits: QueueLimits): string[] {
  const key = fragmentKey(line, base.failedAt);
  const texts: string[] = [];
  let rest = line;
  // Fragment counts are at most a few digits: reserve room for them when measuring.
  const probe = (text: string) => utf8Bytes(messageBody({ ...base, records: [], fragment: { key, index: 99999, count: 99999, text } })) <= limits.maxMessageBytes;
  while (rest.length > 0) {
    const size = fittingPrefix(rest, probe);
    texts.push(rest.slice(0, size));
    rest = rest.slice(size);
  }
  return texts.map((text, index) => messageBody({ ...base, records: [], fragment: { key, index, count: texts.length, text } }));
}

/**
 * Groups dead-lettered lines into message bodies of at most `maxMessageBytes`, one reason (and
 * error) per message, in order. A line too long for a message of its own is split into fragments.
 */
export function deadLetterMessages(deadLetters: readonly DeadLetter[], failedAt: string, limits: QueueLimits = SQS_LIMITS): string[] {
  const groups = new Map<string, { base: Omit<DeadLetterMessage, 'records' | 'fragment'>; lines: string[] }>();
  for (const d of deadLetters) {
    const id = `${d.reason}\u0000${d.error ?? ''}`;
    const group = groups.get(id) ?? { base: d.error === undefined ? { reason: d.reason, failedAt } : { reason: d.reason, error: d.error, failedAt }, lines: [] };
    group.lines.push(d.line);
    groups.set(id, group);
  }
  const bodies: string[] = [];
  for (const { base, lines } of groups.values()) {
    let records: string[] = [];
    const flush = () => {
      if (records.length > 0) {
        bodies.push(messageBody({ ...base, records }));
        records = [];
      }
    };
    for (const line of lines) {
      if (utf8Bytes(messageBody({ ...base, records: [...records, line] })) <= limits.maxMessageBytes) {
        records.push(line);
        continue;
      }
      flush();
      if (utf8Bytes(messageBody({ ...base, records: [line] })) <= limits.maxMessageBytes) {
        records.push(line);
      } else {
        bodies.push(...fragmentsOf(line, base, limits));
      }
    }
    flush();
  }
  return bodies;
}

/** Groups message bodies, in order, into `SendMessageBatch` calls within the limits. */
export function messageBatches(bodies: readonly string[], limits: QueueLimits = SQS_LIMITS): string[][] {
  return groupWithin(bodies, utf8Bytes, limits.maxEntries, limits.maxBatchBytes);
}

/** One `SendMessageBatch` entry. */
export interface QueueEntry {
  /** Unique within the call. */
  readonly id: string;
  readonly body: string;
}

/** How the dead-letter loop reaches the world. */
export interface DeadLetterDeps {
  /** Sends one batch; answers the ids of the entries that failed, with their codes, or throws. */
  readonly send: (entries: readonly QueueEntry[]) => Promise<readonly { readonly id: string; readonly code?: string }[]>;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
}

/** The dead-letter queue refused messages on every attempt: the caller's retries take over. */
export class DeadLetterError extends Error {
  /** How many messages were not sent. */
  public readonly unsent: number;
  constructor(unsent: number, lastError: string) {
    super(`Could not send ${unsent} dead-letter message(s) after retries: ${lastError}`);
    this.name = 'DeadLetterError';
    this.unsent = unsent;
  }
}

/**
 * Sends dead-letter message bodies in batches, resending only failed entries with backoff.
 * Throws `DeadLetterError` when some still fail after `maxAttempts`. Returns the number of calls.
 */
export async function sendDeadLetters(bodies: readonly string[], deps: DeadLetterDeps, options: RetryOptions & { limits?: QueueLimits } = {}): Promise<number> {
  const maxAttempts = options.maxAttempts ?? 6;
  let calls = 0;
  for (const batch of messageBatches(bodies, options.limits ?? SQS_LIMITS)) {
    let pending: QueueEntry[] = batch.map((body, i) => ({ id: `m${i}`, body }));
    let lastError = '';
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > maxAttempts) {
        throw new DeadLetterError(pending.length, lastError);
      }
      if (attempt > 1) {
        await deps.sleep(backoffDelay(attempt - 1, deps.random, options));
      }
      calls++;
      try {
        const failed = await deps.send(pending);
        const failedIds = new Map(failed.map((f) => [f.id, f.code ?? 'Unknown']));
        lastError = [...new Set(failedIds.values())].join(', ');
        pending = pending.filter((entry) => failedIds.has(entry.id));
      } catch (error) {
        lastError = errorName(error);
      }
    }
  }
  return calls;
}
