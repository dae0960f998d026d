import { Duration, Environment, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ContainerImage, ModelRegistry, TrainingInstanceType, TrainingPipeline, TrainingPipelineProps } from '../../lib';
import { testApp, testStack } from '../helpers';

interface FixtureParts {
  readonly stack: Stack;
  readonly registry: ModelRegistry;
  readonly datasets: s3.Bucket;
  readonly repository: ecr.Repository;
}

/**
 * A stack (of `env`, when given) with a registry, a dataset bucket and a training image, and a
 * pipeline built from them; overrides may be computed from those parts.
 */
export function pipelineFixture(
  overrides: Partial<TrainingPipelineProps> | ((parts: FixtureParts) => Partial<TrainingPipelineProps>) = {},
  env?: Environment,
) {
  const stack: Stack = env ? new Stack(testApp(), 'TestStack', { env }) : testStack();
  const registry = new ModelRegistry(stack, 'Registry');
  const datasets = new s3.Bucket(stack, 'Datasets', {
    enforceSSL: true,
    encryption: s3.BucketEncryption.S3_MANAGED,
    serverAccessLogsBucket: registry.accessLogsBucket,
    serverAccessLogsPrefix: 'datasets/',
  });
  const repository = new ecr.Repository(stack, 'Images', { imageScanOnPush: true });
  const parts = { stack, registry, datasets, repository };
  const pipeline = new TrainingPipeline(stack, 'Churn', {
    model: 'churn',
    registry,
    image: ContainerImage.fromEcrRepository(repository, 'v1'),
    instanceType: TrainingInstanceType.G5_2XLARGE,
    inputs: [
      { channelName: 'train', bucket: datasets, prefix: 'datasets/churn/train/', contentType: 'text/csv' },
      { channelName: 'validation', bucket: datasets, prefix: 'datasets/churn/validation/', inputMode: 'FastFile' },
    ],
    maxRuntime: Duration.hours(16),
    spot: {},
    metrics: [
      { name: 'validation:auc', regex: 'val_auc=([0-9.]+)' },
      { name: 'train:loss', regex: 'train_loss=([0-9.]+)', failOnNonFinite: true },
    ],
    qualityGate: ['validation:auc >= 0.85'],
    hyperparameters: { epochs: '20', lr: '0.001' },
    ...(typeof overrides === 'function' ? overrides(parts) : overrides),
  });
  return { ...parts, pipeline };
}
