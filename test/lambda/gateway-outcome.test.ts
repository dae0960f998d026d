import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'crypto';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { captureOutput, emfOf, issued, KEY, post, SETTINGS } from './gateway-env';
import { report } from '../../lambda/gateway-outcome';
import { parseGatewayKey } from '../../lib/hooks/runtime/gateway-keys';
import { NONCE_BYTES, signInferenceId } from '../../lib/hooks/runtime/inference-token';
import { ROTATION_STEPS, rotationStep } from '../../lib/hooks/runtime/key-rotation';
import { MAX_ATTRIBUTION_SECONDS } from '../../lib/release/metric-queries';
import { FakeSecret } from './fake-secret';

const dynamodb = mockClient(DynamoDBClient);
const secrets = mockClient(SecretsManagerClient);
const bodyOf = (result: { body?: string }) => JSON.parse(result.body ?? '');

const OPERATIONAL = ['service', 'EndpointName', 'VariantName', 'OutcomeType'];
const EXPERIMENT = ['service', 'EndpointName', 'VariantName', 'UnitBucket', 'OutcomeType'];

/** The signing key's version the mocked Secrets Manager returns: the generated value. */
const V0 = parseGatewayKey(KEY);

/** An id issued before ids carried a key version (version m2), signed with the generated value's text. */
function issuedM2(variant: string, ageSeconds = 60) {
  const captureId = `m2.${Math.floor(Date.now() / 1000 - ageSeconds).toString(36)}.${Buffer.alloc(NONCE_BYTES, 7).toString('base64url')}.u9`;
  return { captureId, inferenceId: signInferenceId(Buffer.from(KEY), 'churn-ab', variant, captureId) };
}

/** An id issued before ids carried a cohort (version m1). */
function issuedM1(variant: string, ageSeconds = 60) {
  const captureId = `m1.${Math.floor(Date.now() / 1000 - ageSeconds).toString(36)}.${Buffer.alloc(NONCE_BYTES, 6).toString('base64url')}`;
  return { captureId, inferenceId: signInferenceId(Buffer.from(KEY), 'churn-ab', variant, captureId) };
}

beforeEach(() => {
  dynamodb.reset();
  dynamodb.on(PutItemCommand).resolves({});
  secrets.on(GetSecretValueCommand).resolves({ SecretString: KEY });
});

