/**
 * The grants match the commands: every AWS call a CLI command makes is allowed, on the resource
 * it touches, by the grant that promises that command (`grantRead`: the reading commands;
 * `grantManualActions`: every command), and a grant allows nothing the commands never call
 * beyond the exceptions documented in `NOT_CALLED_BY_THE_CLI`.
 *
 * Each row of `SCENARIOS` runs one command line through `run()` against a mocked AWS (`world`),
 * which answers every call the commands make as AWS would; `awsCalls` (./aws-actions.ts) turns
 * the calls the mocks received into IAM actions and resource ARNs, and each is checked against the
 * policy the grant synthesizes for a role, on a created and on an imported release controller.
 *
 * To add a command (e.g. `list`, `retry`, `undo`, `rollout start`, `status --timeout`):
 * 1. Add a row to `SCENARIOS`: a name, the grant that must let a role run it (`read` for a command
 *    that changes nothing, `manual` for one that does), its command line after `modelship`, the
 *    world it runs in (`WorldOptions`: the rollout's phase or none, production or not), and the
 *    IAM actions it calls, sorted (a failing run prints the ones it saw).
 * 2. If the command calls an API the world does not answer yet, answer it in `world` as AWS would
 *    (an unanswered call resolves to undefined and the command fails with a non-zero exit).
 * 3. If it calls a new action, tell `awsCalls` which resource it touches (`RESOURCES` in
 *    ./aws-actions.ts) and extend the grant in lib/hooks/release-controller.ts until the row passes.
 * 4. Update the number of rows asserted below, and docs/cli.md's Permissions section.
 * Commands whose permissions come from another construct's grant need their own test, not a row
 * here (`train`, from the training pipeline's grants: ./train-grants.test.ts).
 */
import { DescribeAlarmsCommand, DescribeAlarmsCommandInput, GetMetricDataCommand, GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { GetItemCommand, QueryCommand, TransactWriteItemsCommand, TransactWriteItemsCommandInput } from '@aws-sdk/client-dynamodb';
import {
  DescribeEndpointCommand, DescribeEndpointCommandInput, DescribeEndpointConfigCommand, DescribeModelCommand, ListEndpointsCommand, ListTagsCommand,
  UpdateEndpointWeightsAndCapacitiesCommand, UpdateEndpointWeightsAndCapacitiesCommandInput,
} from '@aws-sdk/client-sagemaker';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ModelEndpoint } from '../../lib';
import { IReleaseController, ReleaseController } from '../../lib/hooks/release-controller';
import { RolloutPolicy } from '../../lib/release/rollout-policy';
import { AuditEntry, auditToItem, Item, RolloutRecord, rolloutFromItem, rolloutToItem } from '../../lib/release/rollout-record';
import type { RolloutState } from '../../lib/release/rollout-types';
import { nagFindings, testStack } from '../helpers';
import { actionsOf, CallEnvironment, expectRunCalling, scenarioRunner } from './aws-actions';
import { mockedAws, MockedAws, NOW } from './fakes';
import { GrantedPolicy, policyOf, TemplateJson } from './granted-policy';

/** Where the mocked clients call (`mockedAws` is in eu-west-1) and the account every ARN names. */
const AT: CallEnvironment = { partition: 'aws', region: 'eu-west-1', account: '111111111111' };
const ENDPOINT = 'churn-ab';
const CANDIDATE_VERSION = 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3';
const ENDPOINT_ARN = `arn:aws:sagemaker:${AT.region}:${AT.account}:endpoint/${ENDPOINT}`;
const ALARM = 'churn-ab-candidate-5xx';
const ACTOR = `arn:aws:sts::${AT.account}:assumed-role/ReleaseManager/ana`;
const HOUR = 3_600_000;

/** The policy the controller is deployed with and the stored rollout was decided under: with an alarm guardrail. */
const POLICY = RolloutPolicy.progressive({
  baseline: 'baseline', candidate: 'candidate', steps: [5, 25, 50, 100],
  metric: { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: 0.1, betterWhen: 'higher' },
  guardrails: { maxErrorRate: 0.02, alarmNames: [ALARM] },
});

