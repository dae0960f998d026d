import { CfnOutput, Duration, RemovalPolicy, Stack, Stage, StageProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { EnvironmentConfig } from '../config/environment-config';
import { InferenceGateway } from '../hooks/inference-gateway';
import { InferenceLogStore } from '../hooks/inference-log-store';
import { ReleaseController } from '../hooks/release-controller';
import { RolloutPolicy } from '../release/rollout-policy';
import { ModelRegistry } from '../registry/model-registry';
import { DeploymentStrategy, TrafficSize } from '../serving/deployment-strategy';
import { EndpointModel } from '../serving/endpoint-model';
import { InferenceInstanceType } from '../serving/inference-instance-type';
import { ModelEndpoint, VariantProps } from '../serving/model-endpoint';
import { ContainerImage } from '../training/container-image';
import { TrainingInstanceType } from '../training/training-instance-type';
import { TrainingPipeline } from '../training/training-pipeline';

/** Properties of a {@link ModelshipStage}. */
export interface ModelshipStageProps extends StageProps {
  /** The environment's validated settings. */
  readonly environment: EnvironmentConfig;
}

/**
 * One environment (dev, staging, prod) of the modelship toolkit: every construct, composed
 * from the environment's settings. Deploy it with `cdk deploy '<id>/*'`.
 */
export class ModelshipStage extends Stage {
  /** The stack that holds the environment's alarm topic and, when configured, its VPC. */
  public readonly sharedStack: Stack;
  /** The topic every alarm of the environment notifies (KMS-encrypted, TLS only); subscribe to it. */
  public readonly alarmTopic: sns.Topic;
  /** The VPC of private isolated subnets training jobs and endpoints run in, when configured. */
  public readonly vpc?: ec2.Vpc;
  /** The stack that holds the model registry. */
  public readonly registryStack: Stack;
  /** The environment's model registry. */
  public readonly registry: ModelRegistry;
  /** The stack that holds the example model's datasets, training image and pipeline. */
  public readonly trainingStack: Stack;
  /** The example model's training pipeline. */
  public readonly training: TrainingPipeline;
  /** The stack that holds the example model's endpoints. */
  public readonly servingStack: Stack;
  /** The endpoint that serves the latest approved version. */
  public readonly endpoint: ModelEndpoint;
  /** The A/B endpoint (baseline version against the latest approved), when configured. */
  public readonly abEndpoint?: ModelEndpoint;
  /** The shadow endpoint (the latest approved version shadows the baseline), when configured. */
  public readonly shadowEndpoint?: ModelEndpoint;
  /** The inference gateway in front of the A/B endpoint (or the main one), when configured. */
  public readonly gateway?: InferenceGateway;
  /** The release controller on the A/B endpoint, when configured. */
  public readonly releaseController?: ReleaseController;
  /**
   * The role release managers assume to run the `modelship` CLI on the A/B endpoint (every reading and changing
   * command: `grantManualActions`), assumable by the account's principals allowed to; with the release controller.
   */
  public readonly releaseManagers?: iam.Role;

  /**
   * @param id the Stage's id; `addEnvironmentStages` uses the environment's name
   */
  constructor(scope: Construct, id: string, props: ModelshipStageProps) {
    const { environment } = props;
    super(scope, id, {
      env: { account: environment.account, region: environment.region },
      ...props,
    });
    const describe = (what: string) =>
      `modelship ${what} (${environment.name}${environment.description ? `: ${environment.description}` : ''})`;
    const destroy = environment.registry.removal === 'destroy';

    this.sharedStack = new Stack(this, 'Shared', { description: describe('alarm topic and network') });
    this.alarmTopic = alarmTopic(this.sharedStack, describe('alarms'), destroy);
    new CfnOutput(this.sharedStack, 'AlarmTopicArn', {
      description: `Subscribe to this topic to hear of every alarm of ${environment.name}`,
      value: this.alarmTopic.topicArn,
    });
    const network = environment.network;
    this.vpc = network.vpc ? isolatedVpc(this.sharedStack, network.cidr, network.maxAzs) : undefined;
    const placement = { vpc: this.vpc, networkIsolation: network.networkIsolation };

    this.registryStack = new Stack(this, 'Registry', { description: describe('model registry') });
    this.registry = new ModelRegistry(this.registryStack, 'ModelRegistry', {
      readerAccounts: environment.registry.readerAccounts,
      noncurrentVersionExpiration: Duration.days(environment.registry.noncurrentVersionExpirationDays),
      destroyOnRemoval: destroy,
    });

    const training = environment.training;
    this.trainingStack = new Stack(this, 'Training', { description: describe(`training of ${training.model}`) });
    const datasets = new s3.Bucket(this.trainingStack, 'Datasets', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      serverAccessLogsBucket: this.registry.accessLogsBucket,
      serverAccessLogsPrefix: 'datasets/',
      removalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      autoDeleteObjects: destroy,
    });
    const images = new ecr.Repository(this.trainingStack, 'TrainingImages', {
      repositoryName: `modelship/${environment.name}/${training.model}`,
      imageScanOnPush: true,
      // A tag names one image for good, so a run and a registered version can be reproduced.
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      lifecycleRules: [
        { description: 'Untagged images (failed or superseded pushes) expire after 14 days', tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: Duration.days(14) },
        { description: `Keep the ${training.maxImageCount} newest images`, tagStatus: ecr.TagStatus.ANY, maxImageCount: training.maxImageCount },
      ],
      encryption: ecr.RepositoryEncryption.KMS,
      removalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      emptyOnDelete: destroy,
    });
    const dataPrefix = `datasets/${training.model}/`;
    this.training = new TrainingPipeline(this.trainingStack, 'Pipeline', {
      model: training.model,
      registry: this.registry,
      image: ContainerImage.fromEcrRepository(images, training.imageTag),
      instanceType: TrainingInstanceType.of(training.instanceType),
      instanceCount: training.instanceCount,
      inputs: [
        { channelName: 'train', bucket: datasets, prefix: `${dataPrefix}train/`, contentType: 'text/csv' },
        { channelName: 'validation', bucket: datasets, prefix: `${dataPrefix}validation/`, contentType: 'text/csv' },
      ],
      maxRuntime: Duration.hours(training.maxRuntimeHours),
      spot: training.spot
        ? { maxWait: training.maxWaitHours ? Duration.hours(training.maxWaitHours) : undefined }
        : undefined,
      metrics: [
        { name: 'validation:auc', regex: 'validation-auc[=:]\\s*([0-9.eE+-]+)' },
        { name: 'validation:loss', regex: 'validation-loss[=:]\\s*([0-9.eE+-]+)', failOnNonFinite: true },
        { name: 'train:loss', regex: 'train-loss[=:]\\s*([0-9.eE+-]+)', failOnNonFinite: true },
      ],
      qualityGate: training.qualityGate,
      approvalStatus: training.approval,
      schedule: training.schedule ? events.Schedule.expression(training.schedule) : undefined,
      retrainOnNewData: { bucket: datasets, prefix: dataPrefix },
      ...placement,
      alarmTopic: this.alarmTopic,
    });

    const serving = environment.serving;
    this.servingStack = new Stack(this, 'Serving', { description: describe(`endpoints of ${training.model}`) });
    const variant = (variantName: string, model: EndpointModel, initialWeight = 1): VariantProps => ({
      variantName,
      model,
      instanceType: InferenceInstanceType.of(serving.instanceType),
      initialInstanceCount: serving.instanceCount,
      initialWeight,
      autoScaling: serving.maxInstanceCount
        ? { minCapacity: serving.instanceCount, maxCapacity: serving.maxInstanceCount, targetInvocationsPerInstance: 1000 }
        : undefined,
    });
    const endpointProps = (variants: VariantProps[]) => ({
      variants,
      strategy: strategyFor(serving.strategy, Duration.minutes(serving.waitMinutes)),
      latencyThreshold: serving.latencyThresholdMs ? Duration.millis(serving.latencyThresholdMs) : undefined,
      production: environment.production,
      ...placement,
      alarmTopic: this.alarmTopic,
    });
    const latest = () => EndpointModel.latestApproved(this.registry);
    const baseline = () => EndpointModel.fromModelPackageVersion(this.registry, serving.baselineVersion!);
    this.endpoint = new ModelEndpoint(this.servingStack, 'Endpoint', endpointProps([variant('main', latest())]));
    if (serving.abTest) {
      this.abEndpoint = new ModelEndpoint(this.servingStack, 'AbEndpoint',
        endpointProps([variant('baseline', baseline(), 90), variant('candidate', latest(), 10)]));
    }
    if (serving.shadow) {
      this.shadowEndpoint = new ModelEndpoint(this.servingStack, 'ShadowEndpoint', {
        ...endpointProps([variant('production', baseline())]),
        shadowVariant: { ...variant('shadow', latest()), initialInstanceCount: 1, autoScaling: undefined },
      });
    }

    const gateway = environment.gateway;
    if (gateway.enabled) {
      const removalPolicy = destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
      this.gateway = new InferenceGateway(this.servingStack, 'Gateway', {
        endpoint: this.abEndpoint ?? this.endpoint,
        bodySampleRate: gateway.bodySampleRate,
        redactFields: gateway.redactFields,
        outcomeWindow: Duration.days(gateway.outcomeWindowDays),
        outcomeTypes: [environment.release.outcomeType],
        throttle: { rateLimit: gateway.rateLimit, burstLimit: gateway.burstLimit },
        logStore: new InferenceLogStore(this.servingStack, 'InferenceLogs', { analytics: gateway.analytics, removalPolicy, alarmTopic: this.alarmTopic }),
        removalPolicy,
      });
      if (environment.release.enabled) {
        this.releaseController = new ReleaseController(this.servingStack, 'Release', {
          gateway: this.gateway,
          policy: policyFor(environment),
          production: environment.production,
          removalPolicy,
          alarmTopic: this.alarmTopic,
        });
        this.releaseManagers = new iam.Role(this.servingStack, 'ReleaseManagers', {
          assumedBy: new iam.AccountRootPrincipal(),
          description: describe('release managers: the modelship CLI on the A/B endpoint'),
        });
        this.releaseController.grantManualActions(this.releaseManagers);
        new CfnOutput(this.servingStack, 'ReleaseManagersRoleArn', {
          description: 'Assume this role to run `modelship list/status/promote/undo/rollout start ...` on the A/B endpoint',
          value: this.releaseManagers.roleArn,
        });
      }
    }
  }
}

