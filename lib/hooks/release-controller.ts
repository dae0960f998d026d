import { ArnFormat, Duration, IResource, PhysicalName, RemovalPolicy, Resource, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledgeExpectedWildcards, ExpectedWildcard } from '../private/acknowledge-wildcards';
import { notifyAlarmTopic } from '../private/alarm-topic';
import { wholeSecondsProblems } from '../private/duration-problems';
import { formatValue, ModelshipError, throwIfProblems } from '../runtime/errors';
import { HandlerFunction } from '../private/handler-function';
import { CONTROLLER_SETTINGS_VARIABLE, ControllerSettings, RELEASE_EVENT_SOURCE } from '../release/controller-settings';
import { WEIGHTS_SETTLE_MS } from '../release/decide';
import { RolloutPolicy } from '../release/rollout-policy';
import type { PolicySpec } from '../release/rollout-types';
import { IModelEndpoint } from '../serving/model-endpoint';
import { MAX_ATTRIBUTION_SECONDS, MetricSpec, VariantMetrics } from '../release/metric-queries';
import { AuditAction, rolloutTableName } from '../release/rollout-record';
import { GATEWAY_METRICS } from './runtime/gateway-settings';
import { IInferenceGateway } from './inference-gateway';

/** One variant's metrics, when they do not come from an inference gateway. */
export interface ReleaseMetrics {
  /** Requests served (the denominator of rates and means), as a sum. */
  readonly invocations: cloudwatch.Metric;
  /**
   * Conversions of the primary metric's outcome, as a sum (required for a `rate` policy; a period without a datapoint counts 0).
   * @default - none: only for a `mean` policy
   */
  readonly conversions?: cloudwatch.Metric;
  /**
   * Sum of the outcome values (required for a `mean` policy; a period without a datapoint counts 0).
   * @default - none: only for a `rate` policy
   */
  readonly valueSum?: cloudwatch.Metric;
  /**
   * Sum of the squared outcome values (for means).
   * @default - none: 0
   */
  readonly valueSumOfSquares?: cloudwatch.Metric;
  /**
   * Failed requests, as a sum.
   * @default - none: 0
   */
  readonly errors?: cloudwatch.Metric;
  /**
   * p99 latency in milliseconds.
   * @default - none: latency guardrails cannot be judged
   */
  readonly p99Latency?: cloudwatch.Metric;
}

