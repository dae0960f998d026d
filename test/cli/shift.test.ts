import {
  DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelCommand, ListTagsCommand, UpdateEndpointWeightsAndCapacitiesCommand,
} from '@aws-sdk/client-sagemaker';
import { GetItemCommand, TransactWriteItemsCommand, TransactWriteItemsCommandInput } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { MANUAL_WEIGHT_ATTEMPTS } from '../../lib/cli/change';
import { ManualActionOptions, manualAction } from '../../lib/cli/commands/manual-action';
import { shift, ShiftOptions } from '../../lib/cli/commands/shift';
import { run } from '../../lib/cli/program';
import { rolloutStart } from '../../lib/cli/commands/rollout-start';
import { auditFromItem, Item, manualFromItem, RolloutRecord, rolloutFromItem, rolloutToItem } from '../../lib/release/rollout-record';
import { RolloutPolicy } from '../../lib/release/rollout-policy';
import type { RolloutState } from '../../lib/release/rollout-types';
import { callOrder } from '../call-order';
import { cancelled, putsOf } from '../hooks/runtime/rollout-table';
import { fakeIo, mockedAws, MockedAws, NOW, serviceError } from './fakes';
import 'aws-sdk-client-mock-jest';

const ANA = 'arn:aws:iam::111111111111:user/ana';
const policy = RolloutPolicy.progressive({
  baseline: 'baseline', candidate: 'candidate', steps: [5, 25, 50, 100],
  metric: { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: 0.1, betterWhen: 'higher' },
});
const running: RolloutState = { phase: 'running', step: 0, weights: { baseline: 95, candidate: 5 }, startedAtMs: NOW - 3_600_000, stepStartedAtMs: NOW - 3_600_000 };

const V3 = 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3';
const V4 = 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/4';

/** An endpoint with weights (whose status answers in turn), its config and candidate model, its tags, a caller, and a stored rollout. */
function world(options: {
  statuses?: string[]; weights?: Record<string, number>; production?: boolean; state?: RolloutState | null; table?: boolean; serving?: string;
} = {}): MockedAws {
  const mocks = mockedAws();
  const weights = options.weights ?? { baseline: 95, candidate: 5 };
  const describe = (status: string, w: Record<string, number>) => ({
    EndpointName: 'churn-ab', EndpointArn: 'arn:aws:sagemaker:eu-west-1:111111111111:endpoint/churn-ab', EndpointStatus: status as never,
    EndpointConfigName: 'config-1', CreationTime: new Date(0), LastModifiedTime: new Date(0),
    ProductionVariants: Object.entries(w).map(([VariantName, x]) => ({ VariantName, CurrentWeight: x, DesiredWeight: x })),
  });
  const statuses = options.statuses ?? ['InService', 'Updating', 'InService'];
  let call = 0;
  mocks.sagemaker.on(DescribeEndpointCommand).callsFake(() => {
    const status = statuses[Math.min(call++, statuses.length - 1)];
    const applied = mocks.sagemaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand).at(-1)?.args[0].input.DesiredWeightsAndCapacities;
    return describe(status, applied ? Object.fromEntries(applied.map((d) => [d.VariantName!, d.DesiredWeight!])) : weights);
  });
  mocks.sagemaker.on(DescribeEndpointConfigCommand, { EndpointConfigName: 'config-1' }).resolves({
    ProductionVariants: [{ VariantName: 'baseline', ModelName: 'm-baseline' }, { VariantName: 'candidate', ModelName: 'm-candidate' }],
  });
  mocks.sagemaker.on(DescribeModelCommand, { ModelName: 'm-candidate' }).resolves({ ModelName: 'm-candidate', PrimaryContainer: { ModelPackageName: options.serving ?? V3 } });
  mocks.sagemaker.on(ListTagsCommand).resolves({ Tags: options.production ? [{ Key: 'modelship:production', Value: 'true' }] : [] });
  mocks.sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).resolves({ EndpointArn: 'arn' });
  mocks.sts.on(GetCallerIdentityCommand).resolves({ Arn: ANA });
  if (options.table === false) {
    mocks.dynamodb.on(GetItemCommand).rejects(serviceError('ResourceNotFoundException', 'Requested resource not found'));
  } else if (options.state === null) {
    mocks.dynamodb.on(GetItemCommand).resolves({});
  } else {
    const record: RolloutRecord = {
      endpointName: 'churn-ab', rolloutId: 1, candidateVersion: V3, policyHash: policy.hash, policy: policy.spec, state: options.state ?? running, version: 7, updatedAtMs: NOW - 60_000, updatedBy: 'release-controller',
    };
    mocks.dynamodb.on(GetItemCommand).resolves({ Item: rolloutToItem(record) as never });
  }
  mocks.dynamodb.on(TransactWriteItemsCommand).resolves({});
  return mocks;
}

