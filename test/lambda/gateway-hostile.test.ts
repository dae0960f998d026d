import './gateway-logs-on';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, ModelError, SageMakerRuntimeClient, ServiceUnavailable, ValidationError } from '@aws-sdk/client-sagemaker-runtime';
import { DynamoDBClient, PutItemCommand, ProvisionedThroughputExceededException, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { captureOutput, forced, issued, KEY, post, SETTINGS } from './gateway-env';
import { handler as invokeHandler, invoke } from '../../lambda/gateway-invoke';
import { handler as reportHandler, report } from '../../lambda/gateway-outcome';
import { ECHO_LIMIT, TARGET_VARIANT_HEADER } from '../../lib/hooks/runtime/gateway-request';

/**
 * The hostile-input suite of both gateway routes (issue 14): each input, through the handler as
 * API Gateway would hand it over, must be answered with our own code and a short message, echo
 * at most `ECHO_LIMIT` characters of what it was sent (in the answer and in the log), leak no AWS
 * text, throw nothing, and record, count and send nothing. Planted AWS failures (the `leak`
 * class) must reach the caller only as our own codes and words, their text only in our log.
 * Forbidden reports and forced variants by callers without the permission never reach the
 * handlers: API Gateway refuses them per route, which test/hooks/inference-gateway.test.ts
 * proves on the synthesized policies (IAM grants) and routes (JWT scopes).
 */

const runtime = mockClient(SageMakerRuntimeClient);
const sagemaker = mockClient(SageMakerClient);
const dynamodb = mockClient(DynamoDBClient);
const secrets = mockClient(SecretsManagerClient);

/** The gateway's own error codes: a caller sees no other. */
const OUR_CODES = new Set([
  'InvalidRequest', 'PayloadTooLarge', 'UnsupportedMediaType', 'UnknownOutcomeType', 'ForceNotAllowed', 'InvalidInferenceId', 'UnknownInferenceId',
  'InferenceIdExpired', 'ModelError', 'Throttled', 'ServiceUnavailable', 'UpstreamError', 'GatewayMisconfigured', 'OutcomeNotCounted',
]);
/** The largest answer any hostile input may get, in bytes. */
const RESPONSE_LIMIT = 600;
/** The longest log line a refusal may write, in characters (the message, quoted values cut to `ECHO_LIMIT`, and the logger's own fields). */
const LOG_LINE_LIMIT = 1200;
/** What AWS text looks like: account ids, ARNs, AWS hosts and consoles, IAM's words. */
const AWS_TEXT = /\b\d{12}\b|arn:aws|amazonaws\.com|assumed-role|logEventViewer|not authorized/;
/** The words of the planted failures only (records carry model-package ARNs of their own, which are not leaks). */
const PLANTED_TEXT = /assumed-role|logEventViewer|not authorized|not found/;

/** A planted failure's text: an account id, ARNs and a log-group URL, as AWS errors carry them. */
const LEAKY = 'User: arn:aws:sts::111111111111:assumed-role/gateway/fn is not authorized; see https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logEventViewer:group=/aws/sagemaker/Endpoints/churn-ab';

type Route = 'invoke' | 'force' | 'outcomes';

interface HostileInput {
  /** The class of attack, as issue 14 names them. */
  readonly kind: string;
  readonly name: string;
  readonly route: Route;
  readonly event: APIGatewayProxyEventV2;
  readonly status: number;
  readonly code: string;
  /** For the `leak` class: the AWS failure planted before the request. */
  readonly plant?: () => void;
}

const long = (n: number, c = 'x') => c.repeat(n);
const nested = (depth: number, open = '[', close = ']') => `${open.repeat(depth)}${close.repeat(depth)}`;
const raw = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }, extra: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 =>
  ({ ...post(path, body), headers, ...extra });
const id = () => issued('candidate').inferenceId;
const outcome = (body: Record<string, unknown>) => post('/outcomes', { inferenceId: id(), type: 'purchase', converted: true, ...body });
const withHeader = (event: APIGatewayProxyEventV2, name: string, value: string) => ({ ...event, headers: { ...event.headers, [name]: value } });

