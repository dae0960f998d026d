import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import {
  formatGatewayKey, GatewayKey, GatewayKeyRing, idSigningKey, KEY_RELOAD_INTERVAL_MS, loadKeyRing, nextGatewayKey,
  parseGatewayKey, ROOT_BYTES, unitHashKey, verifyWithKeys,
} from '../../../lib/hooks/runtime/gateway-keys';
import { KEY_CACHE_TTL_SECONDS, minKeyRotationDays } from '../../../lib/hooks/runtime/gateway-settings';
import { captureIdOf, NONCE_BYTES, signInferenceId } from '../../../lib/hooks/runtime/inference-token';
import { ROTATION_STEPS, rotationStep } from '../../../lib/hooks/runtime/key-rotation';
import { unitBucketOf, unitHashOf } from '../../../lib/hooks/runtime/record-content';
import { RefreshingValue } from '../../../lib/hooks/runtime/refreshing-value';
import { assignVariant } from '../../../lib/hooks/runtime/sticky-assignment';
import { seededRandom } from '../../../lib/release/random';
import { FakeSecret } from '../../lambda/fake-secret';

const secrets = mockClient(SecretsManagerClient);
const SECRET_ID = 'gateway-key';
const generated = fc.string({ minLength: 1, maxLength: 64 }).filter((s) => !s.startsWith('{'));
const roots = fc.array(fc.uint8Array({ minLength: ROOT_BYTES, maxLength: ROOT_BYTES }), { minLength: 1, maxLength: 6 });

/** The versions a secret goes through: the generated value, then one per rotation. */
function chain(first: string, randoms: Uint8Array[]): GatewayKey[] {
  const versions = [parseGatewayKey(first)];
  for (const random of randoms) {
    versions.push(nextGatewayKey(versions.at(-1)!, random));
  }
  return versions;
}

beforeEach(() => secrets.reset());

describe('gateway key versions', () => {
  test('read the generated value as key version 0, and a rotated version from its JSON', () => {
    expect(parseGatewayKey('g'.repeat(64))).toEqual({ keyVersion: 0, idRoot: 'g'.repeat(64), unitRoot: 'g'.repeat(64) });
    fc.assert(fc.property(generated, roots, (first, randoms) => {
      for (const version of chain(first, randoms)) {
        expect(parseGatewayKey(version.keyVersion === 0 ? first : formatGatewayKey(version))).toEqual(version);
      }
    }));
  });

  test.each([
    ['', 'The gateway key secret is empty'],
    ['{"keyVersion":1', 'starts like JSON but is not JSON'],
    ['{"keyVersion":0,"idRoot":"a","unitRoot":"b"}', "'keyVersion'"],
    ['{"keyVersion":1,"unitRoot":"b"}', "'idRoot'"],
    ['{"keyVersion":1.5,"idRoot":"a","unitRoot":""}', "'keyVersion'"],
  ])('refuse a value that is not a key version: %j', (value, message) => {
    expect(() => parseGatewayKey(value)).toThrow(message);
  });

  test('rotate to the next key version, a new id root and the same unit root', () => {
    fc.assert(fc.property(generated, roots, (first, randoms) => {
      const versions = chain(first, randoms);
      versions.forEach((v, i) => expect(v.keyVersion).toBe(i));
      expect(new Set(versions.map((v) => v.unitRoot))).toEqual(new Set([first]));
      expect(new Set(versions.slice(1).map((v) => v.idRoot)).size).toBe(new Set(randoms.map((r) => Buffer.from(r).toString('hex'))).size);
    }));
    expect(() => nextGatewayKey(parseGatewayKey('g'), Buffer.alloc(16))).toThrow(`A key root must have ${ROOT_BYTES} random bytes, got 16`);
  });

  test('derive an id key that differs from the unit key and from the generated text, and differs per version', () => {
    fc.assert(fc.property(generated, roots, (first, randoms) => {
      const versions = chain(first, randoms);
      const idKeys = versions.map((v) => idSigningKey(v).toString('hex'));
      for (const version of versions) {
        expect(idSigningKey(version).equals(unitHashKey(version))).toBe(false);
        expect(idSigningKey(version).equals(Buffer.from(first))).toBe(false);
      }
      expect(new Set(idKeys).size).toBe(new Set(versions.map((v) => v.idRoot)).size);
    }));
  });

  test('never move a unit across rotations: the same variant, unit hash and bucket under every key version', () => {
    const weights = fc.array(fc.record({ variant: fc.constantFrom('a', 'b', 'c'), weight: fc.double({ min: 0.01, max: 1, noNaN: true }) }), { minLength: 1, maxLength: 3 });
    fc.assert(fc.property(generated, roots, fc.string({ minLength: 1, maxLength: 40 }), weights, (first, randoms, unitId, split) => {
      const versions = chain(first, randoms);
      const rings = versions.map((v, i) => new GatewayKeyRing(v, versions[i - 1]));
      const seen = rings.map((ring) => ({
        variant: assignVariant(unitId, split, 'experiment-salt'),
        unitHash: unitHashOf(ring.unitKey, unitId),
        bucket: unitBucketOf(unitHashOf(ring.unitKey, unitId)),
      }));
      expect(seen).toEqual(seen.map(() => seen[0]));
      // And the unit hash is the one m2-era records carry: keyed with the generated text.
      expect(seen[0].unitHash).toBe(unitHashOf(Buffer.from(first), unitId));
    }));
  });

  test('a ring ignores a previous version that is not older than the current one (a value set by hand)', () => {
    const [v0, v1] = chain('g', [Buffer.alloc(ROOT_BYTES, 1)]);
    const ring = new GatewayKeyRing(v0, v1);
    expect(ring.newestVersion).toBe(0);
    expect(ring.verifyingKey(1)).toBeUndefined();
    expect(ring.verifyingKey(0)).toEqual(idSigningKey(v0));
  });
});

