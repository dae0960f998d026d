import { DescribeTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import {
  DescribeExecutionCommand, DescribeExecutionCommandOutput, GetExecutionHistoryCommand, GetExecutionHistoryCommandInput, HistoryEvent, StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import 'aws-sdk-client-mock-jest';
import { ExecutionView, trainStart, trainStatus } from '../../lib/cli/commands/train';
import { CliError } from '../../lib/cli/errors';
import { fakeIo, mockedAws, MockedAws, NOW, serviceError } from './fakes';

const PIPELINE = 'arn:aws:states:eu-west-1:111111111111:stateMachine:churn-training';
const EXECUTION = 'arn:aws:states:eu-west-1:111111111111:execution:churn-training:run-1';
const JOB = 'churn-0123456789abcdef';

/** A pipeline run's history, oldest first, as the training pipeline writes it. */
function events(): HistoryEvent[] {
  const at = (minutes: number) => new Date(NOW + minutes * 60_000);
  const list: Omit<HistoryEvent, 'id'>[] = [
    { type: 'ExecutionStarted', timestamp: at(0) },
    { type: 'PassStateEntered', timestamp: at(0), stateEnteredEventDetails: { name: 'NameRun', input: '{}' } },
    { type: 'PassStateExited', timestamp: at(0), stateExitedEventDetails: { name: 'NameRun', output: JSON.stringify({ run: { jobName: JOB, checkpointUri: 's3://b/c/' } }) } },
    { type: 'ParallelStateEntered', timestamp: at(1), stateEnteredEventDetails: { name: 'RunTraining' } },
    { type: 'ParallelStateStarted', timestamp: at(1) },
    { type: 'TaskStateEntered', timestamp: at(1), stateEnteredEventDetails: { name: 'Train' } },
    { type: 'TaskScheduled', timestamp: at(1), taskScheduledEventDetails: { resourceType: 'sagemaker', resource: 'createTrainingJob.sync', region: 'eu-west-1', parameters: JSON.stringify({ TrainingJobName: JOB }) } },
    { type: 'TaskStateExited', timestamp: at(60), stateExitedEventDetails: { name: 'Train', output: '{}' } },
    { type: 'ParallelStateExited', timestamp: at(60), stateExitedEventDetails: { name: 'RunTraining', output: '{}' } },
    { type: 'TaskStateEntered', timestamp: at(61), stateEnteredEventDetails: { name: 'Gate' } },
  ];
  return list.map((e, i) => ({ ...e, id: i + 1, previousEventId: i })) as HistoryEvent[];
}

/** Serves the first `visible` events newest first, three to a page, as GetExecutionHistory with reverseOrder does. */
function historyServes(mocks: MockedAws, visible: () => number): void {
  mocks.sfn.on(GetExecutionHistoryCommand).callsFake((input: GetExecutionHistoryCommandInput) => {
    const newestFirst = events().slice(0, visible()).reverse();
    const start = input.nextToken ? Number(input.nextToken) : 0;
    const page = newestFirst.slice(start, start + 3);
    return { events: page, ...(start + 3 < newestFirst.length ? { nextToken: String(start + 3) } : {}) };
  });
}

function executionIs(mocks: MockedAws, ...statuses: Partial<DescribeExecutionCommandOutput>[]): void {
  let stub = mocks.sfn.on(DescribeExecutionCommand);
  for (const s of statuses) {
    stub = stub.resolvesOnce({ executionArn: EXECUTION, stateMachineArn: PIPELINE, name: 'run-1', startDate: new Date(NOW), status: 'RUNNING', ...s } as never);
  }
}

function trainingJobIs(mocks: MockedAws, ...jobs: object[]): void {
  let stub = mocks.sagemaker.on(DescribeTrainingJobCommand);
  for (const job of jobs) {
    stub = stub.resolvesOnce({ TrainingJobName: JOB, TrainingJobStatus: 'InProgress', SecondaryStatus: 'Training', ...job } as never);
  }
}

describe('modelship train start', () => {
  test('starts an execution with a generated name and an empty input, and prints its ARN', async () => {
    const mocks = mockedAws();
    mocks.sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date(NOW) });
    const io = fakeIo();
    expect(await trainStart({ pipeline: PIPELINE }, io, mocks.aws)).toBe(0);
    const input = mocks.sfn.commandCalls(StartExecutionCommand)[0].args[0].input;
    expect(input).toEqual({ stateMachineArn: PIPELINE, name: expect.stringMatching(/^modelship-20261122T120000Z-[0-9a-f]{6}$/), input: '{}' });
    expect(io.lines[0]).toBe(`started ${EXECUTION}`);
    expect(mocks.sfn).not.toHaveReceivedCommand(DescribeExecutionCommand);
  });

  test('prints the ARN, name and start as JSON with --json', async () => {
    const mocks = mockedAws();
    mocks.sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date(NOW) });
    const io = fakeIo();
    await trainStart({ pipeline: PIPELINE, json: true }, io, mocks.aws);
    expect(JSON.parse(io.lines[0])).toEqual({ executionArn: EXECUTION, name: expect.stringMatching(/^modelship-/), startMs: NOW });
  });

  test('follows the execution it started with --follow', async () => {
    const mocks = mockedAws();
    mocks.sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date(NOW) });
    executionIs(mocks, {}, { status: 'SUCCEEDED', stopDate: new Date(NOW + 2 * 3_600_000) });
    historyServes(mocks, () => events().length);
    trainingJobIs(mocks, {}, { TrainingJobStatus: 'Completed', SecondaryStatus: 'Completed' });
    const io = fakeIo();
    expect(await trainStart({ pipeline: PIPELINE, follow: true }, io, mocks.aws)).toBe(0);
    expect(mocks.sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: EXECUTION });
    expect(io.sleeps).toEqual([15_000]);
    expect(io.lines[0]).toBe(`started ${EXECUTION}`);
    expect(io.output()).toContain('Execution run-1  SUCCEEDED');
  });

  test('rejects a pipeline that is not a state machine ARN, calling nothing', async () => {
    const mocks = mockedAws();
    await expect(trainStart({ pipeline: 'churn-training' }, fakeIo(), mocks.aws)).rejects.toMatchObject({
      exitCode: 2, message: "<pipeline> must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>), got 'churn-training'",
    });
    expect(mocks.sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  test('an unknown pipeline is bad input', async () => {
    const mocks = mockedAws();
    mocks.sfn.on(StartExecutionCommand).rejects(serviceError('StateMachineDoesNotExist', 'State Machine Does Not Exist'));
    await expect(trainStart({ pipeline: PIPELINE }, fakeIo(), mocks.aws)).rejects.toMatchObject({ exitCode: 2, message: `unknown pipeline '${PIPELINE}'` });
  });
});

describe('modelship train status', () => {
  test('shows the status, the latest state entered and the training job named by NameRun, reading every page of the history', async () => {
    const mocks = mockedAws();
    executionIs(mocks, {});
    historyServes(mocks, () => 7);
    trainingJobIs(mocks, {
      FinalMetricDataList: [{ MetricName: 'validation:auc', Value: 0.91234, Timestamp: new Date(NOW) }, { MetricName: 'train:loss', Value: 0.2 }],
      TrainingTimeInSeconds: 3723, BillableTimeInSeconds: 3800,
    });
    const io = fakeIo();
    expect(await trainStatus({ execution: EXECUTION }, io, mocks.aws)).toBe(0);
    expect(mocks.sfn).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 3);
    expect(mocks.sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input)).toEqual([
      { executionArn: EXECUTION, reverseOrder: true, maxResults: 1000, includeExecutionData: true },
      { executionArn: EXECUTION, reverseOrder: true, maxResults: 1000, includeExecutionData: true, nextToken: '3' },
      { executionArn: EXECUTION, reverseOrder: true, maxResults: 1000, includeExecutionData: true, nextToken: '6' },
    ]);
    expect(mocks.sagemaker).toHaveReceivedCommandWith(DescribeTrainingJobCommand, { TrainingJobName: JOB });
    expect(io.lines).toEqual([
      'Execution run-1  RUNNING  started 2026-11-22 12:00:00Z',
      `  pipeline  ${PIPELINE}`,
      '  step      Train',
      `  training  ${JOB}  InProgress / Training  (1h 02m 03s training, 1h 03m 20s billable)`,
      '  metrics   validation:auc=0.9123  train:loss=0.2',
    ]);
    expect(io.sleeps).toEqual([]);
  });

  test('prints the execution as JSON with --json', async () => {
    const mocks = mockedAws();
    executionIs(mocks, {});
    historyServes(mocks, () => 7);
    trainingJobIs(mocks, { FinalMetricDataList: [{ MetricName: 'validation:auc', Value: 0.9 }], TrainingTimeInSeconds: 60 });
    const io = fakeIo();
    await trainStatus({ execution: EXECUTION, json: true }, io, mocks.aws);
    expect(io.lines).toHaveLength(1);
    const view = JSON.parse(io.lines[0]) as ExecutionView;
    expect(view).toEqual({
      executionArn: EXECUTION, name: 'run-1', stateMachineArn: PIPELINE, status: 'RUNNING', startMs: NOW, currentStep: 'Train',
      steps: [{ name: 'NameRun', enteredAtMs: NOW }, { name: 'RunTraining', enteredAtMs: NOW + 60_000 }, { name: 'Train', enteredAtMs: NOW + 60_000 }],
      trainingJob: { name: JOB, status: 'InProgress', secondaryStatus: 'Training', metrics: { 'validation:auc': 0.9 }, trainingTimeSeconds: 60 },
    });
  });

  test('follows with --follow: new states and metrics as they arrive, every 15 s, reading only new events, until it fails (exit 1)', async () => {
    const mocks = mockedAws();
    let visible = 0;
    const shown = [3, 7, 10];
    historyServes(mocks, () => visible);
    mocks.sfn.on(DescribeExecutionCommand).callsFake(() => {
      visible = shown.shift()!;
      return {
        executionArn: EXECUTION, stateMachineArn: PIPELINE, name: 'run-1', startDate: new Date(NOW),
        ...(visible < 10 ? { status: 'RUNNING' } : { status: 'FAILED', stopDate: new Date(NOW + 62 * 60_000), error: 'QualityGateFailed', cause: 'validation:auc 0.61 < 0.8' }),
      };
    });
    mocks.sagemaker.on(DescribeTrainingJobCommand)
      .rejectsOnce(serviceError('ValidationException', 'Requested resource not found.'))
      .resolvesOnce({ TrainingJobName: JOB, TrainingJobStatus: 'InProgress', SecondaryStatus: 'Training', FinalMetricDataList: [{ MetricName: 'validation:auc', Value: 0.61 }] } as never)
      .resolvesOnce({ TrainingJobName: JOB, TrainingJobStatus: 'Completed', SecondaryStatus: 'Completed', FinalMetricDataList: [{ MetricName: 'validation:auc', Value: 0.61 }], TrainingTimeInSeconds: 3540 } as never);
    const io = fakeIo();
    expect(await trainStatus({ execution: EXECUTION, follow: true }, io, mocks.aws)).toBe(1);
    expect(io.sleeps).toEqual([15_000, 15_000]);
    // 3 events in one page; then 4 new ones (two pages, stopping at a seen one); then 3 new ones (one page, then a seen one).
    expect(mocks.sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input.nextToken)).toEqual([undefined, undefined, '3', undefined, '3']);
    expect(io.lines).toEqual([
      '2026-11-22 12:00:00Z  → NameRun',
      '2026-11-22 12:01:00Z  → RunTraining',
      '2026-11-22 12:01:00Z  → Train',
      `  training job ${JOB}: InProgress / Training`,
      '  metrics validation:auc=0.61',
      '2026-11-22 13:01:00Z  → Gate',
      `  training job ${JOB}: Completed / Completed`,
      'Execution run-1  FAILED  started 2026-11-22 12:00:00Z, took 1h 02m 00s',
      `  pipeline  ${PIPELINE}`,
      '  step      Gate',
      '  error     QualityGateFailed: validation:auc 0.61 < 0.8',
      `  training  ${JOB}  Completed / Completed  (59m 00s training)`,
      '  metrics   validation:auc=0.61',
    ]);
    expect(io.errors).toEqual(['execution run-1 FAILED: QualityGateFailed (validation:auc 0.61 < 0.8)']);
    expect(io.progressed).toEqual(['run-1: NameRun', 'run-1: Train (Training)']);
  });

  test('says the job is not created yet when NameRun has named it but SageMaker does not know it', async () => {
    const mocks = mockedAws();
    executionIs(mocks, {});
    historyServes(mocks, () => 3);
    mocks.sagemaker.on(DescribeTrainingJobCommand).rejects(serviceError('ValidationException', 'Requested resource not found.'));
    const io = fakeIo();
    await trainStatus({ execution: EXECUTION }, io, mocks.aws);
    expect(io.lines).toContain(`  training  ${JOB}  not created yet`);
  });

  test.each([
    ['SUCCEEDED', 0],
    ['FAILED', 1],
    ['TIMED_OUT', 1],
    ['ABORTED', 1],
  ])('exits %s with %i', async (status, code) => {
    const mocks = mockedAws();
    executionIs(mocks, { status: status as never, stopDate: new Date(NOW + 60_000) });
    historyServes(mocks, () => 1);
    const io = fakeIo();
    expect(await trainStatus({ execution: EXECUTION, follow: true }, io, mocks.aws)).toBe(code);
    expect(io.sleeps).toEqual([]);
    expect(io.errors).toEqual(code === 0 ? [] : [`execution run-1 ${status}`]);
    expect(mocks.sagemaker).not.toHaveReceivedCommand(DescribeTrainingJobCommand);
  });

  test('an unknown execution is bad input', async () => {
    const mocks = mockedAws();
    mocks.sfn.on(DescribeExecutionCommand).rejects(serviceError('ExecutionDoesNotExist', 'Execution Does Not Exist'));
    await expect(trainStatus({ execution: EXECUTION }, fakeIo(), mocks.aws)).rejects.toMatchObject({ exitCode: 2, message: `unknown execution '${EXECUTION}'` });
  });

  test('rejects an execution that is not an execution ARN, calling nothing', async () => {
    const mocks = mockedAws();
    const run = trainStatus({ execution: PIPELINE }, fakeIo(), mocks.aws);
    await expect(run).rejects.toThrow(CliError);
    await expect(run).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining(`<execution> must be an execution ARN`) });
    expect(mocks.sfn).not.toHaveReceivedCommand(DescribeExecutionCommand);
  });
});