/** The AWS a scenario runs against. */
export interface WorldOptions {
  /**
   * The stored rollout's phase; `none`: a rollout table without a rollout (the controller never started one).
   * @default 'running'
   */
  readonly rollout?: RolloutState['phase'] | 'none';
  /**
   * Whether the endpoint is tagged `modelship:production=true`.
   * @default false
   */
  readonly production?: boolean;
  /**
   * The model version the candidate variant serves.
   * @default - the stored rollout's
   */
  readonly serving?: string;
}

/** One command line and what a role needs to run it. */
export interface GrantScenario {
  readonly name: string;
  /** The grant that must let a role run it: `read` (`grantRead`, and `grantManualActions` too) or `manual` (`grantManualActions`). */
  readonly grant: 'read' | 'manual';
  /** The command line after `modelship`; it must exit 0. */
  readonly argv: readonly string[];
  readonly world?: WorldOptions;
  /** The IAM actions its calls need, sorted. */
  readonly actions: readonly string[];
}

const REASON = ['--reason', 'grants test'];

/** Every CLI command that talks to a release controller's endpoint, in the worlds it meets. */
export const SCENARIOS: readonly GrantScenario[] = [
  {
    name: 'status of a running rollout with an alarm guardrail',
    grant: 'read',
    argv: ['status', ENDPOINT],
    actions: [
      'cloudwatch:DescribeAlarms', 'cloudwatch:GetMetricData', 'dynamodb:GetItem', 'dynamodb:Query', 'sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig', 'sagemaker:DescribeModel',
    ],
  },
  {
    name: 'status --json of an endpoint without a rollout',
    grant: 'read',
    argv: ['--json', 'status', ENDPOINT],
    world: { rollout: 'none' },
    actions: [
      'cloudwatch:GetMetricData', 'dynamodb:GetItem', 'dynamodb:Query', 'sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig',
    ],
  },
  {
    name: 'history',
    grant: 'read',
    argv: ['history', ENDPOINT, '--limit', '5'],
    actions: ['dynamodb:Query'],
  },
  {
    name: 'shift of a running rollout, waiting for InService',
    grant: 'manual',
    argv: ['shift', ENDPOINT, '--to', 'candidate', '--weight', '25', ...REASON],
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'sagemaker:DescribeEndpoint', 'sagemaker:ListTags', 'sagemaker:UpdateEndpointWeightsAndCapacities'],
  },
  {
    name: 'shift of an endpoint without a rollout',
    grant: 'manual',
    argv: ['shift', ENDPOINT, '--weights', 'baseline=50,candidate=50'],
    world: { rollout: 'none' },
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'sagemaker:DescribeEndpoint', 'sagemaker:ListTags', 'sagemaker:UpdateEndpointWeightsAndCapacities'],
  },
  {
    name: 'shift of a production endpoint, with a reason and --yes',
    grant: 'manual',
    argv: ['shift', ENDPOINT, '--to', 'candidate', '--weight', '50', '--yes', ...REASON],
    world: { production: true },
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'sagemaker:DescribeEndpoint', 'sagemaker:ListTags', 'sagemaker:UpdateEndpointWeightsAndCapacities'],
  },
  {
    name: 'list',
    grant: 'read',
    argv: ['list'],
    actions: ['dynamodb:GetItem', 'dynamodb:Query', 'sagemaker:ListEndpoints'],
  },
  {
    name: 'status --timeout of a promoted rollout',
    grant: 'read',
    argv: ['status', ENDPOINT, '--timeout', '60'],
    world: { rollout: 'promoted' },
    actions: [
      'cloudwatch:DescribeAlarms', 'cloudwatch:GetMetricData', 'dynamodb:GetItem', 'dynamodb:Query', 'sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig', 'sagemaker:DescribeModel',
    ],
  },
  {
    name: 'promote, waiting for InService',
    grant: 'manual',
    argv: ['promote', ENDPOINT, ...REASON],
    world: { rollout: 'awaiting-approval' },
    actions: [
      'dynamodb:GetItem', 'dynamodb:PutItem', 'sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig', 'sagemaker:DescribeModel', 'sagemaker:ListTags', 'sagemaker:UpdateEndpointWeightsAndCapacities',
    ],
  },
  {
    name: 'promote --full',
    grant: 'manual',
    argv: ['promote', ENDPOINT, '--full', ...REASON],
    actions: [
      'dynamodb:GetItem', 'dynamodb:PutItem', 'sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig', 'sagemaker:DescribeModel', 'sagemaker:ListTags', 'sagemaker:UpdateEndpointWeightsAndCapacities',
    ],
  },
  {
    name: 'retry of an aborted rollout',
    grant: 'manual',
    argv: ['retry', ENDPOINT, ...REASON],
    world: { rollout: 'aborted' },
    actions: [
      'dynamodb:GetItem', 'dynamodb:PutItem', 'sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig', 'sagemaker:DescribeModel', 'sagemaker:ListTags', 'sagemaker:UpdateEndpointWeightsAndCapacities',
    ],
  },
  {
    name: 'undo of a promotion',
    grant: 'manual',
    argv: ['undo', ENDPOINT, ...REASON],
    world: { rollout: 'promoted' },
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'sagemaker:DescribeEndpoint', 'sagemaker:ListTags', 'sagemaker:UpdateEndpointWeightsAndCapacities'],
  },
  {
    name: 'rollout start of a new candidate version',
    grant: 'manual',
    argv: ['rollout', 'start', ENDPOINT, ...REASON],
    world: { rollout: 'promoted', serving: 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/4' },
    actions: [
      'dynamodb:GetItem', 'dynamodb:PutItem', 'sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig', 'sagemaker:DescribeModel', 'sagemaker:ListTags',
      'sagemaker:UpdateEndpointWeightsAndCapacities',
    ],
  },
  {
    name: 'abort of a production endpoint, waiting for InService',
    grant: 'manual',
    argv: ['abort', ENDPOINT, '--yes', ...REASON],
    world: { production: true },
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'sagemaker:DescribeEndpoint', 'sagemaker:ListTags', 'sagemaker:UpdateEndpointWeightsAndCapacities'],
  },
  {
    name: 'pause',
    grant: 'manual',
    argv: ['pause', ENDPOINT],
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'sagemaker:DescribeEndpoint', 'sagemaker:ListTags'],
  },
  {
    name: 'resume',
    grant: 'manual',
    argv: ['resume', ENDPOINT],
    world: { rollout: 'paused' },
    actions: [
      'dynamodb:GetItem', 'dynamodb:PutItem', 'sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig', 'sagemaker:DescribeModel', 'sagemaker:ListTags',
    ],
  },
];

