import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, ModelError, ModelNotReadyException, SageMakerRuntimeClient, ServiceUnavailable, ValidationError } from '@aws-sdk/client-sagemaker-runtime';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { captureOutput, KEY, post, SETTINGS } from './gateway-env';
import { invoke } from '../../lambda/gateway-invoke';
import { verifyInferenceId } from '../../lib/hooks/runtime/inference-token';
import { unitHashOf } from '../../lib/hooks/runtime/record-content';
import { assignVariant } from '../../lib/hooks/runtime/sticky-assignment';

const runtime = mockClient(SageMakerRuntimeClient);
const sagemaker = mockClient(SageMakerClient);
const secrets = mockClient(SecretsManagerClient);
const WEIGHTS = [{ variant: 'baseline', weight: 0.9 }, { variant: 'candidate', weight: 0.1 }];
const CAPTURE_ID = /^m1\.[0-9a-z]+\.[A-Za-z0-9_-]{16}$/;

const modelAnswers = (variant: string, body: unknown = { churn: 0.2 }) => runtime.on(InvokeEndpointCommand).resolves({
  Body: Buffer.from(JSON.stringify(body)) as never, ContentType: 'application/json', InvokedProductionVariant: variant,
});
const bodyOf = (result: { body?: string }) => JSON.parse(result.body ?? '');
const verify = (id: string) => verifyInferenceId(Buffer.from(KEY), id, { endpointName: 'churn-ab', variants: SETTINGS.variants, nowSeconds: Date.now() / 1000, windowSeconds: 60 });

beforeAll(() => {
  secrets.on(GetSecretValueCommand).resolves({ SecretString: KEY });
  sagemaker.on(DescribeEndpointCommand).resolves({
    ProductionVariants: WEIGHTS.map((w) => ({ VariantName: w.variant, CurrentWeight: w.weight, DesiredWeight: w.weight })),
  });
});
beforeEach(() => runtime.reset());

