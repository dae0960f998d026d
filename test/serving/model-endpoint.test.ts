import { CfnParameter, Duration, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  ContainerImage, DeploymentStrategy, EndpointModel, InferenceInstanceType, ModelEndpoint, ModelEndpointProps,
  ModelRegistry, TrafficOwnership, TrafficSize, VariantProps,
} from '../../lib';
import { nagFindings, problemsOf, testApp, testStack } from '../helpers';

const PACKAGE = 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3';

function fixture(build: (parts: { stack: Stack; registry: ModelRegistry }) => ModelEndpointProps) {
  const stack = testStack({ 'modelship:deploy-id': 'test' });
  const registry = new ModelRegistry(stack, 'Registry');
  const endpoint = new ModelEndpoint(stack, 'Churn', build({ stack, registry }));
  return {
    stack, registry, endpoint,
    /** Synthesizes on first use, so a test may add to the stack before. */
    get template() {
      return Template.fromStack(stack);
    },
  };
}

const variant = (registry: ModelRegistry, name = 'main', extra: Partial<VariantProps> = {}): VariantProps => ({
  variantName: name,
  model: EndpointModel.fromModelPackage(registry, PACKAGE),
  instanceType: InferenceInstanceType.M5_LARGE,
  initialInstanceCount: 2,
  ...extra,
});

const single = (extra: Partial<ModelEndpointProps> = {}) => fixture(({ registry }) => ({ variants: [variant(registry)], ...extra }));

const problems = (build: Parameters<typeof fixture>[0]) => problemsOf(() => fixture(build));