const invocation = (name: string, kind: string, event: APIGatewayProxyEventV2, status: number, code: string): HostileInput =>
  ({ kind, name, route: event.pathParameters ? 'force' : 'invoke', event, status, code });
const outcomeInput = (name: string, kind: string, event: APIGatewayProxyEventV2, status: number, code: string): HostileInput =>
  ({ kind, name, route: 'outcomes', event, status, code });

const INPUTS: HostileInput[] = [
  // depth: refused before parsing, however the nesting is written
  invocation('33 nested arrays', 'depth', post('/invocations', `{"input":${nested(33)}}`), 400, 'InvalidRequest'),
  invocation('1,900 nested arrays', 'depth', post('/invocations', `{"input":${nested(1900)}}`), 400, 'InvalidRequest'),
  invocation('40 nested objects', 'depth', post('/invocations', `{"input":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`), 400, 'InvalidRequest'),
  invocation('4,000 unclosed brackets', 'depth', post('/invocations', `{"input":${'['.repeat(4000)}`), 400, 'InvalidRequest'),
  invocation('100 nested arrays on the forcing route', 'depth', forced('candidate', `{"input":${nested(100)}}`), 400, 'InvalidRequest'),
  outcomeInput('an inference id nested 40 deep', 'depth', post('/outcomes', `{"inferenceId":${nested(40)},"type":"purchase","converted":true}`), 400, 'InvalidRequest'),
  outcomeInput('a value nested 40 deep', 'depth', post('/outcomes', `{"inferenceId":"x","type":"purchase","value":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`), 400, 'InvalidRequest'),
  // size
  invocation('a body over the limit', 'size', post('/invocations', { input: long(5000) }), 413, 'PayloadTooLarge'),
  invocation('a base64 body over the limit once decoded', 'size', raw('/invocations', Buffer.from(JSON.stringify({ input: long(5000) })).toString('base64'), undefined, { isBase64Encoded: true }), 413, 'PayloadTooLarge'),
  invocation('a body over the limit on the forcing route', 'size', forced('candidate', { input: long(5000) }), 413, 'PayloadTooLarge'),
  outcomeInput('an outcome over the limit', 'size', outcome({ value: 1, extra: long(5000) }), 413, 'PayloadTooLarge'),
  invocation('a unit id of 257 characters', 'size', post('/invocations', { input: 1, unitId: long(257) }), 400, 'InvalidRequest'),
  invocation('300 unknown fields', 'size', post('/invocations', { input: 1, ...Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, i])) }), 400, 'InvalidRequest'),
  outcomeInput('an inference id of 4,000 characters', 'size', post('/outcomes', { inferenceId: long(4000), type: 'purchase', converted: true }), 400, 'InvalidInferenceId'),
  outcomeInput('an outcome type of 65 characters', 'size', outcome({ type: long(65) }), 400, 'InvalidRequest'),
  // echo: long values are quoted to ECHO_LIMIT characters
  invocation('a content type of 3,000 characters', 'echo', raw('/invocations', '{"input":1}', { 'content-type': `text/${long(3000)}` }), 415, 'UnsupportedMediaType'),
  invocation('a unit id of 3,000 characters', 'echo', post('/invocations', { input: 1, unitId: long(3000) }), 400, 'InvalidRequest'),
  invocation('a field name of 3,000 characters', 'echo', post('/invocations', { input: 1, [long(3000)]: 1 }), 400, 'InvalidRequest'),
  invocation('a forced variant of 3,000 characters', 'echo', forced(long(3000), { input: 1 }), 400, 'InvalidRequest'),
  invocation('malformed JSON of 3,000 characters', 'echo', post('/invocations', `{"input": ${long(3000)}`), 400, 'InvalidRequest'),
  outcomeInput('an outcome type of 3,000 characters', 'echo', outcome({ type: long(3000) }), 400, 'InvalidRequest'),
  outcomeInput('a value of 3,000 characters', 'echo', outcome({ value: long(3000) }), 400, 'InvalidRequest'),
  outcomeInput('a conversion of 3,000 characters', 'echo', outcome({ converted: long(3000) }), 400, 'InvalidRequest'),
  outcomeInput('an inference id of 3,000 characters', 'echo', post('/outcomes', { inferenceId: long(3000), type: 'click', converted: true }), 400, 'InvalidInferenceId'),
  // unknown outcome types
  ...['refund', 'PURCHASE', long(64), '__proto__', 'constructor', 'toString', 'hasOwnProperty'].map((type) =>
    outcomeInput(`the unknown type ${type.slice(0, 20)}`, 'unknown outcome type', outcome({ type }), 400, 'UnknownOutcomeType')),
  ...['purchase ', '', 'purchasé', 'purchase\u0000', 'pur/chase'].map((type) =>
    outcomeInput(`the malformed type ${JSON.stringify(type)}`, 'unknown outcome type', outcome({ type }), 400, 'InvalidRequest')),
  outcomeInput('a type that is a number', 'unknown outcome type', outcome({ type: 1 }), 400, 'InvalidRequest'),
  outcomeInput('a type that is an array', 'unknown outcome type', outcome({ type: ['purchase'] }), 400, 'InvalidRequest'),
  // values out of range or not numbers
  ...[1e308, -1e308, SETTINGS.maxOutcomeValue + 0.5, -SETTINGS.maxOutcomeValue - 1, Number.MAX_SAFE_INTEGER].map((value) =>
    outcomeInput(`the value ${value}`, 'out-of-range value', outcome({ value }), 400, 'InvalidRequest')),
  outcomeInput('a value of 1e400 (Infinity once parsed)', 'out-of-range value', raw('/outcomes', `{"inferenceId":"${id()}","type":"purchase","value":1e400}`), 400, 'InvalidRequest'),
  outcomeInput('a value of -1e400', 'out-of-range value', raw('/outcomes', `{"inferenceId":"${id()}","type":"purchase","value":-1e400}`), 400, 'InvalidRequest'),
  outcomeInput('a value of NaN', 'out-of-range value', raw('/outcomes', `{"inferenceId":"${id()}","type":"purchase","value":NaN}`), 400, 'InvalidRequest'),
  ...[null, [], {}, true].map((value) =>
    outcomeInput(`the value ${JSON.stringify(value)}`, 'out-of-range value', outcome({ value }), 400, 'InvalidRequest')),
  // forcing a variant on the plain route: a permission of its own
  ...['candidate', null, {}, '', 'baseline'].map((variant) =>
    invocation(`a forced variant ${JSON.stringify(variant)} in the body`, 'forbidden force', post('/invocations', { input: 1, variant }), 403, 'ForceNotAllowed')),
  invocation('a forced variant next to a unit id', 'forbidden force', post('/invocations', { input: 1, unitId: 'u', variant: 'candidate' }), 403, 'ForceNotAllowed'),
  invocation('SageMaker\'s target-variant header', 'forbidden force', withHeader(post('/invocations', { input: 1 }), TARGET_VARIANT_HEADER, 'candidate'), 403, 'ForceNotAllowed'),
  invocation('the target-variant header, empty', 'forbidden force', withHeader(post('/invocations', { input: 1 }), TARGET_VARIANT_HEADER, ''), 403, 'ForceNotAllowed'),
  invocation('a variant in the body of the forcing route', 'forbidden force', forced('candidate', { input: 1, variant: 'baseline' }), 400, 'InvalidRequest'),
  invocation('the target-variant header on the forcing route', 'forbidden force', withHeader(forced('candidate', { input: 1 }), TARGET_VARIANT_HEADER, 'baseline'), 400, 'InvalidRequest'),
  ...['challenger', '', '__proto__', 'constructor', '../candidate', 'candidate\u0000', 'CANDIDATE', 'candidate/../baseline', '*'].map((variant) =>
    invocation(`the forced variant ${JSON.stringify(variant)}`, 'forbidden force', forced(variant, { input: 1 }), 400, 'InvalidRequest')),
  // inference ids the gateway did not issue, or no longer accepts
  ...['m1.abc', '', 'm2....', 'm2.zzzzzzzzzz.AAAAAAAAAAAAAAAA.u5.AAAAAAAAAAAAAAAAAAAAAA', `m2.${'é'.repeat(40)}`, 'M2.tk4c9s.Q2hzb3F0a2pXbGJx.u17.vB0kQ4hA1nq7Pz3xWc8fTg'].map((inferenceId) =>
    outcomeInput(`the malformed id ${JSON.stringify(inferenceId).slice(0, 24)}`, 'bad id', post('/outcomes', { inferenceId, type: 'purchase', converted: true }), 400, 'InvalidInferenceId')),
  outcomeInput('an id signed with another key', 'bad id', post('/outcomes', { inferenceId: issued('candidate', 60, long(64, 'z')).inferenceId, type: 'purchase', converted: true }), 403, 'UnknownInferenceId'),
  outcomeInput('an id with a tampered signature', 'bad id', post('/outcomes', { inferenceId: id().replace(/.$/, (c) => (c === 'A' ? 'Q' : 'A')), type: 'purchase', converted: true }), 403, 'UnknownInferenceId'),
  outcomeInput('an id of another endpoint', 'bad id', post('/outcomes', { inferenceId: issued('candidate', 60, KEY, undefined, 'other-endpoint').inferenceId, type: 'purchase', converted: true }), 403, 'UnknownInferenceId'),
  outcomeInput('an id of a variant the gateway does not serve', 'bad id', post('/outcomes', { inferenceId: issued('shadow').inferenceId, type: 'purchase', converted: true }), 403, 'UnknownInferenceId'),
  outcomeInput('an id from the future', 'bad id', post('/outcomes', { inferenceId: issued('candidate', -3600).inferenceId, type: 'purchase', converted: true }), 403, 'UnknownInferenceId'),
  outcomeInput('an id past the outcome window', 'bad id', post('/outcomes', { inferenceId: issued('candidate', SETTINGS.outcomeWindowSeconds + 60).inferenceId, type: 'purchase', converted: true }), 410, 'InferenceIdExpired'),
  ...[42, null, ['m2'], { id: 'm2' }].map((inferenceId) =>
    outcomeInput(`the id ${JSON.stringify(inferenceId)}`, 'bad id', post('/outcomes', { inferenceId, type: 'purchase', converted: true }), 400, 'InvalidRequest')),
  // bad JSON
  ...['', 'null', '[]', '"input"', '42', '{"input":1,}', "{'input':1}", '{"input":1}{"input":2}', '\ufeff{"input":1}', '{"input":1', '{"input":undefined}', '{"input":01}'].map((body) =>
    invocation(`the body ${JSON.stringify(body)}`, 'bad JSON', post('/invocations', body), 400, 'InvalidRequest')),
  invocation('no body at all', 'bad JSON', raw('/invocations', '', undefined, { body: undefined }), 400, 'InvalidRequest'),
  invocation('a base64 body that is not JSON', 'bad JSON', raw('/invocations', '!!!not-base64!!!', undefined, { isBase64Encoded: true }), 400, 'InvalidRequest'),
  ...['not json', '[]', '{"inferenceId":"x","type":"purchase","converted":true', '{}'].map((body) =>
    outcomeInput(`the outcome body ${JSON.stringify(body)}`, 'bad JSON', post('/outcomes', body), 400, 'InvalidRequest')),
  // wrong content types
  ...['text/plain', 'application/jsonp', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'json', ' application/json'].map((type) =>
    invocation(`the content type ${type}`, 'content type', raw('/invocations', '{"input":1}', { 'content-type': type }), 415, 'UnsupportedMediaType')),
  invocation('no content type', 'content type', raw('/invocations', '{"input":1}', {}), 415, 'UnsupportedMediaType'),
  invocation('no headers at all', 'content type', raw('/invocations', '{"input":1}', undefined, { headers: undefined as never }), 415, 'UnsupportedMediaType'),
  invocation('a text body on the forcing route', 'content type', { ...forced('candidate', 'input=1'), headers: { 'content-type': 'text/plain' } }, 415, 'UnsupportedMediaType'),
  outcomeInput('a CSV outcome', 'content type', raw('/outcomes', 'id,type', { 'content-type': 'text/csv' }), 415, 'UnsupportedMediaType'),
  // oversized headers and unit ids
  invocation('a content type of 8 KiB', 'oversized', raw('/invocations', '{"input":1}', { 'content-type': `application/${long(8192)}` }), 415, 'UnsupportedMediaType'),
  invocation('a target-variant header of 8 KiB', 'oversized', withHeader(post('/invocations', { input: 1 }), TARGET_VARIANT_HEADER, long(8192)), 403, 'ForceNotAllowed'),
  invocation('a unit id of 4,000 characters', 'oversized', post('/invocations', { input: 1, unitId: long(4000) }), 400, 'InvalidRequest'),
  invocation('an empty unit id', 'oversized', post('/invocations', { input: 1, unitId: '' }), 400, 'InvalidRequest'),
  // unicode
  invocation('a unit id of 300 emoji (over 256 characters however counted)', 'unicode', post('/invocations', { input: 1, unitId: long(300, '😀') }), 400, 'InvalidRequest'),
  invocation('a unit id of 300 lone surrogates', 'unicode', post('/invocations', `{"input":1,"unitId":"${'\\ud800'.repeat(300)}"}`), 400, 'InvalidRequest'),
  invocation('a forced variant in Cyrillic letters', 'unicode', forced('сandidate', { input: 1 }), 400, 'InvalidRequest'),
  invocation('a content type with a right-to-left override', 'unicode', raw('/invocations', '{"input":1}', { 'content-type': '\u202enosj/noitacilppa' }), 415, 'UnsupportedMediaType'),
  outcomeInput('an outcome type with a right-to-left override', 'unicode', outcome({ type: '\u202epurchase' }), 400, 'InvalidRequest'),
  outcomeInput('an outcome type in full-width letters', 'unicode', outcome({ type: 'ｐｕｒｃｈａｓｅ' }), 400, 'InvalidRequest'),
  // prototype pollution
  invocation('__proto__ smuggling a unit id', 'prototype pollution', post('/invocations', '{"input":1,"__proto__":{"unitId":"x","polluted":true}}'), 400, 'InvalidRequest'),
  invocation('constructor.prototype', 'prototype pollution', post('/invocations', '{"input":1,"constructor":{"prototype":{"polluted":true}}}'), 400, 'InvalidRequest'),
  invocation('__proto__ smuggling the input', 'prototype pollution', post('/invocations', '{"__proto__":{"input":1}}'), 400, 'InvalidRequest'),
  invocation('__proto__ smuggling a variant on the plain route', 'prototype pollution', post('/invocations', '{"input":1,"__proto__":{"variant":"candidate"}}'), 400, 'InvalidRequest'),
  invocation('__proto__ on the forcing route', 'prototype pollution', forced('candidate', '{"input":1,"__proto__":{"polluted":true}}'), 400, 'InvalidRequest'),
  outcomeInput('__proto__ smuggling a value', 'prototype pollution', raw('/outcomes', `{"inferenceId":"${id()}","type":"purchase","converted":true,"__proto__":{"value":1e308}}`), 400, 'InvalidRequest'),
  outcomeInput('__proto__ smuggling the conversion', 'prototype pollution', raw('/outcomes', `{"__proto__":{"converted":true},"inferenceId":"${id()}","type":"purchase"}`), 400, 'InvalidRequest'),
  // numbers as strings, and other wrong types
  ...['12', '1e3', '0x10', ' 5'].map((value) =>
    outcomeInput(`the value ${JSON.stringify(value)}`, 'numbers as strings', outcome({ value }), 400, 'InvalidRequest')),
  ...['true', 1, 0, 'yes'].map((converted) =>
    outcomeInput(`the conversion ${JSON.stringify(converted)}`, 'numbers as strings', outcome({ converted }), 400, 'InvalidRequest')),
  ...[42, true, ['u'], { id: 'u' }].map((unitId) =>
    invocation(`the unit id ${JSON.stringify(unitId)}`, 'numbers as strings', post('/invocations', { input: 1, unitId }), 400, 'InvalidRequest')),
  // leaks: AWS failures carrying account ids, ARNs and log-group URLs
  ...[
    ['a model error', new ModelError({ message: LEAKY, $metadata: {}, OriginalStatusCode: 500 }), 502, 'ModelError'],
    ['a validation error', new ValidationError({ message: LEAKY, $metadata: {} }), 400, 'InvalidRequest'],
    ['throttling', Object.assign(new Error(LEAKY), { name: 'ThrottlingException' }), 429, 'Throttled'],
    ['an unavailable service', new ServiceUnavailable({ message: LEAKY, $metadata: {} }), 503, 'ServiceUnavailable'],
    // The gateway's own setup: not retryable, and not the variant's error.
    ['access denied', Object.assign(new Error(LEAKY), { name: 'AccessDeniedException' }), 500, 'GatewayMisconfigured'],
    ['a missing endpoint', Object.assign(new Error('Endpoint churn-ab of account 111111111111 not found.'), { name: 'ValidationException' }), 500, 'GatewayMisconfigured'],
  ].flatMap(([what, error, status, code]) => [post('/invocations', { input: 1, unitId: 'u-1' }), forced('candidate', { input: 1 })].map((event) => ({
    ...invocation(`${what as string} from SageMaker`, 'leak', event, status as number, code as string),
    plant: () => runtime.on(InvokeEndpointCommand).rejects(error as Error),
  }))),
  ...[
    ['access denied', Object.assign(new Error(LEAKY), { name: 'AccessDeniedException' })],
    ['a missing table', new ResourceNotFoundException({ message: 'Requested resource not found: Table: arn:aws:dynamodb:eu-west-1:111111111111:table/outcomes', $metadata: {} })],
    ['throttling', new ProvisionedThroughputExceededException({ message: LEAKY, $metadata: {} })],
  ].map(([what, error]) => ({
    ...outcomeInput(`${what as string} from DynamoDB`, 'leak', outcome({}), 503, 'OutcomeNotCounted'),
    plant: () => dynamodb.on(PutItemCommand).rejects(error as Error),
  })),
];

