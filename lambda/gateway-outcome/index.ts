import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { type AttributeValue, ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { parseOutcome } from '../../lib/hooks/runtime/gateway-request';
import { RECORD_SCHEMA_VERSION } from '../../lib/hooks/runtime/inference-record';
import { verifyWithKeys } from '../../lib/hooks/runtime/gateway-keys';
import { GATEWAY_METRIC_NAMES, MAX_ATTRIBUTION_SECONDS, UNIT_BUCKET_DIMENSION } from '../../lib/release/metric-queries';
import { ExperimentValue, guarded, keys, logger, metrics, publishExperimentMetrics, refuse, respond, settings, writeRecord } from '../shared/gateway';

const dynamodb = new DynamoDBClient({});

const REFUSALS = {
  malformed: { status: 400, code: 'InvalidInferenceId', message: "'inferenceId' is not an id this gateway issues" },
  'unknown-key': { status: 400, code: 'UnknownSigningKey', message: "'inferenceId' names a signing key this gateway does not hold" },
  forged: { status: 403, code: 'UnknownInferenceId', message: "'inferenceId' was not issued by this gateway for this endpoint" },
  future: { status: 403, code: 'UnknownInferenceId', message: "'inferenceId' carries a time in the future" },
  expired: { status: 410, code: 'InferenceIdExpired', message: `'inferenceId' is older than the outcome window of ${settings.outcomeWindowSeconds} seconds` },
} as const;

/** Whether a stored outcome item holds this report (its variant, conversion and value). */
function sameReport(stored: Record<string, AttributeValue>, variant: string, outcome: { readonly converted?: boolean; readonly value?: number }): boolean {
  return stored.variant?.S === variant
    && stored.converted?.BOOL === outcome.converted
    && (stored.value?.N === undefined ? outcome.value === undefined : Number(stored.value.N) === outcome.value);
}

/**
 * `POST /outcomes`: accepts an outcome only for an id this gateway signed, within the outcome
 * window, and counts it once per id and type (a conditional write; a different report for the
 * same id and type is answered 200 with `counted: false`). Nothing is counted unless the write
 * succeeded. The same report again (an SDK retry after a write whose answer was lost, or the
 * client's retry after the gateway failed between the write and the record) is answered as
 * counted and its record and metrics emitted again: the record is the same (deduplicate on
 * `recordId`), the metrics may count a report twice when only the answer was lost. The operational
 * metrics count it at the time it is reported; the experiment metrics (sticky predictions
 * only) at the time of its prediction.
 */
export async function report(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const parsed = parseOutcome(event, settings.maxPayloadBytes, { outcomeTypes: settings.outcomeTypes, maxValue: settings.maxOutcomeValue });
  if (!parsed.ok) {
    return refuse(parsed, event);
  }
  const outcome = parsed.value;
  const now = Date.now();
  let verified: Awaited<ReturnType<typeof verifyWithKeys>>;
  try {
    verified = await verifyWithKeys(keys, outcome.inferenceId, {
      endpointName: settings.endpointName,
      variants: settings.variants,
      nowSeconds: now / 1000,
      windowSeconds: settings.outcomeWindowSeconds,
    }, now);
  } catch (error) {
    logger.error('gateway not ready', { error: error as Error });
    return respond(503, { error: { code: 'GatewayNotReady', message: 'The gateway could not read its key; retry' } }, { 'retry-after': '1' });
  }
  if (!verified.ok) {
    return refuse(REFUSALS[verified.reason], event);
  }
  const recordId = `${verified.captureId}#${outcome.type}`;
  let reportedAt = new Date(now).toISOString();
  try {
    await dynamodb.send(new PutItemCommand({
      TableName: settings.outcomeTableName,
      Item: {
        id: { S: recordId },
        // The report's content, so the same report again can be told from a different one.
        variant: { S: verified.variant },
        ...(outcome.converted === undefined ? {} : { converted: { BOOL: outcome.converted } }),
        ...(outcome.value === undefined ? {} : { value: { N: String(outcome.value) } }),
        reportedAt: { S: reportedAt },
        // Kept until no outcome for the id can be accepted any more.
        expiresAt: { N: String(verified.issuedAtSeconds + settings.outcomeWindowSeconds + 86400) },
      },
      ConditionExpression: 'attribute_not_exists(id)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }));
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') {
      logger.error('could not count the outcome', { recordId, error: error as Error });
      return respond(503, { error: { code: 'OutcomeNotCounted', message: 'The outcome was not counted; retry', retryable: true } }, { 'retry-after': '1' });
    }
    const stored = (error as ConditionalCheckFailedException).Item;
    if (stored?.reportedAt?.S === undefined || !sameReport(stored, verified.variant, outcome)) {
      logger.info('outcome already counted', { recordId });
      return respond(200, { counted: false, reason: 'This outcome was already counted for this inference' });
    }
    logger.info('outcome stored before, its answer lost: emitting its record and metrics again', { recordId });
    reportedAt = stored.reportedAt.S;
  }
  writeRecord({
    recordType: 'modelship.outcome',
    schemaVersion: RECORD_SCHEMA_VERSION,
    recordId,
    inferenceId: outcome.inferenceId,
    endpointName: settings.endpointName,
    variant: verified.variant,
    outcomeType: outcome.type,
    ...(outcome.converted === undefined ? {} : { converted: outcome.converted }),
    ...(outcome.value === undefined ? {} : { value: outcome.value }),
    issuedAt: new Date(verified.issuedAtSeconds * 1000).toISOString(),
    reportedAt,
  });
  metrics.addDimensions({ VariantName: verified.variant, OutcomeType: outcome.type });
  metrics.addMetric(GATEWAY_METRIC_NAMES.outcomes, MetricUnit.Count, 1);
  if (outcome.converted !== undefined) {
    metrics.addMetric(GATEWAY_METRIC_NAMES.conversions, MetricUnit.Count, outcome.converted ? 1 : 0);
  }
  if (outcome.value !== undefined) {
    metrics.addMetric(GATEWAY_METRIC_NAMES.outcomeValue, MetricUnit.NoUnit, outcome.value);
    // Summed with OutcomeValue, it gives the variance of the value per invocation.
    metrics.addMetric(GATEWAY_METRIC_NAMES.outcomeValueSquared, MetricUnit.NoUnit, outcome.value * outcome.value);
  }
  metrics.publishStoredMetrics();
  // The experiment metrics: only for a sticky prediction young enough for CloudWatch to take a
  // datapoint at its time (parseOutcome accepts only the gateway's outcome types).
  const cohort = verified.cohort;
  if (cohort.assignment === 'sticky' && now / 1000 - verified.issuedAtSeconds < MAX_ATTRIBUTION_SECONDS) {
    const values: ExperimentValue[] = [
      ...(outcome.converted === undefined ? [] : [{ name: GATEWAY_METRIC_NAMES.experimentConversions, unit: MetricUnit.Count, value: outcome.converted ? 1 : 0 }]),
      ...(outcome.value === undefined ? [] : [{ name: GATEWAY_METRIC_NAMES.experimentOutcomeValue, unit: MetricUnit.NoUnit, value: outcome.value }]),
    ];
    publishExperimentMetrics(verified.issuedAtSeconds, {
      VariantName: verified.variant, [UNIT_BUCKET_DIMENSION]: String(cohort.unitBucket), OutcomeType: outcome.type,
    }, values);
  }
  return respond(202, { counted: true, variant: verified.variant });
}

export const handler = guarded(report);
