import { CfnOutput, Duration, RemovalPolicy, Stack, Stage, StageProps } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { EnvironmentConfig } from '../config/environment-config';
import { encryptedBucket } from '../private/buckets';
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

    this.registryStack = new Stack(this, 'Registry', { description: describe('model registry') });
    this.registry = new ModelRegistry(this.registryStack, 'ModelRegistry', {
      readerAccounts: environment.registry.readerAccounts,
      noncurrentVersionExpiration: Duration.days(environment.registry.noncurrentVersionExpirationDays),
      destroyOnRemoval: destroy,
    });

    const training = environment.training;
    this.trainingStack = new Stack(this, 'Training', { description: describe(`training of ${training.model}`) });
    const datasets = encryptedBucket(this.trainingStack, 'Datasets', {
      encryptionKey: new kms.Key(this.trainingStack, 'DatasetsKey', {
        description: describe(`datasets of ${training.model}`),
        enableKeyRotation: true,
        removalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      }),
      accessLogsBucket: this.registry.accessLogsBucket,
      accessLogsPrefix: 'datasets/',
      lifecycleRules: [{ id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) }],
      removalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      autoDeleteObjects: destroy,
    });
    const images = new ecr.Repository(this.trainingStack, 'TrainingImages', {
      repositoryName: `modelship/${environment.name}/${training.model}`,
      imageScanOnPush: true,
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
        logStore: new InferenceLogStore(this.servingStack, 'InferenceLogs', { analytics: gateway.analytics, removalPolicy }),
        removalPolicy,
      });
      if (environment.release.enabled) {
        this.releaseController = new ReleaseController(this.servingStack, 'Release', {
          gateway: this.gateway,
          policy: policyFor(environment),
          production: environment.production,
          removalPolicy,
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