const handlers: Record<Route, (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>> = { invoke, force: invoke, outcomes: report };
const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();

beforeAll(() => {
  secrets.on(GetSecretValueCommand).resolves({ SecretString: KEY });
  sagemaker.on(DescribeEndpointCommand).resolves({
    ProductionVariants: [{ VariantName: 'baseline', CurrentWeight: 0.9 }, { VariantName: 'candidate', CurrentWeight: 0.1 }],
  });
});
beforeEach(() => {
  runtime.reset();
  dynamodb.reset();
  dynamodb.on(PutItemCommand).resolves({});
});

describe('the hostile-input suite of both gateway routes', () => {
  test('tries the inputs of every class, on all three routes', () => {
    expect(INPUTS).toHaveLength(158);
    const perKind = Object.fromEntries([...new Set(INPUTS.map((i) => i.kind))].map((kind) => [kind, INPUTS.filter((i) => i.kind === kind).length]));
    expect(perKind).toEqual({
      depth: 7, size: 8, echo: 9, 'unknown outcome type': 14, 'out-of-range value': 12, 'forbidden force': 19, 'bad id': 16, 'bad JSON': 18,
      'content type': 11, oversized: 4, unicode: 6, 'prototype pollution': 7, 'numbers as strings': 12, leak: 15,
    });
    expect(new Set(INPUTS.map((i) => i.route))).toEqual(new Set(['invoke', 'force', 'outcomes']));
  });

  const refusals = INPUTS.filter((i) => !i.plant);
  test.each(refusals.map((i) => [`${i.kind}: ${i.name} (${i.route})`, i] as const))('refuses %s in its own words, sending, recording and counting nothing', async (_, input) => {
    const { result, records, emf, logs } = await captureOutput(() => handlers[input.route](input.event));
    expect(result.statusCode).toBe(input.status);
    expect(result.statusCode).toBeGreaterThanOrEqual(400);
    expect(result.statusCode).toBeLessThan(500);
    const body = result.body ?? '';
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(RESPONSE_LIMIT);
    const error = JSON.parse(body).error;
    expect(error.code).toBe(input.code);
    expect(OUR_CODES.has(error.code)).toBe(true);
    expect(body).not.toMatch(AWS_TEXT);
    expect(runtime).not.toHaveReceivedCommand(InvokeEndpointCommand);
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
    expect(records).toEqual([]);
    expect(emf).toEqual([]);
    // Logged once, briefly: the refusal, its route and the same short message.
    expect(logs).toEqual([expect.objectContaining({ level: 'WARN', message: 'request refused', route: input.event.routeKey, code: input.code, reason: error.message })]);
    expect(JSON.stringify(logs[0]).length).toBeLessThanOrEqual(LOG_LINE_LIMIT);
  });

  const leaks = INPUTS.filter((i) => i.plant);
  test.each(leaks.map((i) => [`${i.name} (${i.route})`, i] as const))('answers %s with our own code and words, its AWS text only in our log', async (_, input) => {
    input.plant!();
    const { result, records, emf, logs } = await captureOutput(() => handlers[input.route](input.event));
    expect(result.statusCode).toBe(input.status);
    const body = result.body ?? '';
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(RESPONSE_LIMIT);
    expect(JSON.parse(body).error.code).toBe(input.code);
    expect(body).not.toMatch(AWS_TEXT);
    // Records reach the log store and its readers: they carry the error's name, never its text.
    expect(JSON.stringify(records)).not.toMatch(PLANTED_TEXT);
    expect(JSON.stringify(logs)).toMatch(PLANTED_TEXT);
    if (input.route === 'outcomes') {
      expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, 1);
      expect(records).toEqual([]);
    } else {
      // The model was called: the failure is recorded; it counts against the variant only when the model caused it.
      expect(runtime).toHaveReceivedCommandTimes(InvokeEndpointCommand, 1);
      expect(records).toEqual([expect.objectContaining({ status: input.status, error: expect.any(String) })]);
      const errors = emf.filter((line) => 'Errors' in line);
      expect(errors).toHaveLength(input.code === 'ModelError' ? 1 : 0);
      expect(JSON.parse(body).error.retryable).toBe(!['ModelError', 'InvalidRequest', 'GatewayMisconfigured'].includes(input.code));
    }
  });

  test(`quotes no more than ${ECHO_LIMIT} characters of any value it was sent`, async () => {
    const echoed = INPUTS.filter((i) => i.kind === 'echo');
    expect(echoed).toHaveLength(9);
    for (const input of echoed) {
      const { result, logs } = await captureOutput(() => handlers[input.route](input.event));
      // No run of the attacker's filler longer than the echo limit, in the answer or the log.
      expect(result.body).not.toMatch(new RegExp(`x{${ECHO_LIMIT + 1}}`));
      expect(JSON.stringify(logs)).not.toMatch(new RegExp(`x{${ECHO_LIMIT + 1}}`));
    }
  });

  test('leaves Object.prototype as it found it', () => {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).unitId).toBeUndefined();
  });

  test('answers an event no route sends with 500 InternalError, never an exception to the runtime', async () => {
    const broken = [null, undefined, {}, { headers: { 'content-type': 'application/json' }, body: 42 }] as unknown as APIGatewayProxyEventV2[];
    expect(broken).toHaveLength(4);
    for (const handler of [invokeHandler, reportHandler]) {
      for (const event of broken) {
        const { result, records, emf } = await captureOutput(() => handler(event));
        const status = result.statusCode ?? 0;
        expect(status === 500 || (status >= 400 && status < 500)).toBe(true);
        expect(JSON.parse(result.body ?? '').error.code).toMatch(/^(InternalError|InvalidRequest|UnsupportedMediaType)$/);
        expect(records).toEqual([]);
        expect(emf).toEqual([]);
      }
    }
    expect(runtime).not.toHaveReceivedCommand(InvokeEndpointCommand);
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
  });
});