describe('POST /outcomes', () => {
  test('answers 503 and counts nothing while the key cannot be read, then recovers', async () => {
    secrets.on(GetSecretValueCommand).rejectsOnce(new Error('throttled')).resolves({ SecretString: KEY });
    const { inferenceId } = issued('candidate');
    const first = await captureOutput(() => report(post('/outcomes', { inferenceId, type: 'purchase', converted: true })));
    expect(first.result.statusCode).toBe(503);
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
    expect(first.records).toEqual([]);
    const second = await captureOutput(() => report(post('/outcomes', { inferenceId, type: 'purchase', converted: true })));
    expect(second.result.statusCode).toBe(202);
  });

  test('counts an outcome for an id the gateway issued, once, with a conditional write, and attributes it to the prediction\'s time', async () => {
    const { captureId, inferenceId, issuedAtSeconds } = issued('candidate', 3 * 86400);
    const { result, records, emf } = await captureOutput(() => report(post('/outcomes', { inferenceId, type: 'purchase', converted: true, value: 42.5 })));
    expect(result.statusCode).toBe(202);
    expect(bodyOf(result)).toEqual({ counted: true, variant: 'candidate' });
    const put = dynamodb.commandCalls(PutItemCommand)[0].args[0].input;
    expect(put).toEqual({
      TableName: 'outcomes',
      Item: {
        id: { S: `${captureId}#purchase` },
        variant: { S: 'candidate' },
        converted: { BOOL: true },
        value: { N: '42.5' },
        reportedAt: { S: expect.any(String) },
        expiresAt: { N: String(parseInt(captureId.split('.')[2], 36) + SETTINGS.outcomeWindowSeconds + 86400) },
      },
      ConditionExpression: 'attribute_not_exists(id)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(records).toEqual([{
      recordType: 'modelship.outcome', schemaVersion: 1, recordId: `${captureId}#purchase`, inferenceId, endpointName: 'churn-ab',
      variant: 'candidate', outcomeType: 'purchase', converted: true, value: 42.5, issuedAt: expect.any(String), reportedAt: expect.any(String),
    }]);
    expect(emf).toEqual([{
      _aws: expect.anything(), service: 'modelship-gateway', EndpointName: 'churn-ab', VariantName: 'candidate', OutcomeType: 'purchase',
      Outcomes: 1, Conversions: 1, OutcomeValue: 42.5, OutcomeValueSquared: 42.5 * 42.5,
    }, {
      _aws: expect.anything(), service: 'modelship-gateway', EndpointName: 'churn-ab', VariantName: 'candidate', UnitBucket: '5', OutcomeType: 'purchase',
      ExperimentConversions: 1, ExperimentOutcomeValue: 42.5,
    }]);
    const [operational, experiment] = emf.map(emfOf);
    expect(operational.dimensions).toEqual([OPERATIONAL]);
    expect(Math.abs(operational.timestamp - Date.now())).toBeLessThan(60_000);
    expect(experiment.dimensions).toEqual([EXPERIMENT]);
    expect(experiment.timestamp).toBe(issuedAtSeconds * 1000);
  });

  test('publishes an experiment conversion or value only when the outcome reports it', async () => {
    const converted = await captureOutput(() => report(post('/outcomes', { inferenceId: issued('baseline').inferenceId, type: 'click', converted: false })));
    expect(converted.emf[1]).toMatchObject({ VariantName: 'baseline', UnitBucket: '5', OutcomeType: 'click', ExperimentConversions: 0 });
    expect(emfOf(converted.emf[1]).metrics).toEqual(['ExperimentConversions']);
    const valued = await captureOutput(() => report(post('/outcomes', { inferenceId: issued('baseline').inferenceId, type: 'purchase', value: 3 })));
    expect(valued.emf[1]).toMatchObject({ VariantName: 'baseline', UnitBucket: '5', OutcomeType: 'purchase', ExperimentOutcomeValue: 3 });
    expect(emfOf(valued.emf[1]).metrics).toEqual(['ExperimentOutcomeValue']);
  });

  test('does not stamp later metrics with an attributed prediction\'s time', async () => {
    const attributed = await captureOutput(() => report(post('/outcomes', { inferenceId: issued('baseline', 10 * 86400).inferenceId, type: 'purchase', converted: true })));
    expect(attributed.emf).toHaveLength(2);
    const next = await captureOutput(() => report(post('/outcomes', { inferenceId: issued('baseline', 60, V0, { assignment: 'weighted' }).inferenceId, type: 'purchase', converted: true })));
    expect(next.emf).toHaveLength(1);
    expect(Math.abs(emfOf(next.emf[0]).timestamp - Date.now())).toBeLessThan(60_000);
  });

  test.each([
    ['an override', issued('candidate', 60, V0, { assignment: 'override' }).inferenceId, 'purchase'],
    ['a weighted draw', issued('candidate', 60, V0, { assignment: 'weighted' }).inferenceId, 'purchase'],
    ['an m1 id, issued before ids carried a cohort', issuedM1('candidate').inferenceId, 'purchase'],
    ['a prediction older than CloudWatch takes datapoints for', issued('candidate', MAX_ATTRIBUTION_SECONDS + 60).inferenceId, 'purchase'],
  ])('counts the outcome of %s in the operational metrics only', async (_, inferenceId, type) => {
    const { result, records, emf } = await captureOutput(() => report(post('/outcomes', { inferenceId, type, converted: true })));
    expect(result.statusCode).toBe(202);
    expect(records).toHaveLength(1);
    expect(emf).toEqual([expect.objectContaining({ VariantName: 'candidate', OutcomeType: type, Outcomes: 1, Conversions: 1 })]);
    expect(emf.map((l) => emfOf(l).dimensions)).toEqual([[OPERATIONAL]]);
  });

  test.each([
    [{ type: 'refund', converted: true }, 'UnknownOutcomeType', "'type' must be one of 'purchase', 'click', got 'refund'"],
    [{ type: 'purchase', value: 1e308 }, 'InvalidRequest', "'value' must be between -1000000 and 1000000, got 1e+308"],
  ])('refuses an outcome the gateway does not accept, writing, recording and counting nothing: %#', async (outcome, code, message) => {
    const { result, records, emf } = await captureOutput(() => report(post('/outcomes', { inferenceId: issued('candidate').inferenceId, ...outcome })));
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result).error).toEqual({ code, message });
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
    expect(records).toEqual([]);
    expect(emf).toEqual([]);
  });

  test('answers a repeated outcome with counted: false and counts nothing', async () => {
    dynamodb.on(PutItemCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    const { inferenceId } = issued('baseline');
    const { result, records, emf } = await captureOutput(() => report(post('/outcomes', { inferenceId, type: 'purchase', converted: false })));
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ counted: false });
    expect(records).toEqual([]);
    expect(emf).toEqual([]);
  });

  /** The outcome table: PutItem with `attribute_not_exists(id)`, answered as DynamoDB does (ALL_OLD on a failed condition). */
  function outcomeTable() {
    const items = new Map<string, Record<string, unknown>>();
    dynamodb.on(PutItemCommand).callsFake((input) => {
      const old = items.get(input.Item.id.S);
      if (old) {
        throw new ConditionalCheckFailedException({ message: 'exists', $metadata: {}, ...(input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' ? { Item: old as never } : {}) });
      }
      items.set(input.Item.id.S, input.Item);
      return {};
    });
    return items;
  }

  test('answers the same report again, after a write whose answer was lost, as counted, emitting its record and metrics', async () => {
    outcomeTable();
    const { inferenceId } = issued('candidate');
    // The write took effect, its answer was lost: the next attempt finds the same report stored.
    await captureOutput(() => report(post('/outcomes', { inferenceId, type: 'purchase', converted: true, value: 12.5 })));
    const { result, records, emf } = await captureOutput(() => report(post('/outcomes', { inferenceId, type: 'purchase', converted: true, value: 12.5 })));
    expect(result.statusCode).toBe(202);
    expect(bodyOf(result)).toEqual({ counted: true, variant: 'candidate' });
    expect(records).toEqual([expect.objectContaining({ recordType: 'modelship.outcome', converted: true, value: 12.5 })]);
    expect(emf.filter((line) => 'Outcomes' in line)).toHaveLength(1);
  });

  test('emits the record of a report stored just before the gateway failed, when the client retries it, with the first report time', async () => {
    outcomeTable();
    const { inferenceId } = issued('baseline');
    const first = await captureOutput(async () => {
      const spy = jest.spyOn(process.stdout, 'write').mockImplementation(() => { throw new Error('the function died'); });
      try {
        return await report(post('/outcomes', { inferenceId, type: 'purchase', converted: true })).catch((error: Error) => error.message);
      } finally {
        spy.mockRestore();
      }
    });
    expect(first.result).toBe('the function died');
    expect(first.records).toEqual([]);
    const storedAt = dynamodb.commandCalls(PutItemCommand)[0].args[0].input.Item!.reportedAt.S;
    const retried = await captureOutput(() => report(post('/outcomes', { inferenceId, type: 'purchase', converted: true })));
    expect(bodyOf(retried.result)).toMatchObject({ counted: true });
    expect(retried.records).toEqual([expect.objectContaining({ converted: true, reportedAt: storedAt })]);
  });

  test('answers a different report for an id and type already counted with counted: false, counting nothing', async () => {
    outcomeTable();
    const { inferenceId } = issued('baseline');
    await captureOutput(() => report(post('/outcomes', { inferenceId, type: 'purchase', converted: true, value: 3 })));
    for (const body of [{ converted: false, value: 3 }, { converted: true, value: 4 }, { converted: true }, { value: 3 }]) {
      const { result, records, emf } = await captureOutput(() => report(post('/outcomes', { inferenceId, type: 'purchase', ...body })));
      expect(bodyOf(result)).toMatchObject({ counted: false });
      expect(records).toEqual([]);
      expect(emf).toEqual([]);
    }
    expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, 5);
  });

  test('counts a different outcome type for the same id separately', async () => {
    const { captureId, inferenceId } = issued('baseline');
    await captureOutput(() => report(post('/outcomes', { inferenceId, type: 'click', converted: true })));
    await captureOutput(() => report(post('/outcomes', { inferenceId, type: 'purchase', value: 3 })));
    expect(dynamodb.commandCalls(PutItemCommand).map((c) => c.args[0].input.Item!.id.S)).toEqual([`${captureId}#click`, `${captureId}#purchase`]);
  });

  test('answers 503 and counts nothing when the write is throttled', async () => {
    dynamodb.on(PutItemCommand).rejects(new ProvisionedThroughputExceededException({ message: 'slow', $metadata: {} }));
    const { inferenceId } = issued('baseline');
    const { result, records, emf } = await captureOutput(() => report(post('/outcomes', { inferenceId, type: 'purchase', converted: true })));
    expect(result.statusCode).toBe(503);
    expect(bodyOf(result).error.retryable).toBe(true);
    expect(records).toEqual([]);
    expect(emf).toEqual([]);
  });

  const forged = issued('candidate', 60, parseGatewayKey('x'.repeat(64))).inferenceId;
  const tampered = issued('candidate').inferenceId.replace(/.$/, (c) => (c === 'A' ? 'Q' : 'A'));
  test.each([
    [forged, 403, 'UnknownInferenceId'],
    [tampered, 403, 'UnknownInferenceId'],
    [issued('candidate', SETTINGS.outcomeWindowSeconds + 1).inferenceId, 410, 'InferenceIdExpired'],
    [issued('candidate', -3600).inferenceId, 403, 'UnknownInferenceId'],
    ['m1.abc', 400, 'InvalidInferenceId'],
  ])('refuses an id it did not issue, or no longer accepts, without counting: %#', async (inferenceId, status, code) => {
    const { result, records, emf } = await captureOutput(() => report(post('/outcomes', { inferenceId, type: 'purchase', converted: true })));
    expect(result.statusCode).toBe(status);
    expect(bodyOf(result).error.code).toBe(code);
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
    expect(records).toEqual([]);
    expect(emf).toEqual([]);
  });

  test('refuses a malformed outcome with a 400 naming the field', async () => {
    const { result } = await captureOutput(() => report(post('/outcomes', { inferenceId: 'x', type: 'purchase', value: 'ten' })));
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result).error.message).toBe("'value' must be a finite number, got 'ten'");
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
  });
});

