import type { AwsClients } from '../../lib/cli/aws';
import { run } from '../../lib/cli/program';
import { fakeIo, MockedAws } from './fakes';

/**
 * The IAM actions a command's AWS calls need, read from the mocked clients of `mockedAws`, and
 * the resource each call touches: what `test/cli/grants.test.ts` and `test/cli/train-grants.test.ts`
 * check against the grants.
 */

/** The IAM service prefix of each SDK client the CLI uses, by the client's class name. */
const SERVICE_PREFIXES: Readonly<Record<string, string>> = {
  SageMakerClient: 'sagemaker',
  DynamoDBClient: 'dynamodb',
  CloudWatchClient: 'cloudwatch',
  SFNClient: 'states',
  STSClient: 'sts',
};

/** Calls that no IAM permission governs, and why: they are left out of the actions a command needs. */
export const NO_PERMISSION_NEEDED: Readonly<Record<string, string>> = {
  'sts:GetCallerIdentity': 'AWS documents that no permission is required to call it: an explicit deny in a policy does not stop it',
};

/** Where the calls are made: the partition, region and account their ARNs name. */
export interface CallEnvironment {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** One AWS call as IAM sees it. */
export interface AwsCall {
  /** The IAM action, e.g. `sagemaker:DescribeEndpoint`. */
  readonly action: string;
  /** The resources it touches, as ARNs (`*` for an action without resource-level permissions). */
  readonly resources: readonly string[];
}

type Input = Readonly<Record<string, unknown>>;

/** A string member of a call's input; a call without it is a mistake in the command or the table below. */
function field(input: Input, name: string, action: string): string {
  const value = input[name];
  if (typeof value !== 'string') {
    throw new Error(`${action} was called without a string '${name}', got ${JSON.stringify(value)}`);
  }
  return value;
}

type ResourcesOf = (input: Input, at: CallEnvironment, action: string) => readonly string[];

/** For a call that names its resource by ARN, in the input member `name`. */
function arnIn(name: string): ResourcesOf {
  return (input, _at, action) => [field(input, name, action)];
}

/**
 * How to find the resources an action touches from its input. API names and IAM actions are the
 * same for every action here. SageMaker ARNs name resources in lower case.
 */
const RESOURCES: Readonly<Record<string, ResourcesOf>> = {
  'sagemaker:DescribeEndpoint': (input, at, action) => [sageMakerArn(at, 'endpoint', field(input, 'EndpointName', action))],
  'sagemaker:UpdateEndpointWeightsAndCapacities': (input, at, action) => [sageMakerArn(at, 'endpoint', field(input, 'EndpointName', action))],
  'sagemaker:DescribeEndpointConfig': (input, at, action) => [sageMakerArn(at, 'endpoint-config', field(input, 'EndpointConfigName', action))],
  'sagemaker:ListTags': arnIn('ResourceArn'),
  'sagemaker:DescribeModel': (input, at, action) => [sageMakerArn(at, 'model', field(input, 'ModelName', action))],
  'sagemaker:DescribeTrainingJob': (input, at, action) => [sageMakerArn(at, 'training-job', field(input, 'TrainingJobName', action))],
  // No resource-level permissions: IAM checks it against `*`.
  'sagemaker:ListEndpoints': () => ['*'],
  'states:StartExecution': arnIn('stateMachineArn'),
  'states:ListExecutions': arnIn('stateMachineArn'),
  'states:DescribeExecution': arnIn('executionArn'),
  'states:GetExecutionHistory': arnIn('executionArn'),
  'states:StopExecution': arnIn('executionArn'),
  'dynamodb:GetItem': tableArn,
  'dynamodb:PutItem': tableArn,
  'dynamodb:Query': tableArn,
  // No resource-level permissions: IAM checks it against `*`.
  'cloudwatch:GetMetricData': () => ['*'],
  'cloudwatch:DescribeAlarms': (input, at) => {
    const names = input.AlarmNames;
    if (!Array.isArray(names) || names.length === 0) {
      // Without names it lists every alarm.
      return ['*'];
    }
    return names.map((name) => `arn:${at.partition}:cloudwatch:${at.region}:${at.account}:alarm:${String(name)}`);
  },
};

function sageMakerArn(at: CallEnvironment, type: string, name: string): string {
  return `arn:${at.partition}:sagemaker:${at.region}:${at.account}:${type}/${name.toLowerCase()}`;
}

function tableArn(input: Input, at: CallEnvironment, action: string): readonly string[] {
  return [`arn:${at.partition}:dynamodb:${at.region}:${at.account}:table/${field(input, 'TableName', action)}`];
}

/** The IAM action of an SDK command: the client's service prefix and the command's class name without `Command`. */
function actionOf(clientName: string, command: unknown): string {
  const prefix = SERVICE_PREFIXES[clientName];
  if (prefix === undefined) {
    throw new Error(`no IAM service prefix for the client ${clientName}: add it to SERVICE_PREFIXES in test/cli/aws-actions.ts`);
  }
  const name = (command as object | undefined)?.constructor?.name ?? '';
  const match = /^([A-Z][A-Za-z0-9]*)Command$/.exec(name);
  if (!match) {
    throw new Error(`a call to ${clientName} was not an SDK command (its class is '${name}')`);
  }
  return `${prefix}:${match[1]}`;
}

/**
 * IAM has no action for a transaction: each of its items is checked as the single-item call it
 * stands for (AWS's "Using IAM with DynamoDB transactions").
 */
const TRANSACT_ITEM_ACTIONS: Readonly<Record<string, string>> = {
  Put: 'dynamodb:PutItem', Update: 'dynamodb:UpdateItem', Delete: 'dynamodb:DeleteItem', ConditionCheck: 'dynamodb:ConditionCheckItem',
};

/** The single-item calls a `TransactWriteItems` call stands for, as IAM checks them. */
function transactionCalls(input: Input, at: CallEnvironment): AwsCall[] {
  const items = input.TransactItems;
  if (!Array.isArray(items) || items.length === 0) {
    throw new Error(`dynamodb:TransactWriteItems was called without items, got ${JSON.stringify(items)}`);
  }
  return items.flatMap((item: Readonly<Record<string, Input>>) => Object.entries(item).map(([kind, request]) => {
    const action = TRANSACT_ITEM_ACTIONS[kind];
    if (action === undefined) {
      throw new Error(`no IAM action for a transaction item '${kind}': add it to TRANSACT_ITEM_ACTIONS in test/cli/aws-actions.ts`);
    }
    return { action, resources: tableArn(request, at, action) };
  }));
}

/**
 * Every call the commands made on the mocked clients, in each client's order, as IAM actions with
 * the resources they touch (a transaction as the single-item calls IAM checks); calls in
 * `NO_PERMISSION_NEEDED` are left out.
 * @throws Error for a client without a service prefix or an action without a rule for its resources
 */
export function awsCalls(mocks: MockedAws, at: CallEnvironment): AwsCall[] {
  const calls: AwsCall[] = [];
  for (const key of Object.keys(mocks.aws) as (keyof AwsClients)[]) {
    const clientName = mocks.aws[key].constructor.name;
    const stub = mocks[key] as unknown as { calls(): { args: unknown[] }[] };
    for (const call of stub.calls()) {
      const [command] = call.args;
      const action = actionOf(clientName, command);
      if (action in NO_PERMISSION_NEEDED) {
        continue;
      }
      if (action === 'dynamodb:TransactWriteItems') {
        calls.push(...transactionCalls((command as { input: Input }).input, at));
        continue;
      }
      const resources = RESOURCES[action];
      if (resources === undefined) {
        throw new Error(`no rule for the resources of ${action}: add one to RESOURCES in test/cli/aws-actions.ts`);
      }
      calls.push({ action, resources: resources((command as { input: Input }).input, at, action) });
    }
  }
  return calls;
}

/** The distinct actions of some calls, sorted. */
export function actionsOf(calls: readonly AwsCall[]): string[] {
  return [...new Set(calls.map((c) => c.action))].sort();
}

/** What running a command line against mocked AWS produced. */
export interface ScenarioRun {
  readonly exitCode: number;
  readonly errors: readonly string[];
  readonly calls: readonly AwsCall[];
}

/**
 * Runs each named command line once through `run()` against the AWS `world` builds for it, and
 * gives later callers the same run (the grants tests check one run against several policies).
 */
export function scenarioRunner<S extends { readonly name: string; readonly argv: readonly string[] }>(
  world: (scenario: S) => MockedAws, at: CallEnvironment,
): (scenario: S) => Promise<ScenarioRun> {
  const runs = new Map<string, Promise<ScenarioRun>>();
  return (scenario) => {
    let result = runs.get(scenario.name);
    if (!result) {
      result = (async () => {
        const mocks = world(scenario);
        const io = fakeIo();
        const exitCode = await run(scenario.argv, io, () => mocks.aws);
        return { exitCode, errors: io.errors, calls: awsCalls(mocks, at) };
      })();
      runs.set(scenario.name, result);
    }
    return result;
  };
}

/** Asserts that a scenario's command line ran cleanly and called exactly the actions its row names. */
export async function expectRunCalling(run: Promise<ScenarioRun>, actions: readonly string[]): Promise<void> {
  const { exitCode, errors, calls } = await run;
  expect({ exitCode, errors }).toEqual({ exitCode: 0, errors: [] });
  expect(calls.length).toBeGreaterThan(0);
  expect(actionsOf(calls)).toEqual([...actions].sort());
}
