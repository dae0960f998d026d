import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { GATEWAY_METRICS, gatewaySettingsFrom } from '../../lib/hooks/runtime/gateway-settings';
import type { GatewayRecord } from '../../lib/hooks/runtime/inference-record';

/** What both gateway handlers share: settings, logger, metrics, the signing key, the record writer and the experiment metrics. */
export const settings = gatewaySettingsFrom(process.env);
export const logger = new Logger({ serviceName: 'modelship-gateway' });
export const metrics = new Metrics({
  namespace: GATEWAY_METRICS.namespace,
  serviceName: GATEWAY_METRICS.service,
  defaultDimensions: { EndpointName: settings.endpointName },
});

const secrets = new SecretsManagerClient({});
let key: Promise<Buffer> | undefined;

/** The signing key, read once per container; a failed read is retried by the next request. */
export function signingKey(): Promise<Buffer> {
  if (!key) {
    key = secrets.send(new GetSecretValueCommand({ SecretId: settings.signingKeySecretId })).then((out) => {
      if (!out.SecretString) {
        throw new Error(`The signing key secret ${settings.signingKeySecretId} has no string value`);
      }
      return Buffer.from(out.SecretString, 'utf8');
    });
    key.catch(() => {
      key = undefined;
    });
  }
  return key;
}

/**
 * Writes a record as one line on standard output, where the log store's subscription picks
 * it up. Written directly, not through the logger, so no log level can drop a record.
 */
export function writeRecord(record: GatewayRecord): void {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

/** A JSON response. */
export function respond(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** The answer to a request the gateway refuses: logged (with the route API Gateway matched), nothing counted. */
export function refuse(error: { readonly status: number; readonly code: string; readonly message: string }, event: APIGatewayProxyEventV2): APIGatewayProxyStructuredResultV2 {
  logger.warn('request refused', { route: event.routeKey, status: error.status, code: error.code, reason: error.message });
  return respond(error.status, { error: { code: error.code, message: error.message } });
}

/**
 * A handler that always answers: an exception that escapes it (a bug, or an event no route
 * sends) is logged and answered 500 `InternalError` in our own words, never handed to the runtime.
 */
export function guarded(
  handle: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>,
): (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2> {
  return async (event) => {
    try {
      return await handle(event);
    } catch (error) {
      logger.error('request failed unexpectedly', { route: (event as Partial<APIGatewayProxyEventV2> | undefined)?.routeKey, error: error as Error });
      return respond(500, { error: { code: 'InternalError', message: 'The gateway could not handle the request', retryable: false } });
    }
  };
}

/** One experiment metric's value. */
export interface ExperimentValue {
  readonly name: string;
  readonly unit: Parameters<Metrics['addMetric']>[1];
  readonly value: number;
}

/**
 * Publishes experiment metrics as an EMF line of their own, stamped with the prediction's time
 * (the inference id's issue time), so an outcome lands in the period of its prediction. Flushing
 * clears the metrics, the dimensions and the timestamp, so nothing leaks into the next line.
 */
export function publishExperimentMetrics(issuedAtSeconds: number, dimensions: Readonly<Record<string, string>>, values: readonly ExperimentValue[]): void {
  metrics.setTimestamp(issuedAtSeconds * 1000);
  metrics.addDimensions({ ...dimensions });
  for (const { name, unit, value } of values) {
    metrics.addMetric(name, unit, value);
  }
  metrics.publishStoredMetrics();
}