/** Properties of a `ReleaseController`. */
export interface ReleaseControllerProps {
  /**
   * The gateway in front of the endpoint: the controller moves its endpoint's weights on its metrics.
   * @default - `endpoint` and `metrics`
   */
  readonly gateway?: IInferenceGateway;
  /**
   * The endpoint, when its business metrics come from elsewhere (with `metrics`).
   * @default - the gateway's endpoint
   */
  readonly endpoint?: IModelEndpoint;
  /**
   * Each variant's metrics, by variant name, when they are not the gateway's.
   * @default - the gateway's metrics
   */
  readonly metrics?: Record<string, ReleaseMetrics>;
  /** How traffic moves: `RolloutPolicy.progressive`, `experiment` or `bandit`. */
  readonly policy: RolloutPolicy;
  /**
   * Production rollouts must pause for a person before promoting.
   * @default false
   */
  readonly production?: boolean;
  /**
   * Functions run before each weight increase; each answers `{ "pass": true }` or the step is held or aborted.
   * @default - none
   */
  readonly beforeStepHooks?: lambda.IFunction[];
  /**
   * Functions told, asynchronously, after a promotion or an abort.
   * @default - none
   */
  readonly afterHooks?: lambda.IFunction[];
  /**
   * How long a before-step hook may take, 1-300 s.
   * @default Duration.seconds(60)
   */
  readonly hookTimeout?: Duration;
  /**
   * An SNS topic that also hears about every decision but holds.
   * @default - none
   */
  readonly topic?: sns.ITopic;
  /**
   * The topic the controller's alarm (failing ticks) notifies, going into ALARM and back to OK.
   * @default - no alarm action
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The bus decisions are published to.
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;
  /**
   * How far behind real time metrics are read (EMF metrics land a minute or two late), 0-1800 s.
   * @default Duration.minutes(3)
   */
  readonly metricLag?: Duration;
  /**
   * Encrypts the rollout table.
   * @default - a new key with rotation
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the rollout table (and its audit trail) when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Which of a controller's decisions a rule routes, and where. */
export interface DecisionRuleOptions extends events.OnEventOptions {
  /**
   * The actions to route (`detail-type` `Rollout <action>`), e.g. `['abort', 'manual-abort', 'promote', 'manual-promote']`.
   * @default - every entry the controller publishes: all but holds, the CLI's manual actions (`manual-<action>`) included
   */
  readonly actions?: AuditAction[];
}

/** What release managers, dashboards and alerting in other stacks need of a release controller. */
export interface IReleaseController extends IResource {
  /** The endpoint whose weights the controller moves. */
  readonly endpoint: IModelEndpoint;
  /** The rollout item and its audit trail. */
  readonly table: dynamodb.ITable;
  /** The bus decisions are published to. */
  readonly eventBus: events.IEventBus;
  /**
   * Lets the grantee run the CLI's reading commands (`list`, `status`, `history`): read the
   * rollout, its audit trail, the endpoint, its config and models, the metrics and the guardrail alarms.
   */
  grantRead(grantee: iam.IGrantable): iam.Grant;
  /**
   * Lets a release manager run every CLI command on the endpoint: what `grantRead` allows, and
   * the changing commands (`shift`, `promote`, `abort`, `pause`, `resume`, `retry`, `undo`,
   * `rollout start`): record manual actions, check the production tag and move the endpoint's weights.
   */
  grantManualActions(grantee: iam.IGrantable): iam.Grant;
  /** A rule for the controller's decisions, e.g. to page on aborts. */
  onDecision(id: string, options?: DecisionRuleOptions): events.Rule;
}

/** Attributes to import a release controller defined in another stack or app. */
export interface ReleaseControllerAttributes {
  /** The endpoint whose weights the controller moves. */
  readonly endpoint: IModelEndpoint;
  /** The key that encrypts the rollout table (`ReleaseController.table.encryptionKey`). */
  readonly encryptionKey: kms.IKey;
  /**
   * The rollout table's name.
   * @default - `modelship-rollouts-<endpoint name>`, the name the controller gives it
   */
  readonly tableName?: string;
  /**
   * The bus decisions are published to.
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;
}

/**
 * The rollout table's name: one the CLI derives from the endpoint's, when that is known at
 * synthesis; otherwise none (CloudFormation's, or CDK's when another environment refers to it).
 */
function knownTableName(endpoint: IModelEndpoint): string | undefined {
  return Token.isUnresolved(endpoint.endpointName) ? undefined : rolloutTableName(endpoint.endpointName);
}

/** The longest a before-step hook may take. */
const MAX_HOOK_TIMEOUT_SECONDS = 300;

/** One part of an ARN in a finding: a literal, or a pseudo parameter (`<AWS::Region>`). */
const ARN_PART = '(?:<AWS::[A-Za-z]+>|[^:<>]*)';

/** The wildcards the read grant puts in the grantee's policy, and why each is as narrow as AWS allows. */
const READ_WILDCARDS: readonly ExpectedWildcard[] = [
  {
    finding: /^Resource::\*$/,
    reason: 'cloudwatch:GetMetricData (modelship status reads the rollout\'s metrics) and sagemaker:ListEndpoints (modelship list) have no resource-level permissions',
  },
  {
    finding: new RegExp(`^Resource::arn:${ARN_PART}:sagemaker:${ARN_PART}:${ARN_PART}:endpoint-config/\\*$`),
    reason: "sagemaker:DescribeEndpointConfig (modelship status): each deploy replaces the endpoint's config under a name CloudFormation generates",
  },
  {
    finding: new RegExp(`^Resource::arn:${ARN_PART}:cloudwatch:${ARN_PART}:${ARN_PART}:alarm:\\*$`),
    reason: "cloudwatch:DescribeAlarms (modelship status) on an imported release controller, whose policy's guardrail alarms are not known at synthesis",
  },
  {
    finding: new RegExp(`^Resource::arn:${ARN_PART}:sagemaker:${ARN_PART}:${ARN_PART}:model/\\*$`),
    reason: "sagemaker:DescribeModel (modelship status and rollout start read which version the candidate serves): each deploy creates the endpoint's models under names CloudFormation generates",
  },
];

/** The wildcards the manual-actions grant adds to the read grant's. */
const MANUAL_ACTION_WILDCARDS: readonly ExpectedWildcard[] = [
  ...READ_WILDCARDS,
  { finding: /^Action::kms:(ReEncrypt|GenerateDataKey)\*$/, reason: "CDK's encrypt/decrypt grant on the rollout table's key, for the manual actions' dynamodb:PutItem" },
];

/** What every release controller, created or imported, offers: grants on its rollouts and rules for its decisions. */
export abstract class ReleaseControllerBase extends Resource implements IReleaseController {
  public abstract readonly endpoint: IModelEndpoint;
  public abstract readonly table: dynamodb.ITable;
  public abstract readonly eventBus: events.IEventBus;

