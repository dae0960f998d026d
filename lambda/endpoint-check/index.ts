import { Logger } from '@aws-lambda-powertools/logger';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { judgeDeploy } from '../../lib/serving/runtime/endpoint-health';

const logger = new Logger({ serviceName: 'modelship-endpoint-check' });
const sagemaker = new SageMakerClient({});

const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded']);

/** The custom resource's properties: the endpoint and the config this deploy asked for. */
interface CheckProperties {
  readonly EndpointName: string;
  readonly EndpointConfigName: string;
}

function propertiesOf(event: CloudFormationCustomResourceEvent): CheckProperties {
  const { EndpointName, EndpointConfigName } = event.ResourceProperties as unknown as Partial<CheckProperties>;
  if (!EndpointName || !EndpointConfigName) {
    throw new Error("Invalid check: expected 'EndpointName' and 'EndpointConfigName' properties");
  }
  return { EndpointName, EndpointConfigName };
}

/** Starts a check: nothing to do but name it after the endpoint (repeated events are harmless). */
export async function onEvent(event: CloudFormationCustomResourceEvent): Promise<{ PhysicalResourceId: string }> {
  if (event.RequestType === 'Delete') {
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  return { PhysicalResourceId: propertiesOf(event).EndpointName };
}

/**
 * Polled by the Provider framework until it answers true (or its total timeout passes): fails
 * the deployment, with the reason, when the endpoint failed or silently rolled back.
 */
export async function isComplete(event: CloudFormationCustomResourceEvent): Promise<{ IsComplete: boolean }> {
  if (event.RequestType === 'Delete') {
    return { IsComplete: true };
  }
  const { EndpointName, EndpointConfigName } = propertiesOf(event);
  let described;
  try {
    described = await sagemaker.send(new DescribeEndpointCommand({ EndpointName }));
  } catch (e) {
    if (THROTTLING.has((e as Error).name)) {
      logger.warn('throttled; will look again', { EndpointName });
      return { IsComplete: false };
    }
    throw e;
  }
  const verdict = judgeDeploy(described, EndpointConfigName);
  logger.info('endpoint checked', { EndpointName, EndpointConfigName, verdict });
  if (verdict.state === 'failed') {
    throw new Error(`Deployment of ${EndpointName} failed: ${verdict.reason}`);
  }
  return { IsComplete: verdict.state === 'deployed' };
}

export const handler = onEvent;
