import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { GatewayKeyRing, KEY_RELOAD_INTERVAL_MS, loadKeyRing } from '../../lib/hooks/runtime/gateway-keys';
import { GATEWAY_METRICS, gatewaySettingsFrom, KEY_CACHE_TTL_SECONDS } from '../../lib/hooks/runtime/gateway-settings';
import { RefreshingValue } from '../../lib/hooks/runtime/refreshing-value';
import type { GatewayRecord } from '../../lib/hooks/runtime/inference-record';

/** What both gateway handlers share: settings, logger, metrics, the keys, the record writer and the experiment metrics. */
export const settings = gatewaySettingsFrom(process.env);
export const logger = new Logger({ serviceName: 'modelship-gateway' });
export const metrics = new Metrics({
  namespace: GATEWAY_METRICS.namespace,
  serviceName: GATEWAY_METRICS.service,
  defaultDimensions: { EndpointName: settings.endpointName },
});

const secrets = new SecretsManagerClient({});

/**
 * The gateway's keys (the secret's current and previous versions), read at the first request
 * and again every `KEY_CACHE_TTL_SECONDS` in the background, so a rotation is picked up without
 * a cold start; a failed first read is retried by the next request. `keys.loadedSince(t)`
 * reads them again (shared, at most once per `KEY_RELOAD_INTERVAL_MS`) for an id signed with a
 * key newer than those held.
 */
export const keys = new RefreshingValue<GatewayKeyRing>(
  () => loadKeyRing(secrets, settings.signingKeySecretId),
  KEY_CACHE_TTL_SECONDS * 1000,
  Date.now,
  (error) => logger.warn('keeping the last keys: reading them failed', { error: error as Error }),
  { minIntervalMs: KEY_RELOAD_INTERVAL_MS },
);

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
