import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, ModelError, ModelNotReadyException, SageMakerRuntimeClient, ServiceUnavailable, ValidationError } from '@aws-sdk/client-sagemaker-runtime';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { invocationFailure } from '../../lib/hooks/runtime/invocation-errors';
import { captureOutput, emfOf, forced, KEY, post, SETTINGS } from './gateway-env';
import { invoke } from '../../lambda/gateway-invoke';
import { GatewayKeyRing, parseGatewayKey } from '../../lib/hooks/runtime/gateway-keys';
import { verifyInferenceId } from '../../lib/hooks/runtime/inference-token';
import { unitBucketOf, unitHashOf } from '../../lib/hooks/runtime/record-content';
import { assignVariant } from '../../lib/hooks/runtime/sticky-assignment';

const runtime = mockClient(SageMakerRuntimeClient);
const sagemaker = mockClient(SageMakerClient);
const secrets = mockClient(SecretsManagerClient);
const WEIGHTS = [{ variant: 'baseline', weight: 0.9 }, { variant: 'candidate', weight: 0.1 }];
const CAPTURE_ID = /^m3\.0\.[0-9a-z]+\.[A-Za-z0-9_-]{16}\.(u[0-9]+|o|w)$/;
const OPERATIONAL = ['service', 'EndpointName', 'VariantName'];
const EXPOSURE = [...OPERATIONAL, 'UnitBucket'];
const EXPERIMENT_OUTCOME = [...EXPOSURE, 'OutcomeType'];
const bucketOf = (unitId: string) => unitBucketOf(unitHashOf(Buffer.from(KEY), unitId));
/** The seconds at which the capture id says it was issued. */
const issuedAtOf = (captureId: string) => parseInt(captureId.split('.')[2], 36);

/** The EMF lines of one sticky request: operational metrics, then the unit's exposure and a zero per outcome type, stamped with the prediction's time. */
function expectStickyLines(emf: Record<string, unknown>[], variant: string, unitId: string, captureId: string, operational: Record<string, number>): void {
  const bucket = String(bucketOf(unitId));
  expect(emf).toEqual([
    { _aws: expect.anything(), service: 'modelship-gateway', EndpointName: 'churn-ab', VariantName: variant, GatewayLatency: expect.any(Number), ...operational },
    { _aws: expect.anything(), service: 'modelship-gateway', EndpointName: 'churn-ab', VariantName: variant, UnitBucket: bucket, ExperimentExposures: 1 },
    ...SETTINGS.outcomeTypes.map((OutcomeType) => ({
      _aws: expect.anything(), service: 'modelship-gateway', EndpointName: 'churn-ab', VariantName: variant, UnitBucket: bucket, OutcomeType, ExperimentConversions: 0, ExperimentOutcomeValue: 0,
    })),
  ]);
  const lines = emf.map(emfOf);
  expect(lines.map((l) => l.dimensions)).toEqual([[OPERATIONAL], [EXPOSURE], ...SETTINGS.outcomeTypes.map(() => [EXPERIMENT_OUTCOME])]);
  for (const line of lines.slice(1)) {
    expect(line.timestamp).toBe(issuedAtOf(captureId) * 1000);
  }
}

const modelAnswers = (variant: string, body: unknown = { churn: 0.2 }) => runtime.on(InvokeEndpointCommand).resolves({
  Body: Buffer.from(JSON.stringify(body)) as never, ContentType: 'application/json', InvokedProductionVariant: variant,
});
const bodyOf = (result: { body?: string }) => JSON.parse(result.body ?? '');
const verify = (id: string) => verifyInferenceId(new GatewayKeyRing(parseGatewayKey(KEY)), id, { endpointName: 'churn-ab', variants: SETTINGS.variants, nowSeconds: Date.now() / 1000, windowSeconds: 60 });

beforeAll(() => {
  secrets.on(GetSecretValueCommand).resolves({ SecretString: KEY });
  sagemaker.on(DescribeEndpointCommand).resolves({
    ProductionVariants: WEIGHTS.map((w) => ({ VariantName: w.variant, CurrentWeight: w.weight, DesiredWeight: w.weight })),
  });
});
beforeEach(() => runtime.reset());

