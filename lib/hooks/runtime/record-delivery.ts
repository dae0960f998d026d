/**
 * How the log shipper delivers record lines: batching for Firehose `PutRecordBatch`, a retry loop
 * that resends only the records that failed, and dead-letter messages for SQS. Pure: no SDK, no
 * environment, no clock; sending, sleeping, randomness and the time left are passed in.
 *
 * The guarantee: every line given to `deliverRecords` comes back exactly once, either in
 * `delivered` or in `deadLettered`. A record that Firehose accepted is never sent again; one
 * whose call went unanswered (a timeout, a short response) may have been stored, is sent again
 * so it cannot be lost, and comes back marked `uncertain`.
 */
import type { KeyedLine } from './delivery-ledger';

/** Names shared by the log shipper's EMF output and the construct's `metric*` methods. */
export const LOG_SHIPPER_METRICS = {
  namespace: 'Modelship',
  service: 'modelship-log-shipper',
  delivered: 'RecordsDelivered',
  deadLettered: 'RecordsDeadLettered',
  retries: 'DeliveryRetries',
  possibleDuplicates: 'RecordsPossiblyDuplicated',
  ledgerFailures: 'LedgerWriteFailures',
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
export interface DeadLetter extends KeyedLine {
  readonly reason: DeadLetterReason;
  /** The last error code (or thrown error name) Firehose answered with, for `delivery-failed`. */
  readonly error?: string;
  /** Set when a call that carried the line went unanswered: Firehose may have stored it. */
  readonly uncertain?: boolean;
}

/** A line Firehose accepted. */
export interface DeliveredLine extends KeyedLine {
  /** Set when an earlier call that carried the line went unanswered: Firehose may hold it twice. */
  readonly uncertain: boolean;
}

/** Firehose's answer for one record of a call, in the call's order (like `RequestResponses`). */
export interface RecordResult {
  /** Set when the record failed, e.g. `ServiceUnavailableException` or `InternalFailure`. */
  readonly errorCode?: string;
}

/** Sends (or ledger calls) per item when `RetryOptions.maxAttempts` is not given. */
export const DEFAULT_MAX_ATTEMPTS = 6;

/** Retry settings: exponential backoff with full jitter. */
export interface RetryOptions {
  /** Attempts per record (or dead-letter message, or ledger call), the first one included. @default 6 */
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
  /** Called with the lines of each batch Firehose accepted, once the batch is done. @default - nothing is called */
  readonly onBatchDelivered?: (delivered: readonly DeliveredLine[]) => Promise<void>;
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
  readonly delivered: readonly DeliveredLine[];
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
export function batchRecords<T extends KeyedLine>(lines: readonly T[], limits: BatchLimits = FIREHOSE_LIMITS): { batches: T[][]; tooLarge: T[] } {
  const size = (item: T) => utf8Bytes(recordData(item.line));
  return {
    batches: groupWithin(lines.filter((item) => size(item) <= limits.maxRecordBytes), size, limits.maxRecords, limits.maxBatchBytes),
    tooLarge: lines.filter((item) => size(item) > limits.maxRecordBytes),
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
 * Whether a thrown SDK error carries the service's answer, so the call surely took no effect:
 * a modelled service error has `$fault`, an HTTP answer a status code. A timeout or a lost
 * connection has neither: the call may have taken effect.
 */
export function serviceAnswered(error: unknown): boolean {
  const e = error as { $fault?: unknown; $metadata?: { httpStatusCode?: unknown } } | undefined;
  return e?.$fault !== undefined || e?.$metadata?.httpStatusCode !== undefined;
}

/**
 * Sends one batch, then only its failed records again with backoff until all are accepted, the
 * attempts run out, the error is permanent or the time left is too short.
 */
async function deliverBatch(
  batch: readonly KeyedLine[], deps: DeliveryDeps, options: DeliveryOptions, outcome: { delivered: DeliveredLine[]; deadLettered: DeadLetter[]; attempts: number; retries: number },
): Promise<void> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const reserveMs = options.reserveMs ?? 10_000;
  type Pending = { readonly item: KeyedLine; readonly error?: string; readonly uncertain: boolean };
  let pending: Pending[] = batch.map((item) => ({ item, uncertain: false }));
  const delivered: DeliveredLine[] = [];
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
      results = await deps.send(pending.map((p) => recordData(p.item.line)));
    } catch (error) {
      const unanswered = !serviceAnswered(error);
      pending = pending.map((p) => ({ item: p.item, error: errorName(error), uncertain: p.uncertain || unanswered }));
      continue;
    }
    const failed: Pending[] = [];
    pending.forEach((p, i) => {
      // A missing answer counts as an unanswered send: resending risks a duplicate, not a loss.
      const result = results[i];
      if (result === undefined) {
        failed.push({ item: p.item, error: 'NoResult', uncertain: true });
      } else if (result.errorCode) {
        failed.push({ item: p.item, error: result.errorCode, uncertain: p.uncertain });
      } else {
        delivered.push({ ...p.item, uncertain: p.uncertain });
      }
    });
    pending = failed;
  }
  outcome.delivered.push(...delivered);
  outcome.deadLettered.push(...pending.map((p): DeadLetter => ({
    ...p.item, reason: 'delivery-failed', error: p.error, ...(p.uncertain ? { uncertain: true } : {}),
  })));
  if (delivered.length > 0) {
    await deps.onBatchDelivered?.(delivered);
  }
}

/**
 * Delivers lines to Firehose in batches within its limits, retrying only failed records with
 * exponential backoff and full jitter. Each line ends up exactly once in `delivered` or in
 * `deadLettered`: too large, or still failing when attempts or time run out.
 */
export async function deliverRecords(lines: readonly KeyedLine[], deps: DeliveryDeps, options: DeliveryOptions = {}): Promise<DeliveryOutcome> {
  const { batches, tooLarge } = batchRecords(lines, options.limits ?? FIREHOSE_LIMITS);
  const outcome = {
    delivered: [] as DeliveredLine[],
    deadLettered: tooLarge.map((item): DeadLetter => ({ ...item, reason: 'too-large' })),
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

function fragmentsOf(line: string, key: string, base: Omit<DeadLetterMessage, 'records' | 'fragment'>, limits: QueueLimits): string[] {
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

/** One dead-letter message body and the keys of the lines it carries (or carries a fragment of). */
export interface DeadLetterBody {
  readonly body: string;
  readonly keys: readonly string[];
}

/**
 * Groups dead-lettered lines into message bodies of at most `maxMessageBytes`, one reason (and
 * error) per message, in order. A line too long for a message of its own is split into
 * fragments, tied together by the line's key (the same on every attempt).
 */
export function deadLetterMessages(deadLetters: readonly DeadLetter[], failedAt: string, limits: QueueLimits = SQS_LIMITS): DeadLetterBody[] {
  const groups = new Map<string, { base: Omit<DeadLetterMessage, 'records' | 'fragment'>; items: KeyedLine[] }>();
  for (const d of deadLetters) {
    const id = `${d.reason}\u0000${d.error ?? ''}`;
    const group = groups.get(id) ?? { base: d.error === undefined ? { reason: d.reason, failedAt } : { reason: d.reason, error: d.error, failedAt }, items: [] };
    group.items.push(d);
    groups.set(id, group);
  }
  const bodies: DeadLetterBody[] = [];
  for (const { base, items } of groups.values()) {
    let records: KeyedLine[] = [];
    const fits = (candidate: readonly KeyedLine[]) => utf8Bytes(messageBody({ ...base, records: candidate.map((r) => r.line) })) <= limits.maxMessageBytes;
    const flush = () => {
      if (records.length > 0) {
        bodies.push({ body: messageBody({ ...base, records: records.map((r) => r.line) }), keys: records.map((r) => r.key) });
        records = [];
      }
    };
    for (const item of items) {
      if (fits([...records, item])) {
        records.push(item);
        continue;
      }
      flush();
      if (fits([item])) {
        records.push(item);
      } else {
        bodies.push(...fragmentsOf(item.line, item.key, base, limits).map((body) => ({ body, keys: [item.key] })));
      }
    }
    flush();
  }
  return bodies;
}

/** Groups message bodies, in order, into `SendMessageBatch` calls within the limits. */
export function messageBatches<T extends { readonly body: string }>(bodies: readonly T[], limits: QueueLimits = SQS_LIMITS): T[][] {
  return groupWithin(bodies, (b) => utf8Bytes(b.body), limits.maxEntries, limits.maxBatchBytes);
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

/** What became of the dead-letter messages. */
export interface DeadLetterOutcome {
  /** Calls to `send`. */
  readonly calls: number;
  /** The messages the queue took. */
  readonly sent: readonly DeadLetterBody[];
  /** The messages it still refused after `maxAttempts`. */
  readonly unsent: readonly DeadLetterBody[];
  /** Messages carried by a call that went unanswered: the queue may hold them (once more, if sent later). */
  readonly uncertain: ReadonlySet<DeadLetterBody>;
  /** The last error code or thrown error name. */
  readonly lastError: string;
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

/** Sends dead-letter message bodies in batches, resending only failed entries with backoff, up to `maxAttempts` per batch. */
export async function sendDeadLetters(bodies: readonly DeadLetterBody[], deps: DeadLetterDeps, options: RetryOptions & { limits?: QueueLimits } = {}): Promise<DeadLetterOutcome> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const outcome = { calls: 0, sent: [] as DeadLetterBody[], unsent: [] as DeadLetterBody[], uncertain: new Set<DeadLetterBody>(), lastError: '' };
  for (const batch of messageBatches(bodies, options.limits ?? SQS_LIMITS)) {
    let pending = batch.map((message, i) => ({ id: `m${i}`, message }));
    for (let attempt = 1; pending.length > 0 && attempt <= maxAttempts; attempt++) {
      if (attempt > 1) {
        await deps.sleep(backoffDelay(attempt - 1, deps.random, options));
      }
      outcome.calls++;
      try {
        const failed = await deps.send(pending.map((p) => ({ id: p.id, body: p.message.body })));
        const failedIds = new Map(failed.map((f) => [f.id, f.code ?? 'Unknown']));
        outcome.lastError = [...new Set(failedIds.values())].join(', ');
        outcome.sent.push(...pending.filter((p) => !failedIds.has(p.id)).map((p) => p.message));
        pending = pending.filter((p) => failedIds.has(p.id));
      } catch (error) {
        outcome.lastError = errorName(error);
        if (!serviceAnswered(error)) {
          pending.forEach((p) => outcome.uncertain.add(p.message));
        }
      }
    }
    outcome.unsent.push(...pending.map((p) => p.message));
  }
  return outcome;
}
