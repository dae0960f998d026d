import {
  DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { formatGatewayKey, GatewayKey, GatewayKeyRing, nextGatewayKey, parseGatewayKey, ROOT_BYTES } from './gateway-keys';
import { captureIdOf, NONCE_BYTES, signInferenceId, verifyInferenceId } from './inference-token';

/**
 * The rotation of the gateway's key secret, one Secrets Manager step per call. Secrets Manager
 * may call each step more than once (a retried invocation, a rotation re-attempted with the
 * same token after a failure), so each step first looks at what is already there:
 * - `createSecret`: puts the next version (`nextGatewayKey`) under the token as `AWSPENDING`,
 *   unless a version with that token exists;
 * - `setSecret`: nothing (no other system holds the key);
 * - `testSecret`: the pending version follows the current one (next key version, same unit
 *   root, a new id root) and an id signed with it verifies with a ring of both;
 * - `finishSecret`: moves `AWSCURRENT` to the token's version (Secrets Manager labels the
 *   version it leaves `AWSPREVIOUS`, which keeps verifying the ids it signed).
 * A step for a token that is already `AWSCURRENT` does nothing.
 */

/** The steps of a rotation, in the order Secrets Manager calls them. */
export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

/** A rotation step as Secrets Manager sends it. */
export interface RotationEvent {
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly Step: (typeof ROTATION_STEPS)[number];
}

/** The event if it is a rotation step; throws naming what is wrong. */
export function parseRotationEvent(event: unknown): RotationEvent {
  const value = (event ?? {}) as Record<string, unknown>;
  const problems = ['SecretId', 'ClientRequestToken'].filter((field) => !(typeof value[field] === 'string' && value[field] !== ''))
    .map((field) => `'${field}' must be a non-empty string`);
  if (!ROTATION_STEPS.includes(value.Step as RotationEvent['Step'])) {
    problems.push(`'Step' must be one of ${ROTATION_STEPS.join(', ')}, got ${JSON.stringify(value.Step)?.slice(0, 64)}`);
  }
  if (problems.length > 0) {
    throw new Error(`Not a rotation step: ${problems.join('; ')}`);
  }
  return value as unknown as RotationEvent;
}

/** What a step did. */
export type StepResult = 'created' | 'already-created' | 'set' | 'tested' | 'finished' | 'already-current';

/** The version of the secret with the stage given, parsed; undefined when there is none. */
async function versionAt(client: SecretsManagerClient, secretId: string, stage: string, versionId?: string): Promise<GatewayKey | undefined> {
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage, VersionId: versionId }));
    if (!out.SecretString) {
      throw new Error(`The version ${versionId ?? stage} of the gateway key secret has no string value`);
    }
    return parseGatewayKey(out.SecretString);
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') {
      return undefined;
    }
    throw error;
  }
}

async function required(client: SecretsManagerClient, secretId: string, stage: string, versionId?: string): Promise<GatewayKey> {
  const version = await versionAt(client, secretId, stage, versionId);
  if (!version) {
    throw new Error(`The gateway key secret has no version ${versionId ?? ''} at ${stage}`);
  }
  return version;
}

/** Problems of a pending version that should follow the current one. */
function successorProblems(current: GatewayKey, pending: GatewayKey): string[] {
  const problems: string[] = [];
  if (pending.keyVersion !== current.keyVersion + 1) {
    problems.push(`its key version must be ${current.keyVersion + 1}, got ${pending.keyVersion}`);
  }
  if (pending.unitRoot !== current.unitRoot) {
    problems.push('its unit root must be the current one (units would change buckets)');
  }
  if (Buffer.from(pending.idRoot, 'base64url').length !== ROOT_BYTES || pending.idRoot === current.idRoot) {
    problems.push(`its id root must be ${ROOT_BYTES} new random bytes`);
  }
  // Signed with the pending key, verified by the ring the gateway will hold after the rotation.
  const ring = new GatewayKeyRing(pending, current);
  const captureId = captureIdOf(ring.signing.keyVersion, 0, Buffer.alloc(NONCE_BYTES), { assignment: 'weighted' });
  const verified = verifyInferenceId(ring, signInferenceId(ring.signing.key, 'rotation-test', 'v', captureId), {
    endpointName: 'rotation-test', variants: ['v'], nowSeconds: 0, windowSeconds: 1,
  });
  if (!verified.ok) {
    problems.push(`an id it signs must verify, got ${verified.reason}`);
  }
  return problems;
}

/** Runs one step of a rotation of the gateway's key secret; `random` gives the new id root's bytes. */
export async function rotationStep(client: SecretsManagerClient, event: RotationEvent, random: () => Uint8Array): Promise<StepResult> {
  const { SecretId: secretId, ClientRequestToken: token, Step: step } = event;
  const described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
  if (!described.RotationEnabled) {
    throw new Error(`Rotation is not enabled on the gateway key secret ${secretId}`);
  }
  const versions = described.VersionIdsToStages ?? {};
  const stages = versions[token];
  if (!stages) {
    throw new Error(`The gateway key secret ${secretId} has no version ${token} to rotate to`);
  }
  if (stages.includes('AWSCURRENT')) {
    return 'already-current';
  }
  if (!stages.includes('AWSPENDING')) {
    throw new Error(`The version ${token} of the gateway key secret ${secretId} is not pending rotation`);
  }
  switch (step) {
    case 'createSecret': {
      const current = await required(client, secretId, 'AWSCURRENT');
      if (await versionAt(client, secretId, 'AWSPENDING', token)) {
        return 'already-created';
      }
      await client.send(new PutSecretValueCommand({
        SecretId: secretId,
        ClientRequestToken: token,
        SecretString: formatGatewayKey(nextGatewayKey(current, random())),
        VersionStages: ['AWSPENDING'],
      }));
      return 'created';
    }
    case 'setSecret':
      return 'set';
    case 'testSecret': {
      const [current, pending] = await Promise.all([required(client, secretId, 'AWSCURRENT'), required(client, secretId, 'AWSPENDING', token)]);
      const problems = successorProblems(current, pending);
      if (problems.length > 0) {
        throw new Error(`The pending version ${token} of the gateway key secret ${secretId} is not the next key: ${problems.join('; ')}`);
      }
      return 'tested';
    }
    case 'finishSecret': {
      const current = Object.entries(versions).find(([, labels]) => labels.includes('AWSCURRENT'))?.[0];
      await client.send(new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: token,
        ...(current ? { RemoveFromVersionId: current } : {}),
      }));
      return 'finished';
    }
  }
}
