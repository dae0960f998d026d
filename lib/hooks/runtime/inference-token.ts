import { createHmac, timingSafeEqual } from 'crypto';
import { UNIT_BUCKETS } from '../../release/metric-queries';

/**
 * Inference ids the gateway issues and later accepts outcomes for. An id is
 * `m3.<key version>.<issued at, base-36 seconds>.<nonce>.<cohort>.<signature>`: all but the
 * signature are the `captureId` sent to SageMaker as `InferenceId` (at most 40 of SageMaker's 64
 * characters: 3 + 7 for the key version, 10 for the time, 17 for the nonce, 3 for the cohort, so
 * it also names the data-capture record), and the signature is an HMAC-SHA256 (128 bits) with
 * the id key of the key version named, over the endpoint, the variant that served the
 * prediction and the capture id, so it covers the key version and the cohort too. The cohort is
 * `u<bucket>` for a request assigned by its unit (the unit's bucket, 0 to `UNIT_BUCKETS` - 1),
 * `o` for a caller's override and `w` for a weighted draw.
 *
 * Ids of earlier versions, `m2.<issued at>.<nonce>.<cohort>.<signature>` and
 * `m1.<issued at>.<nonce>.<signature>` (no cohort: `unknown`), carry no key version: they were
 * signed with the text of the secret's first version (`legacy`) and verify while the gateway
 * holds it and they are inside the outcome window. Nothing is stored when an id is issued; an
 * outcome proves its id by the signature. Pure: the keys, nonce and time come in.
 */

const VERSION = 'm3';
const SIGNATURE_BYTES = 16;
const ID = /^(?:(m1|m2)|m3\.(0|[1-9a-z][0-9a-z]{0,5}))\.([0-9a-z]{1,9})\.([A-Za-z0-9_-]{16})(?:\.(u(?:0|[1-9][0-9]?)|o|w))?\.([A-Za-z0-9_-]{22})$/;

/** The largest key version an id can carry: six base-36 digits. */
export const MAX_KEY_VERSION = 36 ** 6 - 1;

/** The key an id names: a key version, or `legacy` for the `m1`/`m2` ids signed before ids carried one. */
export type KeyReference = number | 'legacy';

/** The keys that verify ids: the one for a reference, or undefined when it is not held. */
export interface VerifyingKeys {
  verifyingKey(reference: KeyReference): Uint8Array | undefined;
}

/** The number of random bytes in a nonce. */
export const NONCE_BYTES = 12;

/** How a request was assigned its variant, as an id carries it: sticky requests with their unit's bucket. */
export type Cohort =
  | { readonly assignment: 'sticky'; readonly unitBucket: number }
  | { readonly assignment: 'override' }
  | { readonly assignment: 'weighted' };

/** The cohort of a verified id: `unknown` for an `m1` id, issued before ids carried one. */
export type VerifiedCohort = Cohort | { readonly assignment: 'unknown' };

function cohortPart(cohort: Cohort): string {
  switch (cohort.assignment) {
    case 'sticky':
      if (!(Number.isInteger(cohort.unitBucket) && cohort.unitBucket >= 0 && cohort.unitBucket < UNIT_BUCKETS)) {
        throw new Error(`A unit bucket must be a whole number from 0 to ${UNIT_BUCKETS - 1}, got ${cohort.unitBucket}`);
      }
      return `u${cohort.unitBucket}`;
    case 'override':
      return 'o';
    case 'weighted':
      return 'w';
  }
}

function cohortOf(part: string | undefined): VerifiedCohort | undefined {
  if (part === undefined) {
    return { assignment: 'unknown' };
  }
  if (part === 'o') {
    return { assignment: 'override' };
  }
  if (part === 'w') {
    return { assignment: 'weighted' };
  }
  const unitBucket = Number(part.slice(1));
  return unitBucket < UNIT_BUCKETS ? { assignment: 'sticky', unitBucket } : undefined;
}

