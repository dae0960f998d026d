import { Stack, Stage, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { addEnvironmentStages, ModelshipError, ModelshipStage, parseEnvironments } from '../../lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { maskAssetHashes, nagFindings, testApp } from '../helpers';

function stacksOf(stage: Stage): Stack[] {
  return stage.node.findAll().filter((c): c is Stack => Stack.isStack(c));
}

describe('the example app built from cdk.json', () => {
  const app = testApp();
  const stages = addEnvironmentStages(app);
  const byName = Object.fromEntries(stages.map((s) => [s.stageName, s]));

  test('has one stage per declared environment, each with its shared, registry, training and serving stacks', () => {
    expect(stages.map((s) => s.stageName)).toEqual(['dev', 'staging', 'prod']);
    for (const stage of stages) {
      expect(stacksOf(stage).map((s) => s.stackName))
        .toEqual([`${stage.stageName}-Shared`, `${stage.stageName}-Registry`, `${stage.stageName}-Training`, `${stage.stageName}-Serving`]);
    }
  });

  test('deploys dev all at once on one small instance, staging as a canary, prod linearly with alarms', () => {
    const deployment = (name: string) => {
      const template = Template.fromStack(byName[name].servingStack);
      return { template, endpoint: Object.values(template.findResources('AWS::SageMaker::Endpoint')) };
    };
    const dev = deployment('dev');
    expect(dev.endpoint).toHaveLength(2);
    expect(dev.endpoint[0].Properties.DeploymentConfig.BlueGreenUpdatePolicy.TrafficRoutingConfiguration.Type).toBe('ALL_AT_ONCE');
    dev.template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ InstanceType: 'ml.t2.medium', InitialInstanceCount: 1 })],
    });
    expect(deployment('staging').endpoint[0].Properties.DeploymentConfig.BlueGreenUpdatePolicy.TrafficRoutingConfiguration)
      .toMatchObject({ Type: 'CANARY', CanarySize: { Type: 'INSTANCE_COUNT', Value: 1 }, WaitIntervalInSeconds: 600 });
    const prod = deployment('prod');
    expect(prod.endpoint).toHaveLength(3);
    for (const endpoint of prod.endpoint) {
      expect(endpoint.Properties.DeploymentConfig.BlueGreenUpdatePolicy.TrafficRoutingConfiguration.Type).toBe('LINEAR');
      expect(endpoint.Properties.DeploymentConfig.AutoRollbackConfiguration.Alarms.length).toBeGreaterThanOrEqual(3);
    }
    prod.template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ VariantName: 'baseline', InitialVariantWeight: 90 }), Match.objectLike({ VariantName: 'candidate', InitialVariantWeight: 10 })],
    });
    prod.template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ShadowProductionVariants: [Match.objectLike({ VariantName: 'shadow' })],
      DataCaptureConfig: Match.objectLike({ EnableCapture: true }),
    });
    prod.template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 4);
  });

  test('puts an inference gateway in front of each environment\'s A/B endpoint', () => {
    expect(byName.dev.gateway!.endpoint).toBe(byName.dev.abEndpoint);
    expect(byName.staging.gateway!.endpoint).toBe(byName.staging.abEndpoint);
    expect(byName.prod.gateway!.endpoint).toBe(byName.prod.abEndpoint);
    const prod = Template.fromStack(byName.prod.servingStack);
    prod.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 } });
    prod.resourceCountIs('AWS::Glue::Table', 1);
    prod.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 1);
    Template.fromStack(byName.staging.servingStack).resourceCountIs('AWS::Glue::Table', 0);
  });

  test('runs a release controller per environment: a bandit in dev, an experiment in staging, a gated progressive rollout in prod', () => {
    expect(byName.dev.releaseController!.policy).toMatchObject({ kind: 'bandit', floorPercent: 10, evaluationIntervalMinutes: 5 });
    expect(byName.staging.releaseController!.policy).toMatchObject({ kind: 'experiment', candidateWeight: 50, manualGateBeforePromotion: false });
    expect(byName.prod.releaseController!.policy).toMatchObject({
      kind: 'progressive', steps: [5, 10, 25, 50, 100], minStepMinutes: 240, manualGateBeforePromotion: true,
      guardrails: { maxErrorRate: 0.02, maxP99LatencyMs: 300 },
    });
    Template.fromStack(byName.prod.servingStack).hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
  });

  test('gives release managers a role that may run every CLI command on the A/B endpoint, and names it in an output', () => {
    const stages = Object.values(byName);
    expect(stages).toHaveLength(3);
    for (const stage of stages) {
      const template = Template.fromStack(stage.servingStack);
      template.hasOutput('ReleaseManagersRoleArn', {});
      const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^ReleaseManagers') }] } });
      expect(Object.keys(policies)).toHaveLength(1);
      const actions = JSON.stringify(Object.values(policies)[0]);
      for (const action of ['sagemaker:UpdateEndpointWeightsAndCapacities', 'sagemaker:ListEndpoints', 'sagemaker:DescribeModel', 'dynamodb:PutItem']) {
        expect(actions).toContain(action);
      }
    }
  });

  test('trains with each environment\'s instance type, budget, gate and approval', () => {
    const train = (name: string) => {
      const definition = JSON.stringify(Template.fromStack(byName[name].trainingStack)
        .findResources('AWS::StepFunctions::StateMachine'));
      return {
        instance: /InstanceType\\+":\\+"(ml\.[^\\"]+)/.exec(definition)?.[1],
        runtime: Number(/MaxRuntimeInSeconds\\+":(\d+)/.exec(definition)?.[1]),
        wait: Number(/MaxWaitTimeInSeconds\\+":(\d+)/.exec(definition)?.[1]),
        approval: /ModelApprovalStatus\\+":\\+"(\w+)/.exec(definition)?.[1],
      };
    };
    expect(train('dev')).toEqual({ instance: 'ml.g5.xlarge', runtime: 4 * 3600, wait: 8 * 3600, approval: 'Approved' });
    expect(train('prod')).toEqual({ instance: 'ml.p4d.24xlarge', runtime: 16 * 3600, wait: 36 * 3600, approval: 'PendingManualApproval' });
    Template.fromStack(byName.prod.trainingStack).hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(7 days)' });
    Template.fromStack(byName.dev.trainingStack).resourcePropertiesCountIs('AWS::Events::Rule', { ScheduleExpression: Match.anyValue() }, 0);
  });

  test('runs prod\'s training jobs and models in private isolated subnets, cut off the network; dev\'s outside any VPC', () => {
    const shared = Template.fromStack(byName.prod.sharedStack);
    const subnets = shared.findResources('AWS::EC2::Subnet');
    expect(Object.keys(subnets)).toHaveLength(2);
    for (const subnet of Object.values(subnets)) {
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
    }
    shared.resourceCountIs('AWS::EC2::InternetGateway', 0);
    shared.resourceCountIs('AWS::EC2::NatGateway', 0);
    shared.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway', ServiceName: Match.objectLike({}) });
    shared.resourceCountIs('AWS::EC2::FlowLog', 1);

    const models = Object.values(Template.fromStack(byName.prod.servingStack).findResources('AWS::SageMaker::Model'));
    expect(models).toHaveLength(5);
    for (const model of models) {
      expect(model.Properties.EnableNetworkIsolation).toBe(true);
      expect(model.Properties.VpcConfig.Subnets).toHaveLength(2);
      expect(model.Properties.VpcConfig.SecurityGroupIds).toHaveLength(1);
    }
    const definition = JSON.stringify(Template.fromStack(byName.prod.trainingStack).findResources('AWS::StepFunctions::StateMachine'));
    expect(definition).toMatch(/EnableNetworkIsolation\\":true/);
    expect(definition).toMatch(/VpcConfig\\":\{\\"SecurityGroupIds/);

    expect(byName.dev.vpc).toBeUndefined();
    const devModels = Object.values(Template.fromStack(byName.dev.servingStack).findResources('AWS::SageMaker::Model'));
    expect(devModels).toHaveLength(3);
    for (const model of devModels) {
      expect(model.Properties.VpcConfig).toBeUndefined();
      expect(model.Properties.EnableNetworkIsolation).toBeUndefined();
    }
  });

  test('keeps training images under immutable tags, expiring untagged ones and all but the newest 100', () => {
    for (const stage of stages) {
      const repositories = Object.values(Template.fromStack(stage.trainingStack).findResources('AWS::ECR::Repository'));
      expect(repositories).toHaveLength(1);
      const [repository] = repositories;
      expect(repository.Properties.ImageTagMutability).toBe('IMMUTABLE');
      expect(JSON.parse(repository.Properties.LifecyclePolicy.LifecyclePolicyText).rules).toEqual([
        expect.objectContaining({ rulePriority: 1, selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: 14, countUnit: 'days' } }),
        expect.objectContaining({ rulePriority: 2, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 100 } }),
      ]);
    }
  });

  test('every alarm of every stack notifies the environment\'s encrypted, TLS-only alarm topic, whose ARN is an output', () => {
    const alarmsPerStack: Record<string, number> = {};
    for (const stage of stages) {
      const shared = Template.fromStack(stage.sharedStack);
      const topics = shared.findResources('AWS::SNS::Topic');
      expect(Object.keys(topics)).toHaveLength(1);
      const [topicId] = Object.keys(topics);
      expect(topics[topicId].Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^AlarmTopicKey/), 'Arn'] });
      shared.hasResourceProperties('AWS::SNS::TopicPolicy', { PolicyDocument: { Statement: [
        Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ] } });
      shared.hasResourceProperties('AWS::KMS::Key', { KeyPolicy: { Statement: Match.arrayWith([
        Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
      ]) } });
      shared.hasOutput('AlarmTopicArn', { Value: { Ref: topicId } });
      for (const stack of stacksOf(stage)) {
        const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'));
        alarmsPerStack[stack.stackName] = alarms.length;
        // Another stack reads the topic's ARN from the shared stack's output of it.
        const topic = stack === stage.sharedStack ? `{"Ref":"${topicId}"}` : `OutputRef${topicId}`;
        for (const alarm of alarms) {
          for (const actions of [alarm.Properties.AlarmActions, alarm.Properties.OKActions]) {
            expect(actions).toHaveLength(1);
            expect(JSON.stringify(actions[0])).toContain(topic);
          }
        }
      }
    }
    // Serving: the endpoints' variants x 2 alarms (3 with a latency threshold), the controller's and the log store's two.
    expect(alarmsPerStack).toEqual({
      'dev-Shared': 0, 'dev-Registry': 0, 'dev-Training': 1, 'dev-Serving': 3 * 2 + 3,
      'staging-Shared': 0, 'staging-Registry': 0, 'staging-Training': 1, 'staging-Serving': 3 * 3 + 3,
      'prod-Shared': 0, 'prod-Registry': 0, 'prod-Training': 1, 'prod-Serving': 4 * 3 + 3,
    });
  });

  test('synthesizes environment-agnostic stacks when no account is configured', () => {
    expect(stages).toHaveLength(3);
    for (const stage of stages) {
      expect(Token.isUnresolved(stage.registryStack.account)).toBe(true);
      expect(Token.isUnresolved(stage.registryStack.region)).toBe(true);
    }
  });

  test('the AwsSolutions check used here does report findings', () => {
    const probe = new Stack(testApp(), 'Probe');
    new s3.Bucket(probe, 'Plain');
    expect(nagFindings(probe)).toEqual(expect.arrayContaining(['AwsSolutions-S1 at Probe/Plain/Resource']));
  });

  test('has no unacknowledged AwsSolutions findings in any stack', () => {
    const stacks = stages.flatMap(stacksOf);
    expect(stacks).toHaveLength(12);
    expect(stacks.flatMap(nagFindings)).toEqual([]);
  });

  test('lets dev destroy its registry and makes prod keep it for a year of versions', () => {
    const dev = Template.fromStack(byName.dev.registryStack);
    const prod = Template.fromStack(byName.prod.registryStack);
    dev.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
    prod.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    prod.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: { LifecycleConfiguration: { Rules: [
        { Id: 'abort-incomplete-multipart-uploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' },
        { Id: 'expire-noncurrent-versions', NoncurrentVersionExpiration: { NoncurrentDays: 365 }, Status: 'Enabled' },
      ] } },
    });
  });

  test('describes each stack with its environment', () => {
    expect(byName.prod.registryStack.templateOptions.description)
      .toBe('modelship model registry (prod: Production traffic)');
  });

  test('keeps the dev registry template stable (asset hashes masked)', () => {
    expect(maskAssetHashes(Template.fromStack(byName.dev.registryStack).toJSON())).toMatchSnapshot();
  });
});

