/**
 * The log shipper's delivery ledger: which record lines were delivered or dead-lettered, so a
 * retried or replayed invocation sends none of them twice. Pure: no SDK, no environment, no
 * clock; the table, sleeping, randomness and the time are passed in.
 *
 * Each line has a stable key (its CloudWatch Logs event id, with the log group). Before a line
 * is sent, a conditional write claims it for the invocation's lifetime (a lease); after the
 * sink took it, its entry says where it went. A later invocation skips settled lines, leaves
 * lines leased by a live invocation alone, and takes over a lease that ran out: the invocation
 * that held it died or lost its answer, so the line may already have been sent, and is counted
 * as a possible duplicate when it is sent again. A claim names its invocation (the owner), so a
 * claim repeated after a lost answer finds its own entry and takes it as new: the line was not
 * sent yet.
 */
import { createHash } from 'crypto';
import { backoffDelay, DEFAULT_MAX_ATTEMPTS, RetryOptions } from './record-delivery';

/** The attribute names of a ledger entry; the construct keys the table and its TTL on them. */
export const LEDGER_ATTRIBUTES = {
  /** The line's key (partition key). */
  id: 'id',
  /** `sending`, `delivered` or `dead-lettered`. */
  state: 'state',
  /** While `sending`: the epoch milliseconds until which the claiming invocation may still run. */
  leaseUntil: 'leaseUntil',
  /** While `sending`: the id of the claiming invocation. */
  owner: 'owner',
  /** Epoch seconds after which DynamoDB deletes the entry (the table's TTL attribute). */
  expiresAt: 'expiresAt',
} as const;

/** Where a line went, once settled. */
export type SettledState = 'delivered' | 'dead-lettered';

/** A ledger entry as the table holds it. */
export type LedgerEntry =
  | { readonly state: 'sending'; readonly leaseUntil: number; readonly owner?: string }
  | { readonly state: SettledState };

/** A log line and its stable identity. */
export interface KeyedLine {
  readonly key: string;
  readonly line: string;
}

/** The key of a log event: a hash of its log group and event id, the same on every delivery of the event. */
export function lineKey(logGroup: string, eventId: string): string {
  return createHash('sha256').update(`${logGroup}\n${eventId}`).digest('hex');
}

/** The table, as the ledger logic needs it. */
export interface LedgerTable {
  /**
   * Writes `{ state: 'sending', leaseUntil, owner, expiresAt }` for the key if it has no entry,
   * or its lease ended before `now`, or `owner` holds it already. Answers whether it did, and the
   * entry found (replaced or not), or throws.
   */
  readonly claim: (key: string, lease: { readonly now: number; readonly leaseUntil: number; readonly owner: string; readonly expiresAt: number }) =>
  Promise<{ readonly claimed: boolean; readonly previous?: LedgerEntry }>;
  /**
   * Writes settled entries and deletes released claims (at most `LEDGER_WRITE_LIMIT` in all);
   * answers the keys that were not processed, or throws.
   */
  readonly write: (settled: readonly { readonly key: string; readonly state: SettledState; readonly expiresAt: number }[], released: readonly string[]) =>
  Promise<readonly string[]>;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
}

/** Items per `BatchWriteItem` call. */
export const LEDGER_WRITE_LIMIT = 25;

/** Claims sent at once. */
const CLAIM_CONCURRENCY = 16;

/** Settings of the ledger calls. */
export interface LedgerOptions extends RetryOptions {
  /** The time now, epoch milliseconds. */
  readonly now: number;
  /** How long after `now` the invocation may run: the claim's lease. */
  readonly leaseMs: number;
  /** How long entries are kept, in seconds. */
  readonly ttlSeconds: number;
  /** The claiming invocation's id, unique per invocation (a retried invocation gets a new one). */
  readonly owner: string;
}