  /**
   * Lets a release manager run every CLI command on the endpoint: what `grantRead` allows, and
   * what the changing commands (`shift`, `promote`, `abort`, `pause`, `resume`, `retry`, `undo`,
   * `rollout start`) call:
   * `dynamodb:PutItem` on the rollout table (with encryption on its key: a change is one
   * `TransactWriteItems` of puts, the state, its audit entry and its outbox item, which IAM checks
   * as `PutItem`; the controller delivers the outbox, so no events, SNS or Lambda permission), and
   * `sagemaker:ListTags` (the production check) and `sagemaker:UpdateEndpointWeightsAndCapacities`
   * on the endpoint.
   *
   * Acknowledges on the grantee's policy the cdk-nag findings `grantRead` names, and CDK's
   * `kms:GenerateDataKey*` and `kms:ReEncrypt*` on the table's key.
   */
  public grantManualActions(grantee: iam.IGrantable): iam.Grant {
    return this.grantRollouts(grantee, true);
  }

  /**
   * Lets the grantee run the CLI's reading commands (`list`, `status`, `history`): `dynamodb:GetItem` and
   * `dynamodb:Query` on the rollout table (with decryption on its key),
   * `sagemaker:DescribeEndpoint` on the endpoint, `sagemaker:DescribeEndpointConfig` and
   * `sagemaker:DescribeModel` on every endpoint config and model of its account and region (each
   * deploy replaces the endpoint's config and models and CloudFormation names them, so no narrower
   * ARN holds across deploys; the models tell which version the candidate serves),
   * `cloudwatch:GetMetricData` and `sagemaker:ListEndpoints` on `*` (no resource-level permissions) and
   * `cloudwatch:DescribeAlarms` on the policy's guardrail alarms (an imported controller does not
   * know its policy: every alarm of its account and region).
   *
   * Acknowledges on the grantee's policy the cdk-nag findings of these wildcards
   * (AwsSolutions-IAM5 `Resource::*` and the endpoint-config, model and alarm patterns), each with the
   * action it is for. cdk-nag reports findings per policy: the acknowledgements also cover a
   * statement of your own in the same policy with the same wildcard.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantRollouts(grantee, false);
  }

  /**
   * The guardrail alarms of the controller's policy, which `status` reads.
   * @returns undefined when they are not known (an imported controller)
   */
  protected guardrailAlarmNames(): readonly string[] | undefined {
    return undefined;
  }

  /** What the reading commands call and, with `changes`, what the changing commands call too. */
  private grantRollouts(grantee: iam.IGrantable, changes: boolean): iam.Grant {
    const stack = Stack.of(this);
    const { account, region } = this.env;
    const arn = (service: string, resource: string, resourceName: string, arnFormat?: ArnFormat) =>
      stack.formatArn({ service, account, region, resource, resourceName, arnFormat });
    const table = this.table.grant(grantee, ...['dynamodb:GetItem', ...(changes ? ['dynamodb:PutItem'] : []), 'dynamodb:Query']);
    const key = changes ? this.table.encryptionKey?.grantEncryptDecrypt(grantee) : this.table.encryptionKey?.grantDecrypt(grantee);
    const statement = (actions: string[], resourceArns: string[]) => iam.Grant.addToPrincipal({ grantee, actions, resourceArns });
    const alarmNames = this.guardrailAlarmNames();
    const alarmArns = (alarmNames ?? ['*']).map((name) => arn('cloudwatch', 'alarm', name, ArnFormat.COLON_RESOURCE_NAME));
    const grants = [
      table,
      ...(key ? [key] : []),
      statement(
        ['sagemaker:DescribeEndpoint', ...(changes ? ['sagemaker:ListTags', 'sagemaker:UpdateEndpointWeightsAndCapacities'] : [])],
        [this.endpoint.endpointArn],
      ),
      statement(['sagemaker:DescribeEndpointConfig'], [arn('sagemaker', 'endpoint-config', '*')]),
      statement(['sagemaker:DescribeModel'], [arn('sagemaker', 'model', '*')]),
      statement(['cloudwatch:GetMetricData', 'sagemaker:ListEndpoints'], ['*']),
      ...(alarmArns.length > 0 ? [statement(['cloudwatch:DescribeAlarms'], alarmArns)] : []),
    ];
    const principal = grantee.grantPrincipal;
    if (Construct.isConstruct(principal)) {
      acknowledgeExpectedWildcards(principal, changes ? MANUAL_ACTION_WILDCARDS : READ_WILDCARDS);
    }
    return grants.reduce((all, grant) => all.combine(grant));
  }