describe('loadKeyRing', () => {
  test('reads the current and the previous version', async () => {
    const [v0, v1] = chain('g', [Buffer.alloc(ROOT_BYTES, 1)]);
    secrets.on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: formatGatewayKey(v1) });
    secrets.on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSPREVIOUS' }).resolves({ SecretString: 'g' });
    const ring = await loadKeyRing(new SecretsManagerClient({}), SECRET_ID);
    expect(ring.signing).toEqual({ keyVersion: 1, key: idSigningKey(v1) });
    expect(ring.verifyingKey(0)).toEqual(idSigningKey(v0));
    expect(ring.verifyingKey('legacy')).toEqual(Buffer.from('g'));
  });

  test('holds only the current version before the first rotation, and fails on any other error', async () => {
    secrets.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: 'g' });
    secrets.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejectsOnce(new ResourceNotFoundException({ message: 'none', $metadata: {} }))
      .rejects(new Error('throttled'));
    const ring = await loadKeyRing(new SecretsManagerClient({}), SECRET_ID);
    expect([ring.newestVersion, ring.verifyingKey(1)]).toEqual([0, undefined]);
    await expect(loadKeyRing(new SecretsManagerClient({}), SECRET_ID)).rejects.toThrow('throttled');
    secrets.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(new ResourceNotFoundException({ message: 'none', $metadata: {} }));
    secrets.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({});
    await expect(loadKeyRing(new SecretsManagerClient({}), SECRET_ID)).rejects.toThrow('The gateway key secret gateway-key has no string value');
  });
});

/**
 * A month-long run of a gateway whose key rotates every `intervalDays`, each rotation up to a day
 * early (Secrets Manager's rotation window): predictions every 20 minutes signed by an invocation
 * container with the keys it holds (cached for `KEY_CACHE_TTL_SECONDS`), every outcome reported
 * inside the window to one of two outcome containers, a forged key version beside every tenth,
 * and seeded faults on every Secrets Manager call (rotation steps and key reads are retried, as
 * Secrets Manager and callers do).
 */
