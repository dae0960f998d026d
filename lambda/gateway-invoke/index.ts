import { randomBytes } from 'crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, InvokeEndpointCommandOutput, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { formatEchoed, jsonDepth, MAX_JSON_DEPTH, parseInvocation } from '../../lib/hooks/runtime/gateway-request';
import { Assignment, InferenceRecord, RECORD_SCHEMA_VERSION } from '../../lib/hooks/runtime/inference-record';
import { captureIdOf, Cohort, NONCE_BYTES, signInferenceId } from '../../lib/hooks/runtime/inference-token';
import { invocationFailure } from '../../lib/hooks/runtime/invocation-errors';
import { isSampled, recordedBody, redactionSet, unitBucketOf, unitHashOf } from '../../lib/hooks/runtime/record-content';
import type { GatewayKeyRing } from '../../lib/hooks/runtime/gateway-keys';
import { RefreshingValue } from '../../lib/hooks/runtime/refreshing-value';
import { assignVariant, drawVariant, VariantWeight } from '../../lib/hooks/runtime/sticky-assignment';
import { GATEWAY_METRIC_NAMES, UNIT_BUCKET_DIMENSION } from '../../lib/release/metric-queries';
import { guarded, keys, logger, metrics, publishExperimentMetrics, refuse, respond, settings, writeRecord } from '../shared/gateway';

const runtime = new SageMakerRuntimeClient({});
const sagemaker = new SageMakerClient({});
const redactions = redactionSet(settings.redactFields);

/** The endpoint's current weights, read with DescribeEndpoint at most once per time-to-live. */
const weights = new RefreshingValue<VariantWeight[]>(async () => {
  const out = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: settings.endpointName }));
  return (out.ProductionVariants ?? []).map((v) => ({ variant: v.VariantName ?? '', weight: v.CurrentWeight ?? 0 }));
}, settings.weightsTtlSeconds * 1000, Date.now, (error) => logger.warn('keeping the last weights: refresh failed', { error: error as Error }));

/** Where a request goes and how that was chosen (a sticky request with its unit). */
type Routed = { readonly target: string } & ({ readonly assignment: 'sticky'; readonly unitId: string } | { readonly assignment: Exclude<Assignment, 'sticky'> });

/** A uniform number in [0, 1) from 48 random bits. */
function uniformDraw(): number {
  return randomBytes(6).readUIntBE(0, 6) / 2 ** 48;
}

/**
 * The variant to send a request to, and how it was chosen: the variant the caller forces, the unit's
 * sticky variant, or a random draw by the weights; or the reason the forced variant is refused.
 * Throws when the weights cannot be read or no variant has a positive weight.
 */
async function route(unitId: string | undefined, override: string | undefined): Promise<Routed | string> {
  const current = await weights.get();
  if (override !== undefined) {
    return current.some((w) => w.variant === override)
      ? { target: override, assignment: 'override' }
      : `The path's variant must be one of ${current.map((w) => `'${w.variant}'`).join(', ')}, got ${formatEchoed(override)}`;
  }
  const target = unitId === undefined ? drawVariant(current, uniformDraw()) : assignVariant(unitId, current, settings.assignmentSalt);
  if (target === undefined) {
    throw new Error(`No variant of ${settings.endpointName} has a positive weight: ${JSON.stringify(current)}`);
  }
  return unitId === undefined ? { target, assignment: 'weighted' } : { target, assignment: 'sticky', unitId };
}

/**
 * The model's answer: parsed when it is labelled JSON and nests at most `MAX_JSON_DEPTH` levels
 * (as requests must), otherwise its text as it is, so recording and answering it cannot overflow.
 */
function predictionOf(out: InvokeEndpointCommandOutput): unknown {
  const text = Buffer.from(out.Body ?? new Uint8Array()).toString('utf8');
  if (/json/i.test(out.ContentType ?? '') && jsonDepth(text, MAX_JSON_DEPTH) <= MAX_JSON_DEPTH) {
    try {
      return JSON.parse(text);
    } catch {
      // A model that labels non-JSON as JSON: hand the text back as it is.
    }
  }
  return text;
}

/** What the handler knows of an inference by the time it answers: the variant always (the gateway chose it). */
type InferenceFacts = Omit<InferenceRecord, 'recordType' | 'schemaVersion' | 'recordId' | 'latencyMs' | 'bodiesSampled' | 'bodiesTruncated' | 'request' | 'response'>
  & { readonly variant: string };

/**
 * Publishes a request's metrics. Operational metrics, for all traffic: Invocations (every request
 * the model answered or failed), Errors (the failures the variant caused), latencies; a failure
 * that is not the variant's (the caller's, SageMaker's, the gateway's setup) counts neither. Experiment metrics, for sticky requests
 * only, each set as a line of its own stamped with the prediction's time: an exposure per unit
 * bucket, and a zero conversion and outcome value per configured outcome type, so the outcome
 * series exist in every period with exposures (a missing series then means missing data).
 */
