import { DescribeTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import {
  DescribeExecutionCommand, DescribeExecutionCommandOutput, GetExecutionHistoryCommand, GetExecutionHistoryCommandInput, HistoryEvent,
  ListExecutionsCommand, ListExecutionsCommandInput, StartExecutionCommand, StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import 'aws-sdk-client-mock-jest';
import { ExecutionView, trainStart, trainStatus } from '../../lib/cli/commands/train';
import { RunSummary, trainList } from '../../lib/cli/commands/train-list';
import { StopView, trainStop } from '../../lib/cli/commands/train-stop';
import { CliError } from '../../lib/cli/errors';
import { run } from '../../lib/cli/program';
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

const PASSED = [{ metric: 'validation:auc', operator: '>=', value: 0.85, actual: 0.91, passed: true, reason: 'validation:auc = 0.91 meets >= 0.85' }];
const MISSED = [{ metric: 'validation:auc', operator: '>=', value: 0.85, actual: 0.61, passed: false, reason: 'validation:auc = 0.61 misses >= 0.85' }];

/** The output of a run that registered a version: the pipeline's state at its end. */
function registeredOutput(jobName: string, billable: number): string {
  return JSON.stringify({
    run: { jobName, checkpointUri: 's3://b/c/' },
    training: { job: { TrainingJobName: jobName, TrainingJobStatus: 'Completed', BillableTimeInSeconds: billable, FinalMetricDataList: [{ MetricName: 'validation:auc', Value: 0.91 }] } },
    gate: { passed: true, results: PASSED, modelPackage: {} },
    registration: { ModelPackageArn: 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3' },
  });
}

/** The first events of a run whose NameRun state named `jobName`, as GetExecutionHistory returns them oldest first. */
function namingEvents(jobName: string): HistoryEvent[] {
  return events().slice(0, 3).map((e) => (e.stateExitedEventDetails ? { ...e, stateExitedEventDetails: { name: 'NameRun', output: JSON.stringify({ run: { jobName } }) } } : e));
}

describe('modelship train status and the quality gate', () => {
  test('shows the verdict of a gate the run passed, from its output', async () => {
    const mocks = mockedAws();
    executionIs(mocks, { status: 'SUCCEEDED', stopDate: new Date(NOW + 3_600_000), output: registeredOutput(JOB, 3500) });
    historyServes(mocks, () => 3);
    trainingJobIs(mocks, { TrainingJobStatus: 'Completed', SecondaryStatus: 'Completed', BillableTimeInSeconds: 3500 });
    const io = fakeIo();
    expect(await trainStatus({ execution: EXECUTION, json: true }, io, mocks.aws)).toBe(0);
    expect((JSON.parse(io.lines[0]) as ExecutionView).gate).toEqual({ passed: true, reasons: ['validation:auc = 0.91 meets >= 0.85'] });
  });

  test('says which thresholds a run missed, in words, not as the JSON cause', async () => {
    const mocks = mockedAws();
    executionIs(mocks, { status: 'FAILED', stopDate: new Date(NOW + 3_600_000), error: 'Modelship.QualityGateFailed', cause: JSON.stringify(MISSED) });
    historyServes(mocks, () => 10);
    trainingJobIs(mocks, { TrainingJobStatus: 'Completed', SecondaryStatus: 'Completed', BillableTimeInSeconds: 3000 });
    const io = fakeIo();
    expect(await trainStatus({ execution: EXECUTION }, io, mocks.aws)).toBe(1);
    expect(io.lines).toEqual([
      'Execution run-1  FAILED  started 2026-11-22 12:00:00Z, took 1h 00m 00s',
      `  pipeline  ${PIPELINE}`,
      '  step      Gate',
      '  error     Modelship.QualityGateFailed',
      `  training  ${JOB}  Completed / Completed  (50m 00s billable)`,
      '  gate      failed: validation:auc = 0.61 misses >= 0.85',
    ]);
    expect(io.errors).toEqual(['execution run-1 FAILED: Modelship.QualityGateFailed (validation:auc = 0.61 misses >= 0.85)']);
  });
});

const executionArn = (name: string) => `arn:aws:states:eu-west-1:111111111111:execution:churn-training:${name}`;

interface FakeRun {
  readonly describe: Partial<DescribeExecutionCommandOutput>;
  /** The job NameRun named; absent when the run failed before naming one. */
  readonly job?: string;
  readonly billable?: number;
}

/** Five runs, newest first: running, registered, missed the gate, stopped, failed before naming a job. */
const RUNS: Record<string, FakeRun> = {
  'run-5': { describe: { status: 'RUNNING', startDate: new Date(NOW - 10 * 60_000) }, job: 'churn-5' },
  'run-4': { describe: { status: 'SUCCEEDED', startDate: new Date(NOW - 3 * 3_600_000), stopDate: new Date(NOW - 3_600_000), output: registeredOutput('churn-4', 3500) } },
  'run-3': {
    describe: { status: 'FAILED', startDate: new Date(NOW - 5 * 3_600_000), stopDate: new Date(NOW - 4 * 3_600_000), error: 'Modelship.QualityGateFailed', cause: JSON.stringify(MISSED) },
    job: 'churn-3', billable: 3000,
  },
  'run-2': { describe: { status: 'ABORTED', startDate: new Date(NOW - 6 * 3_600_000), stopDate: new Date(NOW - 5.5 * 3_600_000) }, job: 'churn-2', billable: 1200 },
  'run-1': { describe: { status: 'FAILED', startDate: new Date(NOW - 7 * 3_600_000), stopDate: new Date(NOW - 7 * 3_600_000 + 60_000), error: 'States.Runtime', cause: 'boom' } },
};

/** ListExecutions serving the runs newest first, at most two to a page whatever maxResults asks; and each run's lookups. */
function pipelineHasRuns(mocks: MockedAws, names: string[] = Object.keys(RUNS)): void {
  mocks.sfn.on(ListExecutionsCommand).callsFake((input: ListExecutionsCommandInput) => {
    const matching = names.filter((n) => !input.statusFilter || RUNS[n].describe.status === input.statusFilter);
    const start = input.nextToken ? Number(input.nextToken) : 0;
    const end = start + Math.min(2, input.maxResults ?? 100);
    return {
      executions: matching.slice(start, end).map((n) => ({ executionArn: executionArn(n), stateMachineArn: PIPELINE, name: n, status: RUNS[n].describe.status, startDate: RUNS[n].describe.startDate })),
      ...(end < matching.length ? { nextToken: String(end) } : {}),
    };
  });
  mocks.sfn.on(DescribeExecutionCommand).callsFake(({ executionArn: arn }: { executionArn: string }) => {
    const name = arn.split(':').pop()!;
    return { executionArn: arn, stateMachineArn: PIPELINE, name, ...RUNS[name].describe };
  });
  mocks.sfn.on(GetExecutionHistoryCommand).callsFake(({ executionArn: arn }: GetExecutionHistoryCommandInput) => {
    const job = RUNS[arn!.split(':').pop()!].job;
    return { events: job ? namingEvents(job) : events().slice(0, 2) };
  });
  mocks.sagemaker.on(DescribeTrainingJobCommand).callsFake(({ TrainingJobName }: { TrainingJobName: string }) => {
    const found = Object.values(RUNS).find((r) => r.job === TrainingJobName)!;
    return {
      TrainingJobName, TrainingJobStatus: found.billable === undefined ? 'InProgress' : 'Completed',
      ...(found.billable !== undefined ? { BillableTimeInSeconds: found.billable } : {}),
    };
  });
}

/** Every call the command sent, on every client. */
function sdkCalls(mocks: MockedAws): number {
  return [mocks.sfn, mocks.sagemaker, mocks.dynamodb, mocks.cloudwatch, mocks.sts].reduce((n, m) => n + m.calls().length, 0);
}

describe('modelship train list', () => {
  test('lists recent runs newest first with status, duration, billable seconds and the gate, reading every page', async () => {
    const mocks = mockedAws();
    pipelineHasRuns(mocks);
    const io = fakeIo();
    expect(await trainList({ pipeline: PIPELINE }, io, mocks.aws)).toBe(0);
    expect(mocks.sfn.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input)).toEqual([
      { stateMachineArn: PIPELINE, maxResults: 20 },
      { stateMachineArn: PIPELINE, maxResults: 18, nextToken: '2' },
      { stateMachineArn: PIPELINE, maxResults: 16, nextToken: '4' },
    ]);
    expect(io.lines).toEqual([
      'name   status     started                 duration  billable s  gate',
      'run-5  RUNNING    2026-11-22 11:50:00Z     10m 00s           -  -',
      'run-4  SUCCEEDED  2026-11-22 09:00:00Z  2h 00m 00s        3500  passed',
      'run-3  FAILED     2026-11-22 07:00:00Z  1h 00m 00s        3000  failed',
      'run-2  ABORTED    2026-11-22 06:00:00Z     30m 00s        1200  -',
      'run-1  FAILED     2026-11-22 05:00:00Z      1m 00s           -  -',
    ]);
  });

  test('asks DescribeExecution alone for a run that registered, and the first history page and the job for any other', async () => {
    const mocks = mockedAws();
    pipelineHasRuns(mocks);
    await trainList({ pipeline: PIPELINE }, fakeIo(), mocks.aws);
    expect(mocks.sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input)).toEqual(
      ['run-5', 'run-4', 'run-3', 'run-2', 'run-1'].map((n) => ({ executionArn: executionArn(n) })),
    );
    expect(mocks.sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input).sort((a, b) => a.executionArn!.localeCompare(b.executionArn!))).toEqual(
      ['run-1', 'run-2', 'run-3', 'run-5'].map((n) => ({ executionArn: executionArn(n), reverseOrder: false, maxResults: 10, includeExecutionData: true })),
    );
    expect(mocks.sagemaker.commandCalls(DescribeTrainingJobCommand).map((c) => c.args[0].input.TrainingJobName).sort()).toEqual(['churn-2', 'churn-3', 'churn-5']);
  });

  test('stops paging at --limit, asking each page for only what is still missing', async () => {
    const mocks = mockedAws();
    pipelineHasRuns(mocks);
    const io = fakeIo();
    await trainList({ pipeline: PIPELINE, limit: '3' }, io, mocks.aws);
    expect(mocks.sfn.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input)).toEqual([
      { stateMachineArn: PIPELINE, maxResults: 3 },
      { stateMachineArn: PIPELINE, maxResults: 1, nextToken: '2' },
    ]);
    expect(io.lines.slice(1).map((l) => l.split(' ')[0])).toEqual(['run-5', 'run-4', 'run-3']);
    expect(mocks.sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 3);
  });

  test('filters by --status, in any case, on the service side', async () => {
    const mocks = mockedAws();
    pipelineHasRuns(mocks);
    const io = fakeIo();
    await trainList({ pipeline: PIPELINE, status: 'failed', json: true }, io, mocks.aws);
    expect(mocks.sfn.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input)).toEqual([{ stateMachineArn: PIPELINE, maxResults: 20, statusFilter: 'FAILED' }]);
    expect((JSON.parse(io.lines[0]) as RunSummary[]).map((r) => r.name)).toEqual(['run-3', 'run-1']);
  });

  test('prints a JSON array with --json', async () => {
    const mocks = mockedAws();
    pipelineHasRuns(mocks, ['run-4', 'run-3', 'run-5']);
    const io = fakeIo();
    await trainList({ pipeline: PIPELINE, json: true }, io, mocks.aws);
    expect(io.lines).toHaveLength(1);
    expect(JSON.parse(io.lines[0])).toEqual([
      {
        executionArn: executionArn('run-4'), name: 'run-4', status: 'SUCCEEDED', startMs: NOW - 3 * 3_600_000, stopMs: NOW - 3_600_000, durationSeconds: 7200,
        trainingJobName: 'churn-4', billableSeconds: 3500, gate: { passed: true, reasons: ['validation:auc = 0.91 meets >= 0.85'] },
      },
      {
        executionArn: executionArn('run-3'), name: 'run-3', status: 'FAILED', startMs: NOW - 5 * 3_600_000, stopMs: NOW - 4 * 3_600_000, durationSeconds: 3600,
        trainingJobName: 'churn-3', billableSeconds: 3000, gate: { passed: false, reasons: ['validation:auc = 0.61 misses >= 0.85'] },
      },
      { executionArn: executionArn('run-5'), name: 'run-5', status: 'RUNNING', startMs: NOW - 600_000, durationSeconds: 600, trainingJobName: 'churn-5' },
    ]);
  });

  test('says so when there are no runs', async () => {
    const mocks = mockedAws();
    pipelineHasRuns(mocks, []);
    const io = fakeIo();
    expect(await trainList({ pipeline: PIPELINE, status: 'RUNNING' }, io, mocks.aws)).toBe(0);
    expect(io.lines).toEqual([`no RUNNING runs of ${PIPELINE}`]);
  });

  test('an unknown pipeline is bad input', async () => {
    const mocks = mockedAws();
    mocks.sfn.on(ListExecutionsCommand).rejects(serviceError('StateMachineDoesNotExist', 'State Machine Does Not Exist'));
    await expect(trainList({ pipeline: PIPELINE }, fakeIo(), mocks.aws)).rejects.toMatchObject({ exitCode: 2, message: `unknown pipeline '${PIPELINE}'` });
  });

  test.each([
    [{ limit: '0' }, '--limit must be an integer from 1 to 100, got \'0\''],
    [{ limit: '101' }, '--limit must be an integer from 1 to 100, got \'101\''],
    [{ limit: '2.5' }, '--limit must be an integer from 1 to 100, got \'2.5\''],
    [{ limit: 'ten' }, '--limit must be an integer from 1 to 100, got \'ten\''],
    [{ status: 'DONE' }, "--status must be one of RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, got 'DONE'"],
    [{ pipeline: 'churn-training:run-1' }, `<pipeline> must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>), got 'churn-training:run-1'`],
  ])('rejects %j before any AWS call', async (options, message) => {
    const mocks = mockedAws();
    await expect(trainList({ pipeline: PIPELINE, ...options }, fakeIo(), mocks.aws)).rejects.toMatchObject({ exitCode: 2, message });
    expect(sdkCalls(mocks)).toBe(0);
  });

  test('names every bad argument at once, through the command line, offline', async () => {
    const mocks = mockedAws();
    const io = fakeIo();
    expect(await run(['train', 'list', 'churn-training', '--limit', '150', '--status', 'done'], io, () => mocks.aws)).toBe(2);
    expect(io.errors).toEqual([[
      'modelship: bad options:',
      "  - <pipeline> must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>), got 'churn-training'",
      "  - --limit must be an integer from 1 to 100, got '150'",
      "  - --status must be one of RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, got 'done'",
    ].join('\n')]);
    expect(sdkCalls(mocks)).toBe(0);
  });
});