  /** A rule for the controller's decisions (`detail-type` `Rollout <action>`), e.g. to page on aborts. */
  public onDecision(id: string, options: DecisionRuleOptions = {}): events.Rule {
    const rule = new events.Rule(this, id, {
      eventBus: this.eventBus,
      description: options.description,
      ruleName: options.ruleName,
      crossStackScope: options.crossStackScope,
    });
    if (options.target) {
      rule.addTarget(options.target);
    }
    rule.addEventPattern(options.eventPattern);
    rule.addEventPattern({
      source: [RELEASE_EVENT_SOURCE],
      ...(options.actions ? { detailType: options.actions.map((a) => `Rollout ${a}`) } : {}),
      detail: { endpointName: [this.endpoint.endpointName] },
    });
    return rule;
  }
}

/**
 * Moves an endpoint's traffic between a baseline and a candidate on business metrics: a Lambda
 * on a schedule reads the gateway's per-variant metrics, decides with a sequential test that
 * stays valid however often it looks, and applies weights while the endpoint is InService. The
 * rollout and an append-only audit trail live in DynamoDB, changed only by conditional writes
 * (the CLI's manual actions use the same records); every decision but holds, the CLI's too, is
 * published to EventBridge from an outbox written with it (at least once, with a delivery id).
 */
export class ReleaseController extends ReleaseControllerBase {
  /**
   * Imports a controller defined in another stack or app, e.g. to grant release managers access
   * to its rollouts or to route its decisions.
   * @throws ModelshipError when the table's name cannot be derived: the endpoint's name is a token and no `tableName` is given
   */
  public static fromReleaseControllerAttributes(scope: Construct, id: string, attrs: ReleaseControllerAttributes): IReleaseController {
    const tableName = attrs.tableName ?? knownTableName(attrs.endpoint);
    if (tableName === undefined) {
      throw new ModelshipError(`ReleaseController ${scope.node.path}/${id}`, [
        "'tableName' must be given when the endpoint's name is only known at deploy time: the controller's table then has a generated name",
      ]);
    }
    // The controller lives with its endpoint: its table is in the endpoint's account and region.
    const { account, region } = attrs.endpoint.env;
    class Import extends ReleaseControllerBase {
      public readonly endpoint = attrs.endpoint;
      public readonly table = dynamodb.Table.fromTableAttributes(this, 'Rollouts', {
        tableArn: Stack.of(scope).formatArn({ service: 'dynamodb', account, region, resource: 'table', resourceName: tableName }),
        encryptionKey: attrs.encryptionKey,
      });
      public readonly eventBus = attrs.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    }
    return new Import(scope, id, { physicalName: tableName, account, region });
  }

  /** The rollout item and its audit trail (`pk` endpoint name, `sk` `ROLLOUT` or `AUDIT#...`). */
  public readonly table: dynamodb.Table;
  /** The controller function. */
  public readonly function: lambda.Function;
  /** The schedule that runs a tick every evaluation interval. */
  public readonly schedule: events.Rule;
  /**
   * Runs a tick as soon as SageMaker reports a state change of the endpoint (on the default bus), so a deploy that puts
   * a new candidate version in service starts its rollout within seconds rather than at the next scheduled tick.
   */
  public readonly endpointStateRule: events.Rule;
  /** The bus decisions are published to. */
  public readonly eventBus: events.IEventBus;
  /** Fires when ticks fail. */
  public readonly failureAlarm: cloudwatch.Alarm;
  /** The policy, as deployed. */
  public readonly policy: PolicySpec;
  /** The hash a deployed policy is recorded under. */
  public readonly policyHash: string;
  /** The endpoint whose weights it moves. */
  public readonly endpoint: IModelEndpoint;