/**
 * The environment's alarm topic: encrypted with its own key, which CloudWatch may use to publish
 * alarms (an encrypted topic hears nothing from CloudWatch otherwise), and reachable over TLS only.
 */
function alarmTopic(scope: Construct, description: string, destroy: boolean): sns.Topic {
  const key = new kms.Key(scope, 'AlarmTopicKey', {
    description: `Encrypts the ${description} topic`,
    enableKeyRotation: true,
    removalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  });
  key.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
    actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    resources: ['*'],
  }));
  return new sns.Topic(scope, 'AlarmTopic', { displayName: description, masterKey: key, enforceSSL: true });
}

/**
 * A VPC of private isolated subnets (no route to the internet either way) with an S3 gateway
 * endpoint, through which SageMaker reads datasets and artifacts and writes checkpoints and
 * models, and flow logs. Training jobs and models need nothing else from it: SageMaker pulls
 * images and ships logs and metrics outside the VPC.
 */
function isolatedVpc(scope: Construct, cidr: string, maxAzs: number): ec2.Vpc {
  const prefix = Number(cidr.split('/')[1]);
  return new ec2.Vpc(scope, 'Vpc', {
    ipAddresses: ec2.IpAddresses.cidr(cidr),
    maxAzs,
    natGateways: 0,
    // Two bits for up to three zones' subnets.
    subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: prefix + 2 }],
    gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.ALL } },
  });
}