/** A running execution whose NameRun named JOB. */
function runningExecution(mocks: MockedAws, describe: Partial<DescribeExecutionCommandOutput> = {}): void {
  mocks.sfn.on(DescribeExecutionCommand).resolves({
    executionArn: EXECUTION, stateMachineArn: PIPELINE, name: 'run-1', status: 'RUNNING', startDate: new Date(NOW - 3_600_000), ...describe,
  });
  mocks.sfn.on(GetExecutionHistoryCommand).resolves({ events: namingEvents(JOB) });
  mocks.sfn.on(StopExecutionCommand).resolves({ stopDate: new Date(NOW) });
}

describe('modelship train stop', () => {
  test('stops a running execution with the reason as its cause after a person confirms at a terminal', async () => {
    const mocks = mockedAws();
    runningExecution(mocks);
    const io = fakeIo({ interactive: true, answers: [true] });
    expect(await trainStop({ execution: EXECUTION, reason: 'wrong dataset' }, io, mocks.aws)).toBe(0);
    expect(io.questions).toEqual([`Stop execution run-1 and its training job ${JOB}?`]);
    expect(mocks.sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: EXECUTION }]);
    expect(mocks.sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input)).toEqual([
      { executionArn: EXECUTION, reverseOrder: false, maxResults: 10, includeExecutionData: true },
    ]);
    expect(mocks.sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: EXECUTION, cause: 'wrong dataset' }]);
    expect(mocks.sagemaker.calls()).toHaveLength(0);
    expect(io.lines).toEqual([
      'Stop execution run-1',
      `  pipeline  ${PIPELINE}`,
      '  started   2026-11-22 11:00:00Z (running 1h 00m 00s)',
      `  training  ${JOB}`,
      '  reason    wrong dataset',
      '  Step Functions stops the running training job with it (StopTrainingJob): SageMaker sends the container SIGTERM, allows 120 s to save, then marks the job Stopped',
      `stopped run-1 at 2026-11-22 12:00:00Z; its training job ${JOB} is stopping`,
      `follow it with: modelship train status ${EXECUTION}`,
    ]);
  });

  test('changes nothing when the person says no (exit 3)', async () => {
    const mocks = mockedAws();
    runningExecution(mocks);
    const io = fakeIo({ interactive: true, answers: [false] });
    await expect(trainStop({ execution: EXECUTION }, io, mocks.aws)).rejects.toMatchObject({ exitCode: 3, message: 'not confirmed; nothing changed' });
    expect(mocks.sfn).not.toHaveReceivedCommand(StopExecutionCommand);
  });

  test('needs --yes without a terminal (exit 3, nothing changed), and stops with it without asking', async () => {
    const mocks = mockedAws();
    runningExecution(mocks);
    await expect(trainStop({ execution: EXECUTION }, fakeIo(), mocks.aws)).rejects.toMatchObject({
      exitCode: 3, message: 'stopping run-1 needs confirmation: pass --yes; nothing changed',
    });
    expect(mocks.sfn).not.toHaveReceivedCommand(StopExecutionCommand);
    const io = fakeIo();
    expect(await trainStop({ execution: EXECUTION, yes: true }, io, mocks.aws)).toBe(0);
    expect(io.questions).toEqual([]);
    expect(mocks.sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: EXECUTION }]);
  });

  test.each(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'])('refuses an execution that is %s (exit 3), sending no StopExecution', async (status) => {
    const mocks = mockedAws();
    runningExecution(mocks, { status: status as never, stopDate: new Date(NOW - 60_000) });
    await expect(trainStop({ execution: EXECUTION, yes: true }, fakeIo(), mocks.aws)).rejects.toMatchObject({
      exitCode: 3, message: `execution run-1 is ${status}, not RUNNING: nothing to stop`,
    });
    expect(mocks.sfn).not.toHaveReceivedCommand(StopExecutionCommand);
    expect(mocks.sfn).not.toHaveReceivedCommand(GetExecutionHistoryCommand);
  });

  test('shows what would stop on a dry run, and stops nothing', async () => {
    const mocks = mockedAws();
    runningExecution(mocks);
    const io = fakeIo({ interactive: true, answers: [true] });
    expect(await trainStop({ execution: EXECUTION, dryRun: true, reason: 'r' }, io, mocks.aws)).toBe(0);
    expect(mocks.sfn).not.toHaveReceivedCommand(StopExecutionCommand);
    expect(io.questions).toEqual([]);
    expect(io.lines[0]).toBe('Stop execution run-1');
    expect(io.lines[io.lines.length - 1]).toBe('dry run: nothing changed');
  });

  test('prints what it stopped as JSON with --json, and the plan with --dry-run', async () => {
    const mocks = mockedAws();
    runningExecution(mocks);
    const dry = fakeIo();
    await trainStop({ execution: EXECUTION, dryRun: true, json: true }, dry, mocks.aws);
    expect(dry.lines.map((l) => JSON.parse(l))).toEqual([
      { executionArn: EXECUTION, name: 'run-1', stateMachineArn: PIPELINE, startMs: NOW - 3_600_000, trainingJobName: JOB, dryRun: true } satisfies StopView,
    ]);
    const io = fakeIo();
    await trainStop({ execution: EXECUTION, json: true, yes: true, reason: 'r' }, io, mocks.aws);
    expect(io.lines.map((l) => JSON.parse(l))).toEqual([
      { executionArn: EXECUTION, name: 'run-1', stateMachineArn: PIPELINE, startMs: NOW - 3_600_000, trainingJobName: JOB, cause: 'r', dryRun: false, stopMs: NOW } satisfies StopView,
    ]);
  });

  test('says when the run has not named a training job yet', async () => {
    const mocks = mockedAws();
    runningExecution(mocks);
    mocks.sfn.on(GetExecutionHistoryCommand).resolves({ events: events().slice(0, 1) });
    const io = fakeIo();
    await trainStop({ execution: EXECUTION, yes: true }, io, mocks.aws);
    expect(io.lines).toContain('  training  no job named yet');
    expect(io.lines).toContain('stopped run-1 at 2026-11-22 12:00:00Z');
  });

  test('an unknown execution is bad input', async () => {
    const mocks = mockedAws();
    mocks.sfn.on(DescribeExecutionCommand).rejects(serviceError('ExecutionDoesNotExist', 'Execution Does Not Exist'));
    await expect(trainStop({ execution: EXECUTION, yes: true }, fakeIo(), mocks.aws)).rejects.toMatchObject({ exitCode: 2, message: `unknown execution '${EXECUTION}'` });
    expect(mocks.sfn).not.toHaveReceivedCommand(StopExecutionCommand);
  });

  test.each([
    ['a state machine ARN', { execution: PIPELINE }, `<execution> must be an execution ARN (arn:aws:states:<region>:<account>:execution:<pipeline>:<name>), got '${PIPELINE}'`],
    ['a blank reason', { reason: '  ' }, "--reason must be text of 1 to 32768 characters, got '  '"],
    ['a reason longer than StopExecution takes', { reason: 'x'.repeat(32_769) }, "--reason must be text of 1 to 32768 characters, got '32769 characters'"],
  ])('rejects %s before any AWS call', async (_, options, message) => {
    const mocks = mockedAws();
    await expect(trainStop({ execution: EXECUTION, yes: true, ...options }, fakeIo(), mocks.aws)).rejects.toMatchObject({ exitCode: 2, message });
    expect(sdkCalls(mocks)).toBe(0);
  });

  test('takes --reason, --yes and --dry-run on the command line', async () => {
    const mocks = mockedAws();
    runningExecution(mocks);
    const dry = fakeIo();
    expect(await run(['train', 'stop', EXECUTION, '--dry-run'], dry, () => mocks.aws)).toBe(0);
    expect(mocks.sfn).not.toHaveReceivedCommand(StopExecutionCommand);
    expect(await run(['train', 'stop', EXECUTION, '--reason', 'wrong dataset'], fakeIo(), () => mocks.aws)).toBe(3);
    expect(mocks.sfn).not.toHaveReceivedCommand(StopExecutionCommand);
    expect(await run(['train', 'stop', EXECUTION, '--reason', 'wrong dataset', '--yes'], fakeIo(), () => mocks.aws)).toBe(0);
    expect(mocks.sfn).toHaveReceivedCommandWith(StopExecutionCommand, { executionArn: EXECUTION, cause: 'wrong dataset' });
  });
});