describe('POST /invocations', () => {
  test('sends a unit to its sticky variant with a fresh inference id and returns a signed id', async () => {
    modelAnswers('candidate');
    const units = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    for (const unitId of units) {
      const expected = assignVariant(unitId, WEIGHTS, 'churn-ab')!;
      modelAnswers(expected);
      const { result, records, emf } = await captureOutput(() => invoke(post('/invocations', { input: { tenure: 3 }, unitId })));
      const call = runtime.commandCalls(InvokeEndpointCommand).at(-1)!.args[0].input;
      expect(call).toEqual({
        EndpointName: 'churn-ab', InferenceId: expect.stringMatching(CAPTURE_ID), TargetVariant: expected,
        ContentType: 'application/json', Accept: 'application/json', Body: '{"tenure":3}',
      });
      const body = bodyOf(result);
      expect(result.statusCode).toBe(200);
      expect(body).toEqual({ inferenceId: `${call.InferenceId}.${body.inferenceId.split('.')[3]}`, variant: expected, prediction: { churn: 0.2 } });
      expect(verify(body.inferenceId)).toMatchObject({ ok: true, variant: expected, captureId: call.InferenceId });
      expect(records).toEqual([expect.objectContaining({
        recordType: 'modelship.inference', recordId: call.InferenceId, captureId: call.InferenceId, inferenceId: body.inferenceId,
        endpointName: 'churn-ab', variant: expected, modelVersion: SETTINGS.modelVersions[expected], assignment: 'sticky',
        unitHash: unitHashOf(Buffer.from(KEY), unitId), status: 200, bodiesSampled: true, request: { tenure: 3 }, response: { churn: 0.2 },
      })]);
      // The raw unit id appears nowhere in what the gateway writes.
      expect(JSON.stringify(records)).not.toContain(`"${unitId}"`);
      expect(emf).toEqual([expect.objectContaining({ EndpointName: 'churn-ab', VariantName: expected, Invocations: 1 })]);
    }
    // Weights are read once and cached.
    expect(sagemaker).toHaveReceivedCommandTimes(DescribeEndpointCommand, 1);
    expect(new Set(runtime.commandCalls(InvokeEndpointCommand).map((c) => c.args[0].input.TargetVariant))).toEqual(new Set(['baseline', 'candidate']));
  });

  test('leaves routing to SageMaker without a unit id and signs for the variant that answered', async () => {
    modelAnswers('baseline', 'not json');
    const { result, records } = await captureOutput(() => invoke(post('/invocations', { input: [1, 2] })));
    expect(runtime.commandCalls(InvokeEndpointCommand)[0].args[0].input.TargetVariant).toBeUndefined();
    expect(bodyOf(result)).toMatchObject({ variant: 'baseline', prediction: 'not json' });
    expect(verify(bodyOf(result).inferenceId)).toMatchObject({ ok: true, variant: 'baseline' });
    expect(records[0]).toMatchObject({ assignment: 'weighted', variant: 'baseline' });
    expect(records[0].unitHash).toBeUndefined();
  });

  test('honours a caller\'s override to a known variant', async () => {
    modelAnswers('candidate');
    const { result, records } = await captureOutput(() => invoke(post('/invocations', { input: 1, unitId: 'u', variant: 'candidate' })));
    expect(runtime).toHaveReceivedCommandWith(InvokeEndpointCommand, { TargetVariant: 'candidate' });
    expect(result.statusCode).toBe(200);
    expect(records[0]).toMatchObject({ assignment: 'override', variant: 'candidate' });
  });

  test('redacts listed fields and leaves out bodies over the recording limit', async () => {
    modelAnswers('baseline', { score: 1, email: 'out@example.com' });
    const { records } = await captureOutput(() => invoke(post('/invocations', { input: { email: 'a@example.com', age: 30 } })));
    expect(records[0]).toMatchObject({ request: { email: '[REDACTED]', age: 30 }, response: { score: 1, email: '[REDACTED]' }, bodiesTruncated: false });
    modelAnswers('baseline');
    const big = await captureOutput(() => invoke(post('/invocations', { input: 'x'.repeat(600) })));
    expect(big.records[0]).toMatchObject({ bodiesSampled: true, bodiesTruncated: true, response: { churn: 0.2 } });
    expect(big.records[0].request).toBeUndefined();
  });

  test.each([
    [new ModelError({ message: 'boom', $metadata: {}, OriginalStatusCode: 500 }), 502, 'ModelError', false],
    // Throttling has no modelled exception in this client: it arrives as a named error.
    [Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }), 429, 'Throttled', true],
    [new ServiceUnavailable({ message: 'unavailable', $metadata: {} }), 503, 'ServiceUnavailable', true],
    [new ModelNotReadyException({ message: 'not ready', $metadata: {} }), 503, 'ModelNotReady', true],
    [new ValidationError({ message: 'bad payload', $metadata: {} }), 400, 'InvalidRequest', false],
  ])('maps a SageMaker failure to its status, records it and counts an error: %#', async (error, status, code, retryable) => {
    runtime.on(InvokeEndpointCommand).rejects(error);
    const { result, records, emf } = await captureOutput(() => invoke(post('/invocations', { input: 1, unitId: 'user-1' })));
    const variant = assignVariant('user-1', WEIGHTS, 'churn-ab');
    expect(result.statusCode).toBe(status);
    expect(bodyOf(result).error).toMatchObject({ code, retryable, message: error.message });
    expect(records).toEqual([expect.objectContaining({ status, error: error.name, variant, inferenceId: expect.stringMatching(CAPTURE_ID) })]);
    expect(emf).toEqual([expect.objectContaining({ VariantName: variant, Errors: 1 })]);
    expect(emf[0].Invocations).toBeUndefined();
  });

  test('passes on the status code a failing model answered with', async () => {
    runtime.on(InvokeEndpointCommand).rejects(new ModelError({ message: 'bad tensor', $metadata: {}, OriginalStatusCode: 422 }));
    const { result } = await captureOutput(() => invoke(post('/invocations', { input: 1 })));
    expect(bodyOf(result).error).toEqual({ code: 'ModelError', message: 'bad tensor', retryable: false, originalStatusCode: 422 });
  });

  test.each([
    [post('/invocations', { input: 1 }, 'text/plain'), 415, "'Content-Type' must be application/json, got 'text/plain'"],
    [post('/invocations', '{"input":'), 400, 'The body must be JSON'],
    [post('/invocations', { input: 'x'.repeat(5000) }), 413, 'The body must be at most 4096 bytes'],
    [post('/invocations', { input: 1, variant: 'challenger' }), 400, "'variant' must be one of 'baseline', 'candidate', got 'challenger'"],
  ])('refuses bad input with a 4xx, invoking nothing and counting nothing: %#', async (event, status, message) => {
    const { result, records, emf } = await captureOutput(() => invoke(event));
    expect(result.statusCode).toBe(status);
    expect(bodyOf(result).error.message).toContain(message);
    expect(runtime).not.toHaveReceivedCommand(InvokeEndpointCommand);
    expect(records).toEqual([]);
    expect(emf).toEqual([]);
  });
});