/**
 * Actions a grant allows that no CLI call names, and why: DynamoDB uses the table's customer
 * managed key with the caller's permissions, so a reader needs `kms:Decrypt` and a writer CDK's
 * encrypt/decrypt set.
 */
const NOT_CALLED_BY_THE_CLI: Readonly<Record<'read' | 'manual', readonly string[]>> = {
  read: ['kms:Decrypt'],
  manual: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
};

/**
 * An AWS that answers every call the commands make as AWS would: an InService endpoint (Updating
 * once after each weight change), its config and tags, the caller, a rollout table that keeps
 * what is written to it, metrics with a datapoint per query and the guardrail alarm in OK.
 */
function world(options: WorldOptions = {}): MockedAws {
  const mocks = mockedAws();
  const phase = options.rollout ?? 'running';
  // A finished rollout left the weights where it ended.
  const ended: Partial<Record<string, Record<string, number>>> = { promoted: { baseline: 0, candidate: 100 }, aborted: { baseline: 100, candidate: 0 } };
  const started: RolloutState = {
    phase: 'running', step: 0, weights: ended[phase] ?? { baseline: 95, candidate: 5 }, startedAtMs: NOW - 2 * HOUR, stepStartedAtMs: NOW - 2 * HOUR,
  };
  let record: RolloutRecord | undefined = phase === 'none' ? undefined : {
    endpointName: ENDPOINT, rolloutId: 1, candidateVersion: CANDIDATE_VERSION, policyHash: POLICY.hash, policy: POLICY.spec, state: { ...started, phase }, version: 3,
    updatedAtMs: NOW - HOUR, updatedBy: 'release-controller', metricLagSeconds: 180, attributionSeconds: 3600,
    source: { gateway: { namespace: 'Modelship', service: 'modelship-gateway', endpointName: ENDPOINT, outcomeType: 'purchase' } },
  };
  const audit: Item[] = record ? [auditToItem({
    endpointName: ENDPOINT, atMs: started.startedAtMs, version: 1, actor: 'release-controller', action: 'started', reason: 'a new candidate',
    phase: 'running', fromWeights: { baseline: 100, candidate: 0 }, toWeights: started.weights, policyHash: POLICY.hash,
  } satisfies AuditEntry)] : [];
  let weights: Record<string, number> = { ...started.weights };
  let updating = false;

  mocks.sagemaker.on(DescribeEndpointCommand).callsFake((input: DescribeEndpointCommandInput) => {
    const status = updating ? 'Updating' : 'InService';
    updating = false;
    return {
      EndpointName: input.EndpointName, EndpointArn: ENDPOINT_ARN, EndpointConfigName: 'churnab-Config-7Q2KQ1L9', EndpointStatus: status,
      CreationTime: new Date(NOW - 48 * HOUR), LastModifiedTime: new Date(NOW - HOUR),
      ProductionVariants: Object.entries(weights).map(([VariantName, w]) => ({
        VariantName, CurrentWeight: w, DesiredWeight: w, CurrentInstanceCount: 2, DesiredInstanceCount: 2,
      })),
    };
  });
  mocks.sagemaker.on(DescribeEndpointConfigCommand).resolves({
    EndpointConfigName: 'churnab-Config-7Q2KQ1L9', EndpointConfigArn: `arn:aws:sagemaker:${AT.region}:${AT.account}:endpoint-config/churnab-config-7q2kq1l9`,
    ProductionVariants: ['baseline', 'candidate'].map((VariantName) => ({ VariantName, InstanceType: 'ml.c6i.xlarge', ModelName: `Model${VariantName}-3FJ2` })),
  });
  mocks.sagemaker.on(DescribeModelCommand).callsFake((input: { ModelName: string }) => ({
    ModelName: input.ModelName, PrimaryContainer: { ModelPackageName: options.serving ?? CANDIDATE_VERSION },
  }));
  mocks.sagemaker.on(ListEndpointsCommand).resolves({ Endpoints: [{ EndpointName: ENDPOINT, EndpointArn: ENDPOINT_ARN, EndpointStatus: 'InService', CreationTime: new Date(0), LastModifiedTime: new Date(0) }] });
  mocks.sagemaker.on(ListTagsCommand).resolves({ Tags: options.production ? [{ Key: 'modelship:production', Value: 'true' }] : [] });
  mocks.sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).callsFake((input: UpdateEndpointWeightsAndCapacitiesCommandInput) => {
    weights = Object.fromEntries((input.DesiredWeightsAndCapacities ?? []).map((d) => [d.VariantName!, d.DesiredWeight!]));
    updating = true;
    return { EndpointArn: ENDPOINT_ARN };
  });
  mocks.sts.on(GetCallerIdentityCommand).resolves({ Arn: ACTOR, Account: AT.account, UserId: 'AROAEXAMPLE:ana' });

  mocks.dynamodb.on(GetItemCommand).callsFake(() => (record ? { Item: rolloutToItem(record) } : {}));
  mocks.dynamodb.on(TransactWriteItemsCommand).callsFake((input: TransactWriteItemsCommandInput) => {
    for (const { Put } of input.TransactItems ?? []) {
      const item = Put!.Item as Item;
      const key = (item.sk as { S: string }).S;
      if (key === 'ROLLOUT') {
        record = rolloutFromItem(item);
      } else if (key.startsWith('AUDIT#')) {
        audit.unshift(item);
      }
    }
    return {};
  });
  mocks.dynamodb.on(QueryCommand).callsFake(() => ({ Items: audit, Count: audit.length }));

  mocks.cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
    MetricDataResults: (input.MetricDataQueries ?? []).map((q) => ({ Id: q.Id, Values: [100], Timestamps: [input.StartTime], StatusCode: 'Complete' })),
  }));
  mocks.cloudwatch.on(DescribeAlarmsCommand).callsFake((input: DescribeAlarmsCommandInput) => ({
    MetricAlarms: (input.AlarmNames ?? []).map((AlarmName) => ({ AlarmName, StateValue: 'OK' })),
  }));
  return mocks;
}

