import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, QueryCommand, TransactWriteItemsCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelCommand, SageMakerClient, UpdateEndpointWeightsAndCapacitiesCommand,
} from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { callOrder } from '../call-order';
import { cancelled, RolloutTable, transactPuts } from '../hooks/runtime/rollout-table';
import { POLICY, SETTINGS } from './release-env';
import { CONTROLLER_ACTOR, handler, tick } from '../../lambda/release-controller';
import type { HookPayload } from '../../lib/release/hook-payload';
import { UNIT_BUCKETS } from '../../lib/release/metric-queries';
import { AuditEntry, auditFromItem, auditToItem, Item, outboxToItem, RolloutRecord, rolloutFromItem, rolloutToItem } from '../../lib/release/rollout-record';
import { policyHash } from '../../lib/release/rollout-policy';
import type { RolloutState } from '../../lib/release/rollout-types';

const dynamodb = mockClient(DynamoDBClient);
const sagemaker = mockClient(SageMakerClient);
const cloudwatch = mockClient(CloudWatchClient);
const eventbridge = mockClient(EventBridgeClient);
const sns = mockClient(SNSClient);
const lambda = mockClient(LambdaClient);

const NOW = Date.parse('2026-11-22T12:00:00Z');
const HOUR = 3_600_000;
const running: RolloutState = { phase: 'running', step: 0, weights: { baseline: 50, candidate: 50 }, startedAtMs: NOW - 48 * HOUR, stepStartedAtMs: NOW - 48 * HOUR };

/** Model package versions the candidate variant serves in these tests. */
const V3 = 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3';
const V4 = 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/4';

function stored(state: RolloutState, extra: Partial<RolloutRecord> = {}): void {
  const record: RolloutRecord = {
    endpointName: 'churn-ab', rolloutId: 1, candidateVersion: V3, policyHash: policyHash(POLICY), policy: POLICY, state, version: 7,
    updatedAtMs: NOW - HOUR, updatedBy: CONTROLLER_ACTOR, ...extra,
  };
  table.put(rolloutToItem(record));
}

/**
 * The endpoint's status and weights, its config (one per candidate version, as a deploy makes
 * them: `configName` tells two deploys of one version apart) and the candidate's model.
 */
function endpointIs(status: string, weights: Record<string, number>, candidateVersion = V3, configName = `config-${candidateVersion.split('/').pop()}`): void {
  sagemaker.on(DescribeEndpointCommand).resolves({
    EndpointStatus: status as never,
    EndpointConfigName: configName,
    ProductionVariants: Object.entries(weights).map(([VariantName, w]) => ({ VariantName, CurrentWeight: w, DesiredWeight: w })),
  });
  sagemaker.on(DescribeEndpointConfigCommand, { EndpointConfigName: configName }).resolves({
    ProductionVariants: Object.keys(weights).map((VariantName) => ({ VariantName, ModelName: `${configName}-${VariantName}` })),
  });
  sagemaker.on(DescribeModelCommand, { ModelName: `${configName}-candidate` }).resolves({
    ModelName: `${configName}-candidate`, PrimaryContainer: { ModelPackageName: candidateVersion },
  });
}

/** `total` spread over the unit buckets as evenly as whole numbers allow. */
const spread = (total: number, bucket: number) => Math.floor(total / UNIT_BUCKETS) + (bucket < total % UNIT_BUCKETS ? 1 : 0);

/**
 * Per-variant totals as GetMetricData returns them: the requests of both windows (invocations,
 * errors), and the cohorts (`invocations` predictions with `conversions` outcomes, spread over
 * the unit buckets in the window's first period). A variant without invocations has no datapoint.
 */
function metricsAre(counts: Record<'v0' | 'v1', { invocations?: number; conversions?: number; errors?: number }>): void {
  cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
    MetricDataResults: input.MetricDataQueries!.flatMap((q) => {
      const cohort = /^c(\d)_(\d+)_(exposures|outcomes)$/.exec(q.Id!);
      const request = /^(v\d)_(invocations|errors)$/.exec(q.Id!);
      const c = counts[(cohort ? `v${cohort[1]}` : request?.[1] ?? 'v0') as 'v0' | 'v1'];
      const value = cohort
        ? c.invocations === undefined ? undefined : spread(cohort[3] === 'exposures' ? c.invocations : c.conversions ?? 0, Number(cohort[2]))
        : request && c[request[2] as 'invocations' | 'errors'];
      return value === undefined ? [] : [{ Id: q.Id, Values: [value], Timestamps: [input.StartTime!], StatusCode: 'Complete' as const }];
    }),
  }));
}

const isCohortRead = (input: GetMetricDataCommandInput) => input.MetricDataQueries!.every((q) => q.Id!.startsWith('c'));

/** The rollout table the controller reads and writes (served on the mocked client). */
let table: RolloutTable;
const written = () => transactPuts(dynamodb);
const rolloutWrites = () => written().filter((i) => i.Item!.sk.S === 'ROLLOUT');
/** The audit entries in the table, oldest first: what committed transactions wrote. */
const auditWrites = () => table.withPrefix('AUDIT#').map((i) => auditFromItem(i));

beforeEach(() => {
  for (const mock of [dynamodb, sagemaker, cloudwatch, eventbridge, sns, lambda]) {
    mock.reset();
  }
  table = new RolloutTable();
  table.serve(dynamodb);
  cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'churn-ab-candidate-5xx', StateValue: 'OK' }] });
  eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
  sns.on(PublishCommand).resolves({});
  lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: Buffer.from(JSON.stringify({ pass: true })) as never });
});