describe('POST /outcomes across rotations of the signing key', () => {
  const SECRET = new FakeSecret(SETTINGS.signingKeySecretId, KEY);
  const reads = () => secrets.commandCalls(GetSecretValueCommand).length;
  const current = () => parseGatewayKey(SECRET.at('AWSCURRENT')!.value!);
  async function rotateTo(token: string): Promise<void> {
    SECRET.beginRotation(token);
    for (const Step of ROTATION_STEPS) {
      await rotationStep(new SecretsManagerClient({}), { SecretId: SETTINGS.signingKeySecretId, ClientRequestToken: token, Step }, () => randomBytes(32));
    }
  }
  async function reported(inferenceId: string) {
    return captureOutput(() => report(post('/outcomes', { inferenceId, type: 'purchase', converted: true })));
  }
  let before: { v0: string; m2: string };
  beforeAll(() => {
    // Issued by the gateway before any rotation; the handler holds key version 0 from the tests above.
    before = { v0: issued('candidate').inferenceId, m2: issuedM2('candidate').inferenceId };
  });
  beforeEach(() => {
    secrets.reset();
    SECRET.serve(secrets);
  });

  test('reads the keys again for an id of the key version after the newest held (signed by a container that saw the rotation) and counts it', async () => {
    await rotateTo('r1');
    secrets.resetHistory();
    const { result, records } = await reported(issued('candidate', 60, current()).inferenceId);
    expect(result.statusCode).toBe(202);
    expect(records).toHaveLength(1);
    expect(secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.VersionStage).sort()).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
    // The previous key's ids, m3 and m2, still count, without another read.
    for (const id of [before.v0, before.m2]) {
      expect((await reported(id)).result.statusCode).toBe(202);
    }
    expect(reads()).toBe(2);
  });

  test('refuses forged key versions with 400 and its own message, recording and counting nothing: one far ahead without a read, the next one after one paced read', async () => {
    const signed = issued('candidate').inferenceId;
    const far = signed.replace(/^m3\.0\./, 'm3.zz.');
    const next = signed.replace(/^m3\.0\./, 'm3.2.');
    for (const [inferenceId, maxReads] of [[far, 0], [next, 2]] as const) {
      secrets.resetHistory();
      const { result, records, emf } = await reported(inferenceId);
      expect(result.statusCode).toBe(400);
      expect(bodyOf(result).error).toEqual({ code: 'UnknownSigningKey', message: "'inferenceId' names a signing key this gateway does not hold" });
      expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
      expect(records).toEqual([]);
      expect(emf).toEqual([]);
      expect(reads()).toBe(maxReads);
    }
  });

  test('after the next rotation, counts the previous key\'s ids and refuses those of the key before it (the grace period is over)', async () => {
    const v1 = issued('baseline', 60, current()).inferenceId;
    await rotateTo('r2');
    expect((await reported(issued('candidate', 60, current()).inferenceId)).result.statusCode).toBe(202);
    expect((await reported(v1)).result.statusCode).toBe(202);
    for (const id of [before.v0, before.m2]) {
      const { result, records } = await reported(id);
      expect(result.statusCode).toBe(400);
      expect(bodyOf(result).error.code).toBe('UnknownSigningKey');
      expect(records).toEqual([]);
    }
  });

  test('answers 503 when the keys cannot be read for a new key version, counting nothing, and counts the outcome when the caller retries', async () => {
    await rotateTo('r3');
    const id = issued('candidate', 60, current()).inferenceId;
    SECRET.fault = () => 'before';
    const failed = await reported(id);
    expect(failed.result.statusCode).toBe(503);
    expect(failed.records).toEqual([]);
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
    SECRET.fault = () => undefined;
    const retried = await reported(id);
    expect(retried.result.statusCode).toBe(202);
    expect(retried.records).toHaveLength(1);
  });
});
