import { Duration, RemovalPolicy, Stack, Stage, StageProps } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as events from 'aws-cdk-lib/aws-events';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { EnvironmentConfig } from '../config/environment-config';
import { ModelRegistry } from '../registry/model-registry';
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
 * from the environment's settings. Deploy it with `cdk deploy '<name>/*'`.
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

  constructor(scope: Construct, props: ModelshipStageProps) {
    const { environment } = props;
    super(scope, environment.name, {
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
  }
}