/** Runs a scenario once (later calls share the run). */
const runOf = scenarioRunner<GrantScenario>((scenario) => world(scenario.world), AT);

/** A reader and a release manager of a controller, their policies, and the stack's cdk-nag findings. */
function grantedPolicies(build: (stack: Stack) => IReleaseController): { read: GrantedPolicy; manual: GrantedPolicy; findings: string[] } {
  const stack = testStack();
  const controller = build(stack);
  const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
  const manager = new iam.Role(stack, 'ReleaseManager', { assumedBy: new iam.AccountRootPrincipal() });
  controller.grantRead(reader);
  controller.grantManualActions(manager);
  const template = Template.fromStack(stack).toJSON() as TemplateJson;
  return { read: policyOf(reader, template, AT), manual: policyOf(manager, template, AT), findings: nagFindings(stack) };
}

const CONTROLLERS = {
  created: grantedPolicies((stack) => {
    const endpoint = ModelEndpoint.fromModelEndpointAttributes(stack, 'Endpoint', { endpointName: ENDPOINT, variantNames: ['baseline', 'candidate'] });
    const metric = (name: string) => new cloudwatch.Metric({ namespace: 'Shop', metricName: name, statistic: 'Sum' });
    const metrics = { invocations: metric('Sessions'), conversions: metric('Orders') };
    return new ReleaseController(stack, 'Release', { endpoint, metrics: { baseline: metrics, candidate: metrics }, policy: POLICY });
  }),
  imported: grantedPolicies((stack) => ReleaseController.fromReleaseControllerAttributes(stack, 'Release', {
    endpoint: ModelEndpoint.fromModelEndpointAttributes(stack, 'Endpoint', { endpointName: ENDPOINT, variantNames: ['baseline', 'candidate'] }),
    encryptionKey: kms.Key.fromKeyArn(stack, 'RolloutKey', `arn:aws:kms:${AT.region}:${AT.account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`),
  })),
};

