import aslValidator from 'asl-validator';
import { CfnParameter, Duration, Size, Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import fc from 'fast-check';
import { ContainerImage, TrainingInstanceType, TrainingPipeline, TrainingPipelineProps } from '../../lib';
import { nagFindings, problemsOf, testApp } from '../helpers';
import { pipelineFixture } from './pipeline-fixture';

type Json = Record<string, unknown>;

/** Renders CloudFormation references as `<LogicalId[.Attr]>`, to assert on where values come from. */
function placeholder(node: Json): string {
  if (node['Fn::GetAtt']) {
    return `<${(node['Fn::GetAtt'] as string[]).join('.')}>`;
  }
  return node.Ref ? `<${String(node.Ref)}>` : `<${JSON.stringify(node).replace(/"/g, "'")}>`;
}

/** Renders CloudFormation references as the values they take in one region of one account. */
function deployed(node: Json): string {
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws', 'AWS::Region': 'eu-west-1', 'AWS::AccountId': '111111111111', 'AWS::URLSuffix': 'amazonaws.com',
  };
  if (node['Fn::GetAtt']) {
    const [id, attribute] = node['Fn::GetAtt'] as string[];
    return attribute === 'Arn' ? `arn:aws:lambda:eu-west-1:111111111111:function:${id}` : id;
  }
  return pseudo[String(node.Ref)] ?? String(node.Ref ?? 'x');
}

/** The state machine definition, with CloudFormation references rendered by `refs`. */
function definitionOf(stack: Stack, refs: (node: Json) => string = placeholder): { States: Record<string, Json>; StartAt: string } {
  const machines = Object.values(Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'));
  expect(machines).toHaveLength(1);
  const [machine] = machines;
  const render = (node: unknown): string => {
    if (typeof node === 'string') {
      return node;
    }
    const n = node as Json;
    if (n['Fn::Join']) {
      const [sep, parts] = n['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(sep);
    }
    return refs(n);
  };
  return JSON.parse(render(machine.Properties.DefinitionString));
}

function trainState(stack: Stack): Json {
  const parallel = definitionOf(stack).States.RunTraining as { Branches: { States: Json }[] };
  return parallel.Branches[0].States.Train as Json;
}

function policyOf(stack: Stack, rolePrefix: string): unknown[] {
  const policies = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref.startsWith(rolePrefix)));
  expect(policies).toHaveLength(1);
  return policies[0].Properties.PolicyDocument.Statement;
}