/** The id to send SageMaker as `InferenceId`, before the variant is known, for ids signed with the key version given. */
export function captureIdOf(keyVersion: number, issuedAtSeconds: number, nonce: Uint8Array, cohort: Cohort): string {
  if (nonce.length !== NONCE_BYTES) {
    throw new Error(`A nonce must have ${NONCE_BYTES} bytes, got ${nonce.length}`);
  }
  if (!(Number.isInteger(keyVersion) && keyVersion >= 0 && keyVersion <= MAX_KEY_VERSION)) {
    throw new Error(`A key version must be a whole number from 0 to ${MAX_KEY_VERSION}, got ${keyVersion}`);
  }
  return `${VERSION}.${keyVersion.toString(36)}.${Math.floor(issuedAtSeconds).toString(36)}.${Buffer.from(nonce).toString('base64url')}.${cohortPart(cohort)}`;
}

function signature(key: Uint8Array, endpointName: string, variant: string, captureId: string): Buffer {
  return createHmac('sha256', key).update(`${endpointName}\n${variant}\n${captureId}`).digest().subarray(0, SIGNATURE_BYTES);
}

/** The inference id returned to the caller: the capture id signed for the endpoint and the variant that served it. */
export function signInferenceId(key: Uint8Array, endpointName: string, variant: string, captureId: string): string {
  return `${captureId}.${signature(key, endpointName, variant, captureId).toString('base64url')}`;
}

/** An id the gateway issued. */
export interface VerifiedInference {
  readonly ok: true;
  readonly captureId: string;
  readonly variant: string;
  readonly issuedAtSeconds: number;
  /** How the prediction was assigned its variant, as signed into the id. */
  readonly cohort: VerifiedCohort;
}

/** An id the gateway refuses, and why. */
export interface RejectedInference {
  readonly ok: false;
  /**
   * `malformed`: not an id at all; `unknown-key`: names a key the gateway does not hold (never, or no longer);
   * `forged`: no variant's signature matches; `expired`: older than the outcome window; `future`: issued later than now.
   */
  readonly reason: 'malformed' | 'unknown-key' | 'forged' | 'expired' | 'future';
  /** For `unknown-key`: the key the id names. */
  readonly key?: KeyReference;
}

/** Where to look for the id's variant and how long outcomes are accepted. */
export interface VerifyOptions {
  readonly endpointName: string;
  /** The variants that may have served it; the signature names exactly one. */
  readonly variants: readonly string[];
  readonly nowSeconds: number;
  readonly windowSeconds: number;
  /** Clock skew tolerated for ids that look issued in the future. @default 300 */
  readonly skewSeconds?: number;
}

/** Checks that the gateway holds the key an inference id names, then the id's signature against each variant, then its age. */
export function verifyInferenceId(keys: VerifyingKeys, inferenceId: string, options: VerifyOptions): VerifiedInference | RejectedInference {
  const match = ID.exec(inferenceId);
  // An m1 id carries no cohort; m2 and m3 ids always do.
  const cohort = match && (match[1] === 'm1') === (match[5] === undefined) ? cohortOf(match[5]) : undefined;
  if (!match || cohort === undefined) {
    return { ok: false, reason: 'malformed' };
  }
  const reference: KeyReference = match[2] === undefined ? 'legacy' : parseInt(match[2], 36);
  const key = keys.verifyingKey(reference);
  if (key === undefined) {
    return { ok: false, reason: 'unknown-key', key: reference };
  }
  const captureId = inferenceId.slice(0, inferenceId.lastIndexOf('.'));
  // Compared as text: base64 decoding ignores the last character's spare bits, so comparing
  // decoded bytes would accept several spellings of one signature.
  const presented = Buffer.from(match[6]);
  const variant = options.variants.find((v) =>
    timingSafeEqual(Buffer.from(signature(key, options.endpointName, v, captureId).toString('base64url')), presented));
  if (variant === undefined) {
    return { ok: false, reason: 'forged' };
  }
  const issuedAtSeconds = parseInt(match[3], 36);
  if (issuedAtSeconds > options.nowSeconds + (options.skewSeconds ?? 300)) {
    return { ok: false, reason: 'future' };
  }
  if (options.nowSeconds - issuedAtSeconds > options.windowSeconds) {
    return { ok: false, reason: 'expired' };
  }
  return { ok: true, captureId, variant, issuedAtSeconds, cohort };
}
