import { DynamoDBClient, TransactionInProgressException, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { SageMakerClient, UpdateEndpointWeightsAndCapacitiesCommand } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { commitRolloutChange, RolloutChange } from '../../../lib/hooks/runtime/rollout-change';
import { IN_PROGRESS_ATTEMPTS, MAX_TRANSACTION_ITEMS, RolloutStore } from '../../../lib/hooks/runtime/rollout-store';
import { AuditEntry, auditFromItem, Item, outboxFromItem, RolloutRecord } from '../../../lib/release/rollout-record';
import { callOrder } from '../../call-order';
import { POLICY } from '../../lambda/release-env';
import { cancelled, RolloutTable, transactPuts } from './rollout-table';

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
  endpointName: 'churn-ab', rolloutId: 1, atMs: NOW, version: 8, actor: 'ana', action: 'manual-shift', reason: 'more traffic', phase: 'running',
  fromWeights: { baseline: 90, candidate: 10 }, toWeights: { baseline: 80, candidate: 20 }, policyHash: 'h',
};
const change: RolloutChange = { endpointName: 'churn-ab', write: { rollout: record, expectedVersion: 7 }, weights: { baseline: 80, candidate: 20 }, audit: [entry] };

const transactions = () => dynamodb.commandCalls(TransactWriteItemsCommand);
/** The order of the calls across both clients. */
function order(): string[] {
  return callOrder([['write', transactions()], ['weights', sagemaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand)]]);
}
/** The kinds of the items a transaction put, in order. */
const kinds = (n = 0) => transactions()[n].args[0].input.TransactItems!.map((t) => t.Put!.Item!.sk.S!.replace(/#.*/, '#'));

beforeEach(() => {
  dynamodb.reset();
  sagemaker.reset();
  dynamodb.on(TransactWriteItemsCommand).resolves({});
  sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).resolves({ EndpointArn: 'arn' });
});

describe('commitRolloutChange', () => {
  test('writes the rollout conditionally with its audit entries and outbox in one transaction, then applies the weights', async () => {
    expect(await commitRolloutChange(store, client, change)).toEqual({ committed: true, weightsApplied: true });
    expect(order()).toEqual(['write', 'weights']);
    expect(kinds()).toEqual(['ROLLOUT', 'AUDIT#', 'OUTBOX#']);
    const [state, audit, outbox] = transactPuts(dynamodb);
    expect(state).toMatchObject({ TableName: 'rollouts', ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': { N: '7' } } });
    // An entry or outbox item is never overwritten: a retry cannot duplicate or replace one.
    expect([audit.ConditionExpression, outbox.ConditionExpression]).toEqual(['attribute_not_exists(sk)', 'attribute_not_exists(sk)']);
    expect(auditFromItem(audit.Item as Item)).toEqual(entry);
    expect(outboxFromItem(outbox.Item as Item)).toEqual({ sortKey: 'OUTBOX#2026-11-22T12:00:00.000Z#0000000008#000', entry, deliveryId: `churn-ab/rollout-1/v8/0/${NOW}`, delivered: [] });
    expect(sagemaker).toHaveReceivedCommandWith(UpdateEndpointWeightsAndCapacitiesCommand, {
      EndpointName: 'churn-ab',
      DesiredWeightsAndCapacities: [{ VariantName: 'baseline', DesiredWeight: 80 }, { VariantName: 'candidate', DesiredWeight: 20 }],
    });
  });

  test('the transaction\'s request token is the change\'s own: the same change gives the same token, another change another', async () => {
    await commitRolloutChange(store, client, change);
    await commitRolloutChange(store, client, change);
    await commitRolloutChange(store, client, { ...change, audit: [{ ...entry, reason: 'other' }] });
    const tokens = transactions().map((c) => c.args[0].input.ClientRequestToken!);
    expect(tokens[0]).toMatch(/^[0-9a-f]{36}$/);
    expect(tokens[1]).toBe(tokens[0]);
    expect(tokens[2]).not.toBe(tokens[0]);
  });

  test('holds go to the audit trail but not to the outbox', async () => {
    await commitRolloutChange(store, client, { ...change, audit: [{ ...entry, action: 'hold' }, { ...entry, action: 'hook-failed', sequence: 1 }] });
    expect(kinds()).toEqual(['ROLLOUT', 'AUDIT#', 'AUDIT#', 'OUTBOX#']);
    expect(transactPuts(dynamodb)[3].Item!.deliveryId).toEqual({ S: `churn-ab/rollout-1/v8/1/${NOW}` });
  });

  test('a writer that lost changes nothing: no weights, no audit entry, no outbox', async () => {
    const table = new RolloutTable();
    table.serve(dynamodb);
    expect(await commitRolloutChange(store, client, { ...change, write: { rollout: { ...record, version: 1 }, expectedVersion: undefined } })).toEqual({ committed: true, weightsApplied: true });
    expect(table.items.size).toBe(3);
    sagemaker.resetHistory();
    expect(await commitRolloutChange(store, client, { ...change, audit: [{ ...entry, atMs: NOW + 1 }] })).toEqual({ committed: false });
    expect(table.items.size).toBe(3);
    expect(sagemaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  test('a transaction cancelled because another was writing the state (the CLI racing a tick) is a conflict: nothing written, no weights', async () => {
    dynamodb.on(TransactWriteItemsCommand).rejects(cancelled(['TransactionConflict', 'None', 'None']));
    expect(await commitRolloutChange(store, client, change)).toEqual({ committed: false });
    expect(sagemaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  test('a transaction still in progress is sent again with the same token, a few times, then its error surfaces', async () => {
    const inProgress = () => new TransactionInProgressException({ message: 'Transaction is ongoing for the idempotency token', $metadata: {} });
    dynamodb.on(TransactWriteItemsCommand).rejectsOnce(inProgress()).rejectsOnce(inProgress()).resolves({});
    expect(await commitRolloutChange(store, client, change)).toEqual({ committed: true, weightsApplied: true });
    const tokens = transactions().map((c) => c.args[0].input.ClientRequestToken);
    expect(tokens).toHaveLength(3);
    expect(new Set(tokens).size).toBe(1);

    dynamodb.reset();
    dynamodb.on(TransactWriteItemsCommand).rejects(inProgress());
    await expect(commitRolloutChange(store, client, change)).rejects.toThrow('Transaction is ongoing');
    expect(transactions()).toHaveLength(IN_PROGRESS_ATTEMPTS);
  });

  test('a transaction refused for a taken audit key is an error, not a conflict', async () => {
    dynamodb.on(TransactWriteItemsCommand).rejects(cancelled(['None', 'ConditionalCheckFailed', 'None']));
    await expect(commitRolloutChange(store, client, change)).rejects.toThrow(`An audit or outbox key of this change is taken by another change (churn-ab/rollout-1/v8/0/${NOW}); nothing was written`);
    expect(sagemaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  test(`refuses a change of more than ${MAX_TRANSACTION_ITEMS} items before writing`, async () => {
    const audit = Array.from({ length: 50 }, (_, sequence) => ({ ...entry, sequence }));
    await expect(commitRolloutChange(store, client, { ...change, audit })).rejects.toThrow(`A change writes at most ${MAX_TRANSACTION_ITEMS} items (the state, its audit entries and their outbox items), got 101`);
    expect(transactions()).toHaveLength(0);
  });

  test('without a rollout, the manual-change record is the conditional write: created only if absent, then on its version', async () => {
    const manual = { endpointName: 'churn-ab', version: 1, weights: { baseline: 80, candidate: 20 }, updatedAtMs: NOW, updatedBy: 'ana' };
    const manualEntry = { ...entry, rolloutId: undefined, version: 1 };
    expect(await commitRolloutChange(store, client, { endpointName: 'churn-ab', write: { manual, expectedVersion: undefined }, weights: { baseline: 80, candidate: 20 }, audit: [manualEntry] }))
      .toEqual({ committed: true, weightsApplied: true });
    expect(order()).toEqual(['write', 'weights']);
    expect(kinds()).toEqual(['MANUAL', 'AUDIT#', 'OUTBOX#']);
    expect(transactPuts(dynamodb)[0]).toMatchObject({ ConditionExpression: 'attribute_not_exists(pk)', Item: { sk: { S: 'MANUAL' }, version: { N: '1' } } });
    expect(transactPuts(dynamodb)[2].Item!.deliveryId).toEqual({ S: `churn-ab/manual/v1/0/${NOW}` });

    // A second writer that read the same absence loses, and changes nothing.
    dynamodb.reset();
    sagemaker.resetHistory();
    dynamodb.on(TransactWriteItemsCommand).rejects(cancelled(['ConditionalCheckFailed', 'None', 'None']));
    expect(await commitRolloutChange(store, client, { endpointName: 'churn-ab', write: { manual, expectedVersion: undefined }, weights: { baseline: 50, candidate: 50 }, audit: [manualEntry] }))
      .toEqual({ committed: false });
    expect(sagemaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  test('without new weights, only the transaction happens', async () => {
    expect(await commitRolloutChange(store, client, { endpointName: 'churn-ab', write: { rollout: record, expectedVersion: 7 }, audit: [entry] }))
      .toEqual({ committed: true, weightsApplied: false });
    expect(order()).toEqual(['write']);
  });

  test('weights that fail to apply leave the change recorded, and the caller gets the error', async () => {
    const throttled = Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
    sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).rejects(throttled);
    expect(await commitRolloutChange(store, client, change)).toEqual({ committed: true, weightsApplied: false, weightsError: throttled });
    expect(order()).toEqual(['write', 'weights']);
    expect(kinds()).toEqual(['ROLLOUT', 'AUDIT#', 'OUTBOX#']);
  });
});