  constructor(scope: Construct, id: string, props: ReleaseControllerProps) {
    const endpoint = props.gateway?.endpoint ?? props.endpoint;
    const tableName = endpoint && knownTableName(endpoint);
    super(scope, id, { physicalName: tableName });
    this.policy = props.policy.spec;
    this.policyHash = props.policy.hash;
    const hookTimeout = props.hookTimeout ?? Duration.seconds(60);
    const metricLag = props.metricLag ?? Duration.minutes(3);
    this.validate(props, endpoint, hookTimeout, metricLag);
    this.endpoint = endpoint!;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    const encryptionKey = props.encryptionKey ?? new kms.Key(this, 'Key', {
      enableKeyRotation: true,
      description: `Encrypts the rollouts of ${this.endpoint.endpointName}`,
      removalPolicy,
    });
    this.table = new dynamodb.Table(this, 'Rollouts', {
      tableName: tableName ?? PhysicalName.GENERATE_IF_NEEDED,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });
    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');

    const settings: ControllerSettings = {
      endpointName: this.endpoint.endpointName,
      policy: this.policy,
      tableName: this.table.tableName,
      eventBusName: this.eventBus.eventBusName,
      ...(props.topic ? { topicArn: props.topic.topicArn } : {}),
      beforeStepHooks: (props.beforeStepHooks ?? []).map((f) => f.functionArn),
      afterHooks: (props.afterHooks ?? []).map((f) => f.functionArn),
      hookTimeoutSeconds: hookTimeout.toSeconds(),
      source: props.gateway
        ? { gateway: { ...GATEWAY_METRICS, endpointName: this.endpoint.endpointName, outcomeType: this.policy.metric.outcomeType } }
        : { custom: Object.fromEntries(Object.entries(props.metrics!).map(([variant, metrics]) => [variant, metricSpecs(metrics)])) },
      metricLagSeconds: metricLag.toSeconds(),
      attributionSeconds: attributionSeconds(this.policy, props.gateway),
    };
    this.function = new HandlerFunction(this, 'Controller', {
      hook: 'release-controller',
      description: `Moves the traffic of ${this.endpoint.endpointName} by policy ${this.policyHash}`,
      // Room for the hooks (at their longest allowed timeout when it is a token), the metric reads and the retries of one tick.
      timeout: Duration.seconds(Math.min(900, 120 + (props.beforeStepHooks?.length ?? 0) * (hookTimeout.isUnresolved() ? MAX_HOOK_TIMEOUT_SECONDS : hookTimeout.toSeconds()))),
      environment: { [CONTROLLER_SETTINGS_VARIABLE]: this.stack.toJsonString(settings) },
      // One tick at a time: overlapping ticks would only lose their conditional writes.
      reservedConcurrentExecutions: 1,
    }).function;
    const fn = this.function;
    this.grantController(props);

    this.schedule = new events.Rule(this, 'Schedule', {
      description: `Runs the release controller of ${this.endpoint.endpointName}`,
      schedule: events.Schedule.rate(Duration.minutes(this.policy.evaluationIntervalMinutes)),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 2 })],
    });
    this.endpointStateRule = new events.Rule(this, 'EndpointStateChange', {
      description: `Runs the release controller of ${this.endpoint.endpointName} when the endpoint changes state`,
      eventPattern: { source: ['aws.sagemaker'], detailType: ['SageMaker Endpoint State Change'], detail: { EndpointName: [this.endpoint.endpointName] } },
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 2 })],
    });
    this.failureAlarm = new cloudwatch.Alarm(this, 'Failures', {
      alarmDescription: `Release controller ticks of ${this.endpoint.endpointName} are failing`,
      metric: fn.metricErrors({ period: Duration.minutes(Math.max(5, this.policy.evaluationIntervalMinutes)), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    notifyAlarmTopic(props.alarmTopic, [this.failureAlarm]);
  }

  /** The guardrail alarms of the controller's policy, which `status` reads: none when the policy names none. */
  protected guardrailAlarmNames(): readonly string[] {
    return this.policy.guardrails.alarmNames ?? [];
  }

  private grantController(props: ReleaseControllerProps): void {
    const fn = this.function;
    // A change is one TransactWriteItems of puts (IAM checks each as dynamodb:PutItem); the outbox
    // is read with Query, acknowledged with UpdateItem and settled with DeleteItem.
    this.table.grant(fn, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
    this.table.encryptionKey?.grantEncryptDecrypt(fn);
    fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpointWeightsAndCapacities'],
      resources: [this.endpoint.endpointArn],
    }));
    // Which model version the candidate serves (a rollout per version): the configs and models the endpoint's deploys
    // create have CloudFormation-generated names, so the account's configs and models, read-only.
    fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ['sagemaker:DescribeEndpointConfig', 'sagemaker:DescribeModel'],
      resources: ['endpoint-config', 'model'].map((resource) => this.stack.formatArn({ service: 'sagemaker', resource, resourceName: '*' })),
    }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    const alarms = this.policy.guardrails.alarmNames ?? [];
    if (alarms.length > 0) {
      fn.addToRolePolicy(new iam.PolicyStatement({
        actions: ['cloudwatch:DescribeAlarms'],
        resources: alarms.map((name) => this.stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME })),
      }));
    }
    this.eventBus.grantPutEventsTo(fn);
    props.topic?.grantPublish(fn);
    const hooks = [...(props.beforeStepHooks ?? []), ...(props.afterHooks ?? [])];
    if (hooks.length > 0) {
      // Identity-based and exact: the hooks' functions only (no versions, no resource policies to change).
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: hooks.map((h) => h.functionArn) }));
    }
    acknowledgeExpectedWildcards(this, [
      { finding: /^Resource::\*$/, reason: 'cloudwatch:GetMetricData has no resource-level permissions' },
      {
        finding: /^Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:(endpoint-config|model)\/\*$/,
        reason: 'sagemaker:DescribeEndpointConfig and sagemaker:DescribeModel (read-only): the endpoint\'s configs and models have generated names',
      },
      { finding: /^Action::kms:(ReEncrypt|GenerateDataKey)\*$/, reason: "CDK's encrypt/decrypt grant on the rollout table's own key" },
    ]);
  }

  private validate(props: ReleaseControllerProps, endpoint: IModelEndpoint | undefined, hookTimeout: Duration, metricLag: Duration): void {
    const problems: string[] = [];
    if (props.gateway ? props.endpoint || props.metrics : !(props.endpoint && props.metrics)) {
      problems.push("Specify either 'gateway', or 'endpoint' with 'metrics', not both");
    }
    const known = endpoint?.variantNames;
    for (const role of ['baseline', 'candidate'] as const) {
      const variant = this.policy[role];
      if (known && !known.includes(variant)) {
        problems.push(`'policy.${role}' must be one of the endpoint's variants (${known.map((v) => `'${v}'`).join(', ')}), got ${formatValue(variant)}`);
      }
      if (!props.gateway && props.metrics && !props.metrics[variant]) {
        problems.push(`'metrics' must name the metrics of the ${role} variant ${formatValue(variant)}, got ${formatValue(Object.keys(props.metrics))}`);
      }
      const needed = this.policy.metric.kind === 'rate' ? ['conversions'] as const : ['valueSum', 'valueSumOfSquares'] as const;
      for (const outcome of needed) {
        if (!props.gateway && props.metrics?.[variant] && !props.metrics[variant][outcome]) {
          problems.push(`'metrics.${variant}.${outcome}' is required: a '${this.policy.metric.kind}' policy decides on it, got none`);
        }
      }
    }
    if (props.production && !this.policy.manualGateBeforePromotion) {
      problems.push("'policy.manualGateBeforePromotion' must be true in production: a person approves each promotion, got false");
    }
    problems.push(...wholeSecondsProblems('hookTimeout', hookTimeout, 1, MAX_HOOK_TIMEOUT_SECONDS));
    problems.push(...wholeSecondsProblems('metricLag', metricLag, 0, 1800));
    problems.push(...attributionProblems(this.policy, props.gateway));
    const seconds = attributionSeconds(this.policy, props.gateway) + (metricLag.isUnresolved() ? 0 : metricLag.toSeconds());
    // A step's (or the test's) first cohort: once new weights have settled (and after the burn-in), old enough for its outcomes.
    const settleSeconds = WEIGHTS_SETTLE_MS / 1000;
    const firstData = (this.policy.kind === 'progressive' ? settleSeconds : Math.max(this.policy.burnInHours * 3600, settleSeconds)) + seconds;
    if (firstData >= this.policy.maxDurationHours * 3600) {
      problems.push(`'policy.maxDurationHours' must leave time for the test to see predictions: ${this.policy.kind === 'progressive' ? 'the weights settling' : 'the burn-in'}, `
        + `the attribution window and the metric lag take ${(firstData / 3600).toFixed(1)} hours, got ${this.policy.maxDurationHours}`);
    }
    throwIfProblems(`ReleaseController ${this.node.path}`, problems);
  }
}

