/**
 * The training pipeline's grants match the `train` commands: every AWS call a `train` command
 * makes is allowed, on the resource it touches, by the `TrainingPipeline` grant that promises that
 * command (`grantStartExecution`: `train start`; `grantRead`: `train status` and `train list`;
 * `grantStop`: `train stop`), a role with another grant only is refused, and a grant allows
 * nothing the commands never call.
 *
 * Each row of `SCENARIOS` runs one command line through `run()` against a mocked AWS (`world`),
 * which answers every call the commands make as AWS would for a pipeline with a running and a
 * succeeded run; `awsCalls` (./aws-actions.ts) turns the calls the mocks received into IAM
 * actions and resource ARNs, and each is checked against the policy the grant synthesizes for a
 * role (./granted-policy.ts), on a created and on an imported pipeline, both named `PIPELINE`.
 *
 * To add a `train` command: add a row (name, grant, command line after `modelship`, the IAM
 * actions it calls, sorted), answer any new API in `world`, tell `awsCalls` the resource of a new
 * action (`RESOURCES` in ./aws-actions.ts), extend the grant in lib/training/training-pipeline.ts
 * until the row passes, and update the number of rows asserted below.
 */
import { DescribeTrainingJobCommand, DescribeTrainingJobCommandInput } from '@aws-sdk/client-sagemaker';
import {
  DescribeExecutionCommand, DescribeExecutionCommandInput, ExecutionStatus, GetExecutionHistoryCommand, GetExecutionHistoryCommandInput, HistoryEvent,
  ListExecutionsCommand, ListExecutionsCommandInput, StartExecutionCommand, StartExecutionCommandInput, StopExecutionCommand, StopExecutionCommandInput,
} from '@aws-sdk/client-sfn';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ITrainingPipeline, TrainingPipeline } from '../../lib/training/training-pipeline';
import { nagFindings, testStack } from '../helpers';
import { pipelineFixture } from '../training/pipeline-fixture';
import { actionsOf, CallEnvironment, expectRunCalling, scenarioRunner } from './aws-actions';
import { mockedAws, MockedAws, NOW, serviceError } from './fakes';
import { GrantedPolicy, policyOf, TemplateJson } from './granted-policy';

/** Where the mocked clients call (`mockedAws` is in eu-west-1) and the account every ARN names. */
const AT: CallEnvironment = { partition: 'aws', region: 'eu-west-1', account: '111111111111' };
const STATE_MACHINE = 'churn-training';
const PIPELINE = `arn:${AT.partition}:states:${AT.region}:${AT.account}:stateMachine:${STATE_MACHINE}`;
const executionArn = (name: string) => `arn:${AT.partition}:states:${AT.region}:${AT.account}:execution:${STATE_MACHINE}:${name}`;
/** The model the fixture's pipeline trains: its training jobs are named `churn-<MD5 of the execution>`. */
const MODEL = 'churn';
const HOUR = 3_600_000;

/** The grants a `TrainingPipeline` offers the CLI, by the name the rows use. */
const GRANTS = {
  start: (pipeline: ITrainingPipeline, role: iam.IGrantable) => pipeline.grantStartExecution(role),
  read: (pipeline: ITrainingPipeline, role: iam.IGrantable) => pipeline.grantRead(role),
  stop: (pipeline: ITrainingPipeline, role: iam.IGrantable) => pipeline.grantStop(role),
};
type GrantName = keyof typeof GRANTS;
const GRANT_NAMES = Object.keys(GRANTS) as GrantName[];

/** One command line and the grant that must let a role run it. */
interface TrainScenario {
  readonly name: string;
  readonly grant: GrantName;
  /** The command line after `modelship`; it must exit 0. */
  readonly argv: readonly string[];
  /** The IAM actions its calls need, sorted. */
  readonly actions: readonly string[];
}

const READ_RUN = ['sagemaker:DescribeTrainingJob', 'states:DescribeExecution', 'states:GetExecutionHistory'];

