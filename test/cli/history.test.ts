import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import 'aws-sdk-client-mock-jest';
import { history } from '../../lib/cli/commands/history';
import { CliError } from '../../lib/cli/errors';
import { AuditEntry, auditToItem } from '../../lib/release/rollout-record';
import { fakeIo, mockedAws, NOW, serviceError } from './fakes';

const HOUR = 3_600_000;

function entry(atMs: number, version: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    endpointName: 'churn-ab', atMs, version, actor: 'release-controller', action: 'hold', reason: 'not enough evidence yet', phase: 'running',
    fromWeights: { baseline: 90, candidate: 10 }, toWeights: { baseline: 90, candidate: 10 }, policyHash: 'abc', ...extra,
  };
}

const ENTRIES = [
  entry(NOW - HOUR, 9, { actor: 'arn:aws:sts::111111111111:assumed-role/Deployer/ana', action: 'manual-shift', phase: 'paused', reason: 'canary looks healthy', toWeights: { baseline: 75, candidate: 25 } }),
  entry(NOW - 2 * HOUR, 8, { action: 'advance', reason: 'step 1 passed', fromWeights: { baseline: 100, candidate: 0 } }),
];

describe('modelship history', () => {
  test('reads the newest entries first from the endpoint\'s table and prints time, actor, action, weights and reason', async () => {
    const { aws, dynamodb } = mockedAws();
    dynamodb.on(QueryCommand).resolves({ Items: ENTRIES.map(auditToItem) as never });
    const io = fakeIo();
    expect(await history({ endpoint: 'churn-ab', limit: '20' }, io, aws)).toBe(0);
    expect(dynamodb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: 'modelship-rollouts-churn-ab',
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :audit)',
      ExpressionAttributeValues: { ':pk': { S: 'churn-ab' }, ':audit': { S: 'AUDIT#' } },
      ScanIndexForward: false,
      Limit: 20,
    });
    expect(io.lines).toEqual([
      'time                  rollout  actor                      action        weights baseline/candidate  reason',
      '2026-11-22 11:00:00Z  -        assumed-role/Deployer/ana  manual-shift  90/10 → 75/25               canary looks healthy',
      '2026-11-22 10:00:00Z  -        release-controller         advance       100/0 → 90/10               step 1 passed',
    ]);
  });

  test('takes 20 entries by default and another table with --table', async () => {
    const { aws, dynamodb, sagemaker } = mockedAws();
    dynamodb.on(QueryCommand).resolves({ Items: [] });
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointName: 'churn-ab', EndpointStatus: 'InService' });
    await history({ endpoint: 'churn-ab', table: 'my-rollouts' }, fakeIo(), aws);
    expect(dynamodb).toHaveReceivedCommandWith(QueryCommand, { TableName: 'my-rollouts', Limit: 20 });
  });

  test('prints the entries as a JSON array with --json', async () => {
    const { aws, dynamodb } = mockedAws();
    dynamodb.on(QueryCommand).resolves({ Items: ENTRIES.map(auditToItem) as never });
    const io = fakeIo();
    expect(await history({ endpoint: 'churn-ab', limit: '2', json: true }, io, aws)).toBe(0);
    expect(io.lines).toHaveLength(1);
    expect(JSON.parse(io.lines[0])).toEqual(ENTRIES);
  });

  test('reads on past a page DynamoDB cut short, asking only for what is missing', async () => {
    const { aws, dynamodb } = mockedAws();
    const lastKey = { pk: { S: 'churn-ab' }, sk: { S: 'AUDIT#x' } };
    dynamodb.on(QueryCommand)
      .resolvesOnce({ Items: [auditToItem(ENTRIES[0])] as never, LastEvaluatedKey: lastKey })
      .resolvesOnce({ Items: [auditToItem(ENTRIES[1])] as never });
    const io = fakeIo();
    await history({ endpoint: 'churn-ab', limit: '5', json: true }, io, aws);
    expect(dynamodb).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(dynamodb.commandCalls(QueryCommand)[1].args[0].input).toMatchObject({ Limit: 4, ExclusiveStartKey: lastKey });
    expect(JSON.parse(io.lines[0])).toHaveLength(2);
  });

  test.each([
    ['there are no entries', () => ({ Items: [] })],
    ['there is no table', () => Promise.reject(serviceError('ResourceNotFoundException', 'Requested resource not found'))],
  ])('says there is no audit trail when %s and the endpoint exists, and succeeds', async (_, result) => {
    const { aws, dynamodb, sagemaker } = mockedAws();
    dynamodb.on(QueryCommand).callsFake(result);
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointName: 'churn-ab', EndpointStatus: 'InService', ProductionVariants: [{ VariantName: 'baseline', CurrentWeight: 1 }] });
    const text = fakeIo();
    expect(await history({ endpoint: 'churn-ab' }, text, aws)).toBe(0);
    expect(text.lines).toEqual(['no audit trail for churn-ab']);
    const json = fakeIo();
    expect(await history({ endpoint: 'churn-ab', json: true }, json, aws)).toBe(0);
    expect(json.lines).toEqual(['[]']);
    expect(sagemaker).toHaveReceivedCommandTimes(DescribeEndpointCommand, 2);
    expect(sagemaker).toHaveReceivedCommandWith(DescribeEndpointCommand, { EndpointName: 'churn-ab' });
  });

  test.each([
    ['there are no entries', () => ({ Items: [] })],
    ['there is no table', () => Promise.reject(serviceError('ResourceNotFoundException', 'Requested resource not found'))],
  ])('refuses an endpoint that does not exist (exit 2, naming the region) when %s', async (_, result) => {
    const { aws, dynamodb, sagemaker } = mockedAws();
    dynamodb.on(QueryCommand).callsFake(result);
    sagemaker.on(DescribeEndpointCommand).rejects(serviceError('ValidationException', 'Could not find endpoint "nope".'));
    const io = fakeIo();
    await expect(history({ endpoint: 'nope', json: true }, io, aws)).rejects.toMatchObject({ exitCode: 2, message: "unknown endpoint 'nope' in region eu-west-1" });
    expect(io.lines).toEqual([]);
  });

  test('does not look the endpoint up when its trail has entries', async () => {
    const { aws, dynamodb, sagemaker } = mockedAws();
    dynamodb.on(QueryCommand).resolves({ Items: ENTRIES.map(auditToItem) as never });
    expect(await history({ endpoint: 'churn-ab' }, fakeIo(), aws)).toBe(0);
    expect(sagemaker).not.toHaveReceivedCommand(DescribeEndpointCommand);
  });

  test('fails on other DynamoDB errors', async () => {
    const { aws, dynamodb } = mockedAws();
    dynamodb.on(QueryCommand).rejects(serviceError('AccessDeniedException', 'not allowed'));
    await expect(history({ endpoint: 'churn-ab' }, fakeIo(), aws)).rejects.toThrow('not allowed');
  });

  test.each(['0', '1001', 'abc', '2.5', ''])('rejects --limit %p as bad input before reading anything', async (limit) => {
    const { aws, dynamodb } = mockedAws();
    const run = history({ endpoint: 'churn-ab', limit }, fakeIo(), aws);
    await expect(run).rejects.toThrow(CliError);
    await expect(run).rejects.toMatchObject({ exitCode: 2, message: `--limit must be an integer from 1 to 1000, got '${limit}'` });
    expect(dynamodb).not.toHaveReceivedCommand(QueryCommand);
  });
});
