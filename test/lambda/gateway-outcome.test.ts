import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { captureOutput, KEY, post, SETTINGS } from './gateway-env';
import { report } from '../../lambda/gateway-outcome';
import { captureIdOf, NONCE_BYTES, signInferenceId } from '../../lib/hooks/runtime/inference-token';

const dynamodb = mockClient(DynamoDBClient);
const secrets = mockClient(SecretsManagerClient);
const bodyOf = (result: { body?: string }) => JSON.parse(result.body ?? '');

/** An id the gateway would have issued `ageSeconds` ago for the variant. */
function issued(variant: string, ageSeconds = 60, key = KEY) {
  const captureId = captureIdOf(Date.now() / 1000 - ageSeconds, Buffer.alloc(NONCE_BYTES, 5));
  return { captureId, inferenceId: signInferenceId(Buffer.from(key), 'churn-ab', variant, captureId) };
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

  test('counts an outcome for an id the gateway issued, once, with a conditional write', async () => {
    const { captureId, inferenceId } = issued('candidate');
    const { result, records, emf } = await captureOutput(() => report(post('/outcomes', { inferenceId, type: 'purchase', converted: true, value: 42.5 })));
    expect(result.statusCode).toBe(202);
    expect(bodyOf(result)).toEqual({ counted: true, variant: 'candidate' });
    const put = dynamodb.commandCalls(PutItemCommand)[0].args[0].input;
    expect(put).toEqual({
      TableName: 'outcomes',
      Item: {
        id: { S: `${captureId}#purchase` },
        variant: { S: 'candidate' },
        reportedAt: { S: expect.any(String) },
        expiresAt: { N: String(parseInt(captureId.split('.')[1], 36) + SETTINGS.outcomeWindowSeconds + 86400) },
      },
      ConditionExpression: 'attribute_not_exists(id)',
    });
    expect(records).toEqual([{
      recordType: 'modelship.outcome', schemaVersion: 1, recordId: `${captureId}#purchase`, inferenceId, endpointName: 'churn-ab',
      variant: 'candidate', outcomeType: 'purchase', converted: true, value: 42.5, issuedAt: expect.any(String), reportedAt: expect.any(String),
    }]);
    expect(emf).toEqual([expect.objectContaining({
      EndpointName: 'churn-ab', VariantName: 'candidate', OutcomeType: 'purchase', Outcomes: 1, Conversions: 1, OutcomeValue: 42.5, OutcomeValueSquared: 42.5 * 42.5,
    })]);
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

  test('counts a different outcome type for the same id separately', async () => {
    const { captureId, inferenceId } = issued('baseline');
    await captureOutput(() => report(post('/outcomes', { inferenceId, type: 'click', converted: true })));
    await captureOutput(() => report(post('/outcomes', { inferenceId, type: 'revenue', value: 3 })));
    expect(dynamodb.commandCalls(PutItemCommand).map((c) => c.args[0].input.Item!.id.S)).toEqual([`${captureId}#click`, `${captureId}#revenue`]);
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

  const forged = issued('candidate', 60, 'x'.repeat(64)).inferenceId;
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
