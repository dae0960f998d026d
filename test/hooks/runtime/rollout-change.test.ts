import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SageMakerClient, UpdateEndpointWeightsAndCapacitiesCommand } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { commitRolloutChange, RolloutChange } from '../../../lib/hooks/runtime/rollout-change';
import { RolloutStore } from '../../../lib/hooks/runtime/rollout-store';
import type { AuditEntry, RolloutRecord } from '../../../lib/release/rollout-record';
import { callOrder } from '../../call-order';
import { POLICY } from '../../lambda/release-env';

const dynamodb = mockClient(DynamoDBClient);
const sagemaker = mockClient(SageMakerClient);
const store = new RolloutStore(new DynamoDBClient({ region: 'eu-west-1' }), 'rollouts');
const client = new SageMakerClient({ region: 'eu-west-1' });
const NOW = Date.parse('2026-11-22T12:00:00Z');

const record: RolloutRecord = {
  endpointName: 'churn-ab', rolloutId: 1, candidateVersion: 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3', policyHash: 'h', policy: POLICY, version: 8, updatedAtMs: NOW, updatedBy: 'ana',
  state: { phase: 'running', step: 0, weights: { baseline: 80, candidate: 20 }, startedAtMs: NOW, stepStartedAtMs: NOW },
};
const entry: AuditEntry = {
  endpointName: 'churn-ab', atMs: NOW, version: 8, actor: 'ana', action: 'manual-shift', reason: 'more traffic', phase: 'running',
  fromWeights: { baseline: 90, candidate: 10 }, toWeights: { baseline: 80, candidate: 20 }, policyHash: 'h',
};
const change: RolloutChange = { endpointName: 'churn-ab', write: { rollout: record, expectedVersion: 7 }, weights: { baseline: 80, candidate: 20 }, audit: [entry] };

const puts = () => dynamodb.commandCalls(PutItemCommand);
/** The order of the calls across both clients. */
function order(): string[] {
  return callOrder([
    ['write', puts().filter((c) => c.args[0].input.Item!.sk.S === 'ROLLOUT')],
    ['audit', puts().filter((c) => c.args[0].input.Item!.sk.S !== 'ROLLOUT')],
    ['weights', sagemaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand)],
  ]);
}

beforeEach(() => {
  dynamodb.reset();
  sagemaker.reset();
  dynamodb.on(PutItemCommand).resolves({});
  sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).resolves({ EndpointArn: 'arn' });
});

describe('commitRolloutChange', () => {
  test('writes the rollout conditionally, then applies the weights, then appends the audit entries', async () => {
    expect(await commitRolloutChange(store, client, change)).toEqual({ committed: true, weightsApplied: true });
    expect(order()).toEqual(['write', 'weights', 'audit']);
    expect(puts()[0].args[0].input).toMatchObject({ ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': { N: '7' } } });
    expect(sagemaker).toHaveReceivedCommandWith(UpdateEndpointWeightsAndCapacitiesCommand, {
      EndpointName: 'churn-ab',
      DesiredWeightsAndCapacities: [{ VariantName: 'baseline', DesiredWeight: 80 }, { VariantName: 'candidate', DesiredWeight: 20 }],
    });
  });

  test('a writer that lost changes nothing: no weights, no audit entry', async () => {
    dynamodb.on(PutItemCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    expect(await commitRolloutChange(store, client, change)).toEqual({ committed: false });
    expect(puts()).toHaveLength(1);
    expect(sagemaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  test('a new rollout is written only if none exists', async () => {
    await commitRolloutChange(store, client, { ...change, write: { rollout: record, expectedVersion: undefined } });
    expect(puts()[0].args[0].input.ConditionExpression).toBe('attribute_not_exists(pk)');
  });

  test('without a rollout, the manual-change record is the conditional write: created only if absent, then on its version', async () => {
    const manual = { endpointName: 'churn-ab', version: 1, weights: { baseline: 80, candidate: 20 }, updatedAtMs: NOW, updatedBy: 'ana' };
    expect(await commitRolloutChange(store, client, { endpointName: 'churn-ab', write: { manual, expectedVersion: undefined }, weights: { baseline: 80, candidate: 20 }, audit: [entry] }))
      .toEqual({ committed: true, weightsApplied: true });
    expect(callOrder([
      ['manual', puts().filter((c) => c.args[0].input.Item!.sk.S === 'MANUAL')],
      ['audit', puts().filter((c) => c.args[0].input.Item!.sk.S!.startsWith('AUDIT#'))],
      ['weights', sagemaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand)],
    ])).toEqual(['manual', 'weights', 'audit']);
    expect(puts()[0].args[0].input).toMatchObject({ ConditionExpression: 'attribute_not_exists(pk)', Item: { sk: { S: 'MANUAL' }, version: { N: '1' } } });

    // A second writer that read the same absence loses, and changes nothing.
    dynamodb.reset();
    sagemaker.resetHistory();
    dynamodb.on(PutItemCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    expect(await commitRolloutChange(store, client, { endpointName: 'churn-ab', write: { manual, expectedVersion: undefined }, weights: { baseline: 50, candidate: 50 }, audit: [entry] }))
      .toEqual({ committed: false });
    expect(sagemaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
    expect(puts()).toHaveLength(1);
  });

  test('without new weights, only the write and the audit happen, in the same order', async () => {
    expect(await commitRolloutChange(store, client, { endpointName: 'churn-ab', write: { rollout: record, expectedVersion: 7 }, audit: [entry] }))
      .toEqual({ committed: true, weightsApplied: false });
    expect(order()).toEqual(['write', 'audit']);
  });

  test('weights that fail to apply stop the change before its audit entry, and the error reaches the caller', async () => {
    sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    await expect(commitRolloutChange(store, client, change)).rejects.toThrow('throttled');
    expect(order()).toEqual(['write', 'weights']);
  });
});