/** The example's strategies: one canary instance, or 25% steps, each watched for `wait`. */
function strategyFor(name: 'allAtOnce' | 'canary' | 'linear', wait: Duration): DeploymentStrategy {
  switch (name) {
    case 'allAtOnce': return DeploymentStrategy.allAtOnce({ bake: wait });
    case 'canary': return DeploymentStrategy.canary({ size: TrafficSize.instances(1), wait, bake: wait });
    case 'linear': return DeploymentStrategy.linear({ step: TrafficSize.percent(25), wait, bake: wait });
  }
}

/**
 * The example's rollout policy: baseline against candidate on the configured business metric,
 * aborted when the candidate fails more than 2% of its invocations or (with a latency threshold)
 * its p99 exceeds it, with a person approving promotions in production.
 */
function policyFor(environment: EnvironmentConfig): RolloutPolicy {
  const { release, serving, production } = environment;
  const common = {
    baseline: 'baseline',
    candidate: 'candidate',
    metric: { kind: release.metric, outcomeType: release.outcomeType, minimumDetectableEffect: release.minimumDetectableEffect, betterWhen: 'higher' as const },
    guardrails: { maxErrorRate: 0.02, ...(serving.latencyThresholdMs ? { maxP99LatencyMs: serving.latencyThresholdMs } : {}) },
    evaluationIntervalMinutes: release.evaluationIntervalMinutes,
    maxDurationHours: release.maxDurationHours,
    manualGateBeforePromotion: production,
    ...(release.outcomeDelayMinutes !== undefined ? { outcomeDelayMinutes: release.outcomeDelayMinutes } : {}),
    ...(release.minRunHours !== undefined ? { minRunHours: release.minRunHours } : {}),
  };
  switch (release.policy) {
    case 'progressive': return RolloutPolicy.progressive({
      ...common, steps: release.steps, minStepMinutes: release.minStepMinutes,
      ...(release.nonInferiorityMargin !== undefined ? { nonInferiorityMargin: release.nonInferiorityMargin } : {}),
    });
    case 'experiment': return RolloutPolicy.experiment({ ...common, candidateWeight: release.candidateWeight });
    case 'bandit': return RolloutPolicy.bandit({ ...common, floorPercent: release.floorPercent });
  }
}
