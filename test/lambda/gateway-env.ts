import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { GATEWAY_SETTINGS_VARIABLE, GatewaySettings } from '../../lib/hooks/runtime/gateway-settings';
import { GatewayKey, GatewayKeyRing, parseGatewayKey } from '../../lib/hooks/runtime/gateway-keys';
import { captureIdOf, Cohort, NONCE_BYTES, signInferenceId } from '../../lib/hooks/runtime/inference-token';

/** The settings the gateway handlers under test run with. Imported before the handlers, which read them at load. */
export const SETTINGS: GatewaySettings = {
  endpointName: 'churn-ab',
  variants: ['baseline', 'candidate'],
  modelVersions: { baseline: 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/1', candidate: 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/2' },
  signingKeySecretId: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:gateway-key',
  maxPayloadBytes: 4096,
  weightsTtlSeconds: 60,
  assignmentSalt: 'churn-ab',
  bodySampleRate: 1,
  redactFields: ['email'],
  maxRecordedBodyBytes: 512,
  // Longer than MAX_ATTRIBUTION_SECONDS, so outcomes too late to attribute can be tested.
  outcomeWindowSeconds: 30 * 86400,
  outcomeTableName: 'outcomes',
  outcomeTypes: ['purchase', 'click'],
  maxOutcomeValue: 1_000_000,
};
process.env[GATEWAY_SETTINGS_VARIABLE] = JSON.stringify(SETTINGS);
process.env.AWS_REGION = 'eu-west-1';
// These tests assert the gateway's EMF metrics, which test/setup-env.ts turns off elsewhere.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';

/** The signing key the mocked Secrets Manager returns. */
export const KEY = 'k'.repeat(64);

/** A sticky prediction's cohort, in unit bucket 5. */
export const STICKY: Cohort = { assignment: 'sticky', unitBucket: 5 };

/**
 * An id the gateway would have issued `ageSeconds` ago for the variant, to a request of the cohort, for `endpointName`,
 * signed with a version of the key secret: a rotated version, or a generated value (key version 0) given as its text.
 */
export function issued(variant: string, ageSeconds = 60, key: string | GatewayKey = KEY, cohort: Cohort = STICKY, endpointName = SETTINGS.endpointName) {
  const issuedAtSeconds = Math.floor(Date.now() / 1000 - ageSeconds);
  const signer = new GatewayKeyRing(typeof key === 'string' ? parseGatewayKey(key) : key).signing;
  const captureId = captureIdOf(signer.keyVersion, issuedAtSeconds, Buffer.alloc(NONCE_BYTES, 5), cohort);
  return { captureId, issuedAtSeconds, inferenceId: signInferenceId(signer.key, endpointName, variant, captureId) };
}

/** An HTTP API (payload 2.0) POST with a JSON body, to a route without path parameters. */
export function post(path: string, body: unknown, contentType = 'application/json'): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `POST ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {} as APIGatewayProxyEventV2['requestContext'],
  };
}

/** A POST to the forcing route, `POST /variants/{variant}/invocations`, as API Gateway hands it over (the path parameter decoded). */
export function forced(variant: string, body: unknown): APIGatewayProxyEventV2 {
  return {
    ...post(`/variants/${encodeURIComponent(variant)}/invocations`, body),
    routeKey: 'POST /variants/{variant}/invocations',
    pathParameters: { variant },
  };
}

/** What a handler wrote while `run` ran: record lines and EMF lines (standard output), and log lines (the rest, either stream). */
export interface CapturedOutput<T> {
  readonly result: T;
  readonly records: Record<string, unknown>[];
  readonly emf: Record<string, unknown>[];
  readonly logs: Record<string, unknown>[];
}

/** Everything written to standard output and standard error while `run` ran, split into record, EMF and log lines. */
export async function captureOutput<T>(run: () => Promise<T>): Promise<CapturedOutput<T>> {
  const lines: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  };
  const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(capture), jest.spyOn(process.stderr, 'write').mockImplementation(capture)];
  try {
    const result = await run();
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const records = parsed.filter((l) => typeof l.recordType === 'string');
    const emf = parsed.filter((l) => '_aws' in l);
    return { result, records, emf, logs: parsed.filter((l) => !records.includes(l) && !emf.includes(l)) };
  } finally {
    spies.forEach((spy) => spy.mockRestore());
  }
}

/** An EMF line's CloudWatch part: its time, dimension sets and metric names. */
export function emfOf(line: Record<string, unknown>): { timestamp: number; dimensions: string[][]; metrics: string[] } {
  const aws = line._aws as { Timestamp: number; CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  expect(aws.CloudWatchMetrics).toHaveLength(1);
  const [directive] = aws.CloudWatchMetrics;
  return { timestamp: aws.Timestamp, dimensions: directive.Dimensions, metrics: directive.Metrics.map((m) => m.Name) };
}