async function simulateRotations(seed: number, intervalDays: number, windowDays: number) {
  const random = seededRandom(seed);
  const day = 86_400_000;
  let clock = 0;
  const secret = new FakeSecret(SECRET_ID, 'g'.repeat(64));
  secret.serve(secrets);
  secret.fault = () => (random() < 0.05 ? (random() < 0.5 ? 'before' : 'after') : undefined);
  const client = new SecretsManagerClient({});
  const cache = () => new RefreshingValue(() => loadKeyRing(client, SECRET_ID), KEY_CACHE_TTL_SECONDS * 1000, () => clock, () => undefined, {
    minIntervalMs: KEY_RELOAD_INTERVAL_MS,
    sleep: async (ms) => {
      clock += ms;
    },
  });
  const invoker = cache();
  const receivers = [cache(), cache()];
  const counts = { issued: 0, counted: 0, lost: 0, forgedAccepted: 0, forgedRefused: 0, retries: 0, rotations: 0 };
  type Event = { at: number; run: () => Promise<void> };
  const queue: Event[] = [];
  const schedule = (event: Event) => {
    const i = queue.findIndex((e) => e.at > event.at);
    queue.splice(i < 0 ? queue.length : i, 0, event);
  };
  const options = () => ({ endpointName: 'churn-ab', variants: ['a', 'b'], nowSeconds: clock / 1000, windowSeconds: windowDays * 86400 });
  const report = (id: string, forged: boolean) => async () => {
    const arrivedAt = clock;
    const receiver = receivers[Math.floor(random() * receivers.length)];
    try {
      const verified = await verifyWithKeys(receiver, id, options(), arrivedAt);
      if (forged) {
        counts[verified.ok ? 'forgedAccepted' : 'forgedRefused']++;
      } else {
        counts[verified.ok ? 'counted' : 'lost']++;
      }
    } catch {
      counts.retries++;
      schedule({ at: clock + 1000, run: report(id, forged) });
    }
  };
  const end = 4 * intervalDays * day;
  for (let k = 1; k * intervalDays * day < end; k++) {
    const token = `r${k}`;
    schedule({
      at: k * intervalDays * day - Math.floor(random() * day),
      run: async () => {
        secret.beginRotation(token);
        for (const Step of ROTATION_STEPS) {
          for (;;) {
            try {
              await rotationStep(client, { SecretId: SECRET_ID, ClientRequestToken: token, Step }, () => Buffer.from(Array.from({ length: ROOT_BYTES }, () => Math.floor(random() * 256))));
              break;
            } catch {
              counts.retries++;
            }
          }
        }
        counts.rotations++;
      },
    });
  }
  for (let at = 0; at < end; at += 20 * 60_000) {
    schedule({
      at,
      run: async () => {
        let ring;
        try {
          ring = await invoker.get();
        } catch {
          return; // answered 503: no id issued
        }
        const variant = random() < 0.5 ? 'a' : 'b';
        const captureId = captureIdOf(ring.signing.keyVersion, clock / 1000, Buffer.from(Array.from({ length: NONCE_BYTES }, () => Math.floor(random() * 256))), { assignment: 'weighted' });
        const id = signInferenceId(ring.signing.key, 'churn-ab', variant, captureId);
        counts.issued++;
        schedule({ at: clock + Math.floor(random() * (windowDays * day - 60_000)), run: report(id, false) });
        if (counts.issued % 10 === 0) {
          const forged = id.replace(/^m3\.[0-9a-z]+\./, `m3.${(ring.signing.keyVersion + 1).toString(36)}.`);
          schedule({ at: clock + Math.floor(random() * windowDays * day), run: report(forged, true) });
        }
      },
    });
  }
  while (queue.length > 0) {
    const event = queue.shift()!;
    clock = Math.max(clock, event.at);
    await event.run();
  }
  return { ...counts, faultsInjected: secret.faultsInjected };
}

describe('ids across rotations of the signing key', () => {
  test('with the shortest rotation interval the construct allows, no outcome of a valid id is refused and no forged key version accepted, under seeded faults', async () => {
    expect(minKeyRotationDays(7 * 86400)).toBe(9);
    const result = await simulateRotations(14, 9, 7);
    expect(result.rotations).toBe(3);
    expect(result.issued).toBeGreaterThan(2500);
    expect(result.faultsInjected).toBeGreaterThan(100);
    expect(result.retries).toBeGreaterThan(0);
    expect(result.lost).toBe(0);
    expect(result.counted).toBe(result.issued);
    expect(result.forgedAccepted).toBe(0);
    expect(result.forgedRefused).toBe(Math.floor(result.issued / 10));
    process.stdout.write(`key rotation grace: ${JSON.stringify(result)}\n`);
  }, 60_000);

  test('with a rotation interval a day shorter than the outcome window, valid ids are lost (why the construct refuses one)', async () => {
    const result = await simulateRotations(15, 6, 7);
    process.stdout.write(`short interval: ${JSON.stringify(result)}\n`);
    expect(result.lost).toBeGreaterThan(0);
    expect(result.forgedAccepted).toBe(0);
  }, 60_000);
});