function publishMetrics(base: InferenceFacts, issuedAtSeconds: number, latencyMs: number, variantError: boolean): void {
  metrics.addDimension('VariantName', base.variant);
  if (base.status === 200) {
    metrics.addMetric(GATEWAY_METRIC_NAMES.invocations, MetricUnit.Count, 1);
    metrics.addMetric(GATEWAY_METRIC_NAMES.modelLatency, MetricUnit.Milliseconds, base.modelLatencyMs);
  } else if (variantError) {
    metrics.addMetric(GATEWAY_METRIC_NAMES.invocations, MetricUnit.Count, 1);
    metrics.addMetric(GATEWAY_METRIC_NAMES.errors, MetricUnit.Count, 1);
  }
  metrics.addMetric(GATEWAY_METRIC_NAMES.gatewayLatency, MetricUnit.Milliseconds, latencyMs);
  metrics.publishStoredMetrics();
  if (base.unitBucket === undefined) {
    return;
  }
  const cohort = { VariantName: base.variant, [UNIT_BUCKET_DIMENSION]: String(base.unitBucket) };
  publishExperimentMetrics(issuedAtSeconds, cohort, [{ name: GATEWAY_METRIC_NAMES.experimentExposures, unit: MetricUnit.Count, value: 1 }]);
  for (const outcomeType of settings.outcomeTypes) {
    publishExperimentMetrics(issuedAtSeconds, { ...cohort, OutcomeType: outcomeType }, [
      { name: GATEWAY_METRIC_NAMES.experimentConversions, unit: MetricUnit.Count, value: 0 },
      { name: GATEWAY_METRIC_NAMES.experimentOutcomeValue, unit: MetricUnit.NoUnit, value: 0 },
    ]);
  }
}

/** Records a served (or failed) inference and publishes its metrics. */
function record(base: InferenceFacts, issuedAtSeconds: number, started: number, input: unknown, output: unknown, variantError = false): void {
  const latencyMs = performance.now() - started;
  const sampled = isSampled(base.captureId, settings.bodySampleRate);
  const request = sampled ? recordedBody(input, redactions, settings.maxRecordedBodyBytes) : undefined;
  const response = sampled && output !== undefined ? recordedBody(output, redactions, settings.maxRecordedBodyBytes) : undefined;
  writeRecord({
    recordType: 'modelship.inference',
    schemaVersion: RECORD_SCHEMA_VERSION,
    recordId: base.captureId,
    ...base,
    latencyMs,
    bodiesSampled: sampled,
    ...(sampled ? { bodiesTruncated: Boolean(request?.truncated || response?.truncated), request: request?.body, response: response?.body } : {}),
  });
  publishMetrics(base, issuedAtSeconds, latencyMs, variantError);
}

/**
 * `POST /invocations` and `POST /variants/{variant}/invocations`: routes, invokes the endpoint
 * with a fresh inference id, records the result.
 */
export async function invoke(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const started = performance.now();
  const requestedAt = new Date();
  const parsed = parseInvocation(event, settings.maxPayloadBytes);
  if (!parsed.ok) {
    return refuse(parsed, event);
  }
  const { input, unitId, variant: override } = parsed.value;
  let ring: GatewayKeyRing;
  let routing: Awaited<ReturnType<typeof route>>;
  try {
    [ring, routing] = await Promise.all([keys.get(), route(unitId, override)]);
  } catch (error) {
    logger.error('gateway not ready', { error: error as Error });
    return respond(503, { error: { code: 'GatewayNotReady', message: 'The gateway could not read its key or route by the endpoint\'s weights; retry' } }, { 'retry-after': '1' });
  }
  if (typeof routing === 'string') {
    return refuse({ status: 400, code: 'InvalidRequest', message: routing }, event);
  }
  const { target, assignment } = routing;
  const unitHash = unitId === undefined ? undefined : unitHashOf(ring.unitKey, unitId);
  const cohort: Cohort = routing.assignment === 'sticky'
    ? { assignment: 'sticky', unitBucket: unitBucketOf(unitHash ?? unitHashOf(ring.unitKey, routing.unitId)) }
    : { assignment: routing.assignment };
  const issuedAtSeconds = Math.floor(requestedAt.getTime() / 1000);
  const captureId = captureIdOf(ring.signing.keyVersion, issuedAtSeconds, randomBytes(NONCE_BYTES), cohort);
  const base = {
    captureId,
    endpointName: settings.endpointName,
    assignment,
    ...(unitHash === undefined ? {} : { unitHash }),
    ...(cohort.assignment === 'sticky' ? { unitBucket: cohort.unitBucket } : {}),
    requestedAt: requestedAt.toISOString(),
  };
  const invoked = performance.now();
  // Only the call is in the try: a failure after it (recording, answering) must not record the
  // inference again, count an error or tell the caller to invoke again.
  let out: InvokeEndpointCommandOutput;
  try {
    out = await runtime.send(new InvokeEndpointCommand({
      EndpointName: settings.endpointName,
      InferenceId: captureId,
      TargetVariant: target,
      ContentType: 'application/json',
      Accept: 'application/json',
      Body: JSON.stringify(input),
    }));
  } catch (error) {
    const modelLatencyMs = performance.now() - invoked;
    const name = (error as Error).name;
    const failure = invocationFailure(name, (error as Error).message);
    const variant = target;
    record({ ...base, inferenceId: captureId, variant, modelVersion: settings.modelVersions[variant], modelLatencyMs, status: failure.status, error: name },
      issuedAtSeconds, started, input, undefined, failure.variantError);
    logger.error('invocation failed', { captureId, variant, error: error as Error });
    const originalStatusCode = (error as { OriginalStatusCode?: number }).OriginalStatusCode;
    return respond(failure.status, {
      error: { code: failure.code, message: failure.message, retryable: failure.retryable, ...(originalStatusCode ? { originalStatusCode } : {}) },
    }, failure.retryable ? { 'retry-after': '1' } : {});
  }
  const modelLatencyMs = performance.now() - invoked;
  const variant = out.InvokedProductionVariant ?? target;
  const inferenceId = signInferenceId(ring.signing.key, settings.endpointName, variant, captureId);
  const prediction = predictionOf(out);
  record({ ...base, inferenceId, variant, modelVersion: settings.modelVersions[variant], modelLatencyMs, status: 200 }, issuedAtSeconds, started, input, prediction);
  return respond(200, { inferenceId, variant, prediction });
}

export const handler = guarded(invoke);
