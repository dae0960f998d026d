import { CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { EndpointModel, InferenceInstanceType, ModelEndpoint, ModelRegistry } from '../../lib';
import { InferenceGateway, InferenceGatewayProps } from '../../lib/hooks/inference-gateway';
import { ModelshipError } from '../../lib/runtime/errors';
import { ReleaseController, ReleaseControllerProps } from '../../lib/hooks/release-controller';
import { CONTROLLER_SETTINGS_VARIABLE } from '../../lib/release/controller-settings';
import { policyHash, RolloutPolicy } from '../../lib/release/rollout-policy';
import type { ProgressivePolicySpec } from '../../lib/release/rollout-types';
import { nagFindings, problemsOf, testApp, testStack } from '../helpers';

const POLICY: ProgressivePolicySpec = {
  kind: 'progressive', baseline: 'baseline', candidate: 'candidate', steps: [5, 25, 50, 100], minStepMinutes: 60, minSamplesPerStep: 1000,
  metric: { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: 0.1, betterWhen: 'higher' },
  guardrails: { maxErrorRate: 0.02, alarmNames: ['churn-ab-5xx'] },
  evaluationIntervalMinutes: 10, maxDurationHours: 336, alpha: 0.05, power: 0.8, manualGateBeforePromotion: true, onHookFailure: 'abort',
  nonInferiorityMargin: 0.1, minRunHours: 0, burnInHours: 0,
};

/** A gateway that publishes the policy's outcome type, and its controller. */
function fixture(
  extra: (parts: { stack: ReturnType<typeof testStack> }) => Partial<ReleaseControllerProps> = () => ({}),
  gatewayProps: (parts: { stack: ReturnType<typeof testStack> }) => Partial<InferenceGatewayProps> = () => ({}),
) {
  const stack = testStack();
  const registry = new ModelRegistry(stack, 'Registry');
  const endpoint = new ModelEndpoint(stack, 'Churn', {
    endpointName: 'churn-ab',
    variants: ['baseline', 'candidate'].map((variantName, i) => ({
      variantName, model: EndpointModel.fromModelPackageVersion(registry, i + 1), instanceType: InferenceInstanceType.M5_LARGE, initialWeight: 1,
    })),
  });
  const gateway = new InferenceGateway(stack, 'Gateway', { endpoint, outcomeTypes: ['purchase'], ...gatewayProps({ stack }) });
  const controller = new ReleaseController(stack, 'Release', { gateway, policy: RolloutPolicy.fromSpec(POLICY), ...extra({ stack }) });
  return { stack, endpoint, gateway, controller };
}

/** The controller's settings as its template renders them (JSON with references joined in). */
function controllerSettingsOf(template: Template): string {
  const functions = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^Moves the traffic') } }));
  expect(functions).toHaveLength(1);
  return JSON.stringify(functions[0].Properties.Environment.Variables[CONTROLLER_SETTINGS_VARIABLE]).replace(/\\"/g, '"');
}

const hookOf = (stack: ReturnType<typeof testStack>, id: string) =>
  lambda.Function.fromFunctionArn(stack, id, `arn:aws:lambda:eu-west-1:111111111111:function:${id.toLowerCase()}`);

describe('ReleaseController', () => {
  const { stack, controller } = fixture(({ stack: s }) => ({
    beforeStepHooks: [hookOf(s, 'Smoke')], afterHooks: [hookOf(s, 'Announce')], topic: new sns.Topic(s, 'Releases', { enforceSSL: true }), production: true,
  }));
  const template = Template.fromStack(stack);

  test('ticks on the policy\'s evaluation interval, one tick at a time', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(10 minutes)', State: 'ENABLED' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: `Moves the traffic of churn-ab by policy ${policyHash(POLICY)}`,
      ReservedConcurrentExecutions: 1,
    });
  });

  test('hands the controller its endpoint, policy, table, bus, topic and hooks', () => {
    const settings = controllerSettingsOf(template);
    for (const expected of ['"endpointName":"churn-ab"', '"steps":[5,25,50,100]', '"eventBusName":"default"', 'function:smoke', 'function:announce',
      '"hookTimeoutSeconds":60', '"metricLagSeconds":180',
      '"source":{"gateway":{"namespace":"Modelship","service":"modelship-gateway","endpointName":"churn-ab","outcomeType":"purchase"}}',
      // No outcomeDelayMinutes: the gateway's outcome window (7 days by default) is the attribution window.
      '"attributionSeconds":604800']) {
      expect(settings).toContain(expected);
    }
  });

  test('keeps rollouts and their audit trail in an encrypted table with point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'modelship-rollouts-churn-ab',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  test('may change only its endpoint\'s weights, invoke only its hooks, and read only its alarms', () => {
    const policy = stack.resolve((controller.function.role!.node.tryFindChild('DefaultPolicy')!.node.defaultChild as iam.CfnPolicy).policyDocument);
    const byAction = (action: string) => policy.Statement.filter((s: { Action: string | string[] }) => [s.Action].flat().includes(action));
    expect(byAction('sagemaker:UpdateEndpointWeightsAndCapacities')).toEqual([expect.objectContaining({
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sagemaker:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':endpoint/churn-ab']] },
    })]);
    expect(byAction('lambda:InvokeFunction')).toEqual([expect.objectContaining({
      Action: 'lambda:InvokeFunction',
      Resource: ['arn:aws:lambda:eu-west-1:111111111111:function:announce', 'arn:aws:lambda:eu-west-1:111111111111:function:smoke'],
    })]);
    expect(JSON.stringify(byAction('cloudwatch:DescribeAlarms')[0].Resource)).toContain(':alarm:churn-ab-5xx');
    expect(byAction('cloudwatch:GetMetricData')[0].Resource).toBe('*');
    expect(byAction('dynamodb:PutItem')[0].Action).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    expect(byAction('sns:Publish')).toHaveLength(1);
    expect(byAction('events:PutEvents')).toHaveLength(1);
  });

  test('ticks as soon as SageMaker reports a state change of its endpoint, and may read which model version the candidate serves', () => {
    const { stack } = fixture();
    const template = Template.fromStack(stack);
    const rules = template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: ['aws.sagemaker'] } } });
    expect(Object.values(rules)).toHaveLength(1);
    expect(Object.values(rules)[0]).toMatchObject({ Properties: {
      EventPattern: { 'source': ['aws.sagemaker'], 'detail-type': ['SageMaker Endpoint State Change'], 'detail': { EndpointName: ['churn-ab'] } },
      Targets: [expect.objectContaining({ RetryPolicy: { MaximumRetryAttempts: 2 } })],
    } });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['sagemaker:DescribeEndpointConfig', 'sagemaker:DescribeModel'], Effect: 'Allow' })]) },
    });
  });

  test('alarms when ticks keep failing', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors', Namespace: 'AWS/Lambda', Threshold: 1, EvaluationPeriods: 2, TreatMissingData: 'notBreaching',
    });
  });

  test('leaves no cdk-nag finding unacknowledged', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('ReleaseController, gateway and log store with an alarm topic', () => {
  test('the controller\'s alarm and the alarms of the log store the gateway creates notify the topic, into ALARM and back to OK', () => {
    let topic: sns.Topic | undefined;
    const alarmTopic = (s: Stack) => (topic ??= new sns.Topic(s, 'Alarms', { enforceSSL: true, masterKey: new kms.Key(s, 'AlarmKey', { enableKeyRotation: true }) }));
    const { stack } = fixture(({ stack: s }) => ({ alarmTopic: alarmTopic(s) }), ({ stack: s }) => ({ alarmTopic: alarmTopic(s) }));
    const alarms = Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm');
    // The endpoint's four (two variants, two alarms each), which have no topic here, the log store's two and the controller's.
    expect(Object.keys(alarms)).toHaveLength(7);
    const notifying = Object.entries(alarms).filter(([id]) => !id.startsWith('Churn'));
    expect(notifying.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort())
      .toEqual(['GatewayLogStoreDeadLetterAlarm', 'GatewayLogStoreFailedEventAlarm', 'ReleaseFailures']);
    for (const [, alarm] of notifying) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Alarms/) }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: expect.stringMatching(/^Alarms/) }]);
    }
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('ReleaseController grants and validation', () => {
  test('grants a release manager what every CLI command calls: the rollout records, the endpoint\'s weights, its config, metrics and guardrail alarms', () => {
    const { stack, controller } = fixture();
    const role = new iam.Role(stack, 'ReleaseManager', { assumedBy: new iam.AccountRootPrincipal() });
    const grant = controller.grantManualActions(role);
    // The grant returned covers all of it, as aws-cdk-lib's grants do.
    expect(grant.principalStatements.map((statement) => statement.actions)).toEqual([
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
      ['kms:Decrypt', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
      ['sagemaker:DescribeEndpoint', 'sagemaker:ListTags', 'sagemaker:UpdateEndpointWeightsAndCapacities'],
      ['sagemaker:DescribeEndpointConfig'],
      ['sagemaker:DescribeModel'],
      ['cloudwatch:GetMetricData', 'sagemaker:ListEndpoints'],
      ['cloudwatch:DescribeAlarms'],
    ]);
    const statements = stack.resolve((role.node.tryFindChild('DefaultPolicy')!.node.defaultChild as iam.CfnPolicy).policyDocument).Statement;
    const arn = (resource: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${resource.split(':')[0]}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource.split(':').slice(1).join(':')}`]] });
    expect(statements.map((s: { Action: unknown }) => s.Action)).toEqual([
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
      ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
      ['sagemaker:DescribeEndpoint', 'sagemaker:ListTags', 'sagemaker:UpdateEndpointWeightsAndCapacities'],
      'sagemaker:DescribeEndpointConfig',
      'sagemaker:DescribeModel',
      ['cloudwatch:GetMetricData', 'sagemaker:ListEndpoints'],
      'cloudwatch:DescribeAlarms',
    ]);
    expect(statements.slice(2).map((s: { Resource: unknown }) => s.Resource)).toEqual([
      arn('sagemaker:endpoint/churn-ab'),
      arn('sagemaker:endpoint-config/*'),
      arn('sagemaker:model/*'),
      '*',
      // Only the policy's guardrail alarms.
      arn('cloudwatch:alarm:churn-ab-5xx'),
    ]);
  });

  test('grants readers no DescribeAlarms when the policy has no guardrail alarms', () => {
    const { stack, controller } = fixture(() => ({ policy: RolloutPolicy.fromSpec({ ...POLICY, guardrails: { maxErrorRate: 0.02 } }) }));
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    expect(controller.grantRead(role).principalStatements.map((statement) => statement.actions)).toEqual([
      ['dynamodb:GetItem', 'dynamodb:Query'],
      ['kms:Decrypt'],
      ['sagemaker:DescribeEndpoint'],
      ['sagemaker:DescribeEndpointConfig'],
      ['sagemaker:DescribeModel'],
      ['cloudwatch:GetMetricData', 'sagemaker:ListEndpoints'],
    ]);
  });

  test('names decision rules and narrows them with the pattern asked for', () => {
    const { stack, controller } = fixture();
    controller.onDecision('Promotions', { actions: ['promote'], ruleName: 'churn-promotions', eventPattern: { account: ['111111111111'] } });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      Name: 'churn-promotions',
      EventPattern: { 'account': ['111111111111'], 'source': ['modelship.release'], 'detail-type': ['Rollout promote'], 'detail': { endpointName: ['churn-ab'] } },
    });
  });

  test('accepts tokens for its durations, and passes them to the controller', () => {
    const { stack } = fixture(({ stack: s }) => ({
      beforeStepHooks: [hookOf(s, 'Smoke'), hookOf(s, 'Load')],
      hookTimeout: Duration.seconds(new CfnParameter(s, 'HookTimeout', { type: 'Number' }).valueAsNumber),
      metricLag: Duration.seconds(new CfnParameter(s, 'MetricLag', { type: 'Number' }).valueAsNumber),
    }));
    const template = Template.fromStack(stack);
    const settings = controllerSettingsOf(template);
    expect(settings).toContain('"hookTimeoutSeconds":",{"Ref":"HookTimeout"},"');
    expect(settings).toContain('"metricLagSeconds":",{"Ref":"MetricLag"},"');
    // Room for two hooks at the longest timeout allowed: 120 + 2 × 300 s.
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^Moves the traffic'), Timeout: 720 });
  });

  test("names its table when the endpoint's name is a token and a role in another account reads the rollouts", () => {
    const app = testApp();
    const serving = new Stack(app, 'Serving', { env: { account: '111111111111', region: 'eu-west-1' } });
    const ops = new Stack(app, 'Ops', { env: { account: '222222222222', region: 'eu-west-1' } });
    const sessions = new cloudwatch.Metric({ namespace: 'Shop', metricName: 'Sessions' });
    const controllerOf = (id: string) => new ReleaseController(serving, id, {
      endpoint: ModelEndpoint.fromModelEndpointAttributes(serving, `${id}Endpoint`, {
        endpointName: new CfnParameter(serving, `${id}EndpointName`).valueAsString, variantNames: ['baseline', 'candidate'],
      }),
      metrics: { baseline: { invocations: sessions, conversions: sessions }, candidate: { invocations: sessions, conversions: sessions } },
      policy: RolloutPolicy.fromSpec(POLICY),
    });
    controllerOf('Shared').grantRead(new iam.Role(ops, 'Auditor', { roleName: 'rollout-auditor', assumedBy: new iam.AccountRootPrincipal() }));
    controllerOf('Local');
    const tables = Template.fromStack(serving).findResources('AWS::DynamoDB::Table');
    const names = Object.fromEntries(Object.entries(tables).map(([id, table]) => [id.replace(/[0-9A-F]{8}$/, ''), table.Properties.TableName]));
    expect(names).toEqual({ SharedRollouts: expect.stringMatching(/^serving[a-z]*sharedrollouts[0-9a-f]{20}$/), LocalRollouts: undefined });
  });

  test('routes chosen decisions of its endpoint to a target', () => {
    const { stack, controller } = fixture();
    const onCall = new sns.Topic(stack, 'OnCall', { enforceSSL: true });
    controller.onDecision('PageOnAbort', { actions: ['abort'], target: new targets.SnsTopic(onCall) });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': ['modelship.release'], 'detail-type': ['Rollout abort'], 'detail': { endpointName: ['churn-ab'] } },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^OnCall') } })],
    });
  });

  test('reads business metrics the user names instead of the gateway\'s', () => {
    const stack = testStack();
    const endpoint = ModelEndpoint.fromModelEndpointAttributes(stack, 'Shop', { endpointName: 'shop-ranker', variantNames: ['baseline', 'candidate'] });
    const arm = (name: string) => ({
      invocations: new cloudwatch.Metric({ namespace: 'Shop', metricName: 'Sessions', dimensionsMap: { Arm: name }, statistic: 'Sum' }),
      conversions: new cloudwatch.Metric({ namespace: 'Shop', metricName: 'Orders', dimensionsMap: { Arm: name }, statistic: 'Sum' }),
    });
    new ReleaseController(stack, 'Release', { endpoint, metrics: { baseline: arm('a'), candidate: arm('b') }, policy: RolloutPolicy.fromSpec(POLICY) });
    const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(1);
    const [fn] = functions;
    const settings = JSON.parse(fn.Properties.Environment.Variables[CONTROLLER_SETTINGS_VARIABLE]['Fn::Join'][1].filter((p: unknown) => typeof p === 'string').join('x'));
    expect(settings.source).toEqual({ custom: {
      baseline: { invocations: { namespace: 'Shop', metricName: 'Sessions', dimensions: { Arm: 'a' }, stat: 'Sum' }, conversions: { namespace: 'Shop', metricName: 'Orders', dimensions: { Arm: 'a' }, stat: 'Sum' } },
      candidate: { invocations: { namespace: 'Shop', metricName: 'Sessions', dimensions: { Arm: 'b' }, stat: 'Sum' }, conversions: { namespace: 'Shop', metricName: 'Orders', dimensions: { Arm: 'b' }, stat: 'Sum' } },
    } });
    // The user's datapoints are stamped as they are: no attribution window unless the policy names one.
    expect(settings.attributionSeconds).toBe(0);
    expect(nagFindings(stack)).toEqual([]);
  });

  test('moves the weights behind a gateway imported from another stack, on its metrics', () => {
    const stack = testStack();
    const endpoint = ModelEndpoint.fromModelEndpointAttributes(stack, 'Endpoint', { endpointName: 'churn-ab', variantNames: ['baseline', 'candidate'] });
    const gateway = InferenceGateway.fromInferenceGatewayAttributes(stack, 'Gateway', { apiId: 'abc123', endpoint });
    const controller = new ReleaseController(stack, 'Release', { gateway, policy: RolloutPolicy.fromSpec(POLICY) });
    expect(controller.endpoint).toBe(endpoint);
    const settings = controllerSettingsOf(Template.fromStack(stack));
    expect(settings).toContain('"source":{"gateway":{"namespace":"Modelship","service":"modelship-gateway","endpointName":"churn-ab","outcomeType":"purchase"}}');
    // An import that names neither its outcome types nor its window: the construct's default window.
    expect(settings).toContain('"attributionSeconds":604800');
  });

  test('attributes outcomes within the policy\'s outcomeDelayMinutes when it names one', () => {
    const { stack } = fixture(() => ({ policy: RolloutPolicy.fromSpec({ ...POLICY, outcomeDelayMinutes: 90 }) }), () => ({ outcomeWindow: Duration.days(2) }));
    expect(controllerSettingsOf(Template.fromStack(stack))).toContain('"attributionSeconds":5400');
  });

  test('attributes outcomes within the gateway\'s outcome window when the policy names no delay', () => {
    const { stack } = fixture(() => ({}), () => ({ outcomeWindow: Duration.hours(6) }));
    expect(controllerSettingsOf(Template.fromStack(stack))).toContain('"attributionSeconds":21600');
  });

  test('rejects an outcome type the gateway does not publish, with the types it does', () => {
    expect(problemsOf(() => fixture(() => ({}), () => ({ outcomeTypes: ['signup', 'churn'] })))).toEqual([
      "'policy.metric.outcomeType' must be one of the gateway's 'outcomeTypes' ('signup', 'churn'), or its experiment series never exists and the rollout holds as incomplete, got 'purchase'",
    ]);
  });

  test('does not check the outcome type against an imported gateway that does not name its types', () => {
    const stack = testStack();
    const endpoint = ModelEndpoint.fromModelEndpointAttributes(stack, 'Endpoint', { endpointName: 'churn-ab', variantNames: ['baseline', 'candidate'] });
    const gateway = InferenceGateway.fromInferenceGatewayAttributes(stack, 'Gateway', { apiId: 'abc123', endpoint });
    expect(() => new ReleaseController(stack, 'Release', { gateway, policy: RolloutPolicy.fromSpec({ ...POLICY, metric: { ...POLICY.metric, outcomeType: 'anything' } }) })).not.toThrow();
    const named = InferenceGateway.fromInferenceGatewayAttributes(stack, 'Named', { apiId: 'abc124', endpoint, outcomeTypes: ['signup'] });
    expect(problemsOf(() => new ReleaseController(stack, 'Release2', { gateway: named, policy: RolloutPolicy.fromSpec(POLICY) }))).toEqual([
      "'policy.metric.outcomeType' must be one of the gateway's 'outcomeTypes' ('signup'), or its experiment series never exists and the rollout holds as incomplete, got 'purchase'",
    ]);
  });

  test('rejects an outcomeDelayMinutes longer than the gateway\'s outcome window', () => {
    expect(problemsOf(() => fixture(() => ({ policy: RolloutPolicy.fromSpec({ ...POLICY, outcomeDelayMinutes: 61 }) }), () => ({ outcomeWindow: Duration.hours(1) })))).toEqual([
      "'policy.outcomeDelayMinutes' must be at most the gateway's 'outcomeWindow' (60 minutes): later outcomes are refused, got 61",
    ]);
    expect(() => fixture(() => ({ policy: RolloutPolicy.fromSpec({ ...POLICY, outcomeDelayMinutes: 60 }) }), () => ({ outcomeWindow: Duration.hours(1) }))).not.toThrow();
  });

  test('needs an outcomeDelayMinutes when the gateway\'s outcome window is longer than 13 days', () => {
    expect(problemsOf(() => fixture(() => ({}), () => ({ outcomeWindow: Duration.days(14) })))).toEqual([
      "'policy.outcomeDelayMinutes' is required when the gateway's 'outcomeWindow' is longer than 13 days (CloudWatch takes datapoints up to two weeks old), got an outcome window of 14 days",
      "'policy.maxDurationHours' must leave time for the test to see predictions: the weights settling, the attribution window and the metric lag take 336.3 hours, got 336",
    ]);
    expect(() => fixture(() => ({}), () => ({ outcomeWindow: Duration.days(13) }))).not.toThrow();
    const { stack } = fixture(() => ({ policy: RolloutPolicy.fromSpec({ ...POLICY, outcomeDelayMinutes: 13 * 24 * 60 }) }), () => ({ outcomeWindow: Duration.days(30) }));
    expect(controllerSettingsOf(Template.fromStack(stack))).toContain(`"attributionSeconds":${13 * 86_400}`);
  });

  test('needs an outcomeDelayMinutes when the gateway\'s outcome window is a token', () => {
    expect(problemsOf(() => fixture(() => ({}), ({ stack }) => ({
      outcomeWindow: Duration.seconds(new CfnParameter(stack, 'OutcomeWindow', { type: 'Number' }).valueAsNumber),
    })))).toEqual([
      "'policy.outcomeDelayMinutes' is required when the gateway's 'outcomeWindow' is a token: the attribution window defaults to it",
    ]);
  });

  test('needs either a gateway, or an endpoint with metrics for both variants', () => {
    const stack = testStack();
    const endpoint = ModelEndpoint.fromModelEndpointAttributes(stack, 'Shop', { endpointName: 'shop-ranker' });
    const sessions = new cloudwatch.Metric({ namespace: 'Shop', metricName: 'Sessions' });
    expect(problemsOf(() => new ReleaseController(stack, 'Release', { endpoint, metrics: { baseline: { invocations: sessions } }, policy: RolloutPolicy.fromSpec(POLICY) }))).toEqual([
      "'metrics.baseline.conversions' is required: a 'rate' policy decides on it, got none",
      "'metrics' must name the metrics of the candidate variant 'candidate', got [\"baseline\"]",
    ]);
    expect(problemsOf(() => new ReleaseController(stack, 'Release2', { endpoint, policy: RolloutPolicy.fromSpec(POLICY) }))).toEqual([
      "Specify either 'gateway', or 'endpoint' with 'metrics', not both",
    ]);
  });

  test('rejects variants the endpoint does not have, a production policy without a manual gate, and bad durations', () => {
    expect(problemsOf(() => fixture(() => ({
      policy: RolloutPolicy.fromSpec({ ...POLICY, candidate: 'challenger', manualGateBeforePromotion: false }), production: true, hookTimeout: Duration.minutes(10), metricLag: Duration.hours(1),
    })))).toEqual([
      "'policy.candidate' must be one of the endpoint's variants ('baseline', 'candidate'), got 'challenger'",
      "'policy.manualGateBeforePromotion' must be true in production: a person approves each promotion, got false",
      "'hookTimeout' must be a whole number of seconds between 1 and 300, got '10 minutes'",
      "'metricLag' must be a whole number of seconds between 0 and 1800, got '1 hour'",
    ]);
  });
});

describe('ReleaseController imported from another stack', () => {
  const stack = testStack();
  const endpoint = ModelEndpoint.fromModelEndpointAttributes(stack, 'Endpoint', { endpointName: 'churn-ab', variantNames: ['baseline', 'candidate'] });
  const key = kms.Key.fromKeyArn(stack, 'RolloutKey', 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab');
  const controller = ReleaseController.fromReleaseControllerAttributes(stack, 'Release', { endpoint, encryptionKey: key });

  test('finds the rollout table by the name the controller gives it', () => {
    expect(controller.table.tableName).toBe('modelship-rollouts-churn-ab');
    expect(controller.endpoint).toBe(endpoint);
  });

  test('grants a release manager the rollout records, the key, the endpoint\'s weights and what status reads', () => {
    const role = new iam.Role(stack, 'ReleaseManager', { assumedBy: new iam.AccountRootPrincipal() });
    controller.grantManualActions(role);
    const statements = stack.resolve((role.node.tryFindChild('DefaultPolicy')!.node.defaultChild as iam.CfnPolicy).policyDocument).Statement;
    expect(statements.map((s: { Action: unknown }) => s.Action)).toEqual([
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
      ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
      ['sagemaker:DescribeEndpoint', 'sagemaker:ListTags', 'sagemaker:UpdateEndpointWeightsAndCapacities'],
      'sagemaker:DescribeEndpointConfig',
      'sagemaker:DescribeModel',
      ['cloudwatch:GetMetricData', 'sagemaker:ListEndpoints'],
      'cloudwatch:DescribeAlarms',
    ]);
    expect(JSON.stringify(statements[0].Resource)).toContain(':table/modelship-rollouts-churn-ab');
    expect(statements[1].Resource).toBe(key.keyArn);
    // The import does not know its policy's guardrail alarms: every alarm of the endpoint's account and region.
    expect(JSON.stringify(statements[6].Resource)).toMatch(/:cloudwatch:",\{"Ref":"AWS::Region"\},":",\{"Ref":"AWS::AccountId"\},":alarm:\*"/);
  });

  test('grants readers the rollout records with decryption, and what status reads, but no change', () => {
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    expect(controller.grantRead(role).success).toBe(true);
    const statements = stack.resolve((role.node.tryFindChild('DefaultPolicy')!.node.defaultChild as iam.CfnPolicy).policyDocument).Statement;
    expect(statements.map((s: { Action: unknown }) => s.Action)).toEqual([
      ['dynamodb:GetItem', 'dynamodb:Query'],
      'kms:Decrypt',
      'sagemaker:DescribeEndpoint',
      'sagemaker:DescribeEndpointConfig',
      'sagemaker:DescribeModel',
      ['cloudwatch:GetMetricData', 'sagemaker:ListEndpoints'],
      'cloudwatch:DescribeAlarms',
    ]);
  });

  test('routes its decisions from the bus it is given', () => {
    const bus = events.EventBus.fromEventBusName(stack, 'Releases', 'releases');
    const onBus = ReleaseController.fromReleaseControllerAttributes(stack, 'OnBus', { endpoint, encryptionKey: key, eventBus: bus, tableName: 'rollouts' });
    onBus.onDecision('Aborts', { actions: ['abort'] });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventBusName: 'releases',
      EventPattern: { 'source': ['modelship.release'], 'detail-type': ['Rollout abort'], 'detail': { endpointName: ['churn-ab'] } },
    });
    expect(onBus.table.tableName).toBe('rollouts');
  });

  test('needs the table name when the endpoint\'s name is a token', () => {
    const byToken = ModelEndpoint.fromModelEndpointName(stack, 'ByToken', new CfnParameter(stack, 'EndpointName').valueAsString);
    expect(() => ReleaseController.fromReleaseControllerAttributes(stack, 'Unnamed', { endpoint: byToken, encryptionKey: key })).toThrow(ModelshipError);
    expect(problemsOf(() => ReleaseController.fromReleaseControllerAttributes(stack, 'Unnamed2', { endpoint: byToken, encryptionKey: key }))).toEqual([
      "'tableName' must be given when the endpoint's name is only known at deploy time: the controller's table then has a generated name",
    ]);
  });
});