describe('the release controller\'s grants and the CLI commands', () => {
  test('covers every reading and changing command', () => {
    expect(SCENARIOS).toHaveLength(16);
    expect(SCENARIOS.filter((s) => s.grant === 'read')).toHaveLength(5);
    expect(new Set(SCENARIOS.map((s) => s.name)).size).toBe(SCENARIOS.length);
  });

  describe.each(SCENARIOS.map((s) => [s.name, s] as const))('%s', (_name, scenario) => {
    test('runs, calling the actions its row names', () => expectRunCalling(runOf(scenario), scenario.actions));

    test.each(Object.keys(CONTROLLERS) as (keyof typeof CONTROLLERS)[])('is allowed by its grant on a %s controller', async (kind) => {
      const { calls } = await runOf(scenario);
      const policies = CONTROLLERS[kind];
      expect(calls.length).toBeGreaterThan(0);
      expect(policies.manual.denied(calls)).toEqual([]);
      if (scenario.grant === 'read') {
        expect(policies.read.denied(calls)).toEqual([]);
      } else {
        // A reader cannot make the change.
        expect(policies.read.denied(calls).length).toBeGreaterThan(0);
      }
    });
  });

  test.each(Object.keys(CONTROLLERS) as (keyof typeof CONTROLLERS)[])('allows on a %s controller nothing the commands do not call, but the KMS actions DynamoDB needs', async (kind) => {
    const policies = CONTROLLERS[kind];
    const called = async (grants: readonly GrantScenario['grant'][]) => {
      const rows = SCENARIOS.filter((s) => grants.includes(s.grant));
      expect(rows.length).toBeGreaterThan(0);
      return new Set(actionsOf((await Promise.all(rows.map(runOf))).flatMap((r) => r.calls)));
    };
    const readCalls = await called(['read']);
    const allCalls = await called(['read', 'manual']);
    expect(policies.read.actions().filter((a) => !readCalls.has(a))).toEqual(NOT_CALLED_BY_THE_CLI.read);
    expect(policies.manual.actions().filter((a) => !allCalls.has(a))).toEqual(NOT_CALLED_BY_THE_CLI.manual);
  });

  test.each(Object.keys(CONTROLLERS) as (keyof typeof CONTROLLERS)[])('leaves no cdk-nag finding on the grantees of a %s controller', (kind) => {
    expect(CONTROLLERS[kind].findings).toEqual([]);
  });
});