describe('ModelEndpoint with one variant and default settings', () => {
  const { stack, endpoint, template } = single();

  test('serves the model package from a generated endpoint config, all at once', () => {
    template.hasResourceProperties('AWS::SageMaker::Model', { PrimaryContainer: { ModelPackageName: PACKAGE } });
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      EndpointConfigName: Match.absent(),
      ProductionVariants: [{
        VariantName: 'main', InstanceType: 'ml.m5.large', InitialInstanceCount: 2, InitialVariantWeight: 1,
        ModelName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ChurnModelmain'), 'ModelName'] },
      }],
      DataCaptureConfig: Match.absent(),
    });
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      EndpointName: endpoint.endpointName,
      EndpointConfigName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ChurnConfig'), 'EndpointConfigName'] },
      DeploymentConfig: {
        BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 } },
        AutoRollbackConfiguration: { Alarms: [
          { AlarmName: { Ref: Match.stringLikeRegexp('^ChurnmainErrors5XX') } },
          { AlarmName: { Ref: Match.stringLikeRegexp('^ChurnmainModelErrors') } },
        ] },
      },
      RetainAllVariantProperties: false,
    });
    expect(endpoint.endpointName).toMatch(/^TestStack-Churn-[0-9A-F]{8}$/);
  });

  test('the deployment owns weights and counts of a single fixed variant', () => {
    expect(endpoint.trafficOwnership).toBe(TrafficOwnership.DEPLOYMENT);
  });

  test('alarms per variant on 5XX and model errors', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SageMaker', MetricName: 'Invocation5XXErrors', Statistic: 'Sum', Period: 60,
      Dimensions: [{ Name: 'EndpointName', Value: endpoint.endpointName }, { Name: 'VariantName', Value: 'main' }],
      Threshold: 1, EvaluationPeriods: 3, DatapointsToAlarm: 2,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'InvocationModelErrors' });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
  });

  test('runs models with a role limited to the registry, its key, and this endpoint\'s logs', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref.startsWith('ChurnRole')));
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties.PolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:log-group:/aws/sagemaker/Endpoints/${endpoint.endpointName}:*`]] },
      },
      { Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringLike: { 'cloudwatch:namespace': ['AWS/SageMaker', '/aws/sagemaker/*'] } } },
      expect.objectContaining({ Action: ['s3:GetBucket*', 's3:GetObject*', 's3:List*'] }),
      expect.objectContaining({ Action: ['kms:Decrypt', 'kms:DescribeKey'] }),
      expect.objectContaining({ Action: ['sagemaker:DescribeModelPackage', 'sagemaker:DescribeModelPackageGroup'] }),
    ]);
  });

  test('checks after each deploy that the endpoint serves the new config', () => {
    template.hasResourceProperties('Custom::ModelshipEndpointCheck', {
      EndpointName: endpoint.endpointName,
      EndpointConfigName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ChurnConfig'), 'EndpointConfigName'] },
    });
    const checks = Object.values(template.findResources('Custom::ModelshipEndpointCheck'));
    expect(checks).toHaveLength(1);
    const [check] = checks;
    expect(check.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^Churn[0-9A-F]{8}$/)]));
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.isComplete' });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      DefinitionString: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([Match.stringLikeRegexp('"MaxAttempts":120')])]) }),
    });
  });

  test('shows invocations, latency, errors and alarms on a dashboard', () => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const [dashboard] = dashboards;
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const title of ['Invocations', 'Model latency p99', 'Model latency p50', '4XX / 5XX errors', 'Model errors', 'Rollback alarms']) {
      expect(body).toContain(title);
    }
    expect(dashboard.Properties.DashboardName).toBe(endpoint.endpointName);
  });

  test('grants invoke on this endpoint only, and offers per-variant metrics', () => {
    const { stack: other, endpoint: churn } = fixture(({ registry }) => ({ variants: [variant(registry)], postDeployCheck: false }));
    const role = new iam.Role(other, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    churn.grantInvoke(role);
    Template.fromStack(other).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Caller') }],
      PolicyDocument: { Statement: [{
        Effect: 'Allow', Action: 'sagemaker:InvokeEndpoint',
        Resource: { 'Fn::Join': ['', Match.arrayWith([`:endpoint/${churn.endpointName.toLowerCase()}`])] },
      }] },
    });
    const main = endpoint.findVariant('main');
    expect(main.variantName).toBe('main');
    expect(main.endpoint).toBe(endpoint);
    expect(main.metricModelLatency().statistic).toBe('p99');
    expect(main.metricInvocation4XXErrors().dimensions).toEqual({ EndpointName: endpoint.endpointName, VariantName: 'main' });
    expect(main.metricModelErrors({ period: Duration.minutes(1), statistic: 'Average' })).toMatchObject({
      metricName: 'InvocationModelErrors', statistic: 'Average', period: Duration.minutes(1),
    });
    expect(main.metricInvocations({ statistic: 'SampleCount' }).statistic).toBe('SampleCount');
  });

  test('passes the AwsSolutions checks', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('ModelEndpoint strategies and alarms', () => {
  test('a linear strategy rolls back on the default alarms and the p99 latency alarm', () => {
    const { template } = single({
      strategy: DeploymentStrategy.linear({ step: TrafficSize.percent(50), wait: Duration.minutes(10), bake: Duration.minutes(5) }),
      latencyThreshold: Duration.millis(250),
    });
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      DeploymentConfig: {
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: { Type: 'LINEAR', WaitIntervalInSeconds: 600, LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 50 } },
          TerminationWaitInSeconds: 300,
        },
        AutoRollbackConfiguration: { Alarms: Match.arrayWith([{ AlarmName: { Ref: Match.stringLikeRegexp('^ChurnmainLatencyP99') } }]) },
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ModelLatency', ExtendedStatistic: 'p99', Threshold: 250000, ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  test('a canary adds the user\'s business alarms', () => {
    const { template } = fixture(({ stack, registry }) => ({
      variants: [variant(registry)],
      strategy: DeploymentStrategy.canary({ size: TrafficSize.instances(1), wait: Duration.minutes(15) }),
      rollbackAlarms: [cloudwatch.Alarm.fromAlarmName(stack, 'Conversions', 'churn-conversion-drop')],
    }));
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      DeploymentConfig: {
        BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'INSTANCE_COUNT', Value: 1 } } },
        AutoRollbackConfiguration: { Alarms: Match.arrayWith([{ AlarmName: 'churn-conversion-drop' }]) },
      },
    });
  });

  test('rolling updates replace a single variant in place', () => {
    const { template } = single({ strategy: DeploymentStrategy.rolling({ batchSize: TrafficSize.instances(1), wait: Duration.minutes(5) }) });
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      DeploymentConfig: { RollingUpdatePolicy: { MaximumBatchSize: { Type: 'INSTANCE_COUNT', Value: 1 }, WaitIntervalInSeconds: 300 } },
    });
  });

  test('production refuses a gradual strategy without any rollback alarm', () => {
    expect(problems(({ registry }) => ({
      variants: [variant(registry)], production: true, defaultAlarms: false,
      strategy: DeploymentStrategy.canary({ size: TrafficSize.instances(1), wait: Duration.minutes(5) }),
    }))).toEqual(["'canary' in production needs at least one rollback alarm, got none: keep 'defaultAlarms' or pass 'rollbackAlarms'"]);
  });

  test('refuses more than ten rollback alarms', () => {
    expect(problems(({ registry }) => ({
      variants: ['a', 'b', 'c', 'd'].map((n) => variant(registry, n)),
      latencyThreshold: Duration.millis(100),
    }))).toEqual([
      "SageMaker accepts 1 to 10 rollback alarms, got 12 (the default alarms count: 4 variants x 3); set 'defaultAlarms' to false or pass fewer 'rollbackAlarms'",
    ]);
  });

  test('warns that Inf1 and Marketplace variants ignore a gradual strategy', () => {
    const { endpoint } = fixture(({ registry }) => ({
      variants: [
        variant(registry, 'inf', { instanceType: InferenceInstanceType.INF1_XLARGE }),
        variant(registry, 'market', { model: EndpointModel.fromModelPackage(registry, PACKAGE, { marketplace: true }) }),
        variant(registry, 'plain'),
      ],
      strategy: DeploymentStrategy.canary({ size: TrafficSize.instances(1), wait: Duration.minutes(5) }),
    }));
    const warnings = endpoint.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
    expect(warnings).toEqual([
      expect.stringContaining("Variant 'inf' runs on ml.inf1.xlarge (Inf1): SageMaker deploys it all at once without baking, ignoring the 'canary' strategy"),
      expect.stringContaining("Variant 'market' serves an AWS Marketplace model"),
    ]);
  });
});

describe('ModelEndpoint traffic ownership', () => {
  test('an A/B endpoint leaves weights and counts to the release process', () => {
    const { endpoint, template } = fixture(({ registry }) => ({
      variants: [variant(registry, 'baseline', { initialWeight: 90 }), variant(registry, 'candidate', { initialWeight: 10 })],
    }));
    expect(endpoint.trafficOwnership).toBe(TrafficOwnership.RELEASE_PROCESS);
    template.hasResourceProperties('AWS::SageMaker::Endpoint', { RetainAllVariantProperties: true, ExcludeRetainedVariantProperties: Match.absent() });
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ VariantName: 'baseline', InitialVariantWeight: 90 }), Match.objectLike({ VariantName: 'candidate', InitialVariantWeight: 10 })],
    });
  });

  test('autoscaling leaves instance counts to the autoscaler', () => {
    const { endpoint, template } = fixture(({ registry }) => ({
      variants: [variant(registry, 'main', { autoScaling: { minCapacity: 2, maxCapacity: 8, targetInvocationsPerInstance: 300 } })],
    }));
    expect(endpoint.trafficOwnership).toBe(TrafficOwnership.RELEASE_PROCESS);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'sagemaker',
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      ResourceId: `endpoint/${endpoint.endpointName}/variant/main`,
      MinCapacity: 2,
      MaxCapacity: 8,
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        TargetValue: 300, ScaleInCooldown: 300, ScaleOutCooldown: 60,
      },
    });
  });

  test('can let deploys own counts while the release process owns weights', () => {
    const { template } = fixture(({ registry }) => ({
      variants: [variant(registry, 'a'), variant(registry, 'b')],
      trafficOwnership: TrafficOwnership.releaseProcessExcept(['DesiredInstanceCount']),
    }));
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      RetainAllVariantProperties: true,
      ExcludeRetainedVariantProperties: [{ VariantPropertyType: 'DesiredInstanceCount' }],
    });
    expect(TrafficOwnership.releaseProcessExcept(['DesiredInstanceCount']).retains('DesiredWeight')).toBe(true);
    expect(TrafficOwnership.releaseProcessExcept(['DesiredInstanceCount']).retains('DesiredInstanceCount')).toBe(false);
  });

  test('warns when deploys would reset what the autoscaler set', () => {
    const { endpoint } = fixture(({ registry }) => ({
      variants: [variant(registry, 'main', { autoScaling: { maxCapacity: 4, targetInvocationsPerInstance: 100 } })],
      trafficOwnership: TrafficOwnership.DEPLOYMENT,
    }));
    expect(endpoint.node.metadata.map((m) => String(m.data))).toEqual(
      expect.arrayContaining([expect.stringContaining('every deploy resets what the autoscaler set')]));
  });
});

describe('ModelEndpoint with a shadow variant', () => {
  const { stack, endpoint, template } = fixture(({ registry }) => ({
    variants: [variant(registry, 'production')],
    shadowVariant: variant(registry, 'shadow', { model: EndpointModel.latestApproved(registry), initialInstanceCount: 1 }),
  }));

  test('mirrors traffic to the shadow variant', () => {
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ VariantName: 'production' })],
      ShadowProductionVariants: [Match.objectLike({ VariantName: 'shadow', InitialInstanceCount: 1 })],
    });
  });

  test('captures payloads by default, encrypted, under the endpoint\'s prefix in the registry bucket', () => {
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      DataCaptureConfig: {
        EnableCapture: true,
        InitialSamplingPercentage: 100,
        DestinationS3Uri: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^RegistryBucket') }, `/data-capture/${endpoint.endpointName}/`]] },
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RegistryKey'), 'Arn'] },
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
      },
    });
  });

  test('resolves the shadow\'s latest approved version at each deploy', () => {
    template.hasResourceProperties('Custom::AWS', {
      Update: Match.serializedJson(Match.objectLike({
        service: 'SageMaker',
        action: 'listModelPackages',
        parameters: Match.objectLike({ ModelApprovalStatus: 'Approved', SortBy: 'CreationTime', SortOrder: 'Descending', MaxResults: 1, DeployId: 'test' }),
      })),
    });
    template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: { ModelPackageName: { 'Fn::GetAtt': [Match.stringLikeRegexp('LatestApproved'), 'ModelPackageSummaryList.0.ModelPackageArn'] } },
    });
  });

  test('offers the shadow variant\'s metrics next to the production variant\'s', () => {
    expect(endpoint.variantNames).toEqual(['production']);
    expect(endpoint.findVariant('shadow').metricModelLatency().dimensions).toEqual({ EndpointName: endpoint.endpointName, VariantName: 'shadow' });
    expect(problemsOf(() => endpoint.findVariant('candidate'))).toEqual([
      "'variantName' must be one of the endpoint's variants ('production', 'shadow'), got 'candidate'",
    ]);
  });

  test('passes the AwsSolutions checks', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  test('refuses a shadow next to more than one production variant', () => {
    expect(problems(({ registry }) => ({
      variants: [variant(registry, 'a'), variant(registry, 'b')],
      shadowVariant: variant(registry, 's'),
    }))).toEqual(["'shadowVariant' needs exactly one production variant, got 2"]);
  });
});

describe('ModelEndpoint options', () => {
  test('tags a production endpoint so release tools ask for a reason and a confirmation', () => {
    const { template } = single({ production: true, latencyThreshold: Duration.millis(500) });
    template.hasResourceProperties('AWS::SageMaker::Endpoint', { Tags: [{ Key: 'modelship:production', Value: 'true' }] });
    single().template.hasResourceProperties('AWS::SageMaker::Endpoint', { Tags: Match.absent() });
  });

  test('captures a sample of requests only, when asked', () => {
    const { template } = single({ dataCapture: { samplingPercentage: 20, captureOutput: false, prefix: 'capture/churn/' } });
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      DataCaptureConfig: Match.objectLike({
        InitialSamplingPercentage: 20,
        CaptureOptions: [{ CaptureMode: 'Input' }],
        DestinationS3Uri: { 'Fn::Join': ['', ['s3://', Match.anyValue(), '/capture/churn/']] },
      }),
    });
  });

  test('serves an image and artifact from the registry, pulling from ECR', () => {
    const { template } = fixture(({ stack, registry }) => ({
      variants: [{
        variantName: 'main',
        model: EndpointModel.fromArtifact(registry, {
          model: 'churn', version: '1.4.0', image: ContainerImage.fromEcrRepository(new ecr.Repository(stack, 'Serve'), 'v2'),
        }),
        serverless: { memorySize: Size.gibibytes(2), maxConcurrency: 20 },
      }],
    }));
    template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: {
        Image: Match.anyValue(),
        ModelDataUrl: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^RegistryBucket') }, '/models/churn/1.4.0/output/model.tar.gz']] },
      },
    });
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 20 } })],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] })]) },
    });
  });

  test('encrypts instance volumes with a key where the instance type allows it', () => {
    const { template } = fixture(({ stack, registry }) => ({
      variants: [variant(registry)],
      volumeEncryptionKey: new kms.Key(stack, 'Volumes', { enableKeyRotation: true }),
    }));
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', { KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Volumes'), 'Arn'] } });
  });

  test('can skip the post-deploy check', () => {
    single({ postDeployCheck: false }).template.resourceCountIs('Custom::ModelshipEndpointCheck', 0);
  });

  test('imports an endpoint with its variants, for their metrics', () => {
    const imported = ModelEndpoint.fromModelEndpointAttributes(testStack(), 'Imported', { endpointName: 'churn-ab', variantNames: ['baseline', 'candidate'] });
    const candidate = imported.findVariant('candidate');
    expect(candidate.endpoint).toBe(imported);
    expect(candidate.metricInvocations({ period: Duration.minutes(1) })).toMatchObject({
      namespace: 'AWS/SageMaker', metricName: 'Invocations', statistic: 'Sum', period: Duration.minutes(1),
      dimensions: { EndpointName: 'churn-ab', VariantName: 'candidate' },
    });
    expect(problemsOf(() => imported.findVariant('shadow'))).toEqual([
      "'variantName' must be one of the endpoint's variants ('baseline', 'candidate'), got 'shadow'",
    ]);
  });

  test('imports an endpoint by name', () => {
    const stack = testStack();
    const imported = ModelEndpoint.fromModelEndpointName(stack, 'Imported', 'Churn-Prod');
    expect(stack.resolve(imported.endpointArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sagemaker:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':endpoint/churn-prod']],
    });
    expect(problemsOf(() => imported.findVariant('a'))).toEqual([
      "'variantName' must be one of the endpoint's variants (none known: import the endpoint with 'variantNames'), got 'a'",
    ]);
  });
});

const isolatedVpc = (stack: Stack) => new ec2.Vpc(stack, 'Vpc', {
  maxAzs: 2, natGateways: 0, flowLogs: { all: {} },
  subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
});

describe('ModelEndpoint in a VPC, cut off the network', () => {
  const { stack, endpoint, template } = fixture(({ stack: s, registry }) => ({
    variants: [variant(registry, 'a'), variant(registry, 'b', {
      model: EndpointModel.fromArtifact(registry, { model: 'churn', version: '1', image: ContainerImage.fromImageUri('123456789012.dkr.ecr.eu-west-1.amazonaws.com/serve:1') }),
    })],
    vpc: isolatedVpc(s),
    networkIsolation: true,
  }));

  test('places every model in the isolated subnets with the endpoint\'s own security group', () => {
    const models = Object.values(template.findResources('AWS::SageMaker::Model'));
    expect(models).toHaveLength(2);
    const subnets = Object.keys(template.findResources('AWS::EC2::Subnet')).map((id) => ({ Ref: id }));
    expect(subnets).toHaveLength(2);
    for (const model of models) {
      expect(model.Properties.EnableNetworkIsolation).toBe(true);
      expect(model.Properties.VpcConfig).toEqual({
        SecurityGroupIds: [{ 'Fn::GetAtt': [expect.stringMatching(/^ChurnSecurityGroup/), 'GroupId'] }],
        Subnets: subnets,
      });
    }
    expect(endpoint.securityGroups).toHaveLength(1);
    template.resourceCountIs('AWS::EC2::SecurityGroup', 1);
    template.resourcePropertiesCountIs('AWS::EC2::SecurityGroup', { SecurityGroupIngress: Match.anyValue() }, 0);
  });

  test('lets the model role manage its network interfaces, in a policy of its own that the models wait for', () => {
    const found = template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('^ChurnRoleVpcAccess') } });
    const policies = Object.values(found);
    expect(policies).toHaveLength(1);
    // The endpoint is created (and its network interfaces) only once the role may create them.
    const models = Object.values(template.findResources('AWS::SageMaker::Model'));
    expect(models).toHaveLength(2);
    for (const model of models) {
      expect(model.DependsOn).toContain(Object.keys(found)[0]);
    }
    expect(policies[0].Properties.Roles).toEqual([{ Ref: expect.stringMatching(/^ChurnRole/) }]);
    expect(policies[0].Properties.PolicyDocument.Statement).toEqual([{
      Effect: 'Allow', Resource: '*',
      Action: [
        'ec2:CreateNetworkInterface', 'ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface',
        'ec2:DeleteNetworkInterfacePermission', 'ec2:DescribeDhcpOptions', 'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs',
      ],
    }]);
  });

  test('passes the AwsSolutions checks, acknowledging the network-interface wildcard by its actions', () => {
    expect(nagFindings(stack)).toEqual([]);
    const acknowledged = JSON.stringify(stack.node.findAll().filter((c) => c.node.path.endsWith('VpcAccess/Resource')).map((c) => c.node.metadata));
    expect(acknowledged).toContain('ec2:CreateNetworkInterface, ec2:CreateNetworkInterfacePermission');
  });

  test('uses the security groups and subnets given', () => {
    const { template: t, endpoint: e } = fixture(({ stack: s, registry }) => {
      const vpc = new ec2.Vpc(s, 'Vpc', { maxAzs: 3, natGateways: 1 });
      return {
        variants: [variant(registry)], vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: [vpc.availabilityZones[0]] },
        securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(s, 'Given', 'sg-0123456789abcdef0')],
      };
    });
    t.hasResourceProperties('AWS::SageMaker::Model', {
      VpcConfig: { SecurityGroupIds: ['sg-0123456789abcdef0'], Subnets: [{ Ref: Match.stringLikeRegexp('^VpcPrivateSubnet1') }] },
      EnableNetworkIsolation: Match.absent(),
    });
    expect(e.securityGroups.map((g) => g.securityGroupId)).toEqual(['sg-0123456789abcdef0']);
    t.resourceCountIs('AWS::EC2::SecurityGroup', 0);
  });

  test('isolates the models without a VPC too, and leaves other endpoints\' models as they were', () => {
    const isolated = single({ networkIsolation: true }).template;
    isolated.hasResourceProperties('AWS::SageMaker::Model', { EnableNetworkIsolation: true, VpcConfig: Match.absent() });
    isolated.resourcePropertiesCountIs('AWS::IAM::Policy', { PolicyName: Match.stringLikeRegexp('VpcAccess') }, 0);
    isolated.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    const plain = Object.values(single().template.findResources('AWS::SageMaker::Model'));
    expect(plain).toHaveLength(1);
    expect(Object.keys(plain[0].Properties).sort()).toEqual(['ExecutionRoleArn', 'PrimaryContainer']);
  });
});

describe('ModelEndpoint with an alarm topic', () => {
  test('every alarm it creates notifies the topic, rollback alarms included; alarms passed in keep their actions', () => {
    const { stack, template } = fixture(({ stack: s, registry }) => ({
      variants: [variant(registry, 'a'), variant(registry, 'b')],
      latencyThreshold: Duration.millis(200),
      strategy: DeploymentStrategy.linear({ step: TrafficSize.percent(50), wait: Duration.minutes(5) }),
      rollbackAlarms: [new cloudwatch.Alarm(s, 'Business', { metric: new cloudwatch.Metric({ namespace: 'Shop', metricName: 'Orders' }), threshold: 1, evaluationPeriods: 1 })],
      alarmTopic: new sns.Topic(s, 'Alarms', { enforceSSL: true, masterKey: new kms.Key(s, 'AlarmKey', { enableKeyRotation: true }) }),
    }));
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    expect(Object.keys(alarms)).toHaveLength(7);
    const topic = { Ref: expect.stringMatching(/^Alarms/) };
    const created = Object.entries(alarms).filter(([id]) => id.startsWith('Churn'));
    expect(created).toHaveLength(6);
    for (const [, alarm] of created) {
      expect(alarm.Properties.AlarmActions).toEqual([topic]);
      expect(alarm.Properties.OKActions).toEqual([topic]);
    }
    const rollback = template.findResources('AWS::SageMaker::Endpoint');
    expect(Object.values(rollback)[0].Properties.DeploymentConfig.AutoRollbackConfiguration.Alarms).toHaveLength(7);
    expect(Object.entries(alarms).find(([id]) => id.startsWith('Business'))![1].Properties.AlarmActions).toBeUndefined();
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('ModelEndpoint validation', () => {
  test.each<[string, Parameters<typeof fixture>[0], string[]]>([
    ['public subnets', ({ stack, registry }) => ({
      variants: [variant(registry)], vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }), vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    }), ["'vpcSubnets' must select private subnets (PRIVATE_ISOLATED or PRIVATE_WITH_EGRESS): SageMaker gives its network interfaces no public address, got 2 public subnets"]],
    ['a VPC of public subnets only', ({ stack, registry }) => ({
      variants: [variant(registry)], vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] }),
    }), ["'vpcSubnets' must select private subnets (PRIVATE_ISOLATED or PRIVATE_WITH_EGRESS): SageMaker gives its network interfaces no public address, got 2 public subnets (the VPC has no private subnets to default to)"]],
    ['a subnet group the VPC does not have', ({ stack, registry }) => ({
      variants: [variant(registry)], vpc: isolatedVpc(stack), vpcSubnets: { subnetGroupName: 'models' },
    }), [expect.stringMatching(/^'vpcSubnets' must select subnets of the VPC, got a selection it cannot make: .*models/) as unknown as string]],
    ['security groups and subnets without a VPC', ({ stack, registry }) => ({
      variants: [variant(registry)], vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-1')],
    }), [
      "'securityGroups' needs 'vpc': security groups apply to network interfaces in a VPC",
      "'vpcSubnets' needs 'vpc': it selects subnets of the VPC",
    ]],
    ['six security groups', ({ stack, registry }) => ({
      variants: [variant(registry)], vpc: isolatedVpc(stack),
      securityGroups: Array.from({ length: 6 }, (_, i) => ec2.SecurityGroup.fromSecurityGroupId(stack, `Sg${i}`, `sg-${i}`)),
    }), ["'securityGroups' must have between 1 and 5 security groups, got 6"]],
    ['a VPC and network isolation with a serverless variant', ({ stack, registry }) => ({
      variants: [variant(registry, 'a', { instanceType: undefined, serverless: { memorySize: Size.gibibytes(2), maxConcurrency: 5 } })],
      vpc: isolatedVpc(stack), networkIsolation: true,
    }), ["'vpc' and 'networkIsolation' are not allowed with serverless variants (SageMaker Serverless Inference supports neither a VPC nor network isolation), got serverless variant 'a'"]],
    ['no variants', () => ({ variants: [] }), ["'variants' must have between 1 and 10 production variants, got 0"]],
    ['duplicate variant names', ({ registry }) => ({ variants: [variant(registry, 'a'), variant(registry, 'a')] }),
      ["'variantName' must be unique, got 'a' more than once"]],
    ['a malformed variant name', ({ registry }) => ({ variants: [variant(registry, 'v1.2')] }),
      ["'variantName' must be a literal of 1-63 letters, digits and hyphens (it must stay the same across versions), got 'v1.2'"]],
    ['both instance type and serverless', ({ registry }) => ({ variants: [variant(registry, 'a', { serverless: { memorySize: Size.gibibytes(1), maxConcurrency: 1 } })] }),
      ["Specify either 'instanceType' or 'serverless' for variant 'a', not both"]],
    ['neither instance type nor serverless', ({ registry }) => ({ variants: [variant(registry, 'a', { instanceType: undefined })] }),
      ["Specify either 'instanceType' or 'serverless' for variant 'a', not neither"]],
    ['serverless memory and concurrency out of range', ({ registry }) => ({
      variants: [variant(registry, 'a', { instanceType: undefined, serverless: { memorySize: Size.mebibytes(1500), maxConcurrency: 500 } })],
    }), [
      "'serverless.memorySize' of variant 'a' must be 1-6 GiB in whole GiB, got 1500 MiB",
      "'serverless.maxConcurrency' of variant 'a' must be an integer between 1 and 200, got 500",
    ]],
    ['all weights zero', ({ registry }) => ({ variants: [variant(registry, 'a', { initialWeight: 0 })] }),
      ["'initialWeight' must be above 0 for at least one production variant, got 0 for all"]],
    ['a zero instance count and a negative weight', ({ registry }) => ({ variants: [variant(registry, 'a', { initialInstanceCount: 0, initialWeight: -1 }), variant(registry, 'b')] }), [
      "'initialInstanceCount' of variant 'a' must be a whole number of at least 1, got 0",
      "'initialWeight' of variant 'a' must be 0 or more, got -1",
    ]],
    ['autoscaling bounds inverted', ({ registry }) => ({ variants: [variant(registry, 'a', { autoScaling: { minCapacity: 5, maxCapacity: 2, targetInvocationsPerInstance: 0 } })] }), [
      "'autoScaling' of variant 'a' must have whole capacities with 1 <= minCapacity <= maxCapacity, got 5-2",
      "'autoScaling.targetInvocationsPerInstance' of variant 'a' must be above 0, got 0",
    ]],
    ['a volume key on NVMe instances', ({ stack, registry }) => ({
      variants: [variant(registry, 'gpu', { instanceType: InferenceInstanceType.G5_XLARGE })],
      volumeEncryptionKey: kms.Key.fromKeyArn(stack, 'K', 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab'),
    }), ["'volumeEncryptionKey' is not allowed with variant 'gpu' (ml.g5.xlarge): its storage takes no volume key"]],
    ['a sampling percentage over 100 and nothing to capture', ({ registry }) => ({
      variants: [variant(registry)], dataCapture: { samplingPercentage: 150, captureInput: false, captureOutput: false },
    }), [
      "'dataCapture.samplingPercentage' must be between 0 and 100, got 150",
      "'dataCapture' must capture input, output or both, got neither",
    ]],
    ['rolling on an A/B endpoint', ({ registry }) => ({
      variants: [variant(registry, 'a'), variant(registry, 'b')],
      strategy: DeploymentStrategy.rolling({ batchSize: TrafficSize.instances(1), wait: Duration.minutes(1) }),
    }), ["'rolling' is available only for endpoints with one production variant, got 2: use a blue/green strategy"]],
    ['a canary larger than half the fleet', ({ registry }) => ({
      variants: [variant(registry)],
      strategy: DeploymentStrategy.canary({ size: TrafficSize.instances(2), wait: Duration.minutes(1) }),
    }), ["'canary.size' must be at most 50% of the variant's instances, got 2 instances of 2 instances (100%)"]],
    ['a malformed endpoint name', ({ registry }) => ({ variants: [variant(registry)], endpointName: 'churn_prod' }),
      ["'endpointName' must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit, got 'churn_prod'"]],
  ])('rejects %s', (_, build, expected) => {
    expect(problems(build)).toEqual(expected);
  });

  test('rejects a malformed instance type name', () => {
    expect(() => InferenceInstanceType.of('g5.xlarge')).toThrow("'instanceType' must match ml.<family>.<size> (for example ml.g5.xlarge), got 'g5.xlarge'");
  });
});

describe('ModelEndpoint names', () => {
  test('a stack of another account invokes it by its literal ARN', () => {
    const app = testApp();
    const serving = new Stack(app, 'Serving', { env: { account: '111111111111', region: 'eu-west-1' } });
    const endpoint = new ModelEndpoint(serving, 'Churn', {
      variants: [variant(new ModelRegistry(serving, 'Registry'))],
      postDeployCheck: false,
    });
    const consumer = new Stack(app, 'Consumer', { env: { account: '222222222222', region: 'eu-west-1' } });
    endpoint.grantInvoke(new iam.Role(consumer, 'Caller', { assumedBy: new iam.AccountRootPrincipal() }));
    Template.fromStack(consumer).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({
        Action: 'sagemaker:InvokeEndpoint',
        Resource: `arn:aws:sagemaker:eu-west-1:111111111111:endpoint/${endpoint.endpointName.toLowerCase()}`,
      })] },
    });
  });
});

describe('ModelEndpoint with values known only at deploy time', () => {
  const { stack, template } = fixture(({ stack: s, registry }) => {
    const number = (id: string) => new CfnParameter(s, id, { type: 'Number' }).valueAsNumber;
    return {
      endpointName: new CfnParameter(s, 'EndpointName').valueAsString,
      variants: [variant(registry, 'main', {
        initialInstanceCount: number('Instances'),
        initialWeight: number('Weight'),
        autoScaling: { minCapacity: number('MinInstances'), maxCapacity: number('MaxInstances'), targetInvocationsPerInstance: number('Target') },
      })],
      strategy: DeploymentStrategy.canary({
        size: TrafficSize.instances(number('CanaryInstances')),
        wait: Duration.seconds(number('CanaryWait')),
        maximumExecutionTimeout: Duration.seconds(number('Timeout')),
      }),
      dataCapture: { samplingPercentage: number('Sampling') },
    };
  });

  test('passes every checked number, duration and name through to the template', () => {
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ InitialInstanceCount: { Ref: 'Instances' }, InitialVariantWeight: { Ref: 'Weight' } })],
      DataCaptureConfig: Match.objectLike({ InitialSamplingPercentage: { Ref: 'Sampling' } }),
    });
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      EndpointName: { Ref: 'EndpointName' },
      DeploymentConfig: Match.objectLike({
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: { Type: 'CANARY', WaitIntervalInSeconds: { Ref: 'CanaryWait' }, CanarySize: { Type: 'INSTANCE_COUNT', Value: { Ref: 'CanaryInstances' } } },
          MaximumExecutionTimeoutInSeconds: { Ref: 'Timeout' },
        },
      }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: { Ref: 'MinInstances' }, MaxCapacity: { Ref: 'MaxInstances' } });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: { Ref: 'Target' } }),
    });
  });

  test('passes the AwsSolutions checks', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  test('passes serverless memory and concurrency through', () => {
    const { template: serverless } = fixture(({ stack: s, registry }) => ({
      variants: [variant(registry, 'main', {
        instanceType: undefined,
        serverless: {
          memorySize: Size.mebibytes(new CfnParameter(s, 'Memory', { type: 'Number' }).valueAsNumber),
          maxConcurrency: new CfnParameter(s, 'Concurrency', { type: 'Number' }).valueAsNumber,
        },
      })],
    }));
    serverless.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ ServerlessConfig: { MemorySizeInMB: { Ref: 'Memory' }, MaxConcurrency: { Ref: 'Concurrency' } } })],
    });
  });

  test('refuses a latency threshold it cannot convert to microseconds', () => {
    expect(problems(({ stack: s, registry }) => ({
      variants: [variant(registry)],
      latencyThreshold: Duration.millis(new CfnParameter(s, 'Latency', { type: 'Number' }).valueAsNumber),
    }))).toEqual([
      "'latencyThreshold' must be known at synthesis: the alarm threshold is in microseconds, which a token cannot be converted to, got a token",
    ]);
  });
});
