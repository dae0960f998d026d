import { PutSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { rotate } from '../../lambda/gateway-key-rotation';
import { formatGatewayKey, GatewayKey, loadKeyRing, nextGatewayKey, parseGatewayKey, ROOT_BYTES } from '../../lib/hooks/runtime/gateway-keys';
import { captureIdOf, NONCE_BYTES, signInferenceId, verifyInferenceId } from '../../lib/hooks/runtime/inference-token';
import { ROTATION_STEPS } from '../../lib/hooks/runtime/key-rotation';
import { seededRandom } from '../../lib/release/random';
import { FakeSecret } from './fake-secret';

const secrets = mockClient(SecretsManagerClient);
const SECRET_ID = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:gateway-key-AbCdEf';
const GENERATED = 'g'.repeat(64);
let secret: FakeSecret;

beforeEach(() => {
  secrets.reset();
  secret = new FakeSecret(SECRET_ID, GENERATED);
  secret.serve(secrets);
});

const step = (Step: string, token: string) => rotate({ SecretId: SECRET_ID, ClientRequestToken: token, Step });
const current = () => parseGatewayKey(secret.at('AWSCURRENT')!.value!);

/** A whole rotation as Secrets Manager runs it when nothing fails. */
async function rotation(token: string): Promise<string[]> {
  secret.beginRotation(token);
  const results: string[] = [];
  for (const name of ROTATION_STEPS) {
    results.push(await step(name, token));
  }
  return results;
}

describe('the gateway key rotation', () => {
  test('puts the next key version as AWSPENDING, tests it, then makes it AWSCURRENT, the old one AWSPREVIOUS', async () => {
    expect(await rotation('t1')).toEqual(['created', 'set', 'tested', 'finished']);
    const put = secrets.commandCalls(PutSecretValueCommand);
    expect(put).toHaveLength(1);
    expect(put[0].args[0].input).toEqual({ SecretId: SECRET_ID, ClientRequestToken: 't1', SecretString: expect.any(String), VersionStages: ['AWSPENDING'] });
    expect(secrets).toHaveReceivedCommandWith(UpdateSecretVersionStageCommand, {
      SecretId: SECRET_ID, VersionStage: 'AWSCURRENT', MoveToVersionId: 't1', RemoveFromVersionId: 'v-initial',
    });
    const rotated = current();
    expect(rotated).toEqual({ keyVersion: 1, idRoot: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), unitRoot: GENERATED });
    expect(secret.at('AWSCURRENT')!.id).toBe('t1');
    expect(secret.at('AWSPREVIOUS')).toEqual({ id: 'v-initial', value: GENERATED });
  });

  test('does the same when Secrets Manager calls every step twice: one new version, moved once', async () => {
    secret.beginRotation('t1');
    const results: string[] = [];
    for (const name of ROTATION_STEPS) {
      results.push(await step(name, 't1'), await step(name, 't1'));
    }
    expect(results).toEqual(['created', 'already-created', 'set', 'set', 'tested', 'tested', 'finished', 'already-current']);
    expect(secrets.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    expect(secrets.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
    expect(secret.values()).toHaveLength(2);
    expect(current().keyVersion).toBe(1);
    // Every step of a finished rotation does nothing.
    for (const name of ROTATION_STEPS) {
      expect(await step(name, 't1')).toBe('already-current');
    }
  });

  test('keeps a pending version already created for the token (a rotation re-attempted after a failure)', async () => {
    secret.beginRotation('t1');
    await step('createSecret', 't1');
    const pending = secret.at('AWSPENDING')!;
    await expect(step('testSecret', 'other-token')).rejects.toThrow('has no version other-token');
    expect(await rotation('t1')).toEqual(['already-created', 'set', 'tested', 'finished']);
    expect(secret.at('AWSCURRENT')).toEqual(pending);
  });

  test('replaces a stale pending version left by another token', async () => {
    secret.beginRotation('stale');
    await step('createSecret', 'stale');
    expect(await rotation('t2')).toEqual(['created', 'set', 'tested', 'finished']);
    expect(secret.at('AWSCURRENT')!.id).toBe('t2');
    expect(current().keyVersion).toBe(1);
    expect(secret.at('AWSPREVIOUS')!.id).toBe('v-initial');
  });

  test('refuses to finish a pending version that is not the next key (a value put by hand), leaving AWSCURRENT alone', async () => {
    const base = parseGatewayKey(GENERATED);
    const bad: [string, GatewayKey][] = [
      ['its key version must be 1, got 5', { ...nextGatewayKey(base, Buffer.alloc(ROOT_BYTES, 1)), keyVersion: 5 }],
      ['its unit root must be the current one', { ...nextGatewayKey(base, Buffer.alloc(ROOT_BYTES, 1)), unitRoot: 'u'.repeat(64) }],
      [`its id root must be ${ROOT_BYTES} new random bytes`, { ...nextGatewayKey(base, Buffer.alloc(ROOT_BYTES, 1)), idRoot: 'short' }],
    ];
    expect(bad).toHaveLength(3);
    for (const [message, value] of bad) {
      secret.beginRotation(`t-${value.keyVersion}-${value.idRoot.length}`);
      const token = secret.at('AWSPENDING')!.id;
      await new SecretsManagerClient({}).send(new PutSecretValueCommand({ SecretId: SECRET_ID, ClientRequestToken: token, SecretString: formatGatewayKey(value), VersionStages: ['AWSPENDING'] }));
      await expect(step('testSecret', token)).rejects.toThrow(message);
      expect(secret.at('AWSCURRENT')).toEqual({ id: 'v-initial', value: GENERATED });
    }
  });

  test('refuses an event that is not a rotation step, and a token that is not pending', async () => {
    await expect(rotate({ SecretId: SECRET_ID, ClientRequestToken: 't', Step: 'dropSecret' })).rejects.toThrow("'Step' must be one of createSecret, setSecret, testSecret, finishSecret, got \"dropSecret\"");
    await expect(rotate({ Step: 'createSecret' })).rejects.toThrow("'SecretId' must be a non-empty string; 'ClientRequestToken' must be a non-empty string");
    await expect(rotate(undefined)).rejects.toThrow('Not a rotation step');
    await expect(step('createSecret', 'never-begun')).rejects.toThrow('has no version never-begun');
    expect(secrets.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  test('after 200 rotations with seeded faults before and after calls, each step retried until it succeeds: every rotation moved the key by one version, none lost, the unit root never changed', async () => {
    const random = seededRandom(14);
    secret.fault = () => {
      const draw = random();
      return draw < 0.15 ? 'before' : draw < 0.3 ? 'after' : undefined;
    };
    let retries = 0;
    let lostPrevious = 0;
    for (let n = 1; n <= 200; n++) {
      const token = `t${n}`;
      const before = secret.at('AWSCURRENT')!;
      secret.beginRotation(token);
      for (const name of ROTATION_STEPS) {
        for (let attempt = 0; ; attempt++) {
          expect(attempt).toBeLessThan(50);
          try {
            await step(name, token);
            break;
          } catch {
            retries++;
          }
        }
      }
      const after = secret.at('AWSCURRENT')!;
      expect(after.id).toBe(token);
      expect(parseGatewayKey(after.value!).keyVersion).toBe(n);
      expect(parseGatewayKey(after.value!).unitRoot).toBe(GENERATED);
      if (secret.at('AWSPREVIOUS')?.id !== before.id) {
        lostPrevious++;
      }
    }
    expect(secret.faultsInjected).toBeGreaterThan(300);
    // A step fails at its first fault; testSecret's two reads may both fail.
    expect(retries).toBeGreaterThan(300);
    expect(retries).toBeLessThanOrEqual(secret.faultsInjected);
    expect(lostPrevious).toBe(0);
    expect(secret.values()).toHaveLength(201);
    process.stdout.write(`key rotation: 200 rotations, ${secret.faultsInjected} faults injected, ${retries} step retries, ${lostPrevious} previous keys lost\n`);
  });

  test('leaves the gateway verifying the ids of the previous key after a rotation, and of no older key after the next', async () => {
    const t = Math.floor(Date.now() / 1000);
    const options = { endpointName: 'churn-ab', variants: ['baseline'], nowSeconds: t, windowSeconds: 3600 };
    const signer = await loadKeyRing(new SecretsManagerClient({}), SECRET_ID);
    const id = signInferenceId(signer.signing.key, 'churn-ab', 'baseline', captureIdOf(signer.signing.keyVersion, t, Buffer.alloc(NONCE_BYTES, 1), { assignment: 'weighted' }));
    await rotation('t1');
    expect(verifyInferenceId(await loadKeyRing(new SecretsManagerClient({}), SECRET_ID), id, options).ok).toBe(true);
    await rotation('t2');
    expect(verifyInferenceId(await loadKeyRing(new SecretsManagerClient({}), SECRET_ID), id, options)).toEqual({ ok: false, reason: 'unknown-key', key: 0 });
  });
});