const rolloutWrite = (mocks: MockedAws) => putsOf(mocks.dynamodb, 'ROLLOUT')[0];
const auditWrite = (mocks: MockedAws) => putsOf(mocks.dynamodb, 'AUDIT#').map((i) => auditFromItem(i.Item as Item));
const shiftWith = (mocks: MockedAws, options: Partial<ShiftOptions>, io = fakeIo()) => shift({ endpoint: 'churn-ab', timeout: '60', ...options }, io, mocks.aws);

describe('modelship shift', () => {
  test('gives the target its weight, the other the rest, pauses the automation, records it and waits for InService', async () => {
    const mocks = world();
    const io = fakeIo();
    await expect(shiftWith(mocks, { to: 'candidate', weight: '25', reason: 'healthy' }, io)).resolves.toBe(0);
    expect(mocks.sagemaker).toHaveReceivedCommandWith(UpdateEndpointWeightsAndCapacitiesCommand, {
      EndpointName: 'churn-ab',
      DesiredWeightsAndCapacities: [{ VariantName: 'baseline', DesiredWeight: 75 }, { VariantName: 'candidate', DesiredWeight: 25 }],
    });
    const write = rolloutWrite(mocks)!;
    expect(write).toMatchObject({ ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': { N: '7' } } });
    expect(rolloutFromItem(write.Item as Item)).toMatchObject({ version: 8, updatedBy: ANA, updatedAtMs: NOW, state: { phase: 'paused', weights: { baseline: 75, candidate: 25 } } });
    expect(auditWrite(mocks)).toEqual([expect.objectContaining({
      action: 'manual-shift', actor: ANA, reason: 'healthy', version: 8, phase: 'paused', fromWeights: { baseline: 95, candidate: 5 }, toWeights: { baseline: 75, candidate: 25 },
    })]);
    expect(io.output()).toContain("the rollout's automation is paused");
    expect(io.output()).toMatch(/done: churn-ab is InService with baseline 75%, candidate 25% \(recorded as arn:aws:iam::111111111111:user\/ana\)/);
    expect(io.sleeps).toEqual([5000]);
  });

  test('changes in the controller\'s order: the rollout, its audit entry and outbox in one transaction, then the weights', async () => {
    const mocks = world();
    await shiftWith(mocks, { to: 'candidate', weight: '25', reason: 'healthy' });
    expect(callOrder([
      ['write', mocks.dynamodb.commandCalls(TransactWriteItemsCommand)],
      ['weights', mocks.sagemaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand)],
    ])).toEqual(['write', 'weights']);
    const transaction = mocks.dynamodb.commandCalls(TransactWriteItemsCommand)[0].args[0].input.TransactItems!;
    expect(transaction.map((t) => t.Put!.Item!.sk.S!.replace(/#.*/, '#'))).toEqual(['ROLLOUT', 'AUDIT#', 'OUTBOX#']);
    // The controller delivers the outbox: the CLI sends no event, notification or hook call.
    expect(putsOf(mocks.dynamodb, 'OUTBOX#')[0].Item!.deliveryId).toEqual({ S: `churn-ab/rollout-1/v8/0/${NOW}` });
  });

  test('a transaction cancelled because a tick was writing the rollout at the same moment is a conflict too (exit 4), not AWS text', async () => {
    const mocks = world();
    mocks.dynamodb.on(TransactWriteItemsCommand).rejects(cancelled(['TransactionConflict', 'None', 'None']));
    const result = shiftWith(mocks, { to: 'candidate', weight: '50' });
    await expect(result).rejects.toMatchObject({ exitCode: 4 });
    await expect(result).rejects.toThrow(/changed since it was read .*; nothing changed, run the command again/);
    expect(mocks.sagemaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  test('a change SageMaker refuses to apply stays recorded, and the error says the controller applies it', async () => {
    const mocks = world();
    mocks.sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).rejects(serviceError('ValidationException', 'Cannot update in-progress endpoint'));
    await expect(shiftWith(mocks, { to: 'candidate', weight: '25', reason: 'healthy' })).rejects.toMatchObject({
      exitCode: 1,
      message: `the change is recorded (version 8, by ${ANA}) but SageMaker did not apply the weights: Cannot update in-progress endpoint; the release controller puts them in place at its next tick`,
    });
    expect(auditWrite(mocks).map((e) => e.action)).toEqual(['manual-shift']);
  });

  test('keeps the automation running with --keep-automation, and says so', async () => {
    const mocks = world();
    const io = fakeIo();
    await shiftWith(mocks, { weights: 'baseline=50,candidate=50', keepAutomation: true }, io);
    // A step begins at the new weights: its clock and counts start now, none of the old split's.
    expect(rolloutFromItem(rolloutWrite(mocks)!.Item as Item).state).toMatchObject({ phase: 'running', step: 2, weights: { baseline: 50, candidate: 50 }, stepStartedAtMs: NOW });
    expect(io.output()).toContain('the automation keeps running from these weights: its next step is the first above them');
  });

  test('shows the change and changes nothing in a dry run', async () => {
    const mocks = world();
    const io = fakeIo();
    await expect(shiftWith(mocks, { to: 'candidate', weight: '50', dryRun: true, json: true }, io)).resolves.toBe(0);
    expect(JSON.parse(io.lines.at(-1)!)).toMatchObject({ dryRun: true, before: { baseline: 95, candidate: 5 }, after: { candidate: 50, baseline: 50 } });
    expect(mocks.dynamodb).not.toHaveReceivedCommand(TransactWriteItemsCommand);
    expect(mocks.sagemaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  test.each([
    [{ to: 'candidate', weight: '101' }, "--weight must be an integer from 0 to 100, got '101'"],
    [{ to: 'candidate', weight: '2.5' }, "--weight must be an integer from 0 to 100, got '2.5'"],
    [{ to: 'candidate', weight: '-5' }, "--weight must be an integer from 0 to 100, got '-5'"],
    [{ weights: 'baseline=0,candidate=0' }, "--weights must add up to 100, got 0 ('baseline=0,candidate=0')"],
    [{ weights: 'baseline=150,candidate=x' }, "the weight of 'baseline' in --weights must be an integer from 0 to 100, got '150'; the weight of 'candidate' in --weights must be an integer from 0 to 100, got 'x'"],
    [{ weights: 'baseline=50,baseline=50' }, "--weights names 'baseline' more than once, got 'baseline=50,baseline=50'"],
    [{ weights: 'baseline:90,candidate:10' }, "--weights must look like baseline=90,candidate=10, got 'baseline:90,candidate:10'"],
    [{ weights: 'baseline=90,candidate=10', to: 'candidate' }, "Specify either '--weights' or '--to' with '--weight', not both"],
    [{}, "Specify '--to <variant>' with '--weight <0-100>', or '--weights a=90,b=10'"],
    [{ to: 'candidate', weight: '10', timeout: '0' }, "--timeout must be an integer from 1 to 86400, got '0'"],
    [{ to: 'candidate', weight: '150', timeout: 'abc' }, "bad options:\n  - --timeout must be an integer from 1 to 86400, got 'abc'\n  - --weight must be an integer from 0 to 100, got '150'"],
  ])('refuses bad options with exit 2 before any AWS call: %#', async (options, message) => {
    const mocks = world();
    await expect(shiftWith(mocks, options)).rejects.toMatchObject({ exitCode: 2, message });
    for (const client of [mocks.sagemaker, mocks.dynamodb, mocks.sts]) {
      expect(client.calls()).toHaveLength(0);
    }
  });

  test.each([
    [{ to: 'challenger', weight: '10' }, "unknown variant 'challenger' on endpoint 'churn-ab' (its variants: baseline, candidate)"],
    [{ weights: 'baseline=90,challenger=10' }, "unknown variant 'challenger' on endpoint 'churn-ab' (its variants: baseline, candidate)"],
    [{ weights: 'baseline=100' }, '--weights must give every variant a weight; missing: candidate'],
  ])('refuses variants the endpoint does not have with exit 2, changing nothing: %#', async (options, message) => {
    const mocks = world();
    await expect(shiftWith(mocks, options)).rejects.toMatchObject({ exitCode: 2, message });
    expect(mocks.sagemaker).toHaveReceivedCommandTimes(DescribeEndpointCommand, 1);
    expect(mocks.dynamodb).not.toHaveReceivedCommand(TransactWriteItemsCommand);
    expect(mocks.sagemaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  test('refuses an unknown endpoint with exit 2', async () => {
    const mocks = world();
    mocks.sagemaker.on(DescribeEndpointCommand).rejects(serviceError('ValidationException', 'Could not find endpoint "nope".'));
    await expect(shift({ endpoint: 'nope', to: 'candidate', weight: '10' }, fakeIo(), mocks.aws)).rejects.toMatchObject({ exitCode: 2, message: "unknown endpoint 'nope' in region eu-west-1" });
  });

  test.each(['Updating', 'RollingBack', 'Failed'])('refuses to change weights while the endpoint is %s', async (status) => {
    const mocks = world({ statuses: [status] });
    await expect(shiftWith(mocks, { to: 'candidate', weight: '10' })).rejects.toMatchObject({
      exitCode: 3, message: `endpoint 'churn-ab' is ${status}; weights can change only while it is InService`,
    });
    expect(mocks.dynamodb).not.toHaveReceivedCommand(TransactWriteItemsCommand);
  });

  test('stops on a conflict and says what changed, without touching the endpoint', async () => {
    const mocks = world();
    const moved: RolloutRecord = {
      endpointName: 'churn-ab', rolloutId: 1, candidateVersion: 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3', policyHash: policy.hash, policy: policy.spec, version: 8, updatedAtMs: NOW - 1000, updatedBy: 'release-controller',
      state: { ...running, step: 1, weights: { baseline: 75, candidate: 25 } },
    };
    mocks.dynamodb.on(GetItemCommand).resolvesOnce({ Item: rolloutToItem({ ...moved, version: 7, state: running }) as never }).resolves({ Item: rolloutToItem(moved) as never });
    mocks.dynamodb.on(TransactWriteItemsCommand).rejects(cancelled(['ConditionalCheckFailed', 'None', 'None']));
    const result = shiftWith(mocks, { to: 'candidate', weight: '50' });
    await expect(result).rejects.toMatchObject({ exitCode: 4 });
    await expect(result).rejects.toThrow(/changed since it was read \(version 7 → 8, by release-controller at .*: phase running → running, weights \{"baseline":95,"candidate":5\} → \{"baseline":75,"candidate":25\}\); nothing changed/);
    expect(mocks.sagemaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  test('on production: requires a reason, asks for confirmation on a terminal, refuses without --yes elsewhere', async () => {
    let mocks = world({ production: true });
    await expect(shiftWith(mocks, { to: 'candidate', weight: '10' })).rejects.toMatchObject({ exitCode: 2, message: "'--reason' is required: 'churn-ab' is a production endpoint" });

    mocks = world({ production: true });
    await expect(shiftWith(mocks, { to: 'candidate', weight: '10', reason: 'r' })).rejects.toMatchObject({ exitCode: 3, message: "'churn-ab' is a production endpoint: confirm with --yes; nothing changed" });

    mocks = world({ production: true });
    const declined = fakeIo({ interactive: true, answers: [false] });
    await expect(shiftWith(mocks, { to: 'candidate', weight: '10', reason: 'r' }, declined)).rejects.toMatchObject({ exitCode: 3, message: 'not confirmed; nothing changed' });
    expect(declined.questions).toEqual(["Apply this change to production endpoint 'churn-ab'?"]);
    expect(mocks.dynamodb).not.toHaveReceivedCommand(TransactWriteItemsCommand);

    mocks = world({ production: true });
    await expect(shiftWith(mocks, { to: 'candidate', weight: '10', reason: 'r' }, fakeIo({ interactive: true, answers: [true] }))).resolves.toBe(0);
    mocks = world({ production: true });
    await expect(shiftWith(mocks, { to: 'candidate', weight: '10', reason: 'r', yes: true })).resolves.toBe(0);
  });

  test('records a shift of an endpoint without a rollout in its table, and refuses without a table', async () => {
    let mocks = world({ state: null });
    await expect(shiftWith(mocks, { to: 'candidate', weight: '10' })).resolves.toBe(0);
    expect(rolloutWrite(mocks)).toBeUndefined();
    expect(auditWrite(mocks)).toEqual([expect.objectContaining({ action: 'manual-shift', policyHash: 'none', version: 1 })]);

    mocks = world({ table: false });
    await expect(shiftWith(mocks, { to: 'candidate', weight: '10' })).rejects.toMatchObject({ exitCode: 3, message: expect.stringContaining("no rollout table 'modelship-rollouts-churn-ab'") });
  });

  test('on an endpoint without a rollout, weights SageMaker refuses are tried again within the command, with growing pauses', async () => {
    const refused = serviceError('ThrottlingException', 'Rate exceeded');
    let mocks = world({ state: null });
    mocks.sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).rejectsOnce(refused).rejectsOnce(refused).resolves({ EndpointArn: 'arn' });
    const io = fakeIo();
    await expect(shiftWith(mocks, { to: 'candidate', weight: '10' }, io)).resolves.toBe(0);
    expect(mocks.sagemaker).toHaveReceivedCommandTimes(UpdateEndpointWeightsAndCapacitiesCommand, 3);
    expect(io.sleeps.slice(0, 2)).toEqual([2000, 4000]);
    expect(auditWrite(mocks)).toHaveLength(1);

    // Refused every time: exit 1, saying what the record shows and that a person must run it again.
    mocks = world({ state: null });
    mocks.sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).rejects(refused);
    await expect(shiftWith(mocks, { to: 'candidate', weight: '10' })).rejects.toMatchObject({
      exitCode: 1,
      message: `the change is recorded and announced (audit entry manual-shift, version 1, by ${ANA}: {"baseline":95,"candidate":5} → {"baseline":90,"candidate":10}) `
        + `but SageMaker refused the weights ${MANUAL_WEIGHT_ATTEMPTS} times: Rate exceeded; the endpoint keeps {"baseline":95,"candidate":5} and, without a rollout, nothing applies them later: `
        + 'run the command again (it records a new change)',
    });
    expect(mocks.sagemaker).toHaveReceivedCommandTimes(UpdateEndpointWeightsAndCapacitiesCommand, MANUAL_WEIGHT_ATTEMPTS);
    expect(auditWrite(mocks)).toHaveLength(1);
  });

  test('writes nothing for a shift to the weights the endpoint already has', async () => {
    const mocks = world({ state: { ...running, phase: 'paused' } });
    const io = fakeIo();
    await expect(shiftWith(mocks, { weights: 'baseline=95,candidate=5' }, io)).resolves.toBe(0);
    expect(mocks.dynamodb).not.toHaveReceivedCommand(TransactWriteItemsCommand);
    expect(mocks.sagemaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
    expect(io.output()).toBe('churn-ab: nothing to change (baseline 95%, candidate 5%, rollout paused); nothing written');
  });

  test('two first shifts of an endpoint without a rollout: one wins, the other changes nothing and is told who won', async () => {
    const mocks = world({ state: null, statuses: ['InService'] });
    // Both read the endpoint before either wrote; the table keeps what is written and refuses a second create.
    let manual: Record<string, unknown> | undefined;
    let manualReads = 0;
    mocks.dynamodb.on(GetItemCommand, { Key: { pk: { S: 'churn-ab' }, sk: { S: 'MANUAL' } } }).callsFake(() => (manualReads++ < 2 ? {} : { Item: manual }));
    const recorded: string[] = [];
    mocks.dynamodb.on(TransactWriteItemsCommand).callsFake((input: TransactWriteItemsCommandInput) => {
      const [state, entry] = input.TransactItems!.map((t) => t.Put!);
      expect(state.ConditionExpression).toBe('attribute_not_exists(pk)');
      if (manual) {
        throw cancelled(['ConditionalCheckFailed', 'None', 'None']);
      }
      manual = state.Item;
      recorded.push(auditFromItem(entry.Item as Item).reason);
      return {};
    });
    const [first, second] = [fakeIo(), fakeIo()];
    const results = await Promise.allSettled([
      shiftWith(mocks, { to: 'candidate', weight: '30', reason: 'ana' }, first),
      shiftWith(mocks, { to: 'candidate', weight: '60', reason: 'ben' }, second),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ exitCode: 4 });
    expect((results[1] as PromiseRejectedResult).reason.message).toMatch(
      /^the weights of 'churn-ab' were changed by someone else since they were read \(change 1 by arn:aws:iam::111111111111:user\/ana at .* set \{"baseline":70,"candidate":30\}\); nothing changed/,
    );
    expect(manualFromItem(manual as Item)).toMatchObject({ version: 1, weights: { baseline: 70, candidate: 30 } });
    expect(mocks.sagemaker).toHaveReceivedCommandTimes(UpdateEndpointWeightsAndCapacitiesCommand, 1);
    expect(recorded).toEqual(['ana']);
  });

  test('gives up waiting after the timeout with exit 5, the change made', async () => {
    const mocks = world({ statuses: ['InService', 'Updating'] });
    await expect(shiftWith(mocks, { to: 'candidate', weight: '10', timeout: '12' })).rejects.toMatchObject({ exitCode: 5 });
    expect(mocks.sagemaker).toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });
});

describe('modelship promote, abort, pause, resume', () => {
  const act = (mocks: MockedAws, action: ManualActionOptions['action'], options: Partial<ManualActionOptions> = {}, io = fakeIo()) =>
    manualAction({ endpoint: 'churn-ab', action, timeout: '60', ...options }, io, mocks.aws);

  test('promotes one step: the candidate to the next step, the rollout at that step, recorded, applied', async () => {
    const mocks = world();
    await expect(act(mocks, 'promote', { reason: 'step 1 looks healthy' })).resolves.toBe(0);
    expect(rolloutFromItem(rolloutWrite(mocks)!.Item as Item).state).toMatchObject({ phase: 'running', step: 1, weights: { baseline: 75, candidate: 25 }, stepStartedAtMs: NOW });
    expect(auditWrite(mocks)[0]).toMatchObject({ action: 'manual-advance', actor: ANA, reason: 'step 1 looks healthy', rolloutId: 1, candidateVersion: V3 });
    expect(mocks.sagemaker).toHaveReceivedCommandWith(UpdateEndpointWeightsAndCapacitiesCommand, {
      DesiredWeightsAndCapacities: [{ VariantName: 'baseline', DesiredWeight: 75 }, { VariantName: 'candidate', DesiredWeight: 25 }],
    });
  });

  test('promotes with --full: all traffic to the candidate, recorded, applied', async () => {
    const mocks = world();
    await expect(act(mocks, 'promote', { full: true, reason: 'conversion +3%' })).resolves.toBe(0);
    expect(rolloutFromItem(rolloutWrite(mocks)!.Item as Item).state).toMatchObject({ phase: 'promoted', weights: { baseline: 0, candidate: 100 } });
    expect(auditWrite(mocks)[0]).toMatchObject({ action: 'manual-promote', actor: ANA, reason: 'conversion +3%' });
    expect(mocks.sagemaker).toHaveReceivedCommandWith(UpdateEndpointWeightsAndCapacitiesCommand, {
      DesiredWeightsAndCapacities: [{ VariantName: 'baseline', DesiredWeight: 0 }, { VariantName: 'candidate', DesiredWeight: 100 }],
    });
  });

  test('retries an aborted rollout from its first step, its counts from now', async () => {
    const mocks = world({ state: { ...running, phase: 'aborted', step: 2, weights: { baseline: 100, candidate: 0 } }, weights: { baseline: 100, candidate: 0 } });
    await expect(act(mocks, 'retry', { reason: 'the feature store is fixed' })).resolves.toBe(0);
    expect(rolloutFromItem(rolloutWrite(mocks)!.Item as Item)).toMatchObject({
      rolloutId: 1, state: { phase: 'running', step: 0, weights: { baseline: 95, candidate: 5 }, startedAtMs: NOW, stepStartedAtMs: NOW },
    });
    expect(auditWrite(mocks)[0]).toMatchObject({ action: 'manual-retry', fromWeights: { baseline: 100, candidate: 0 }, toWeights: { baseline: 95, candidate: 5 } });
  });

  test('undoes a promotion with a reason: the baseline back at 100%, recorded as undo; without a reason, exit 2 before any call', async () => {
    const promoted = { ...running, phase: 'promoted' as const, weights: { baseline: 0, candidate: 100 } };
    let mocks = world({ state: promoted, weights: { baseline: 0, candidate: 100 } });
    await expect(act(mocks, 'abort')).rejects.toMatchObject({ exitCode: 3 });
    mocks = world({ state: promoted, weights: { baseline: 0, candidate: 100 } });
    await expect(act(mocks, 'undo', { reason: 'complaints about v3' })).resolves.toBe(0);
    expect(rolloutFromItem(rolloutWrite(mocks)!.Item as Item).state).toMatchObject({ phase: 'aborted', weights: { baseline: 100, candidate: 0 } });
    expect(auditWrite(mocks)[0]).toMatchObject({ action: 'manual-undo', reason: 'complaints about v3', fromWeights: { baseline: 0, candidate: 100 }, toWeights: { baseline: 100, candidate: 0 } });
    mocks = world({ state: promoted });
    await expect(act(mocks, 'undo')).rejects.toMatchObject({ exitCode: 2, message: "'--reason' is required for undo: the audit trail records why the baseline is back" });
    expect(mocks.sagemaker.calls()).toHaveLength(0);
  });

  test('refuses to promote, resume or retry a rollout of a version the candidate no longer serves; abort and undo still work', async () => {
    let mocks = world({ serving: V4 });
    await expect(act(mocks, 'promote')).rejects.toMatchObject({
      exitCode: 3,
      message: "'candidate' of 'churn-ab' serves churn/4, but rollout #1 is of churn/3: the controller starts its rollout at its next tick, or run 'modelship rollout start'; nothing changed",
    });
    expect(mocks.dynamodb).not.toHaveReceivedCommand(TransactWriteItemsCommand);
    mocks = world({ serving: V4 });
    await expect(act(mocks, 'abort')).resolves.toBe(0);
  });

  test('refuses --keep-automation on an experiment whose weights it would move: its test assumes one split', async () => {
    const experiment = RolloutPolicy.experiment({ baseline: 'baseline', candidate: 'candidate', candidateWeight: 5, metric: policy.spec.metric });
    const mocks = world();
    mocks.dynamodb.on(GetItemCommand).resolves({ Item: rolloutToItem({
      endpointName: 'churn-ab', rolloutId: 1, candidateVersion: V3, policyHash: experiment.hash, policy: experiment.spec, state: running, version: 7, updatedAtMs: NOW, updatedBy: 'release-controller',
    }) as never });
    await expect(shiftWith(mocks, { to: 'candidate', weight: '20', keepAutomation: true })).rejects.toMatchObject({ exitCode: 3 });
    expect(mocks.dynamodb).not.toHaveReceivedCommand(TransactWriteItemsCommand);
  });

  test('a shift then a resume never lowers the candidate at the next promote', async () => {
    let mocks = world();
    await shiftWith(mocks, { to: 'candidate', weight: '40' });
    const shifted = rolloutFromItem(rolloutWrite(mocks)!.Item as Item);
    // The rollout stands at the last step at or below 40%: 25%, so the next is 50%.
    expect(shifted.state).toMatchObject({ phase: 'paused', step: 1, weights: { baseline: 60, candidate: 40 } });
    mocks = world({ state: shifted.state, weights: { baseline: 60, candidate: 40 } });
    await act(mocks, 'resume');
    const resumed = rolloutFromItem(rolloutWrite(mocks)!.Item as Item);
    mocks = world({ state: resumed.state, weights: { baseline: 60, candidate: 40 } });
    await act(mocks, 'promote');
    expect(rolloutFromItem(rolloutWrite(mocks)!.Item as Item).state).toMatchObject({ phase: 'running', step: 2, weights: { baseline: 50, candidate: 50 } });
  });

  test('aborts (also as rollback): all traffic back to the baseline', async () => {
    const mocks = world();
    const io = fakeIo();
    await expect(run(['rollback', 'churn-ab', '--timeout', '60'], io, () => mocks.aws)).resolves.toBe(0);
    expect(rolloutFromItem(rolloutWrite(mocks)!.Item as Item).state).toMatchObject({ phase: 'aborted', weights: { baseline: 100, candidate: 0 } });
  });

  test('pauses and resumes without moving weights', async () => {
    let mocks = world();
    await expect(act(mocks, 'pause')).resolves.toBe(0);
    expect(rolloutFromItem(rolloutWrite(mocks)!.Item as Item).state.phase).toBe('paused');
    expect(mocks.sagemaker).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);

    mocks = world({ state: { ...running, phase: 'paused' }, statuses: ['Updating'] });
    await expect(act(mocks, 'resume')).resolves.toBe(0);
    expect(rolloutFromItem(rolloutWrite(mocks)!.Item as Item).state).toMatchObject({ phase: 'running', stepStartedAtMs: NOW });
  });

  test('refuses an action that does not apply to the phase, or a missing rollout, with exit 3', async () => {
    let mocks = world({ state: { ...running, phase: 'promoted', weights: { baseline: 0, candidate: 100 } } });
    await expect(act(mocks, 'resume')).rejects.toMatchObject({ exitCode: 3, message: "cannot resume the rollout of 'churn-ab': 'resume' applies to a rollout that is paused, got 'promoted'" });
    mocks = world({ state: null });
    await expect(act(mocks, 'promote')).rejects.toMatchObject({ exitCode: 3, message: "'churn-ab' has no rollout to promote; use 'modelship shift' to move its weights" });
    expect(mocks.dynamodb).not.toHaveReceivedCommand(TransactWriteItemsCommand);
  });

  test('refuses to promote while the endpoint is updating', async () => {
    const mocks = world({ statuses: ['Updating'] });
    await expect(act(mocks, 'promote')).rejects.toMatchObject({ exitCode: 3, message: "endpoint 'churn-ab' is Updating; weights can change only while it is InService" });
  });
});

describe('modelship rollout start', () => {
  const start = (mocks: MockedAws, io = fakeIo()) => rolloutStart({ endpoint: 'churn-ab', timeout: '60', reason: 'v4 is deployed' }, io, mocks.aws);

  test('starts rollout #2 for the version the candidate serves now, from the first weights, after a promotion', async () => {
    const mocks = world({ state: { ...running, phase: 'promoted', weights: { baseline: 0, candidate: 100 } }, weights: { baseline: 0, candidate: 100 }, serving: V4 });
    await expect(start(mocks)).resolves.toBe(0);
    const write = rolloutWrite(mocks)!;
    expect(write).toMatchObject({ ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': { N: '7' } } });
    expect(rolloutFromItem(write.Item as Item)).toMatchObject({
      rolloutId: 2, candidateVersion: V4, version: 8, updatedBy: ANA, state: { phase: 'running', step: 0, weights: { baseline: 95, candidate: 5 }, startedAtMs: NOW },
    });
    expect(auditWrite(mocks)).toEqual([expect.objectContaining({
      action: 'started', actor: ANA, rolloutId: 2, candidateVersion: V4, fromWeights: { baseline: 0, candidate: 100 }, toWeights: { baseline: 95, candidate: 5 },
      reason: 'rollout #2 of churn/4 started under policy ' + policy.hash + ': v4 is deployed; rollout #1 (churn/3) ended promoted with {"baseline":0,"candidate":100}',
    })]);
    expect(mocks.sagemaker).toHaveReceivedCommandWith(UpdateEndpointWeightsAndCapacitiesCommand, {
      DesiredWeightsAndCapacities: [{ VariantName: 'baseline', DesiredWeight: 95 }, { VariantName: 'candidate', DesiredWeight: 5 }],
    });
  });

  test('refuses while a rollout of the same version is in progress, and before the controller\'s first tick', async () => {
    let mocks = world();
    await expect(start(mocks)).rejects.toMatchObject({ exitCode: 3, message: "rollout #1 of churn/3 is already running on 'churn-ab'; nothing changed" });
    mocks = world({ state: null });
    await expect(start(mocks)).rejects.toMatchObject({ exitCode: 3 });
    expect(mocks.dynamodb).not.toHaveReceivedCommand(TransactWriteItemsCommand);
  });
});

describe('the modelship program', () => {
  test('maps bad arguments to exit 2 and explains a failure on standard error', async () => {
    const io = fakeIo();
    await expect(run(['shift'], io, () => mockedAws().aws)).resolves.toBe(2);
    expect(io.errors.join('\n')).toContain("missing required argument 'endpoint'");
    const mocks = world({ statuses: ['Updating'] });
    const refused = fakeIo();
    await expect(run(['shift', 'churn-ab', '--to', 'candidate', '--weight', '10'], refused, () => mocks.aws)).resolves.toBe(3);
    expect(refused.errors).toEqual(["modelship: endpoint 'churn-ab' is Updating; weights can change only while it is InService"]);
    // A reason too long to travel in an event or a notification is refused before any call.
    const long = fakeIo();
    const untouched = world();
    await expect(run(['shift', 'churn-ab', '--to', 'candidate', '--weight', '10', '--reason', 'x'.repeat(300_000)], long, () => untouched.aws)).resolves.toBe(2);
    expect(long.errors).toEqual(["modelship: '--reason' must be at most 1024 characters, got 300000"]);
    expect(untouched.dynamodb).not.toHaveReceivedCommand(TransactWriteItemsCommand);
  });

  test('passes --region and --profile to the clients', async () => {
    const seen: unknown[] = [];
    await run(['--region', 'eu-central-1', '--profile', 'release', 'history', 'churn-ab'], fakeIo(), (options) => {
      seen.push({ region: options.region, profile: options.profile });
      return world({ state: null }).aws;
    });
    expect(seen).toEqual([{ region: 'eu-central-1', profile: 'release' }]);
  });
});