/** What the ledger said about the lines of an invocation. */
export interface Claims<T extends KeyedLine> {
  /** Claimed for this invocation, not sent before. */
  readonly fresh: T[];
  /** Claimed from an invocation whose lease ran out: may have been sent before. */
  readonly takenOver: T[];
  /** Delivered or dead-lettered by an earlier invocation: skipped. */
  readonly settled: T[];
  /** Leased by an invocation that may still run, or not claimable while the ledger fails: left for a later attempt. */
  readonly pending: T[];
}

/** Runs `task` on every item with at most `limit` at once, keeping the results in order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Calls `attempt` until it answers, with backoff, at most `maxAttempts` times; the last error is thrown. */
async function withRetries<R>(attempt: () => Promise<R>, table: LedgerTable, options: RetryOptions): Promise<R> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= maxAttempts) {
        throw error;
      }
      await table.sleep(backoffDelay(i, table.random, options));
    }
  }
}

/** Claims every line (retrying the table's errors) and sorts them by what the ledger holds. */
export async function claimLines<T extends KeyedLine>(lines: readonly T[], table: LedgerTable, options: LedgerOptions): Promise<Claims<T>> {
  const lease = {
    now: options.now, leaseUntil: options.now + options.leaseMs, owner: options.owner, expiresAt: Math.ceil(options.now / 1000) + options.ttlSeconds,
  };
  const answers = await mapLimited(lines, CLAIM_CONCURRENCY, async (line) => {
    try {
      return await withRetries(() => table.claim(line.key, lease), table, options);
    } catch {
      return undefined;
    }
  });
  const claims: Claims<T> = { fresh: [], takenOver: [], settled: [], pending: [] };
  lines.forEach((line, i) => {
    const answer = answers[i];
    if (answer === undefined) {
      claims.pending.push(line);
    } else if (answer.claimed) {
      // Our own entry: an earlier attempt of this claim took effect but its answer was lost.
      const own = answer.previous?.state === 'sending' && answer.previous.owner === options.owner;
      (answer.previous === undefined || own ? claims.fresh : claims.takenOver).push(line);
    } else {
      (answer.previous?.state === 'sending' ? claims.pending : claims.settled).push(line);
    }
  });
  return claims;
}

/** A line's fate, to record in the ledger. */
export interface Settlement {
  readonly key: string;
  readonly state: SettledState;
}

/**
 * Records where lines went and releases the claims of lines that were surely not sent, in
 * batches, retrying unprocessed items. Answers the settlements that could not be written (their
 * claims stay, and run out with their lease) and how many releases could not.
 */
export async function settleLines(
  settled: readonly Settlement[], released: readonly string[], table: LedgerTable, options: LedgerOptions,
): Promise<{ readonly unsettled: Settlement[]; readonly unreleased: number }> {
  const expiresAt = Math.ceil(options.now / 1000) + options.ttlSeconds;
  const items = [
    ...settled.map((s) => ({ kind: 'settle' as const, key: s.key, state: s.state })),
    ...released.map((key) => ({ kind: 'release' as const, key })),
  ];
  const unsettled: Settlement[] = [];
  let unreleased = 0;
  for (let start = 0; start < items.length; start += LEDGER_WRITE_LIMIT) {
    let pending = items.slice(start, start + LEDGER_WRITE_LIMIT);
    try {
      await withRetries(async () => {
        const unprocessed = new Set(await table.write(
          pending.flatMap((item) => (item.kind === 'settle' ? [{ key: item.key, state: item.state, expiresAt }] : [])),
          pending.flatMap((item) => (item.kind === 'release' ? [item.key] : [])),
        ));
        pending = pending.filter((item) => unprocessed.has(item.key));
        if (pending.length > 0) {
          throw new Error(`${pending.length} ledger item(s) unprocessed`);
        }
      }, table, options);
    } catch {
      pending.forEach((item) => (item.kind === 'settle' ? unsettled.push({ key: item.key, state: item.state }) : unreleased++));
    }
  }
  return { unsettled, unreleased };
}