/** Every `train` command, in the runs it meets. */
const SCENARIOS: readonly TrainScenario[] = [
  { name: 'train start', grant: 'start', argv: ['train', 'start', PIPELINE], actions: ['states:StartExecution'] },
  { name: 'train status of a succeeded run', grant: 'read', argv: ['train', 'status', executionArn('run-1')], actions: READ_RUN },
  { name: 'train status of a running run', grant: 'read', argv: ['train', 'status', executionArn('run-2')], actions: READ_RUN },
  { name: 'train list', grant: 'read', argv: ['train', 'list', PIPELINE], actions: [...READ_RUN, 'states:ListExecutions'] },
  {
    name: 'train stop of a running run with --yes',
    grant: 'stop',
    argv: ['train', 'stop', executionArn('run-2'), '--yes', '--reason', 'grants test'],
    actions: ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution'],
  },
];

/** A run of the pipeline as the world keeps it. */
interface Run {
  status: ExecutionStatus;
  readonly startMs: number;
  stopMs?: number;
  /** The training job its NameRun state named. */
  readonly job?: string;
}

/** The run's history, oldest first, as the training pipeline writes it. */
function historyOf(run: Run): HistoryEvent[] {
  const at = (minutes: number) => new Date(run.startMs + minutes * 60_000);
  const named: Omit<HistoryEvent, 'id'>[] = run.job === undefined ? [] : [
    { type: 'PassStateEntered', timestamp: at(0), stateEnteredEventDetails: { name: 'NameRun', input: '{}' } },
    { type: 'PassStateExited', timestamp: at(0), stateExitedEventDetails: { name: 'NameRun', output: JSON.stringify({ run: { jobName: run.job } }) } },
    { type: 'TaskStateEntered', timestamp: at(1), stateEnteredEventDetails: { name: 'Train' } },
    {
      type: 'TaskScheduled', timestamp: at(1),
      taskScheduledEventDetails: { resourceType: 'sagemaker', resource: 'createTrainingJob.sync', region: AT.region, parameters: JSON.stringify({ TrainingJobName: run.job }) },
    },
  ];
  const ended: Omit<HistoryEvent, 'id'>[] = run.status !== 'SUCCEEDED' ? [] : [
    { type: 'TaskStateExited', timestamp: at(60), stateExitedEventDetails: { name: 'Train', output: '{}' } },
    { type: 'TaskStateEntered', timestamp: at(61), stateEnteredEventDetails: { name: 'Gate' } },
    { type: 'TaskStateExited', timestamp: at(62), stateExitedEventDetails: { name: 'Gate', output: '{}' } },
    { type: 'TaskStateEntered', timestamp: at(62), stateEnteredEventDetails: { name: 'Register' } },
    { type: 'TaskStateExited', timestamp: at(63), stateExitedEventDetails: { name: 'Register', output: '{}' } },
    { type: 'ExecutionSucceeded', timestamp: at(63) },
  ];
  const events: Omit<HistoryEvent, 'id'>[] = [{ type: 'ExecutionStarted', timestamp: at(0) }, ...named, ...ended];
  return events.map((e, i) => ({ ...e, id: i + 1, previousEventId: i }) as HistoryEvent);
}

/** A page of `items` from `nextToken` (an index), at most `maxResults` long. */
function page<T>(items: readonly T[], nextToken: string | undefined, maxResults: number | undefined): { items: T[]; nextToken?: string } {
  const start = nextToken ? Number(nextToken) : 0;
  const end = start + (maxResults || 100);
  return { items: items.slice(start, end), ...(end < items.length ? { nextToken: String(end) } : {}) };
}

/**
 * An AWS that answers every call the `train` commands make as AWS would, for `PIPELINE` with two
 * runs, newest first: `run-2` RUNNING (its job training), `run-1` SUCCEEDED (its output: the job,
 * the gate's verdict, the registered version). Started runs are added, stopped ones end ABORTED.
 */