describe('environment selection and settings', () => {
  const environments = {
    dev: { registry: { removal: 'destroy' }, training: { imageTag: 'v1' } },
    prod: { account: '123456789012', region: 'eu-west-1', production: true, registry: { readerAccounts: ['210987654321'] }, training: { imageTag: 'v1' } },
  };

  test('builds only the environments named by -c env', () => {
    const stages = addEnvironmentStages(testApp({ 'modelship:environments': environments, env: 'prod' }));
    expect(stages.map((s) => s.stageName)).toEqual(['prod']);
  });

  test('deploys to the configured account and region', () => {
    const [prod] = addEnvironmentStages(testApp({ 'modelship:environments': environments, env: 'prod' }));
    expect(prod.registryStack.account).toBe('123456789012');
    expect(prod.registryStack.region).toBe('eu-west-1');
  });

  test('shares the registry with the configured reader accounts', () => {
    const [prod] = addEnvironmentStages(testApp({ 'modelship:environments': environments, env: 'prod' }));
    Template.fromStack(prod.registryStack).hasResourceProperties('AWS::SageMaker::ModelPackageGroup', {
      ModelPackageGroupPolicy: { Statement: [
        { Principal: { AWS: 'arn:aws:iam::210987654321:root' } },
        { Principal: { AWS: 'arn:aws:iam::210987654321:root' } },
      ] },
    });
  });

  test('composes a stage of any id from a parsed environment', () => {
    const [sandbox] = parseEnvironments({ sandbox: { registry: { removal: 'destroy' }, training: { imageTag: 'v1' } } });
    const stage = new ModelshipStage(testApp(), 'Sandbox', { environment: sandbox });
    expect(stage.stageName).toBe('Sandbox');
    expect(stacksOf(stage).map((s) => s.stackName)).toEqual(['Sandbox-Shared', 'Sandbox-Registry', 'Sandbox-Training', 'Sandbox-Serving']);
    Template.fromStack(stage.registryStack).resourceCountIs('Custom::S3AutoDeleteObjects', 2);
  });

  test('rejects an unknown environment, listing the known ones', () => {
    expect(() => addEnvironmentStages(testApp({ 'modelship:environments': environments, env: 'qa' })))
      .toThrow("Invalid context 'env': unknown environment 'qa'; known environments: dev, prod");
  });

  test('rejects invalid settings before building anything', () => {
    const app = testApp({ 'modelship:environments': { dev: { region: 'moon' } } });
    expect(() => addEnvironmentStages(app)).toThrow(ModelshipError);
    expect(app.node.children).toHaveLength(0);
  });
});