describe('the release controller tick', () => {
  test('starts a rollout at the policy\'s split, with a conditional create, and applies it to the endpoint', async () => {
    endpointIs('InService', { baseline: 90, candidate: 10 });
    metricsAre({ v0: {}, v1: {} });
    const result = await tick(NOW);
    expect(dynamodb).toHaveReceivedCommandWith(GetItemCommand, { TableName: 'rollouts', Key: { pk: { S: 'churn-ab' }, sk: { S: 'ROLLOUT' } }, ConsistentRead: true });
    expect(rolloutWrites()).toEqual([expect.objectContaining({ TableName: 'rollouts', ConditionExpression: 'attribute_not_exists(pk)' })]);
    expect(rolloutFromItem(rolloutWrites()[0].Item as Item)).toMatchObject({
      version: 1, rolloutId: 1, candidateVersion: V3, policyHash: policyHash(POLICY), state: { phase: 'running', weights: { baseline: 50, candidate: 50 } }, source: SETTINGS.source,
    });
    expect(sagemaker).toHaveReceivedCommandWith(UpdateEndpointWeightsAndCapacitiesCommand, {
      EndpointName: 'churn-ab',
      DesiredWeightsAndCapacities: [{ VariantName: 'baseline', DesiredWeight: 50 }, { VariantName: 'candidate', DesiredWeight: 50 }],
    });
    // The first tick applies the first weights; deciding waits for counts made at them.
    expect(auditWrites().map((e) => e.action)).toEqual(['started']);
    expect(cloudwatch).not.toHaveReceivedCommand(GetMetricDataCommand);
    // The starting weights are the endpoint's, and every entry names the rollout and its version.
    expect(auditWrites()[0]).toMatchObject({ fromWeights: { baseline: 90, candidate: 10 }, toWeights: { baseline: 50, candidate: 50 }, rolloutId: 1, candidateVersion: V3 });
    expect(auditWrites()[0].reason).toMatch(/^rollout #1 of churn\/3 started under policy \w+: the first rollout on this endpoint$/);
    expect(auditWrites().map((e) => [e.rolloutId, e.atMs])).toEqual([[1, NOW]]);
    expect(result.weightsApplied).toBe(true);
    expect(eventbridge).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    // The shared order of a change (the CLI's too): state, audit and outbox in one transaction, the
    // weights; then the outbox's deliveries, each acknowledged, and the delivered item removed.
    expect(written().map((p) => p.Item!.sk.S!.replace(/#.*/, '#'))).toEqual(['ROLLOUT', 'AUDIT#', 'OUTBOX#']);
    expect(callOrder([
      ['write', dynamodb.commandCalls(TransactWriteItemsCommand)],
      ['weights', sagemaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand)],
      ['event', eventbridge.commandCalls(PutEventsCommand)],
      ['ack', dynamodb.commandCalls(UpdateItemCommand)],
      ['sns', sns.commandCalls(PublishCommand)],
      ['settle', dynamodb.commandCalls(DeleteItemCommand)],
    ])).toEqual(['write', 'weights', 'event', 'ack', 'sns', 'ack', 'settle']);
    expect(JSON.parse(eventbridge.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0].Detail!)).toMatchObject({ deliveryId: `churn-ab/rollout-1/v1/0/${NOW}` });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { MessageAttributes: { deliveryId: { DataType: 'String', StringValue: `churn-ab/rollout-1/v1/0/${NOW}` } } });
    expect(table.withPrefix('OUTBOX#')).toEqual([]);
    expect(result.deliveries).toEqual({ delivered: 2, failures: [], pending: 0, removedUnmatched: [] });
    // Where and how it reads its metrics, recorded so the CLI reads the same windows.
    expect(rolloutFromItem(rolloutWrites()[0].Item as Item).metricLagSeconds).toBe(180);
  });

  test('holds without reading metrics while the endpoint is not InService, and applies nothing', async () => {
    stored(running);
    endpointIs('Updating', { baseline: 90, candidate: 10 });
    const result = await tick(NOW);
    expect(result.action).toBe('hold');
    expect(cloudwatch).not.toHaveReceivedCommand(GetMetricDataCommand);
    expect(sagemaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
    expect(auditWrites()).toEqual([expect.objectContaining({ action: 'hold', reason: 'endpoint is Updating, not InService: holding until the next tick' })]);
    expect(rolloutWrites()[0]).toMatchObject({ ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': { N: '7' } } });
    expect(eventbridge).not.toHaveReceivedCommand(PutEventsCommand);
  });

  test('holds when metrics are missing, never advancing', async () => {
    stored(running);
    endpointIs('InService', { baseline: 50, candidate: 50 });
    metricsAre({ v0: { invocations: 5000, conversions: 500 }, v1: {} });
    const result = await tick(NOW);
    expect(result).toMatchObject({ action: 'hold', weightsApplied: false, state: { weights: { baseline: 50, candidate: 50 } } });
    expect(sagemaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  test('reads both request windows with the lag, the cohorts with the attribution window too, and the guardrail alarms', async () => {
    stored({ ...running, stepStartedAtMs: NOW - 2 * HOUR });
    endpointIs('InService', { baseline: 50, candidate: 50 });
    metricsAre({ v0: { invocations: 5000, conversions: 500 }, v1: { invocations: 5000, conversions: 500 } });
    await tick(NOW);
    const inputs = cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(inputs).toHaveLength(3);
    expect(inputs.filter((i) => !isCohortRead(i)).map((i) => [i.StartTime, i.EndTime])).toEqual([
      [new Date(NOW - 48 * HOUR), new Date(NOW - 180_000)],
      [new Date(NOW - 2 * HOUR), new Date(NOW - 180_000)],
    ]);
    // From the end of the two-hour burn-in to now less the lag and the hour of attribution
    // (10:57), in whole 15-minute periods.
    expect(inputs.filter(isCohortRead).map((i) => [i.StartTime, i.EndTime])).toEqual([
      [new Date('2026-11-20T14:00:00Z'), new Date('2026-11-22T10:45:00Z')],
    ]);
    expect(cloudwatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, { AlarmNames: ['churn-ab-candidate-5xx'] });
  });

  test('writes where it reads and its attribution window on the rollout, over an item an earlier controller wrote without them', async () => {
    stored(running);
    endpointIs('InService', { baseline: 50, candidate: 50 });
    metricsAre({ v0: { invocations: 5000, conversions: 500 }, v1: { invocations: 5000, conversions: 500 } });
    await tick(NOW);
    expect(rolloutWrites()).toHaveLength(1);
    const record = rolloutFromItem(rolloutWrites()[0].Item as Item);
    expect(record.source).toEqual({ gateway: { namespace: 'Modelship', service: 'modelship-gateway', endpointName: 'churn-ab', outcomeType: 'purchase' } });
    expect(record.attributionSeconds).toBe(3600);
    expect(record.metricLagSeconds).toBe(180);
  });

  test('aborts a candidate that fails most requests within one tick, before any outcome is in', async () => {
    stored({ ...running, startedAtMs: NOW - 30 * 60_000, stepStartedAtMs: NOW - 30 * 60_000 });
    endpointIs('InService', { baseline: 50, candidate: 50 });
    metricsAre({ v0: { invocations: 500, errors: 0 }, v1: { invocations: 500, errors: 400 } });
    const result = await tick(NOW);
    expect(result).toMatchObject({ action: 'abort', state: { phase: 'aborted', weights: { baseline: 100, candidate: 0 } } });
    // The cohorts' window had not begun: no cohort read, the guardrail decided on the requests alone.
    expect(cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input).filter(isCohortRead)).toEqual([]);
    expect(auditWrites().at(-1)!.reason).toMatch(/^Aborted: the candidate's error rate over this step is 80.00% \(400 of 500\)/);
  });

  test('aborts at once when a guardrail alarm fires: baseline to 100, events, SNS and after-hooks', async () => {
    stored(running);
    endpointIs('InService', { baseline: 50, candidate: 50 });
    metricsAre({ v0: { invocations: 5000, conversions: 500 }, v1: { invocations: 5000, conversions: 500 } });
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'churn-ab-candidate-5xx', StateValue: 'ALARM' }] });
    const result = await tick(NOW);
    expect(result).toMatchObject({ action: 'abort', state: { phase: 'aborted', weights: { baseline: 100, candidate: 0 } }, weightsApplied: true });
    expect(sagemaker).toHaveReceivedCommandWith(UpdateEndpointWeightsAndCapacitiesCommand, {
      DesiredWeightsAndCapacities: [{ VariantName: 'baseline', DesiredWeight: 100 }, { VariantName: 'candidate', DesiredWeight: 0 }],
    });
    const event = eventbridge.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0];
    expect(event).toMatchObject({ Source: 'modelship.release', DetailType: 'Rollout abort', EventBusName: 'default' });
    expect(JSON.parse(event.Detail!)).toMatchObject({ endpointName: 'churn-ab', action: 'abort', phase: 'aborted', toWeights: { baseline: 100, candidate: 0 } });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { TopicArn: SETTINGS.topicArn });
    const hook = lambda.commandCalls(InvokeCommand)[0].args[0].input;
    expect(hook).toMatchObject({ FunctionName: SETTINGS.afterHooks[0], InvocationType: 'Event' });
    expect(JSON.parse(Buffer.from(hook.Payload as Uint8Array).toString())).toMatchObject({ schemaVersion: 2, hook: 'after-abort', endpointName: 'churn-ab' });
  });

  test('promotes a clearly better candidate only after the before-step hook passes', async () => {
    const strong = { v0: { invocations: 20000, conversions: 2000 }, v1: { invocations: 20000, conversions: 3000 } };
    stored(running);
    endpointIs('InService', { baseline: 50, candidate: 50 });
    metricsAre(strong);
    lambda.on(InvokeCommand, { FunctionName: SETTINGS.beforeStepHooks[0] }).resolves({ StatusCode: 200, Payload: Buffer.from(JSON.stringify({ pass: false, reason: 'smoke test failed' })) as never });
    const held = await tick(NOW);
    expect(held).toMatchObject({ action: 'hold', state: { phase: 'running', weights: { baseline: 50, candidate: 50 } }, weightsApplied: false });
    expect(auditWrites().map((e) => [e.action, e.reason])).toEqual([
      ['hook-failed', `hook ${SETTINGS.beforeStepHooks[0]} failed: smoke test failed`],
      ['hold', `hook ${SETTINGS.beforeStepHooks[0]} failed: smoke test failed; holding as the policy says`],
    ]);
    // The payload is the public HookPayload, exactly.
    const payload: HookPayload = JSON.parse(Buffer.from(lambda.commandCalls(InvokeCommand)[0].args[0].input.Payload as Uint8Array).toString());
    expect(Object.keys(payload).sort()).toEqual(['baseline', 'candidate', 'endpointName', 'evidence', 'fromWeights', 'hook', 'reason', 'schemaVersion', 'toWeights']);
    expect(payload).toMatchObject({
      schemaVersion: 2, hook: 'before-step', endpointName: 'churn-ab', baseline: 'baseline', candidate: 'candidate',
      fromWeights: { baseline: 50, candidate: 50 }, toWeights: { baseline: 0, candidate: 100 }, reason: expect.stringMatching(/^Promoted: the candidate is significantly better/),
      evidence: { baseline: { exposures: 20000, outcomes: 2000 }, candidate: { exposures: 20000, outcomes: 3000 } },
    });

    dynamodb.resetHistory();
    lambda.reset();
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: Buffer.from(JSON.stringify({ pass: true })) as never });
    const promoted = await tick(NOW);
    expect(promoted).toMatchObject({ action: 'promote', state: { phase: 'promoted', weights: { baseline: 0, candidate: 100 } }, weightsApplied: true });
  });

  test('keeps 1 KB of what a before-step hook says (its reason, its error), so entries, events and notifications stay small', async () => {
    const strong = { v0: { invocations: 20000, conversions: 2000 }, v1: { invocations: 20000, conversions: 3000 } };
    const hostile = [
      { Payload: Buffer.from(JSON.stringify({ pass: false, reason: 'r'.repeat(500_000) })) as never },
      { FunctionError: 'Unhandled'.repeat(50_000) },
      new Error('e'.repeat(300_000)),
    ];
    for (const [i, answer] of hostile.entries()) {
      stored(running, { version: 7 + i * 10 });
      endpointIs('InService', { baseline: 50, candidate: 50 });
      metricsAre(strong);
      lambda.reset();
      if (answer instanceof Error) {
        lambda.on(InvokeCommand, { FunctionName: SETTINGS.beforeStepHooks[0] }).rejects(answer);
      } else {
        lambda.on(InvokeCommand, { FunctionName: SETTINGS.beforeStepHooks[0] }).resolves({ StatusCode: 200, ...answer });
      }
      await tick(NOW + i * 60_000);
    }
    const failed = auditWrites().filter((e) => e.action === 'hook-failed');
    expect(failed).toHaveLength(3);
    for (const entry of failed) {
      expect(entry.reason).toMatch(/… \(\d+ more characters\)$/);
      expect(entry.reason.length).toBeLessThan(1200);
    }
    const puts = written();
    expect(puts.length).toBeGreaterThan(0);
    expect(Math.max(...puts.map((p) => JSON.stringify(p.Item).length))).toBeLessThan(8_000);
    const details = eventbridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0].Detail!);
    expect(details).toHaveLength(3);
    expect(Math.max(...details.map((d) => d.length))).toBeLessThan(8_000);
    expect(Math.max(...sns.commandCalls(PublishCommand).map((c) => c.args[0].input.Message!.length))).toBeLessThan(8_000);
  });

  test('honours a rollout a person promoted: it stays promoted and its weights are put back if they drifted', async () => {
    stored({ ...running, phase: 'promoted', weights: { baseline: 0, candidate: 100 } }, { updatedBy: 'arn:aws:iam::111111111111:user/ana' });
    endpointIs('InService', { baseline: 50, candidate: 50 });
    const result = await tick(NOW);
    expect(result).toMatchObject({ state: { phase: 'promoted' }, weightsApplied: true });
    expect(cloudwatch).not.toHaveReceivedCommand(GetMetricDataCommand);
    expect(sagemaker).toHaveReceivedCommandWith(UpdateEndpointWeightsAndCapacitiesCommand, {
      DesiredWeightsAndCapacities: [{ VariantName: 'baseline', DesiredWeight: 0 }, { VariantName: 'candidate', DesiredWeight: 100 }],
    });
     // Restored on the record (the weights of a change that failed to apply move only with an entry),
    // announced, but the after-promotion hooks ran with the promotion, not again.
    expect(auditWrites()).toEqual([expect.objectContaining({
      action: 'weights-restored', phase: 'promoted', fromWeights: { baseline: 50, candidate: 50 }, toWeights: { baseline: 0, candidate: 100 },
    })]);
    expect(eventbridge).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    expect(lambda).not.toHaveReceivedCommand(InvokeCommand);
  });

  test('delivers what an earlier tick or the CLI left in the outbox, oldest first, on a tick that writes nothing', async () => {
    stored({ ...running, phase: 'paused' });
    endpointIs('InService', { baseline: 50, candidate: 50 });
    const entry = (version: number, action: AuditEntry['action']): AuditEntry => ({
      endpointName: 'churn-ab', rolloutId: 1, atMs: NOW - HOUR + version, version, actor: 'arn:aws:iam::111111111111:user/ana', action, reason: 'r', phase: 'paused',
      fromWeights: { baseline: 50, candidate: 50 }, toWeights: { baseline: 50, candidate: 50 }, policyHash: 'h',
    });
    table.put(auditToItem(entry(6, 'manual-pause')));
    table.put(outboxToItem(entry(6, 'manual-pause')));
    // The promotion's event went out before, but its notification and hook did not.
    table.put(auditToItem(entry(5, 'manual-promote')));
    table.put({ ...outboxToItem(entry(5, 'manual-promote')), delivered: { SS: ['events'] } });
    const result = await tick(NOW);
    expect(result).toMatchObject({ action: 'hold', deliveries: { delivered: 4, failures: [], pending: 0 } });
    expect(transactPuts(dynamodb)).toEqual([]);
    expect(eventbridge.commandCalls(PutEventsCommand).map((c) => JSON.parse(c.args[0].input.Entries![0].Detail!).deliveryId)).toEqual([`churn-ab/rollout-1/v6/0/${NOW - HOUR + 6}`]);
    expect(sns.commandCalls(PublishCommand).map((c) => c.args[0].input.MessageAttributes!.deliveryId.StringValue)).toEqual([`churn-ab/rollout-1/v5/0/${NOW - HOUR + 5}`, `churn-ab/rollout-1/v6/0/${NOW - HOUR + 6}`]);
    // A person's promotion runs the after-promotion hooks, with the delivery id.
    const hooks = lambda.commandCalls(InvokeCommand).map((c) => JSON.parse(Buffer.from(c.args[0].input.Payload as Uint8Array).toString()));
    expect(hooks).toEqual([expect.objectContaining({ hook: 'after-promotion', deliveryId: `churn-ab/rollout-1/v5/0/${NOW - HOUR + 5}` })]);
    expect(table.withPrefix('OUTBOX#')).toEqual([]);
  });

  test('delivers in version order when the writers\' clocks disagree (a CLI laptop behind the controller)', async () => {
    stored({ ...running, phase: 'paused' });
    endpointIs('InService', { baseline: 50, candidate: 50 });
    const entry = (version: number, atMs: number, rolloutId?: number): AuditEntry => ({
      endpointName: 'churn-ab', ...(rolloutId !== undefined ? { rolloutId } : {}), atMs, version, actor: 'arn:aws:iam::111111111111:user/ana', action: 'manual-pause', reason: 'r',
      phase: 'paused', fromWeights: { baseline: 50, candidate: 50 }, toWeights: { baseline: 50, candidate: 50 }, policyHash: 'h',
    });
    // Written in this order: a manual change, then the rollout's v5 by the controller, v6 by a laptop 10 minutes slow, v7 by the controller.
    const items = [entry(3, NOW - 3 * HOUR), entry(5, NOW - HOUR, 1), entry(6, NOW - HOUR - 10 * 60_000, 1), entry(7, NOW - HOUR + 60_000, 1)];
    items.forEach((e) => [auditToItem(e), outboxToItem(e)].forEach((item) => table.put(item)));
    await tick(NOW);
    expect(eventbridge.commandCalls(PutEventsCommand).map((c) => JSON.parse(c.args[0].input.Entries![0].Detail!).deliveryId))
      .toEqual(items.map((e) => `churn-ab/${e.rolloutId ? 'rollout-1' : 'manual'}/v${e.version}/0/${e.atMs}`));
  });

  test('delivers only outbox items written with their audit entry, as that entry says: a forged item is removed, reported, and the handler fails', async () => {
    stored({ ...running, phase: 'paused' });
    endpointIs('InService', { baseline: 50, candidate: 50 });
    const real: AuditEntry = {
      endpointName: 'churn-ab', rolloutId: 1, atMs: NOW - HOUR, version: 6, actor: 'arn:aws:iam::111111111111:user/ana', action: 'manual-pause', reason: 'real', phase: 'paused',
      fromWeights: { baseline: 50, candidate: 50 }, toWeights: { baseline: 50, candidate: 50 }, policyHash: 'h',
    };
    table.put(auditToItem(real));
    // A release manager's PutItem rewrote the real item's copy, and forged another with no audit entry (an abort, to fire the after-hooks).
    table.put(outboxToItem({ ...real, reason: 'forged reason', action: 'manual-promote' }));
    const forged = outboxToItem({ ...real, version: 7, atMs: NOW - HOUR + 1, action: 'manual-abort', reason: 'forged' });
    table.put(forged);
    await expect(handler()).rejects.toThrow(`outbox items without an audit entry were removed, not delivered: 1 (${(forged.sk as { S: string }).S})`);
    const details = eventbridge.commandCalls(PutEventsCommand).map((c) => JSON.parse(c.args[0].input.Entries![0].Detail!));
    expect(details).toEqual([expect.objectContaining({ action: 'manual-pause', reason: 'real', deliveryId: `churn-ab/rollout-1/v6/0/${NOW - HOUR}` })]);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(lambda).not.toHaveReceivedCommand(InvokeCommand);
    expect(table.withPrefix('OUTBOX#')).toEqual([]);
    expect(auditWrites()).toEqual([real]);
  });

  test('a failed delivery stays owed and blocks only its consumer; the next tick delivers it with the same id', async () => {
    stored(running);
    endpointIs('InService', { baseline: 50, candidate: 50 });
    metricsAre({ v0: { invocations: 5000, conversions: 500 }, v1: { invocations: 5000, conversions: 500 } });
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'churn-ab-candidate-5xx', StateValue: 'ALARM' }] });
    eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] });
    const first = await tick(NOW);
    expect(first).toMatchObject({ action: 'abort', weightsApplied: true, deliveries: { delivered: 2, pending: 1 } });
    expect(first.deliveries.failures).toEqual([{ deliveryId: `churn-ab/rollout-1/v8/0/${NOW}`, consumer: 'events', error: 'EventBridge refused the event: InternalFailure' }]);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);

    eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '2' }] });
    endpointIs('InService', { baseline: 100, candidate: 0 });
    const second = await tick(NOW + HOUR);
    expect(second).toMatchObject({ action: 'hold', deliveries: { delivered: 1, failures: [], pending: 0 } });
    expect(eventbridge.commandCalls(PutEventsCommand).map((c) => JSON.parse(c.args[0].input.Entries![0].Detail!).deliveryId)).toEqual([`churn-ab/rollout-1/v8/0/${NOW}`, `churn-ab/rollout-1/v8/0/${NOW}`]);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
  });

  test('the handler fails an invocation whose deliveries failed, once its work is done, so it is retried and alarmed on', async () => {
    stored({ ...running, phase: 'paused' });
    endpointIs('InService', { baseline: 80, candidate: 20 });
    sns.on(PublishCommand).rejects(Object.assign(new Error('KMS key disabled'), { name: 'KMSDisabledException' }));
    await expect(handler({ source: 'aws.events' })).rejects.toThrow('deliveries failed: 1 (sns); outbox items owed to the next tick: 1');
    expect(auditWrites().map((e) => e.action)).toEqual(['weights-restored']);
    expect(eventbridge).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    expect(sagemaker).toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  test('records a change whose weights SageMaker refused, announces it, fails the tick, and the next tick restores the weights on the record', async () => {
    stored(running);
    endpointIs('InService', { baseline: 50, candidate: 50 });
    metricsAre({ v0: { invocations: 5000, conversions: 500 }, v1: { invocations: 5000, conversions: 500 } });
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'churn-ab-candidate-5xx', StateValue: 'ALARM' }] });
    sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).rejectsOnce(Object.assign(new Error('Cannot update in-progress endpoint'), { name: 'ValidationException' }));
    await expect(tick(NOW)).rejects.toThrow('Cannot update in-progress endpoint');
    expect(auditWrites().map((e) => e.action)).toEqual(['abort']);
    expect(eventbridge).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);

    sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).resolves({});
    const next = await tick(NOW + 60_000);
    expect(next).toMatchObject({ action: 'weights-restored', weightsApplied: true, state: { phase: 'aborted', weights: { baseline: 100, candidate: 0 } } });
    expect(auditWrites().map((e) => [e.action, e.fromWeights, e.toWeights])).toEqual([
      ['abort', { baseline: 50, candidate: 50 }, { baseline: 100, candidate: 0 }],
      ['weights-restored', { baseline: 50, candidate: 50 }, { baseline: 100, candidate: 0 }],
    ]);
    // The abort's after-hook ran once, with the abort.
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
    expect(eventbridge).toHaveReceivedCommandTimes(PutEventsCommand, 2);
  });

  test('logs the refused weights before delivering, so a delivery pass that throws does not hide them', async () => {
    stored(running);
    endpointIs('InService', { baseline: 50, candidate: 50 });
    metricsAre({ v0: { invocations: 5000, conversions: 500 }, v1: { invocations: 5000, conversions: 500 } });
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'churn-ab-candidate-5xx', StateValue: 'ALARM' }] });
    sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).rejects(Object.assign(new Error('Cannot update in-progress endpoint'), { name: 'ValidationException' }));
    dynamodb.on(QueryCommand).rejects(Object.assign(new Error('outbox unreadable'), { name: 'InternalServerError' }));
    const logged = jest.spyOn(Logger.prototype, 'error');
    try {
      await expect(tick(NOW)).rejects.toThrow('outbox unreadable');
      expect(logged.mock.calls.filter(([message]) => String(message).includes('its weights were not applied'))).toEqual([
        [expect.any(String), expect.objectContaining({ error: 'Cannot update in-progress endpoint' })],
      ]);
    } finally {
      logged.mockRestore();
    }
  });

  test('restores drifted weights of a running rollout on the record, and decides at the next tick', async () => {
    stored(running);
    endpointIs('InService', { baseline: 80, candidate: 20 });
    metricsAre({ v0: { invocations: 5000, conversions: 500 }, v1: { invocations: 5000, conversions: 500 } });
    const result = await tick(NOW);
    expect(result).toMatchObject({ action: 'weights-restored', weightsApplied: true });
    expect(auditWrites()).toEqual([expect.objectContaining({ action: 'weights-restored', phase: 'running', fromWeights: { baseline: 80, candidate: 20 }, toWeights: { baseline: 50, candidate: 50 } })]);
    expect(cloudwatch).not.toHaveReceivedCommand(GetMetricDataCommand);
    // The step's counts restart with the restore: the next decision counts only traffic at the rollout's weights.
    expect(rolloutWrites().at(-1)!.Item!.state).toEqual({ S: JSON.stringify({ ...running, stepStartedAtMs: NOW }) });
  });

  test('records and announces a restore SageMaker keeps refusing once; later ticks only retry it, and fail', async () => {
    stored({ ...running, phase: 'aborted', weights: { baseline: 100, candidate: 0 } });
    endpointIs('InService', { baseline: 50, candidate: 50 });
    sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).rejects(Object.assign(new Error('Cannot update in-progress endpoint'), { name: 'ValidationException' }));
    for (const minute of [0, 1, 2, 3]) {
      await expect(handler()).rejects.toThrow('Cannot update in-progress endpoint');
      expect(sagemaker).toHaveReceivedCommandTimes(UpdateEndpointWeightsAndCapacitiesCommand, minute + 1);
    }
    expect(auditWrites().map((e) => [e.action, e.fromWeights, e.toWeights])).toEqual([['weights-restored', { baseline: 50, candidate: 50 }, { baseline: 100, candidate: 0 }]]);
    expect(table.withPrefix('OUTBOX#')).toHaveLength(0);
    expect(eventbridge).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);

    sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).resolves({});
    expect(await tick(NOW + 5 * 60_000)).toMatchObject({ action: 'hold', weightsApplied: true });
    expect(auditWrites()).toHaveLength(1);
    expect(eventbridge).toHaveReceivedCommandTimes(PutEventsCommand, 1);
  });

  test('a running rollout whose restore SageMaker refused restarts its step\'s counts when the weights are back, without announcing it', async () => {
    stored(running);
    endpointIs('InService', { baseline: 80, candidate: 20 });
    sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).rejects(Object.assign(new Error('Throttled for good'), { name: 'ThrottlingException' }));
    await expect(tick(NOW)).rejects.toThrow('Throttled for good');
    await expect(tick(NOW + 60_000)).rejects.toThrow('Throttled for good');
    sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).resolves({});
    expect(await tick(NOW + 2 * 60_000)).toMatchObject({ action: 'hold', weightsApplied: true, state: { phase: 'running', stepStartedAtMs: NOW + 2 * 60_000 } });
    expect(auditWrites().map((e) => e.action)).toEqual(['weights-restored', 'hold']);
    expect(rolloutFromItem(table.get({ TableName: 't', Key: { pk: { S: 'churn-ab' }, sk: { S: 'ROLLOUT' } } }).Item!).state.stepStartedAtMs).toBe(NOW + 2 * 60_000);
    expect(eventbridge).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    expect(cloudwatch).not.toHaveReceivedCommand(GetMetricDataCommand);
  });

  test('continues from the current weights when a deploy changed the policy, and records it', async () => {
    stored({ ...running, weights: { baseline: 70, candidate: 30 } }, { policyHash: 'old-policy' });
    endpointIs('Updating', { baseline: 70, candidate: 30 });
    const result = await tick(NOW);
    expect(auditWrites()[0]).toMatchObject({ action: 'policy-changed', reason: `policy old-policy replaced by ${policyHash(POLICY)}; the rollout continues from its current weights` });
    expect(result.state.weights).toEqual({ baseline: 70, candidate: 30 });
    expect(rolloutFromItem(rolloutWrites()[0].Item as Item).policyHash).toBe(policyHash(POLICY));
  });

  test('changes nothing when a CLI action or another tick wrote first', async () => {
    stored(running);
    endpointIs('InService', { baseline: 90, candidate: 10 });
    metricsAre({ v0: { invocations: 5000, conversions: 500 }, v1: { invocations: 5000, conversions: 500 } });
    dynamodb.on(TransactWriteItemsCommand).rejects(cancelled(['ConditionalCheckFailed', 'None', 'None']));
    const result = await tick(NOW);
    expect(result.action).toBe('conflict');
    expect(sagemaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
    expect(eventbridge).not.toHaveReceivedCommand(PutEventsCommand);
    expect(auditWrites()).toEqual([]);
  });

  test('fails a tick whose calls stay throttled before writing anything, so the retried tick starts clean', async () => {
    stored(running);
    sagemaker.on(DescribeEndpointCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(tick(NOW)).rejects.toThrow('Rate exceeded');
    expect(dynamodb).not.toHaveReceivedCommand(TransactWriteItemsCommand);
    expect(sagemaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  describe('a rollout per candidate version', () => {
    const T1 = NOW + 72 * HOUR;
    /** CloudWatch reads: the first candidate's era (before T1) is bad, the second's good; a read reaching into the first era gets the bad counts. */
    const firstEraBad = () => cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
      const early = input.StartTime!.getTime() < T1;
      const counts = early
        ? { v0: { invocations: 20000, conversions: 2000, errors: 0 }, v1: { invocations: 20000, conversions: 500, errors: 9000 } }
        : { v0: { invocations: 20000, conversions: 2000, errors: 0 }, v1: { invocations: 20000, conversions: 2000, errors: 0 } };
      return {
        MetricDataResults: input.MetricDataQueries!.flatMap((q) => {
          const cohort = /^c(\d)_(\d+)_(exposures|outcomes)$/.exec(q.Id!);
          const request = /^(v\d)_(invocations|errors)$/.exec(q.Id!);
          const c = counts[(cohort ? `v${cohort[1]}` : request?.[1] ?? 'v0') as 'v0' | 'v1'];
          const value = cohort ? spread(cohort[3] === 'exposures' ? c.invocations : c.conversions, Number(cohort[2])) : request && c[request[2] as 'invocations' | 'errors'];
          return value === undefined ? [] : [{ Id: q.Id, Values: [value], Timestamps: [input.StartTime!], StatusCode: 'Complete' as const }];
        }),
      };
    });

    for (const [ended, weights] of [['promoted', { baseline: 0, candidate: 100 }], ['aborted', { baseline: 100, candidate: 0 }]] as const) {
      test(`starts rollout #2 at the policy's first weights when a new version follows one that was ${ended}, and its counts exclude the first`, async () => {
        stored({ ...running, phase: ended, weights, stepStartedAtMs: NOW }, { version: 12 });
        endpointIs('InService', weights, V4);
        firstEraBad();
        const started = await tick(T1);
        expect(started).toMatchObject({ state: { phase: 'running', weights: { baseline: 50, candidate: 50 }, startedAtMs: T1 }, weightsApplied: true });
        expect(rolloutWrites()).toHaveLength(1);
        expect(rolloutWrites()[0]).toMatchObject({ ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': { N: '12' } } });
        expect(rolloutFromItem(rolloutWrites()[0].Item as Item)).toMatchObject({ rolloutId: 2, candidateVersion: V4, version: 13 });
        const entries = auditWrites();
        expect(entries.map((e) => [e.action, e.rolloutId, e.candidateVersion])).toEqual([['started', 2, V4]]);
        expect(entries[0]).toMatchObject({ fromWeights: weights, toWeights: { baseline: 50, candidate: 50 } });
        expect(entries[0].reason).toContain(`a new candidate version replaced churn/3 on 'candidate'; rollout #1 (churn/3) ended ${ended} with ${JSON.stringify(weights)}`);
        expect(sagemaker).toHaveReceivedCommandWith(UpdateEndpointWeightsAndCapacitiesCommand, {
          DesiredWeightsAndCapacities: [{ VariantName: 'baseline', DesiredWeight: 50 }, { VariantName: 'candidate', DesiredWeight: 50 }],
        });

        // Two days on, the second rollout decides on its own predictions: the first candidate's
        // terrible counts (errors, conversions) are in no window it reads.
        const second = rolloutFromItem(rolloutWrites()[0].Item as Item);
        dynamodb.resetHistory();
        stored(second.state, { ...second });
        cloudwatch.resetHistory();
        sagemaker.resetHistory();
        endpointIs('InService', { baseline: 50, candidate: 50 }, V4);
        const later = await tick(T1 + 48 * HOUR);
        const reads = cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
        expect(reads.length).toBeGreaterThan(0);
        expect(reads.every((i) => i.StartTime!.getTime() >= T1)).toBe(true);
        expect(later.action).not.toBe('abort');
        expect(auditWrites().at(-1)).toMatchObject({ rolloutId: 2, candidateVersion: V4, evidence: { candidate: { exposures: 20000, outcomes: 2000 } } });
      });
    }

    test('keeps a rollout in flight through a deploy that recreates the candidate from the same version', async () => {
      stored({ ...running, stepStartedAtMs: NOW - 2 * HOUR });
      endpointIs('InService', { baseline: 50, candidate: 50 }, V3, 'config-redeployed');
      metricsAre({ v0: { invocations: 5000, conversions: 500 }, v1: { invocations: 5000, conversions: 500 } });
      const result = await tick(NOW);
      expect(result.state).toMatchObject({ phase: 'running', startedAtMs: running.startedAtMs });
      expect(auditWrites().map((e) => [e.action, e.rolloutId])).toEqual([['hold', 1]]);
    });

    test('keeps a finished rollout finished, writing nothing, while its version stays', async () => {
      stored({ ...running, phase: 'promoted', weights: { baseline: 0, candidate: 100 } });
      endpointIs('InService', { baseline: 0, candidate: 100 });
      await tick(NOW);
      expect(dynamodb).not.toHaveReceivedCommand(TransactWriteItemsCommand);
    });

    test('records the version on a rollout in progress an earlier controller wrote without one, and goes on with it', async () => {
      stored({ ...running, phase: 'paused' }, { candidateVersion: undefined });
      endpointIs('InService', { baseline: 50, candidate: 50 }, V4);
      const result = await tick(NOW);
      expect(result.state).toMatchObject({ phase: 'paused', startedAtMs: running.startedAtMs });
      expect(rolloutFromItem(rolloutWrites()[0].Item as Item)).toMatchObject({ rolloutId: 1, candidateVersion: V4, state: { phase: 'paused' } });
      expect(auditWrites()).toEqual([]);
    });

    test('gives the version found its own rollout when a finished one an earlier controller wrote recorded none', async () => {
      stored({ ...running, phase: 'promoted', weights: { baseline: 0, candidate: 100 } }, { candidateVersion: undefined });
      endpointIs('InService', { baseline: 0, candidate: 100 }, V4);
      const result = await tick(NOW);
      expect(result).toMatchObject({ action: 'started', state: { phase: 'running', weights: { baseline: 50, candidate: 50 } } });
      expect(auditWrites()[0].reason).toContain('the finished rollout #1 recorded no version, so churn/4 gets its own');
    });

    test('starts the next version paused, at its first weights, when a person paused the previous rollout', async () => {
      stored({ ...running, phase: 'paused' }, { updatedBy: 'arn:aws:iam::111111111111:user/ana' });
      endpointIs('InService', { baseline: 50, candidate: 50 }, V4);
      const result = await tick(NOW);
      expect(result.state).toMatchObject({ phase: 'paused', weights: { baseline: 50, candidate: 50 }, startedAtMs: NOW });
      expect(auditWrites()[0]).toMatchObject({ action: 'started', phase: 'paused', rolloutId: 2 });
      expect(auditWrites()[0].reason).toContain('paused, as a person paused the previous rollout');
    });

    test('goes on with the stored rollout when the candidate\'s version cannot be read, and starts none', async () => {
      stored({ ...running, stepStartedAtMs: NOW - 2 * HOUR });
      endpointIs('InService', { baseline: 50, candidate: 50 }, V4, 'config-unreadable');
      sagemaker.on(DescribeModelCommand, { ModelName: 'config-unreadable-candidate' }).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
      metricsAre({ v0: { invocations: 5000, conversions: 500 }, v1: { invocations: 5000, conversions: 500 } });
      const result = await tick(NOW);
      expect(result.state.startedAtMs).toBe(running.startedAtMs);
      expect(auditWrites().map((e) => [e.action, e.rolloutId, e.candidateVersion])).toEqual([['hold', 1, V3]]);
    });

    test('an endpoint state change starts a rollout for a new version, and otherwise decides nothing and writes nothing', async () => {
      stored({ ...running, stepStartedAtMs: NOW - 2 * HOUR });
      endpointIs('InService', { baseline: 50, candidate: 50 });
      metricsAre({ v0: { invocations: 20000, conversions: 2000 }, v1: { invocations: 20000, conversions: 3000 } });
      const same = await tick(NOW, 'endpoint-change');
      expect(same).toMatchObject({ action: 'hold', weightsApplied: false });
      expect(cloudwatch).not.toHaveReceivedCommand(GetMetricDataCommand);
      expect(dynamodb).not.toHaveReceivedCommand(TransactWriteItemsCommand);
      expect(sagemaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);

      endpointIs('InService', { baseline: 50, candidate: 50 }, V4);
      const next = await tick(NOW, 'endpoint-change');
      expect(next).toMatchObject({ action: 'started', state: { startedAtMs: NOW } });
      expect(cloudwatch).not.toHaveReceivedCommand(GetMetricDataCommand);
    });

    test('the handler tells a SageMaker state change from the schedule', async () => {
      stored({ ...running, stepStartedAtMs: NOW - 2 * HOUR });
      endpointIs('InService', { baseline: 50, candidate: 50 });
      metricsAre({ v0: { invocations: 5000, conversions: 500 }, v1: { invocations: 5000, conversions: 500 } });
      await handler({ source: 'aws.sagemaker' });
      expect(dynamodb).not.toHaveReceivedCommand(TransactWriteItemsCommand);
      await handler({ source: 'aws.events' });
      expect(auditWrites().map((e) => e.action)).toEqual(['hold']);
    });

    test('reads a version once per endpoint config (configs and models never change)', async () => {
      stored({ ...running, phase: 'paused' });
      endpointIs('InService', { baseline: 50, candidate: 50 }, V3, 'config-cached');
      await tick(NOW);
      await tick(NOW + HOUR);
      expect(sagemaker).toHaveReceivedCommandTimes(DescribeEndpointCommand, 2);
      expect(sagemaker).toHaveReceivedCommandTimes(DescribeEndpointConfigCommand, 1);
      expect(sagemaker).toHaveReceivedCommandTimes(DescribeModelCommand, 1);
    });
  });

  test('writes nothing for a paused rollout whose weights are in place', async () => {
    stored({ ...running, phase: 'paused' });
    endpointIs('InService', { baseline: 50, candidate: 50 });
    const result = await tick(NOW);
    expect(result).toMatchObject({ action: 'hold', weightsApplied: false });
    expect(dynamodb).not.toHaveReceivedCommand(TransactWriteItemsCommand);
  });
});