function world(): MockedAws {
  const mocks = mockedAws();
  const runs = new Map<string, Run>([
    ['run-2', { status: 'RUNNING', startMs: NOW - HOUR, job: `${MODEL}-5f0c2a9e4b7d1c3e8a6f0b2d4c6e8a1b` }],
    ['run-1', { status: 'SUCCEEDED', startMs: NOW - 5 * HOUR, stopMs: NOW - 4 * HOUR + 3 * 60_000, job: `${MODEL}-0123456789abcdef0123456789abcdef` }],
  ]);
  const jobs = new Map<string, object>([
    [runs.get('run-2')!.job!, { TrainingJobStatus: 'InProgress', SecondaryStatus: 'Training', FinalMetricDataList: [{ MetricName: 'validation:auc', Value: 0.88 }] }],
    [runs.get('run-1')!.job!, { TrainingJobStatus: 'Completed', SecondaryStatus: 'Completed', TrainingTimeInSeconds: 3540, BillableTimeInSeconds: 3540 }],
  ]);
  const runNamed = (arn: string): [string, Run] => {
    const name = arn.startsWith(`${executionArn('')}`) ? arn.slice(executionArn('').length) : '';
    const found = runs.get(name);
    if (!found) {
      throw serviceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    }
    return [name, found];
  };
  const knownPipeline = (arn: string | undefined) => {
    if (arn !== PIPELINE) {
      throw serviceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    }
  };
  const output = (run: Run) => (run.status !== 'SUCCEEDED' ? {} : {
    output: JSON.stringify({
      run: { jobName: run.job },
      training: { job: { TrainingJobName: run.job, ...jobs.get(run.job!) } },
      gate: { passed: true, results: [{ metric: 'validation:auc', operator: '>=', value: 0.85, actual: 0.91, passed: true, reason: 'validation:auc = 0.91 meets >= 0.85' }] },
      registration: { ModelPackageArn: `arn:${AT.partition}:sagemaker:${AT.region}:${AT.account}:model-package/${MODEL}/1` },
    }),
  });

  mocks.sfn.on(StartExecutionCommand).callsFake((input: StartExecutionCommandInput) => {
    knownPipeline(input.stateMachineArn);
    runs.set(input.name!, { status: 'RUNNING', startMs: NOW });
    return { executionArn: executionArn(input.name!), startDate: new Date(NOW) };
  });
  mocks.sfn.on(ListExecutionsCommand).callsFake((input: ListExecutionsCommandInput) => {
    knownPipeline(input.stateMachineArn);
    const matching = [...runs].filter(([, r]) => !input.statusFilter || r.status === input.statusFilter).sort(([, a], [, b]) => b.startMs - a.startMs);
    const { items, nextToken } = page(matching, input.nextToken, input.maxResults);
    return {
      executions: items.map(([name, r]) => ({ executionArn: executionArn(name), stateMachineArn: PIPELINE, name, status: r.status, startDate: new Date(r.startMs) })),
      ...(nextToken ? { nextToken } : {}),
    };
  });
  mocks.sfn.on(DescribeExecutionCommand).callsFake((input: DescribeExecutionCommandInput) => {
    const [name, r] = runNamed(input.executionArn!);
    return {
      executionArn: input.executionArn, stateMachineArn: PIPELINE, name, status: r.status, startDate: new Date(r.startMs),
      ...(r.stopMs !== undefined ? { stopDate: new Date(r.stopMs) } : {}), input: '{}', ...output(r),
    };
  });
  mocks.sfn.on(GetExecutionHistoryCommand).callsFake((input: GetExecutionHistoryCommandInput) => {
    const [, r] = runNamed(input.executionArn!);
    const history = historyOf(r);
    const { items, nextToken } = page(input.reverseOrder ? history.reverse() : history, input.nextToken, input.maxResults);
    return { events: items, ...(nextToken ? { nextToken } : {}) };
  });
  mocks.sfn.on(StopExecutionCommand).callsFake((input: StopExecutionCommandInput) => {
    const [, r] = runNamed(input.executionArn!);
    r.status = 'ABORTED';
    r.stopMs = NOW;
    return { stopDate: new Date(NOW) };
  });
  mocks.sagemaker.on(DescribeTrainingJobCommand).callsFake((input: DescribeTrainingJobCommandInput) => {
    const job = jobs.get(input.TrainingJobName!);
    if (!job) {
      throw serviceError('ValidationException', 'Requested resource not found.');
    }
    return { TrainingJobName: input.TrainingJobName, ...job };
  });
  return mocks;
}

