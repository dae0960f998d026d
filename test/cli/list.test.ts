import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { ListEndpointsCommand } from '@aws-sdk/client-sagemaker';
import { list } from '../../lib/cli/commands/list';
import { auditToItem, RolloutRecord, rolloutToItem } from '../../lib/release/rollout-record';
import { RolloutPolicy } from '../../lib/release/rollout-policy';
import { fakeIo, mockedAws, NOW, serviceError } from './fakes';
import 'aws-sdk-client-mock-jest';

const policy = RolloutPolicy.progressive({
  baseline: 'baseline', candidate: 'candidate', steps: [5, 25, 50, 100],
  metric: { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: 0.1, betterWhen: 'higher' },
});
const record: RolloutRecord = {
  endpointName: 'churn-ab', rolloutId: 2, candidateVersion: 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/4', policyHash: policy.hash, policy: policy.spec,
  state: { phase: 'running', step: 1, weights: { baseline: 75, candidate: 25 }, startedAtMs: NOW - 3_600_000, stepStartedAtMs: NOW - 600_000 },
  version: 9, updatedAtMs: NOW - 600_000, updatedBy: 'release-controller',
};

/** Three endpoints over two pages: one with a rollout, one without a rollout table, one whose table the caller may not read. */
function world() {
  const mocks = mockedAws();
  const endpoint = (EndpointName: string) => ({ EndpointName, EndpointArn: `arn:aws:sagemaker:eu-west-1:111111111111:endpoint/${EndpointName}`, EndpointStatus: 'InService' as const, CreationTime: new Date(0), LastModifiedTime: new Date(0) });
  mocks.sagemaker.on(ListEndpointsCommand).resolves({ Endpoints: [endpoint('churn-ab'), endpoint('fraud')], NextToken: 'page-2' });
  mocks.sagemaker.on(ListEndpointsCommand, { NextToken: 'page-2' }).resolves({ Endpoints: [endpoint('search')] });
  const missing = serviceError('ResourceNotFoundException', 'Requested resource not found');
  const denied = serviceError('AccessDeniedException', 'not authorized');
  mocks.dynamodb.on(GetItemCommand).rejects(missing);
  mocks.dynamodb.on(QueryCommand).rejects(missing);
  mocks.dynamodb.on(GetItemCommand, { TableName: 'modelship-rollouts-churn-ab' }).resolves({ Item: rolloutToItem(record) as never });
  mocks.dynamodb.on(QueryCommand, { TableName: 'modelship-rollouts-churn-ab' }).resolves({ Items: [auditToItem({
    endpointName: 'churn-ab', rolloutId: 2, atMs: NOW - 600_000, version: 9, actor: 'release-controller', action: 'advance', reason: 'step 1 passed',
    phase: 'running', fromWeights: { baseline: 95, candidate: 5 }, toWeights: { baseline: 75, candidate: 25 }, policyHash: policy.hash,
  }) as never] });
  mocks.dynamodb.on(GetItemCommand, { TableName: 'modelship-rollouts-search' }).rejects(denied);
  mocks.dynamodb.on(QueryCommand, { TableName: 'modelship-rollouts-search' }).rejects(denied);
  return mocks;
}

describe('modelship list', () => {
  test('lists the endpoints with a rollout: its number, candidate version, phase, weights and last decision', async () => {
    const mocks = world();
    const io = fakeIo();
    await expect(list({}, io, mocks.aws)).resolves.toBe(0);
    expect(mocks.sagemaker).toHaveReceivedCommandTimes(ListEndpointsCommand, 2);
    expect(mocks.sagemaker).toHaveReceivedCommandWith(ListEndpointsCommand, { SortBy: 'CreationTime', SortOrder: 'Descending', MaxResults: 100 });
    expect(io.lines).toEqual([
      'endpoint  status     rollout  version  phase    weights                     last decision',
      'churn-ab  InService  #2       churn/4  running  baseline 75 / candidate 25  2026-11-22 11:50:00Z advance',
    ]);
  });

  test('with --all, also the endpoints without a rollout and those whose table the caller may not read; --json', async () => {
    const io = fakeIo();
    await list({ all: true, json: true, nameContains: 'a', limit: '3' }, io, world().aws);
    const listed = JSON.parse(io.lines[0]) as { endpoint: string; readable: boolean; rollout: RolloutRecord | null }[];
    expect(listed.map((l) => [l.endpoint, l.readable, l.rollout?.rolloutId ?? null])).toEqual([['churn-ab', true, 2], ['fraud', true, null], ['search', false, null]]);
  });

  test('refuses a bad --limit before any call', async () => {
    const mocks = world();
    await expect(list({ limit: '0' }, fakeIo(), mocks.aws)).rejects.toMatchObject({ exitCode: 2, message: '--limit must be an integer from 1 to 500, got \'0\'' });
    expect(mocks.sagemaker.calls()).toHaveLength(0);
  });
});
