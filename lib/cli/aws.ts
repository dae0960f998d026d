import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';

/** Where to reach AWS: the standard SDK resolution, narrowed by `--region` and `--profile`. */
export interface AwsOptions {
  readonly region?: string;
  readonly profile?: string;
}

/**
 * The one seam between the commands and AWS. Commands take this; the shell builds the real
 * clients, tests build mocked ones. Endpoints follow the SDK's own settings (`AWS_ENDPOINT_URL`).
 */
export interface AwsClients {
  readonly sagemaker: SageMakerClient;
  readonly dynamodb: DynamoDBClient;
  readonly cloudwatch: CloudWatchClient;
  readonly sts: STSClient;
  readonly sfn: SFNClient;
}

/** Real clients for the options. */
export function awsClients(options: AwsOptions): AwsClients {
  const config = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    maxAttempts: 5,
  };
  return {
    sagemaker: new SageMakerClient(config),
    dynamodb: new DynamoDBClient(config),
    cloudwatch: new CloudWatchClient(config),
    sts: new STSClient(config),
    sfn: new SFNClient(config),
  };
}