/** Runs a scenario once (later calls share the run). */
const runOf = scenarioRunner<TrainScenario>(() => world(), AT);

/** A role per grant on a pipeline of `stack`, their policies, and the stack's cdk-nag findings. */
function grantedPolicies(stack: Stack, pipeline: ITrainingPipeline): { policies: Record<GrantName, GrantedPolicy>; findings: string[] } {
  const roles = GRANT_NAMES.map((name) => {
    const role = new iam.Role(stack, `Grantee-${name}`, { assumedBy: new iam.AccountRootPrincipal() });
    GRANTS[name](pipeline, role);
    return [name, role] as const;
  });
  const template = Template.fromStack(stack).toJSON() as TemplateJson;
  const policies = Object.fromEntries(roles.map(([name, role]) => [name, policyOf(role, template, AT)])) as Record<GrantName, GrantedPolicy>;
  return { policies, findings: nagFindings(stack) };
}

const PIPELINES = {
  created: (() => {
    const { stack, pipeline } = pipelineFixture({ model: MODEL, stateMachineName: STATE_MACHINE });
    return grantedPolicies(stack, pipeline);
  })(),
  imported: (() => {
    const stack = testStack();
    return grantedPolicies(stack, TrainingPipeline.fromTrainingPipelineAttributes(stack, 'Churn', { stateMachineArn: PIPELINE, model: MODEL }));
  })(),
};
const PIPELINE_KINDS = Object.keys(PIPELINES) as (keyof typeof PIPELINES)[];

describe('the training pipeline\'s grants and the train commands', () => {
  test('covers every train command', () => {
    expect(SCENARIOS).toHaveLength(5);
    expect(new Set(SCENARIOS.map((s) => s.name)).size).toBe(SCENARIOS.length);
    expect(new Set(SCENARIOS.map((s) => s.grant))).toEqual(new Set(GRANT_NAMES));
  });

  test('names the state machine the commands call, on a created pipeline as on an imported one', () => {
    for (const kind of PIPELINE_KINDS) {
      expect(PIPELINES[kind].policies.start.denied([{ action: 'states:StartExecution', resources: [PIPELINE] }])).toEqual([]);
      expect(PIPELINES[kind].policies.start.denied([{ action: 'states:StartExecution', resources: [PIPELINE.replace(STATE_MACHINE, 'other-training')] }])).toHaveLength(1);
    }
  });

  describe.each(SCENARIOS.map((s) => [s.name, s] as const))('%s', (_name, scenario) => {
    test('runs, calling the actions its row names', () => expectRunCalling(runOf(scenario), scenario.actions));

    test.each(PIPELINE_KINDS)('is allowed by its grant, and refused by each other grant, on the %s pipeline', async (kind) => {
      const { calls } = await runOf(scenario);
      const { policies } = PIPELINES[kind];
      expect(calls.length).toBeGreaterThan(0);
      expect(policies[scenario.grant].denied(calls)).toEqual([]);
      const others = GRANT_NAMES.filter((g) => g !== scenario.grant);
      expect(others).toHaveLength(2);
      for (const other of others) {
        expect({ other, refused: policies[other].denied(calls).length > 0 }).toEqual({ other, refused: true });
      }
    });
  });

  test.each(PIPELINE_KINDS)('allows on the %s pipeline nothing the commands of each grant do not call', async (kind) => {
    const { policies } = PIPELINES[kind];
    for (const grant of GRANT_NAMES) {
      const rows = SCENARIOS.filter((s) => s.grant === grant);
      expect(rows.length).toBeGreaterThan(0);
      const called = new Set(actionsOf((await Promise.all(rows.map(runOf))).flatMap((r) => r.calls)));
      expect(policies[grant].actions().length).toBeGreaterThan(0);
      expect({ grant, notCalled: policies[grant].actions().filter((a) => !called.has(a)) }).toEqual({ grant, notCalled: [] });
    }
  });

  test.each(PIPELINE_KINDS)('leaves no cdk-nag finding on the grantees of the %s pipeline', (kind) => {
    expect(PIPELINES[kind].findings).toEqual([]);
  });
});
