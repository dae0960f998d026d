import { createHash, createHmac } from 'crypto';
import { UNIT_BUCKETS } from '../../release/metric-queries';

/** What replaces a redacted field's value. */
export const REDACTED = '[REDACTED]';

/**
 * A copy of a JSON value with the value of every object field whose name is on the list
 * (compared case-insensitively, at any depth, inside arrays too) replaced by `[REDACTED]`.
 */
export function redact(value: unknown, fields: ReadonlySet<string>): unknown {
  if (fields.size === 0 || value === null || typeof value !== 'object') {
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((item) => redact(item, fields));
  }
  return Object.fromEntries(Object.entries(value).map(([name, item]) =>
    [name, fields.has(name.toLowerCase()) ? REDACTED : redact(item, fields)]));
}

/** The redaction list as `redact` wants it. */
export function redactionSet(fields: readonly string[]): ReadonlySet<string> {
  return new Set(fields.map((f) => f.toLowerCase()));
}

/**
 * Whether a record keeps its bodies: decided by a hash of the inference id, so the decision
 * is reproducible and the sampled share matches the rate.
 */
export function isSampled(inferenceId: string, rate: number): boolean {
  if (rate >= 1) {
    return true;
  }
  if (!(rate > 0)) {
    return false;
  }
  return createHash('sha256').update(inferenceId).digest().readUInt32BE(0) / 2 ** 32 < rate;
}

/** A body for the record: redacted, or left out when its JSON is longer than `maxBytes`. */
export interface RecordedBody {
  readonly body?: unknown;
  readonly truncated: boolean;
}

/** Redacts a body and keeps it if its JSON fits `maxBytes` (so a record stays under the log event limit). */
export function recordedBody(value: unknown, fields: ReadonlySet<string>, maxBytes: number): RecordedBody {
  const redacted = redact(value, fields);
  return Buffer.byteLength(JSON.stringify(redacted) ?? '') <= maxBytes ? { body: redacted, truncated: false } : { truncated: true };
}

/** A unit id as records carry it: keyed with the gateway's secret, so ids cannot be recovered by hashing guesses. */
export function unitHashOf(key: Uint8Array, unitId: string): string {
  return createHmac('sha256', key).update(`unit\n${unitId}`).digest('hex').slice(0, 32);
}

/**
 * The unit's bucket for the experiment metrics, 0 to `UNIT_BUCKETS` - 1: the first 32 bits of its
 * keyed hash (`unitHashOf`) modulo the bucket count (uniform: the count divides 2^32).
 * The keyed hash shares nothing with sticky assignment's salted hash, so a unit's bucket says
 * nothing about its variant and every bucket holds units of every variant.
 */
export function unitBucketOf(unitHash: string): number {
  return parseInt(unitHash.slice(0, 8), 16) % UNIT_BUCKETS;
}
