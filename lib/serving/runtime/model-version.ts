import { DescribeEndpointConfigCommand, DescribeModelCommand, DescribeModelCommandOutput, SageMakerClient } from '@aws-sdk/client-sagemaker';

/**
 * Which model version a variant serves, read from SageMaker the same way by the release
 * controller (to start a rollout per candidate version) and the CLI (`modelship rollout start`).
 */

/** What `DescribeModel` says of a model's containers. */
export type ModelDescription = Pick<DescribeModelCommandOutput, 'ModelName' | 'PrimaryContainer' | 'Containers'>;

/**
 * The version a model serves: its container's model package ARN (`…:model-package/<group>/<n>`),
 * else its artifact's S3 URL, else its image; the model's name when it has none of them. A deploy
 * that recreates the model from the same package or artifact keeps the version.
 */
export function modelVersionOf(model: ModelDescription): string {
  const container = model.PrimaryContainer ?? model.Containers?.[0];
  return container?.ModelPackageName
    ?? container?.ModelDataUrl
    ?? container?.ModelDataSource?.S3DataSource?.S3Uri
    ?? container?.Image
    ?? `model:${model.ModelName ?? 'unknown'}`;
}

/**
 * The version `variant` serves under the endpoint config `endpointConfigName` (two reads:
 * the config, then the variant's model), or undefined when the config has no such variant
 * with a model. Configs and models never change once created, so callers may cache the answer
 * by config name.
 */
export async function variantModelVersion(sagemaker: SageMakerClient, endpointConfigName: string, variant: string): Promise<string | undefined> {
  const config = await sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: endpointConfigName }));
  const modelName = config.ProductionVariants?.find((v) => v.VariantName === variant)?.ModelName;
  return modelName ? modelVersionOf(await sagemaker.send(new DescribeModelCommand({ ModelName: modelName }))) : undefined;
}
