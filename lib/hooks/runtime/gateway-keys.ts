import { hkdfSync } from 'crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod/mini';
import { KeyReference, RejectedInference, VerifiedInference, verifyInferenceId, VerifyingKeys, VerifyOptions } from './inference-token';
import type { RefreshingValue } from './refreshing-value';


/**
 * The gateway's keys, kept in one Secrets Manager secret whose versions rotate. A version is
 * either the value CloudFormation generated (a plain string: key version 0, the key of the
 * `m1`/`m2` ids issued before ids carried a key version) or JSON the rotation function wrote:
 * `{ "keyVersion": n, "idRoot": "...", "unitRoot": "..." }`.
 *
 * Two keys come from a version, each for one purpose:
 * - id signatures: HKDF-SHA256 of the version's `idRoot` with the label `ID_KEY_LABEL`; a new
 *   `idRoot` with every rotation;
 * - unit hashes (records and unit buckets): the `unitRoot`, used in `unitHashOf`'s labelled HMAC.
 *   It is the first version's root and every rotation copies it unchanged, so a rotation never
 *   moves a unit to another bucket (sticky assignment itself uses the assignment salt, no key).
 * Pure, except `loadKeyRing`, which reads the secret, and `verifyWithKeys`, which may.
 */

/** The HKDF label of the key that signs inference ids. */
export const ID_KEY_LABEL = 'modelship/inference-id-signature/v3';

/** Random bytes in a rotated version's `idRoot`. */
export const ROOT_BYTES = 32;

/** The least time between two reads of the keys asked for by ids signed with a newer key than those held. */
export const KEY_RELOAD_INTERVAL_MS = 1000;

/** One version of the gateway's key secret. */
export interface GatewayKey {
  /** 0 for the value CloudFormation generated, one more with each rotation. */
  readonly keyVersion: number;
  /** This version's material for id signatures. */
  readonly idRoot: string;
  /** The material of unit hashes: the first version's, the same in every version. */
  readonly unitRoot: string;
}

const rotated = z.object({
  keyVersion: z.number().check(z.int(), z.positive()),
  idRoot: z.string().check(z.minLength(1)),
  unitRoot: z.string().check(z.minLength(1)),
});

/** Reads a version of the secret; throws on a value that is neither a generated string nor a rotated version. */
export function parseGatewayKey(secretString: string): GatewayKey {
  if (secretString.length === 0) {
    throw new Error('The gateway key secret is empty');
  }
  if (!secretString.startsWith('{')) {
    return { keyVersion: 0, idRoot: secretString, unitRoot: secretString };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new Error('The gateway key secret holds text that starts like JSON but is not JSON');
  }
  const result = rotated.safeParse(parsed);
  if (!result.success) {
    throw new Error(`The gateway key secret is not a key version: ${result.error.issues.map((i) => `'${i.path.join('.')}' ${i.message}`).join('; ')}`);
  }
  return result.data;
}

/** A version as the secret stores it. */
export function formatGatewayKey(key: GatewayKey): string {
  return JSON.stringify({ keyVersion: key.keyVersion, idRoot: key.idRoot, unitRoot: key.unitRoot });
}

/** The version a rotation creates: the next key version, a new id root from `random`, the same unit root. */
export function nextGatewayKey(current: GatewayKey, random: Uint8Array): GatewayKey {
  if (random.length !== ROOT_BYTES) {
    throw new Error(`A key root must have ${ROOT_BYTES} random bytes, got ${random.length}`);
  }
  return { keyVersion: current.keyVersion + 1, idRoot: Buffer.from(random).toString('base64url'), unitRoot: current.unitRoot };
}

/** The key that signs (and verifies) the `m3` ids of a version. */
export function idSigningKey(key: GatewayKey): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(key.idRoot, 'utf8'), Buffer.alloc(0), ID_KEY_LABEL, 32));
}

/** The key of unit hashes (`unitHashOf`): the same for every version of the secret. */
export function unitHashKey(key: GatewayKey): Buffer {
  return Buffer.from(key.unitRoot, 'utf8');
}

/** The key an id is signed with, and its version. */
export interface SigningKey {
  readonly keyVersion: number;
  readonly key: Buffer;
}

/**
 * The keys a gateway holds: the secret's current version (signs new ids) and its previous
 * one (still verifies the ids it signed, during the grace period after a rotation).
 */
export class GatewayKeyRing implements VerifyingKeys {
  /** Signs new ids. */
  public readonly signing: SigningKey;
  /** Hashes unit ids. */
  public readonly unitKey: Buffer;
  /** The newest key version held. */
  public readonly newestVersion: number;
  private readonly idKeys: ReadonlyMap<number, Buffer>;
  private readonly legacyKey?: Buffer;

  constructor(current: GatewayKey, previous?: GatewayKey) {
    // A previous version that is not older (a secret set by hand) is ignored: the current one decides.
    const held = [...(previous && previous.keyVersion < current.keyVersion ? [previous] : []), current];
    this.idKeys = new Map(held.map((k) => [k.keyVersion, idSigningKey(k)]));
    const generated = held.find((k) => k.keyVersion === 0);
    this.legacyKey = generated && Buffer.from(generated.idRoot, 'utf8');
    this.signing = { keyVersion: current.keyVersion, key: this.idKeys.get(current.keyVersion)! };
    this.unitKey = unitHashKey(current);
    this.newestVersion = current.keyVersion;
  }

  /** The key that verifies an id signed with the version named, if held: the generated value's own text for `m1`/`m2` ids. */
  public verifyingKey(reference: KeyReference): Uint8Array | undefined {
    return reference === 'legacy' ? this.legacyKey : this.idKeys.get(reference);
  }
}

/** Reads the secret's current and previous versions (there is no previous one before the first rotation). */
export async function loadKeyRing(client: SecretsManagerClient, secretId: string): Promise<GatewayKeyRing> {
  const read = (stage: 'AWSCURRENT' | 'AWSPREVIOUS') => client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }));
  const [current, previous] = await Promise.all([
    read('AWSCURRENT'),
    read('AWSPREVIOUS').catch((error: unknown) => {
      if ((error as Error).name === 'ResourceNotFoundException') {
        return undefined;
      }
      throw error;
    }),
  ]);
  if (!current.SecretString) {
    throw new Error(`The gateway key secret ${secretId} has no string value`);
  }
  return new GatewayKeyRing(parseGatewayKey(current.SecretString), previous?.SecretString ? parseGatewayKey(previous.SecretString) : undefined);
}

/**
 * Verifies an inference id with the keys held, reading them again first when the id names the
 * key version after the newest held: a rotation this container has not seen yet (another
 * container signed with the new key). That read must start after the id arrived
 * (`arrivedAtMs`); reads are shared and paced, so forged versions cost at most one read per
 * interval, and any other version not held is refused at once. Throws when the keys cannot be read.
 */
export async function verifyWithKeys(
  keys: RefreshingValue<GatewayKeyRing>, inferenceId: string, options: VerifyOptions, arrivedAtMs: number,
): Promise<VerifiedInference | RejectedInference> {
  const ring = await keys.get();
  const verified = verifyInferenceId(ring, inferenceId, options);
  if (!verified.ok && verified.reason === 'unknown-key' && verified.key === ring.newestVersion + 1) {
    return verifyInferenceId(await keys.loadedSince(arrivedAtMs), inferenceId, options);
  }
  return verified;
}