const arn = (service: string, resource: string) =>
  ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}`]] });

describe('TrainingPipeline with spot, a NaN watch and a quality gate', () => {
  const { stack, pipeline } = pipelineFixture();
  const definition = definitionOf(stack);

  test('synthesizes valid Amazon States Language', () => {
    const result = aslValidator(definitionOf(stack, deployed));
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  test('runs name → train (with watch) → gate → register → notify', () => {
    expect(definition.StartAt).toBe('NameRun');
    expect(definition.States.NameRun.Next).toBe('RunTraining');
    expect(definition.States.RunTraining.Next).toBe('Gate');
    expect(definition.States.Gate.Next).toBe('PassedGate');
    expect(definition.States.Register.Next).toBe('PublishSucceeded');
    expect(definition.States.PublishSucceeded.Next).toBe('Registered');
    expect(definition.States.PublishFailed.Next).toBe('RunFailed');
    expect(Object.keys(definition.States)).toHaveLength(10);
    expect((definition.States.RunTraining as { Branches: unknown[] }).Branches).toHaveLength(2);
  });

  test('names each job after its execution, within 63 characters, and checkpoints per execution', () => {
    expect(definition.States.NameRun).toMatchObject({
      Parameters: {
        'jobName.$': "States.Format('churn-{}', States.Hash($$.Execution.Id, 'MD5'))",
        'checkpointUri.$': expect.stringMatching(/^States\.Format\('s3:\/\/<RegistryBucket[0-9A-F]{8}>\/checkpoints\/churn\/\{\}\/', \$\$\.Execution\.Name\)$/),
      },
      ResultPath: '$.run',
    });
    expect(pipeline.jobNamePrefix).toBe('churn');
  });

  test('calls createTrainingJob.sync with the exact spot, checkpoint, budget, metric and KMS parameters', () => {
    const train = trainState(stack);
    expect(train.Resource).toBe('arn:<AWS::Partition>:states:::sagemaker:createTrainingJob.sync');
    expect(train.Parameters).toEqual({
      'TrainingJobName.$': '$.run.jobName',
      'RoleArn': expect.stringMatching(/^<ChurnTrainingRole[0-9A-F]{8}\.Arn>$/),
      'AlgorithmSpecification': {
        TrainingImage: expect.stringMatching(/:v1$/),
        TrainingInputMode: 'File',
        MetricDefinitions: [
          { Name: 'validation:auc', Regex: 'val_auc=([0-9.]+)' },
          { Name: 'train:loss', Regex: 'train_loss=([0-9.]+)' },
        ],
        EnableSageMakerMetricsTimeSeries: true,
      },
      'HyperParameters': { epochs: '20', lr: '0.001' },
      'InputDataConfig': [
        {
          ChannelName: 'train',
          DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: expect.stringMatching(/^s3:\/\/<Datasets[0-9A-F]{8}>\/datasets\/churn\/train\/$/), S3DataDistributionType: 'FullyReplicated' } },
          ContentType: 'text/csv',
          InputMode: 'File',
          CompressionType: 'None',
        },
        {
          ChannelName: 'validation',
          DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: expect.stringMatching(/\/datasets\/churn\/validation\/$/), S3DataDistributionType: 'FullyReplicated' } },
          InputMode: 'FastFile',
          CompressionType: 'None',
        },
      ],
      'OutputDataConfig': {
        S3OutputPath: expect.stringMatching(/^s3:\/\/<RegistryBucket[0-9A-F]{8}>\/models\/churn\/$/),
        KmsKeyId: expect.stringMatching(/^<RegistryKey[0-9A-F]{8}\.Arn>$/),
      },
      'ResourceConfig': { InstanceType: 'ml.g5.2xlarge', InstanceCount: 1, VolumeSizeInGB: 50 },
      'StoppingCondition': { MaxRuntimeInSeconds: 57600, MaxWaitTimeInSeconds: 115200 },
      'EnableManagedSpotTraining': true,
      'CheckpointConfig': { 'S3Uri.$': '$.run.checkpointUri', 'LocalPath': '/opt/ml/checkpoints' },
      'EnableNetworkIsolation': false,
      'EnableInterContainerTrafficEncryption': false,
      'Tags': [
        { Key: 'modelship:model', Value: 'churn' },
        { 'Key': 'modelship:execution', 'Value.$': '$$.Execution.Id' },
      ],
    });
  });

  test('watches only the metrics flagged failOnNonFinite and fails the run when one is NaN', () => {
    const watch = (definition.States.RunTraining as { Branches: { States: Record<string, Json> }[] }).Branches[1].States;
    expect(watch.LookForNonFinite.Parameters).toEqual({
      'trainingJobName.$': '$.run.jobName',
      'metrics': [{ name: 'train:loss', regex: 'train_loss=([0-9.]+)' }],
      'cursor.$': '$.watch.cursor',
    });
    expect(watch.WaitBeforeLooking).toMatchObject({ Type: 'Wait', Seconds: 300 });
    expect(watch.NonFiniteMetric).toMatchObject({ Type: 'Fail', Error: 'Modelship.NonFiniteMetric' });
  });

  test('gates on the declared thresholds and fails with the metric values when missed', () => {
    expect(definition.States.Gate.Parameters).toMatchObject({
      'training.$': '$.training.job',
      'thresholds': [{ metric: 'validation:auc', operator: '>=', value: 0.85 }],
      'registration': { model: 'churn', contentTypes: ['application/json'], responseTypes: ['application/json'] },
    });
    expect(definition.States.PassedGate).toMatchObject({
      Choices: [{ Variable: '$.gate.passed', BooleanEquals: true, Next: 'Register' }],
      Default: 'GateMissed',
    });
    expect(definition.States.GateMissed).toMatchObject({
      Parameters: { 'Error': 'Modelship.QualityGateFailed', 'Cause.$': 'States.JsonToString($.gate.results)' },
      Next: 'PublishFailed',
    });
    expect(definition.States.RunFailed).toMatchObject({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
  });

  test('registers the version pending manual approval in the registry\'s group', () => {
    expect(definition.States.Register).toMatchObject({
      Resource: 'arn:<AWS::Partition>:states:::aws-sdk:sagemaker:createModelPackage',
      Parameters: {
        'ModelPackageGroupName': expect.stringMatching(/^teststack-registry-modelpackagegroup-[0-9a-f]{8}$/),
        'ModelApprovalStatus': 'PendingManualApproval',
        'InferenceSpecification.$': '$.gate.modelPackage.InferenceSpecification',
        'CustomerMetadataProperties.$': '$.gate.modelPackage.CustomerMetadataProperties',
      },
    });
  });

  test('publishes success and failure to EventBridge, and every failure path goes there', () => {
    expect(definition.States.PublishSucceeded).toMatchObject({
      Resource: 'arn:<AWS::Partition>:states:::events:putEvents',
      Parameters: { Entries: [{ Source: 'modelship.training', DetailType: 'Modelship Training Succeeded' }] },
    });
    expect(definition.States.PublishFailed).toMatchObject({
      Parameters: { Entries: [{ Source: 'modelship.training', DetailType: 'Modelship Training Failed' }] },
    });
    for (const state of ['RunTraining', 'Gate', 'Register']) {
      expect(definition.States[state].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'PublishFailed' }]);
    }
  });

  test('gives the training role only its image, datasets, registry prefixes, key and telemetry', () => {
    expect(policyOf(stack, 'ChurnTrainingRole')).toEqual([
      { Effect: 'Allow', Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Images/), 'Arn'] } },
      { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      {
        Effect: 'Allow',
        Action: ['s3:GetBucket*', 's3:GetObject*', 's3:List*'],
        Resource: [
          { 'Fn::GetAtt': [expect.stringMatching(/^Datasets/), 'Arn'] },
          { 'Fn::GetAtt': [expect.stringMatching(/^RegistryBucket/), 'Arn'] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^Datasets/), 'Arn'] }, '/datasets/churn/train/*']] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^Datasets/), 'Arn'] }, '/datasets/churn/validation/*']] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^RegistryBucket/), 'Arn'] }, '/checkpoints/churn/*']] },
        ],
      },
      {
        Effect: 'Allow',
        Action: ['s3:Abort*', 's3:PutObject', 's3:PutObjectLegalHold', 's3:PutObjectRetention', 's3:PutObjectTagging', 's3:PutObjectVersionTagging'],
        Resource: [
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^RegistryBucket/), 'Arn'] }, '/checkpoints/churn/*']] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^RegistryBucket/), 'Arn'] }, '/models/churn/*']] },
        ],
      },
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^RegistryKey/), 'Arn'] },
      },
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
        Resource: [arn('logs', 'log-group:/aws/sagemaker/TrainingJobs'), arn('logs', 'log-group:/aws/sagemaker/TrainingJobs:log-stream:churn-*')],
      },
      { Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } } },
    ]);
  });

  test('lets the state machine run only this pipeline\'s jobs and pass only the training role', () => {
    const statements = policyOf(stack, 'ChurnStateMachineRole');
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: [
          { 'Fn::GetAtt': [expect.stringMatching(/^ChurnGateFunction/), 'Arn'] },
          { 'Fn::GetAtt': [expect.stringMatching(/^ChurnWatchFunction/), 'Arn'] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^ChurnGateFunction/), 'Arn'] }, ':*']] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^ChurnWatchFunction/), 'Arn'] }, ':*']] },
        ],
      },
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: arn('events', 'event-bus/default') },
      {
        Effect: 'Allow',
        Action: 'sagemaker:CreateModelPackage',
        Resource: [
          { 'Fn::GetAtt': [expect.stringMatching(/^RegistryModelPackageGroup/), 'ModelPackageGroupArn'] },
          arn('sagemaker', 'model-package/teststack-registry-modelpackagegroup-6ce1fd4e/*'),
        ],
      },
      {
        Effect: 'Allow',
        Action: [
          'logs:CreateLogDelivery', 'logs:DeleteLogDelivery', 'logs:DescribeLogGroups', 'logs:DescribeResourcePolicies',
          'logs:GetLogDelivery', 'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:UpdateLogDelivery',
          'xray:GetSamplingRules', 'xray:GetSamplingTargets', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments',
        ],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: ['sagemaker:AddTags', 'sagemaker:CreateTrainingJob', 'sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob'],
        Resource: arn('sagemaker', 'training-job/churn-*'),
      },
      {
        Effect: 'Allow',
        Action: ['events:DescribeRule', 'events:PutRule', 'events:PutTargets'],
        Resource: arn('events', 'rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule'),
      },
      { Effect: 'Allow', Action: 'iam:PassRole', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ChurnTrainingRole/), 'Arn'] } },
    ]);
  });

  test('lets the watch read training logs and stop only this pipeline\'s jobs; the gate needs nothing', () => {
    expect(policyOf(stack, 'ChurnWatchFunctionRole')).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ChurnWatchFunctionLogs/), 'Arn'] } },
      { Effect: 'Allow', Action: ['sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob'], Resource: arn('sagemaker', 'training-job/churn-*') },
      { Effect: 'Allow', Action: 'logs:FilterLogEvents', Resource: arn('logs', 'log-group:/aws/sagemaker/TrainingJobs:*') },
    ]);
    expect(policyOf(stack, 'ChurnGateFunctionRole')).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ChurnGateFunctionLogs/), 'Arn'] } },
    ]);
    Template.fromStack(stack).resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0);
  });

  test('runs as a logged, traced standard workflow with a failure alarm', () => {
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'failed + timedOut' }),
        Match.objectLike({ Id: 'failed', MetricStat: Match.objectLike({ Metric: Match.objectLike({ Namespace: 'AWS/States', MetricName: 'ExecutionsFailed' }), Period: 300, Stat: 'Sum' }) }),
        Match.objectLike({ Id: 'timedOut', MetricStat: Match.objectLike({ Metric: Match.objectLike({ Namespace: 'AWS/States', MetricName: 'ExecutionsTimedOut' }), Period: 300, Stat: 'Sum' }) }),
      ]),
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(stack.resolve(pipeline.metricDuration().metricName)).toBe('ExecutionTime');
    expect(pipeline.metricSucceeded({ period: Duration.hours(1) }).period.toHours()).toBe(1);
  });

  test('passes the AwsSolutions checks', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('TrainingPipeline options', () => {
  test('without watched metrics trains in a single branch and still forms valid ASL', () => {
    const { stack } = pipelineFixture({ metrics: [{ name: 'validation:auc', regex: 'auc=([0-9.]+)' }] });
    expect((definitionOf(stack).States.RunTraining as { Branches: unknown[] }).Branches).toHaveLength(1);
    expect(aslValidator(definitionOf(stack, deployed)).errors).toEqual([]);
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::Function', 1);
  });

  test('passes entry point, arguments and environment to the container', () => {
    const { stack } = pipelineFixture({
      entryPoint: ['python', 'train.py'],
      arguments: ['--epochs', '20'],
      environment: { WANDB_MODE: 'offline' },
    });
    expect(trainState(stack).Parameters).toMatchObject({
      AlgorithmSpecification: { ContainerEntrypoint: ['python', 'train.py'], ContainerArguments: ['--epochs', '20'] },
      Environment: { WANDB_MODE: 'offline' },
    });
  });

  test('rejects entry point and arguments outside SageMaker\'s limits', () => {
    expect(() => pipelineFixture({ entryPoint: [''], arguments: Array.from({ length: 101 }, () => 'x') }))
      .toThrow(/'entryPoint' items must be 1-256 characters, got ''[\s\S]*'arguments' may have at most 100 items, got 101/);
  });

  test('on demand, without checkpoints unless asked', () => {
    const { stack } = pipelineFixture({ spot: undefined });
    const params = trainState(stack).Parameters as Json;
    expect(params.EnableManagedSpotTraining).toBe(false);
    expect(params.CheckpointConfig).toBeUndefined();
    expect(params.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 57600 });
  });

  test('distributed training encrypts traffic between instances and opens the group to itself', () => {
    const { stack } = pipelineFixture(({ stack: s }) => ({
      instanceCount: 4,
      vpc: new ec2.Vpc(s, 'Vpc', { maxAzs: 2, flowLogs: { all: {} } }),
      networkIsolation: true,
      spot: { maxWait: Duration.hours(20) },
    }));
    const params = trainState(stack).Parameters as Json;
    expect(params).toMatchObject({
      ResourceConfig: { InstanceCount: 4 },
      EnableInterContainerTrafficEncryption: true,
      EnableNetworkIsolation: true,
      StoppingCondition: { MaxRuntimeInSeconds: 57600, MaxWaitTimeInSeconds: 72000 },
      VpcConfig: { SecurityGroupIds: [expect.stringMatching(/^<ChurnSecurityGroup[0-9A-F]{8}\.GroupId>$/)], Subnets: [expect.any(String), expect.any(String)] },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: '-1',
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ChurnSecurityGroup'), 'GroupId'] },
    });
    expect(nagFindings(stack)).toEqual([]);
  });

  test('in a VPC of isolated subnets, runs in them and lets its role manage the network interfaces', () => {
    const { stack, pipeline } = pipelineFixture(({ stack: s }) => ({
      vpc: new ec2.Vpc(s, 'Vpc', {
        maxAzs: 2, natGateways: 0, flowLogs: { all: {} },
        subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
        gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      }),
      networkIsolation: true,
    }));
    const template = Template.fromStack(stack);
    const subnets = Object.keys(template.findResources('AWS::EC2::Subnet'));
    expect(subnets).toHaveLength(2);
    expect(trainState(stack).Parameters).toMatchObject({
      EnableNetworkIsolation: true,
      VpcConfig: { SecurityGroupIds: [expect.stringMatching(/^<ChurnSecurityGroup[0-9A-F]{8}\.GroupId>$/)], Subnets: subnets.map((id) => `<${id}>`) },
    });
    // One instance: the group is not opened to itself.
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    expect(pipeline.securityGroups).toHaveLength(1);
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('^ChurnTrainingRoleVpcAccess') } }));
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties.Roles).toEqual([{ Ref: expect.stringMatching(/^ChurnTrainingRole/) }]);
    expect(policies[0].Properties.PolicyDocument.Statement).toEqual([expect.objectContaining({
      Resource: '*', Action: expect.arrayContaining(['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:DescribeVpcs']),
    })]);
    const defaults = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('^ChurnTrainingRoleDefaultPolicy') } }));
    expect(defaults).toHaveLength(1);
    expect(JSON.stringify(defaults[0])).not.toContain('ec2:');
    expect(nagFindings(stack)).toEqual([]);
  });

  test('encrypts the volume with a key on an instance type without NVMe storage', () => {
    const { stack } = pipelineFixture(({ stack: s }) => ({
      instanceType: TrainingInstanceType.P3_2XLARGE,
      volumeEncryptionKey: new kms.Key(s, 'Volume', { enableKeyRotation: true }),
      volumeSize: Size.gibibytes(500),
    }));
    expect((trainState(stack).Parameters as Json).ResourceConfig).toEqual({
      InstanceType: 'ml.p3.2xlarge', InstanceCount: 1, VolumeSizeInGB: 500, VolumeKmsKeyId: expect.stringMatching(/^<Volume[0-9A-F]{8}\.Arn>$/),
    });
    expect(policyOf(stack, 'ChurnTrainingRole')).toContainEqual({
      Effect: 'Allow',
      Action: ['kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Volume/), 'Arn'] },
    });
  });

  test('approves automatically when configured (dev) and serves with its own image', () => {
    const { stack } = pipelineFixture({
      approvalStatus: 'Approved',
      inference: { image: ContainerImage.fromImageUri('123456789012.dkr.ecr.eu-west-1.amazonaws.com/serve:1'), contentTypes: ['text/csv'] },
    });
    const definition = definitionOf(stack);
    expect((definition.States.Register.Parameters as Json).ModelApprovalStatus).toBe('Approved');
    expect((definition.States.Gate.Parameters as { registration: Json }).registration).toMatchObject({
      inferenceImage: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/serve:1',
      contentTypes: ['text/csv'],
    });
  });

  test('notifies an SNS topic on success and failure, and alarms to it', () => {
    const { stack } = pipelineFixture(({ stack: s }) => ({
      notificationTopic: new sns.Topic(s, 'Ops', { enforceSSL: true, masterKey: new kms.Key(s, 'TopicKey', { enableKeyRotation: true }) }),
    }));
    const definition = definitionOf(stack);
    expect(definition.States.PublishSucceeded.Next).toBe('NotifySucceeded');
    expect(definition.States.PublishFailed.Next).toBe('NotifyFailed');
    expect(definition.States.NotifyFailed).toMatchObject({ Resource: 'arn:<AWS::Partition>:states:::sns:publish', Next: 'RunFailed' });
    const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(1);
    expect(alarms[0].Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Ops/) }]);
  });

  test('alarms to its own alarm topic, going into ALARM and back to OK, when given one', () => {
    const { stack } = pipelineFixture(({ stack: s }) => {
      const topic = (id: string) => new sns.Topic(s, id, { enforceSSL: true, masterKey: new kms.Key(s, `${id}Key`, { enableKeyRotation: true }) });
      return { notificationTopic: topic('Runs'), alarmTopic: topic('Alarms') };
    });
    const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(1);
    expect(alarms[0].Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Alarms/) }]);
    expect(alarms[0].Properties.OKActions).toEqual([{ Ref: expect.stringMatching(/^Alarms/) }]);
    expect(nagFindings(stack)).toEqual([]);
  });

  test('retrains on a schedule', () => {
    const { stack } = pipelineFixture({ schedule: events.Schedule.rate(Duration.days(7)) });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(7 days)',
      Targets: [Match.objectLike({ Input: '{"trigger":"schedule"}' })],
    });
  });

  test('retrains once per complete dataset, on its _SUCCESS marker', () => {
    const { stack } = pipelineFixture(({ datasets }) => ({ retrainOnNewData: { bucket: datasets, prefix: 'datasets/churn/' } }));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.s3'],
        'detail-type': ['Object Created'],
        'detail': { bucket: { name: [{ Ref: Match.stringLikeRegexp('^Datasets') }] }, object: { key: [{ wildcard: 'datasets/churn/*_SUCCESS' }] } },
      },
    });
    template.hasResourceProperties('Custom::S3BucketNotifications', { NotificationConfiguration: { EventBridgeConfiguration: {} } });
    expect(nagFindings(stack)).toEqual([]);
  });

  test('leaves a bucket that sends its events already as it is', () => {
    const { stack, pipeline } = pipelineFixture(({ datasets }) => ({ retrainOnNewData: { bucket: datasets, prefix: 'datasets/churn/', enableEventBridge: false } }));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
    expect(pipeline.node.metadata.filter((m) => m.type === 'aws:cdk:warning')).toEqual([]);
  });

  test('has CDK turn on the events of an imported bucket when asked', () => {
    const { stack, pipeline } = pipelineFixture(({ stack: s }) => ({
      retrainOnNewData: { bucket: s3.Bucket.fromBucketName(s, 'Imported', 'team-data'), prefix: 'churn/', enableEventBridge: true },
    }));
    Template.fromStack(stack).hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: 'team-data',
      NotificationConfiguration: { EventBridgeConfiguration: {} },
      Managed: false,
    });
    expect(pipeline.node.metadata.filter((m) => m.type === 'aws:cdk:warning')).toEqual([]);
    expect(nagFindings(stack)).toEqual([]);
  });

  test('warns that an imported dataset bucket must send events itself', () => {
    const { pipeline } = pipelineFixture(({ stack }) => ({
      retrainOnNewData: { bucket: s3.Bucket.fromBucketName(stack, 'Imported', 'team-data'), prefix: 'churn/', markerSuffix: '.done' },
    }));
    const warnings = pipeline.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
    expect(warnings).toEqual([expect.stringContaining('Enable EventBridge notifications on the dataset bucket')]);
  });
});

describe('TrainingPipeline validation', () => {
  const problems = (overrides: Partial<TrainingPipelineProps>) => problemsOf(() => pipelineFixture(overrides));

  test('rejects a CPU instance type unless explicitly allowed', () => {
    expect(problems({ instanceType: TrainingInstanceType.of('ml.m5.xlarge') })).toEqual([
      "'instanceType' must be a GPU or accelerator type (g4dn, g5, g6, g6e, p3, p4d, p4de, p5, p5e, trn1, ...) unless 'allowCpuInstance' is true, got 'ml.m5.xlarge'",
    ]);
    expect(() => pipelineFixture({ instanceType: TrainingInstanceType.of('ml.m5.xlarge'), allowCpuInstance: true })).not.toThrow();
  });

  test('rejects a spot wait shorter than the runtime, and a runtime over 28 days', () => {
    expect(problems({ maxRuntime: Duration.hours(10), spot: { maxWait: Duration.hours(8) } })).toEqual([
      "'spot.maxWait' must be at least 'maxRuntime' (10 hours), got '8 hours'",
    ]);
    expect(problems({ maxRuntime: Duration.days(29), spot: undefined })).toEqual([
      "'maxRuntime' must be between 1 second and 28 days, got '29 days'",
    ]);
  });

  test('rejects public subnets, and security groups without a VPC', () => {
    expect(problemsOf(() => pipelineFixture(({ stack }) => ({
      vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }), vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    })))).toEqual([
      "'vpcSubnets' must select private subnets (PRIVATE_ISOLATED or PRIVATE_WITH_EGRESS): SageMaker gives its network interfaces no public address, got 2 public subnets",
    ]);
    expect(problemsOf(() => pipelineFixture(({ stack }) => ({
      securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-1')],
    })))).toEqual(["'securityGroups' needs 'vpc': security groups apply to network interfaces in a VPC"]);
  });

  test('rejects spot without checkpoints, and a pipeline without a registry', () => {
    expect(problems({ checkpoints: false })).toEqual([
      "'checkpoints' cannot be false with 'spot': an interrupted spot job resumes only from a checkpoint",
    ]);
    expect(problems({ registry: undefined })).toEqual([
      "'registry' is required: the trained artifact, its checkpoints and its model package go to a ModelRegistry",
    ]);
  });

  test('rejects duplicate metric names, oversized regexes and regexes without a value group', () => {
    expect(problems({
      metrics: [
        { name: 'validation:auc', regex: 'auc=([0-9.]+)' },
        { name: 'validation:auc', regex: 'x'.repeat(495) + '([0-9]+)' },
        { name: 'train:loss', regex: 'loss=[0-9.]+' },
      ],
    })).toEqual([
      "'metrics.name' must be unique, got 'validation:auc' more than once",
      "'metrics.regex' of 'validation:auc' must be 1-500 characters, got 503",
      "'metrics.regex' of 'train:loss' must have a capturing group for the value, got 'loss=[0-9.]+'",
    ]);
  });

  test('rejects a gate on an undeclared metric and a malformed threshold', () => {
    expect(problems({ qualityGate: ['validation:f1 >= 0.5', 'auc above 0.9'] })).toEqual([
      "'qualityGate' refers to 'validation:f1', which is not in 'metrics' (declared: validation:auc, train:loss)",
      "'qualityGate' entries must read '<metric> <op> <number>' with op one of >=, >, <=, < (for example 'validation:auc >= 0.85'), got 'auc above 0.9'",
    ]);
  });

  test('rejects a volume key on an instance type with NVMe storage', () => {
    const key = kms.Key.fromKeyArn(new Stack(testApp(), 'K'), 'Key', 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    expect(problems({ volumeEncryptionKey: key })).toEqual([
      "'volumeEncryptionKey' is not allowed with 'ml.g5.2xlarge': its NVMe instance storage is encrypted in hardware and SageMaker rejects a volume key",
    ]);
  });

  test('rejects hyperparameters, environment and channels outside SageMaker\'s limits', () => {
    const data = s3.Bucket.fromBucketName(new Stack(testApp(), 'B'), 'Data', 'data');
    expect(problems({
      hyperparameters: { lr: 'x'.repeat(2501) },
      environment: { '1BAD': 'x' },
      inputs: [{ channelName: 'train', bucket: data, prefix: 'a/' }, { channelName: 'train', bucket: data, prefix: 'b/' }, { channelName: 'bad name', bucket: data, prefix: 'c/' }],
      instanceCount: 0,
      volumeSize: Size.gibibytes(0),
      nonFiniteCheckInterval: Duration.seconds(10),
    })).toEqual([
      "'instanceCount' must be an integer between 1 and 100, got 0",
      "'volumeSize' must be a whole number of GiB between 1 and 16384, got 0 GiB",
      "'inputs.channelName' must be 1-64 letters, digits, '.', '-' or '_', got 'bad name'",
      "'inputs.channelName' must be unique, got 'train' more than once",
      "'nonFiniteCheckInterval' must be between 1 minute and 1 hour, got '10 seconds'",
      "'hyperparameters.lr' must be a string of at most 2500 characters, got '2501 characters'",
      "'environment' keys must be environment variable names ([a-zA-Z_][a-zA-Z0-9_]*, at most 512 characters), got '1BAD'",
    ]);
  });

  test('rejects an invalid model name', () => {
    expect(problems({ model: 'Churn_Model' })).toEqual([
      "'model' must be 1-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit, got 'Churn_Model'",
    ]);
  });
});

describe('TrainingPipeline job names', () => {
  test('stay within 63 characters and SageMaker\'s pattern for every valid model name (property)', () => {
    const modelName = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/);
    fc.assert(fc.property(modelName, (model) => {
      const { pipeline } = pipelineFixture({ model });
      const jobName = `${pipeline.jobNamePrefix}-${'0'.repeat(32)}`;
      expect(jobName.length).toBeLessThanOrEqual(63);
      expect(jobName).toMatch(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/);
      expect(model.startsWith(pipeline.jobNamePrefix)).toBe(true);
    }), { numRuns: 15 });
  });
});

describe('TrainingPipeline as a resource other stacks use', () => {
  test('imports by state machine ARN, to start runs and watch them', () => {
    const stack = new Stack(testApp(), 'Ops', { env: { account: '222222222222', region: 'eu-west-1' } });
    const arn = 'arn:aws:states:eu-west-1:111111111111:stateMachine:churn-training';
    const pipeline = TrainingPipeline.fromStateMachineArn(stack, 'Churn', arn);
    expect(pipeline.env).toEqual({ account: '111111111111', region: 'eu-west-1' });
    expect(pipeline.stateMachineArn).toBe(arn);
    expect(pipeline.stateMachineName).toBe('churn-training');
    expect(pipeline.metricFailed()).toMatchObject({
      namespace: 'AWS/States', metricName: 'ExecutionsFailed', statistic: 'Sum', dimensions: { StateMachineArn: arn },
    });
    expect(pipeline.metricDuration({ period: Duration.hours(1) })).toMatchObject({ metricName: 'ExecutionTime', statistic: 'Average', period: Duration.hours(1) });
    pipeline.grantStartExecution(new iam.Role(stack, 'Ci', { assumedBy: new iam.AccountRootPrincipal() }));
    expect(policyOf(stack, 'Ci')).toEqual([{ Effect: 'Allow', Action: 'states:StartExecution', Resource: arn }]);
  });

  test('names its state machine when a stack of another account starts runs', () => {
    const { stack, pipeline } = pipelineFixture({}, { account: '111111111111', region: 'eu-west-1' });
    const ops = new Stack(Stage.of(stack)!, 'Ops', { env: { account: '222222222222', region: 'eu-west-1' } });
    pipeline.grantStartExecution(new iam.Role(ops, 'Ci', { assumedBy: new iam.AccountRootPrincipal() }));
    const machines = Object.values(Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'));
    expect(machines).toHaveLength(1);
    const name = machines[0].Properties.StateMachineName;
    expect(name).toMatch(/^[a-z0-9]{1,80}$/);
    expect(policyOf(ops, 'Ci')).toEqual([{
      Effect: 'Allow', Action: 'states:StartExecution', Resource: `arn:aws:states:eu-west-1:111111111111:stateMachine:${name}`,
    }]);
  });

  test('takes a state machine name, and names the rule it breaks', () => {
    const { stack, pipeline } = pipelineFixture({ stateMachineName: 'churn-training' });
    Template.fromStack(stack).hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineName: 'churn-training' });
    expect(stack.resolve(pipeline.stateMachineName)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ChurnStateMachine/), 'Name'] });
    expect(problemsOf(() => pipelineFixture({ stateMachineName: 'churn training' }))).toEqual([
      "'stateMachineName' must be 1-80 letters, digits and +!@.()-=_', got 'churn training'",
    ]);
  });
});

describe('TrainingPipeline grants for the CLI', () => {
  const { stack, pipeline } = pipelineFixture();
  pipeline.grantRead(new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() }));
  pipeline.grantStop(new iam.Role(stack, 'Stopper', { assumedBy: new iam.AccountRootPrincipal() }));
  const machine = expect.stringMatching(/^ChurnStateMachine/);
  const executions = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':execution:', { 'Fn::GetAtt': [machine, 'Name'] }, ':*']] };

  test('grantRead allows what train list and train status call: ListExecutions on the workflow, its executions, its training jobs', () => {
    expect(policyOf(stack, 'Reader')).toEqual([
      { Effect: 'Allow', Action: 'states:ListExecutions', Resource: { Ref: machine } },
      { Effect: 'Allow', Action: ['states:DescribeExecution', 'states:GetExecutionHistory'], Resource: executions },
      { Effect: 'Allow', Action: 'sagemaker:DescribeTrainingJob', Resource: arn('sagemaker', 'training-job/churn-*') },
    ]);
  });

  test('grantStop allows what train stop calls: reading an execution and stopping it', () => {
    expect(policyOf(stack, 'Stopper')).toEqual([
      { Effect: 'Allow', Action: ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution'], Resource: executions },
    ]);
  });

  test('passes the AwsSolutions checks, the execution and job wildcards acknowledged on the grantees', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  test('an imported pipeline grants on its own account and region, and on its model\'s jobs when it is named', () => {
    const ops = new Stack(testApp(), 'Ops', { env: { account: '222222222222', region: 'eu-west-1' } });
    const stateMachineArn = 'arn:aws:states:eu-west-1:111111111111:stateMachine:churn-training';
    const named = TrainingPipeline.fromTrainingPipelineAttributes(ops, 'Churn', { stateMachineArn, model: 'churn' });
    const unnamed = TrainingPipeline.fromStateMachineArn(ops, 'Other', stateMachineArn);
    named.grantRead(new iam.Role(ops, 'Reader', { assumedBy: new iam.AccountRootPrincipal() }));
    named.grantStop(new iam.Role(ops, 'Stopper', { assumedBy: new iam.AccountRootPrincipal() }));
    unnamed.grantRead(new iam.Role(ops, 'Auditor', { assumedBy: new iam.AccountRootPrincipal() }));
    const executionArns = 'arn:aws:states:eu-west-1:111111111111:execution:churn-training:*';
    const jobArns = (name: string) => `arn:aws:sagemaker:eu-west-1:111111111111:training-job/${name}`;
    expect(policyOf(ops, 'Reader')).toEqual([
      { Effect: 'Allow', Action: 'states:ListExecutions', Resource: stateMachineArn },
      { Effect: 'Allow', Action: ['states:DescribeExecution', 'states:GetExecutionHistory'], Resource: executionArns },
      { Effect: 'Allow', Action: 'sagemaker:DescribeTrainingJob', Resource: jobArns('churn-*') },
    ]);
    expect(policyOf(ops, 'Stopper')).toEqual([
      { Effect: 'Allow', Action: ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution'], Resource: executionArns },
    ]);
    expect(policyOf(ops, 'Auditor')[2]).toEqual({ Effect: 'Allow', Action: 'sagemaker:DescribeTrainingJob', Resource: jobArns('*') });
    expect(nagFindings(ops)).toEqual([]);
  });

  test('acknowledges only its own wildcards on a grantee', () => {
    const ops = new Stack(testApp(), 'Ops');
    const role = new iam.Role(ops, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    TrainingPipeline.fromTrainingPipelineAttributes(ops, 'Churn', { stateMachineArn: 'arn:aws:states:eu-west-1:111111111111:stateMachine:churn-training', model: 'churn' }).grantRead(role);
    role.addToPolicy(new iam.PolicyStatement({ actions: ['states:StopExecution'], resources: ['arn:aws:states:eu-west-1:111111111111:execution:other:*'] }));
    expect(nagFindings(ops)).toEqual(['AwsSolutions-IAM5[Resource::arn:aws:states:eu-west-1:111111111111:execution:other:*] at Ops/Reader/DefaultPolicy/Resource']);
  });

  test('refuses an imported model known only at deploy time', () => {
    const ops = new Stack(testApp(), 'Ops');
    expect(problemsOf(() => TrainingPipeline.fromTrainingPipelineAttributes(ops, 'Churn', {
      stateMachineArn: 'arn:aws:states:eu-west-1:111111111111:stateMachine:churn-training', model: new CfnParameter(ops, 'Model').valueAsString,
    }))).toEqual(["'model' must be known at synthesis: it names the training jobs, got a token"]);
  });

  test('a stack of another account reads and stops the runs of a pipeline it names at synthesis', () => {
    const { stack: home, pipeline: shared } = pipelineFixture({}, { account: '111111111111', region: 'eu-west-1' });
    const ops = new Stack(Stage.of(home)!, 'Ops', { env: { account: '222222222222', region: 'eu-west-1' } });
    shared.grantStop(new iam.Role(ops, 'Stopper', { assumedBy: new iam.AccountRootPrincipal() }));
    const machines = Object.values(Template.fromStack(home).findResources('AWS::StepFunctions::StateMachine'));
    expect(machines).toHaveLength(1);
    const name = machines[0].Properties.StateMachineName;
    expect(policyOf(ops, 'Stopper')).toEqual([{
      Effect: 'Allow',
      Action: ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution'],
      Resource: `arn:aws:states:eu-west-1:111111111111:execution:${name}:*`,
    }]);
    expect(nagFindings(ops)).toEqual([]);
  });
});

describe('TrainingPipeline with values known only at deploy time', () => {
  const { stack } = pipelineFixture(({ stack: s, datasets }) => {
    const number = (id: string) => new CfnParameter(s, id, { type: 'Number' }).valueAsNumber;
    return {
      stateMachineName: new CfnParameter(s, 'MachineName').valueAsString,
      instanceCount: number('Instances'),
      volumeSize: Size.gibibytes(number('VolumeGiB')),
      nonFiniteCheckInterval: Duration.seconds(number('CheckSeconds')),
      inputs: [{ channelName: new CfnParameter(s, 'Channel').valueAsString, bucket: datasets, prefix: 'datasets/churn/train/' }],
      hyperparameters: { epochs: new CfnParameter(s, 'Epochs').valueAsString },
    };
  });
  /** The definition with each number parameter replaced by a value, so it parses as JSON. */
  const numbers: Record<string, string> = { Instances: '4', VolumeGiB: '500', CheckSeconds: '120' };
  const definition = definitionOf(stack, (node) => numbers[String(node.Ref)] ?? placeholder(node));

  test('passes every checked number, size, duration and name through to the workflow', () => {
    const parallel = definition.States.RunTraining as { Branches: { States: Record<string, Json> }[] };
    const train = parallel.Branches[0].States.Train.Parameters as Json;
    expect(train).toMatchObject({
      ResourceConfig: { InstanceCount: 4, VolumeSizeInGB: 500 },
      InputDataConfig: [expect.objectContaining({ ChannelName: '<Channel>' })],
      HyperParameters: { epochs: '<Epochs>' },
    });
    expect(parallel.Branches[1].States.WaitBeforeLooking).toMatchObject({ Seconds: 120 });
    Template.fromStack(stack).hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineName: { Ref: 'MachineName' } });
  });

  test('encrypts traffic between instances, as the count may be more than 1', () => {
    const parallel = definition.States.RunTraining as { Branches: { States: Record<string, Json> }[] };
    expect(parallel.Branches[0].States.Train.Parameters).toMatchObject({ EnableInterContainerTrafficEncryption: true });
  });

  test('passes the AwsSolutions checks', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  test('refuses tokens where it needs the value at synthesis', () => {
    expect(problemsOf(() => pipelineFixture(({ stack: s }) => {
      const parameter = (id: string) => new CfnParameter(s, id, { type: 'Number' }).valueAsNumber;
      return {
        model: new CfnParameter(s, 'Model').valueAsString,
        maxRuntime: Duration.hours(parameter('Hours')),
        spot: { maxWait: Duration.hours(parameter('WaitHours')) },
      };
    }))).toEqual([
      "'model' must be known at synthesis: it names the training jobs and their registry prefixes, got a token",
      "'maxRuntime' must be known at synthesis: the workflow's timeout is derived from it, got a token",
      "'spot.maxWait' must be known at synthesis: the workflow's timeout is derived from it, got a token",
    ]);
  });
});