/**
 * The attribution window the controller reads cohorts with, in seconds: the policy's
 * `outcomeDelayMinutes`, or the gateway's outcome window; with a user's metrics and no
 * `outcomeDelayMinutes`, 0 (their datapoints' times are theirs).
 */
function attributionSeconds(policy: PolicySpec, gateway: IInferenceGateway | undefined): number {
  if (policy.outcomeDelayMinutes !== undefined) {
    return policy.outcomeDelayMinutes * 60;
  }
  return gateway && !gateway.outcomeWindow.isUnresolved() ? gateway.outcomeWindow.toSeconds() : 0;
}

/** What the policy's attribution and outcome type need of the gateway. */
function attributionProblems(policy: PolicySpec, gateway: IInferenceGateway | undefined): string[] {
  if (!gateway) {
    return [];
  }
  const problems: string[] = [];
  const types = gateway.outcomeTypes;
  if (types !== undefined && !types.includes(policy.metric.outcomeType)) {
    problems.push(`'policy.metric.outcomeType' must be one of the gateway's 'outcomeTypes' (${types.map((t) => `'${t}'`).join(', ')}), `
      + `or its experiment series never exists and the rollout holds as incomplete, got ${formatValue(policy.metric.outcomeType)}`);
  }
  if (gateway.outcomeWindow.isUnresolved()) {
    if (policy.outcomeDelayMinutes === undefined) {
      problems.push("'policy.outcomeDelayMinutes' is required when the gateway's 'outcomeWindow' is a token: the attribution window defaults to it");
    }
    return problems;
  }
  const windowSeconds = gateway.outcomeWindow.toSeconds();
  if (policy.outcomeDelayMinutes === undefined && windowSeconds > MAX_ATTRIBUTION_SECONDS) {
    problems.push(`'policy.outcomeDelayMinutes' is required when the gateway's 'outcomeWindow' is longer than 13 days (CloudWatch takes datapoints up to two weeks old), got an outcome window of ${windowSeconds / 86400} days`);
  }
  if (policy.outcomeDelayMinutes !== undefined && policy.outcomeDelayMinutes * 60 > windowSeconds) {
    problems.push(`'policy.outcomeDelayMinutes' must be at most the gateway's 'outcomeWindow' (${windowSeconds / 60} minutes): later outcomes are refused, got ${policy.outcomeDelayMinutes}`);
  }
  return problems;
}

/** A user's CloudWatch metrics as the controller reads them. */
function metricSpecs(metrics: ReleaseMetrics): VariantMetrics {
  const spec = (metric: cloudwatch.Metric): MetricSpec => ({
    namespace: metric.namespace,
    metricName: metric.metricName,
    dimensions: Object.fromEntries(Object.entries(metric.dimensions ?? {}).map(([name, value]) => [name, String(value)])),
    stat: metric.statistic,
  });
  const optional = { conversions: metrics.conversions, valueSum: metrics.valueSum, valueSumOfSquares: metrics.valueSumOfSquares, errors: metrics.errors, p99LatencyMs: metrics.p99Latency };
  return {
    invocations: spec(metrics.invocations),
    ...Object.fromEntries(Object.entries(optional).filter(([, m]) => m !== undefined).map(([key, m]) => [key, spec(m!)])),
  };
}