describe('POST /invocations before the weights can be read', () => {
  // First in the file: the handler has not read the weights yet.
  test('answers 503 to every request, with or without a unit, invoking and counting nothing, then recovers', async () => {
    sagemaker.on(DescribeEndpointCommand).rejectsOnce(new Error('throttled')).rejectsOnce(new Error('throttled')).resolves({
      ProductionVariants: WEIGHTS.map((w) => ({ VariantName: w.variant, CurrentWeight: w.weight, DesiredWeight: w.weight })),
    });
    for (const body of [{ input: 1 }, { input: 1, unitId: 'user-1' }]) {
      const { result, records, emf } = await captureOutput(() => invoke(post('/invocations', body)));
      expect(result.statusCode).toBe(503);
      expect(bodyOf(result).error.code).toBe('GatewayNotReady');
      expect(records).toEqual([]);
      expect(emf).toEqual([]);
    }
    expect(runtime).not.toHaveReceivedCommand(InvokeEndpointCommand);
    modelAnswers('baseline');
    const { result } = await captureOutput(() => invoke(post('/invocations', { input: 1 })));
    expect(result.statusCode).toBe(200);
    expect(sagemaker).toHaveReceivedCommandTimes(DescribeEndpointCommand, 3);
  });
});

describe('POST /invocations', () => {
  test('sends a unit to its sticky variant with a fresh inference id and returns a signed id', async () => {
    modelAnswers('candidate');
    const units = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    const reads = sagemaker.commandCalls(DescribeEndpointCommand).length;
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
      expect(body).toEqual({ inferenceId: `${call.InferenceId}.${body.inferenceId.split('.')[5]}`, variant: expected, prediction: { churn: 0.2 } });
      expect(verify(body.inferenceId)).toMatchObject({
        ok: true, variant: expected, captureId: call.InferenceId, cohort: { assignment: 'sticky', unitBucket: bucketOf(unitId) },
      });
      expect(records).toEqual([expect.objectContaining({
        recordType: 'modelship.inference', recordId: call.InferenceId, captureId: call.InferenceId, inferenceId: body.inferenceId,
        endpointName: 'churn-ab', variant: expected, modelVersion: SETTINGS.modelVersions[expected], assignment: 'sticky',
        unitHash: unitHashOf(Buffer.from(KEY), unitId), unitBucket: bucketOf(unitId), status: 200, bodiesSampled: true, request: { tenure: 3 }, response: { churn: 0.2 },
      })]);
      // The raw unit id appears nowhere in what the gateway writes.
      expect(JSON.stringify(records)).not.toContain(`"${unitId}"`);
      expectStickyLines(emf, expected, unitId, call.InferenceId!, { Invocations: 1, ModelLatency: expect.any(Number) });
    }
    // Weights are read at most once (none if an earlier test read them) and cached.
    expect(sagemaker.commandCalls(DescribeEndpointCommand).length - reads).toBeLessThanOrEqual(1);
    expect(new Set(runtime.commandCalls(InvokeEndpointCommand).map((c) => c.args[0].input.TargetVariant))).toEqual(new Set(['baseline', 'candidate']));
  });

  test('draws a variant by the weights for a request without a unit id, and publishes no experiment metrics for it', async () => {
    const n = 400;
    const candidate = { requests: 0 };
    for (let i = 0; i < n; i++) {
      runtime.reset();
      runtime.on(InvokeEndpointCommand).callsFake((input: { TargetVariant: string }) => ({
        Body: Buffer.from('not json'), ContentType: 'application/json', InvokedProductionVariant: input.TargetVariant,
      }));
      const { result, records, emf } = await captureOutput(() => invoke(post('/invocations', { input: [1, 2] })));
      const call = runtime.commandCalls(InvokeEndpointCommand)[0].args[0].input;
      expect(SETTINGS.variants).toContain(call.TargetVariant);
      candidate.requests += call.TargetVariant === 'candidate' ? 1 : 0;
      expect(call.InferenceId).toMatch(/\.w$/);
      expect(bodyOf(result)).toMatchObject({ variant: call.TargetVariant, prediction: 'not json' });
      expect(verify(bodyOf(result).inferenceId)).toMatchObject({ ok: true, variant: call.TargetVariant, cohort: { assignment: 'weighted' } });
      expect(records).toEqual([expect.objectContaining({ assignment: 'weighted', variant: call.TargetVariant })]);
      expect(records[0].unitHash).toBeUndefined();
      expect(records[0].unitBucket).toBeUndefined();
      expect(emf.map((l) => emfOf(l).dimensions)).toEqual([[OPERATIONAL]]);
    }
    // The candidate's weight is 0.1: its share within five standard deviations.
    expect(Math.abs(candidate.requests / n - 0.1)).toBeLessThan(5 * Math.sqrt(0.1 * 0.9 / n));
  });

  test('sends a request to the variant the forcing route names, keeping it out of the experiment metrics', async () => {
    modelAnswers('candidate');
    const { result, records, emf } = await captureOutput(() => invoke(forced('candidate', { input: 1, unitId: 'u' })));
    expect(runtime).toHaveReceivedCommandWith(InvokeEndpointCommand, { TargetVariant: 'candidate', InferenceId: expect.stringMatching(/\.o$/) });
    expect(result.statusCode).toBe(200);
    expect(verify(bodyOf(result).inferenceId)).toMatchObject({ ok: true, variant: 'candidate', cohort: { assignment: 'override' } });
    expect(records).toEqual([expect.objectContaining({ assignment: 'override', variant: 'candidate', unitHash: unitHashOf(Buffer.from(KEY), 'u') })]);
    expect(records[0].unitBucket).toBeUndefined();
    expect(emf).toEqual([expect.objectContaining({ VariantName: 'candidate', Invocations: 1 })]);
    expect(emf.map((l) => emfOf(l).dimensions)).toEqual([[OPERATIONAL]]);
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
    [new ModelError({ message: 'boom, see the log group of account 111111111111', $metadata: {}, OriginalStatusCode: 500 }), 502, 'ModelError', false, true],
    [new ModelNotReadyException({ message: 'model of account 111111111111 not ready', $metadata: {} }), 503, 'ModelNotReady', true, true],
    [Object.assign(new Error('Connection timed out after 60000 ms of account 111111111111'), { name: 'TimeoutError' }), 504, 'ModelTimeout', true, true],
    // Throttling has no modelled exception in this client: it arrives as a named error.
    [Object.assign(new Error('Rate exceeded for arn:aws:sagemaker:eu-west-1:111111111111:endpoint/churn-ab'), { name: 'ThrottlingException' }), 429, 'Throttled', true, false],
    [new ServiceUnavailable({ message: 'Endpoint churn-ab of account 111111111111 is unavailable', $metadata: {} }), 503, 'ServiceUnavailable', true, false],
    [new ValidationError({ message: 'bad payload for role arn:aws:iam::111111111111:role/gateway', $metadata: {} }), 400, 'InvalidRequest', false, false],
    [Object.assign(new Error('User: arn:aws:sts::111111111111:assumed-role/gateway/fn is not authorized'), { name: 'AccessDeniedException' }), 500, 'GatewayMisconfigured', false, false],
    [new ValidationError({ message: 'Endpoint churn-ab of account 111111111111 not found.', $metadata: {} }), 500, 'GatewayMisconfigured', false, false],
    [Object.assign(new Error('Internal failure in account 111111111111'), { name: 'InternalFailure' }), 502, 'UpstreamError', true, false],
  ])('maps a SageMaker failure to its status, records it, counts the exposure, and counts an invocation and an error only when the variant caused it: %#', async (error, status, code, retryable, variantError) => {
    runtime.on(InvokeEndpointCommand).rejects(error);
    const { result, records, emf } = await captureOutput(() => invoke(post('/invocations', { input: 1, unitId: 'user-1' })));
    const variant = assignVariant('user-1', WEIGHTS, 'churn-ab')!;
    expect(result.statusCode).toBe(status);
    // Our own words: SageMaker's text (log-group URLs, account ids) stays in our logs.
    expect(bodyOf(result).error).toMatchObject({ code, retryable, message: invocationFailure(error.name, error.message).message });
    expect(result.headers?.['retry-after']).toBe(retryable ? '1' : undefined);
    expect(result.body).not.toContain('111111111111');
    expect(records).toEqual([expect.objectContaining({ status, error: error.name, variant, unitBucket: bucketOf('user-1'), inferenceId: expect.stringMatching(CAPTURE_ID) })]);
    expectStickyLines(emf, variant, 'user-1', records[0].captureId as string, variantError ? { Invocations: 1, Errors: 1 } : {});
  });

  test('answers a model response nested deeper than requests may be as its text, recorded once and counted as a success', async () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    runtime.on(InvokeEndpointCommand).resolves({ Body: Buffer.from(deep) as never, ContentType: 'application/json', InvokedProductionVariant: 'baseline' });
    const { result, records, emf } = await captureOutput(() => invoke(post('/invocations', { input: 1 })));
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result).prediction).toBe(deep);
    expect(records).toEqual([expect.objectContaining({ status: 200, variant: 'baseline' })]);
    expect(emf).toEqual([expect.objectContaining({ VariantName: 'baseline', Invocations: 1, ModelLatency: expect.any(Number) })]);
    expect(emf[0].Errors).toBeUndefined();
    // Exactly the limit still parses.
    modelAnswers('baseline', JSON.parse(`${'['.repeat(32)}1${']'.repeat(32)}`));
    const limit = await captureOutput(() => invoke(post('/invocations', { input: 1 })));
    expect(Array.isArray(bodyOf(limit.result).prediction)).toBe(true);
  });

  test('when recording fails after the model answered, records nothing twice, counts no error and does not tell the caller to invoke again', async () => {
    modelAnswers('baseline');
    let recordWrites = 0;
    const { result, emf } = await captureOutput(async () => {
      const write = process.stdout.write;
      const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        if (String(chunk).includes('"recordType":"modelship.inference"')) {
          recordWrites++;
          throw new Error('EPIPE');
        }
        return write.call(process.stdout, chunk);
      });
      try {
        return await invoke(post('/invocations', { input: 1 })).then((r) => r, (error: Error) => ({ statusCode: 0, body: error.message }));
      } finally {
        spy.mockRestore();
      }
    });
    expect(result).toEqual({ statusCode: 0, body: 'EPIPE' });
    expect(recordWrites).toBe(1);
    expect(runtime).toHaveReceivedCommandTimes(InvokeEndpointCommand, 1);
    expect(emf).toEqual([]);
  });

  test('sends a request without a unit to a drawn variant, so its failure carries the variant', async () => {
    const leaky = 'Received client error (422) from primary with message "bad tensor". See https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logEventViewer:group=/aws/sagemaker/Endpoints/churn-ab in account 111111111111 for more information.';
    runtime.on(InvokeEndpointCommand).rejects(new ModelError({ message: leaky, $metadata: {}, OriginalStatusCode: 422 }));
    const { result, records, emf } = await captureOutput(() => invoke(post('/invocations', { input: 1 })));
    expect(bodyOf(result).error).toEqual({ code: 'ModelError', message: 'The model answered with an error', retryable: false, originalStatusCode: 422 });
    expect(result.body).not.toMatch(/111111111111|cloudwatch|bad tensor/);
    const target = runtime.commandCalls(InvokeEndpointCommand)[0].args[0].input.TargetVariant;
    expect(SETTINGS.variants).toContain(target);
    expect(records).toEqual([expect.objectContaining({ assignment: 'weighted', variant: target, status: 502 })]);
    expect(emf).toEqual([{
      _aws: expect.anything(), service: 'modelship-gateway', EndpointName: 'churn-ab', VariantName: target, Invocations: 1, Errors: 1, GatewayLatency: expect.any(Number),
    }]);
  });

  test.each([
    [post('/invocations', { input: 1 }, 'text/plain'), 415, "'Content-Type' must be application/json, got 'text/plain'"],
    [post('/invocations', '{"input":'), 400, 'The body must be JSON'],
    [post('/invocations', { input: 'x'.repeat(5000) }), 413, 'The body must be at most 4096 bytes'],
    [forced('challenger', { input: 1 }), 400, "The path's variant must be one of 'baseline', 'candidate', got 'challenger'"],
    [post('/invocations', { input: 1, variant: 'candidate' }), 403, 'Forcing a variant needs POST /variants/{variant}/invocations and its permission'],
    [post('/invocations', `{"input":${'['.repeat(1000)}${']'.repeat(1000)}}`), 400, 'The body must nest arrays and objects at most 32 levels deep'],
    [forced('v'.repeat(1000), { input: 1 }), 400, `got '${'v'.repeat(63)}… (938 more characters)`],
  ])('refuses bad input with a 4xx, invoking nothing and counting nothing: %#', async (event, status, message) => {
    const { result, records, emf } = await captureOutput(() => invoke(event));
    expect(result.statusCode).toBe(status);
    expect(bodyOf(result).error.message).toContain(message);
    expect(runtime).not.toHaveReceivedCommand(InvokeEndpointCommand);
    expect(records).toEqual([]);
    expect(emf).toEqual([]);
  });
});
