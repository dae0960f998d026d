import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { isComplete, onEvent } from '../../lambda/endpoint-check';

const sagemaker = mockClient(SageMakerClient);
beforeEach(() => sagemaker.reset());

function event(type: 'Create' | 'Update' | 'Delete', props: Record<string, string> = { EndpointName: 'churn', EndpointConfigName: 'cfg-2' }) {
  return {
    RequestType: type,
    ResourceProperties: { ServiceToken: 'x', ...props },
    PhysicalResourceId: 'churn',
    ServiceToken: 'x', ResponseURL: 'x', StackId: 'x', RequestId: 'x', LogicalResourceId: 'x', ResourceType: 'Custom::ModelshipEndpointCheck',
  } as unknown as CloudFormationCustomResourceEvent;
}

describe('the endpoint check handler', () => {
  test('names the check after the endpoint, the same for repeated events', async () => {
    await expect(onEvent(event('Create'))).resolves.toEqual({ PhysicalResourceId: 'churn' });
    await expect(onEvent(event('Update'))).resolves.toEqual({ PhysicalResourceId: 'churn' });
    await expect(onEvent(event('Delete'))).resolves.toEqual({ PhysicalResourceId: 'churn' });
  });

  test('completes once the endpoint is in service on the deployed config', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'InService', EndpointConfigName: 'cfg-2' });
    await expect(isComplete(event('Update'))).resolves.toEqual({ IsComplete: true });
    expect(sagemaker).toHaveReceivedCommandWith(DescribeEndpointCommand, { EndpointName: 'churn' });
  });

  test('keeps waiting while the endpoint updates', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'Updating', EndpointConfigName: 'cfg-1' });
    await expect(isComplete(event('Update'))).resolves.toEqual({ IsComplete: false });
  });

  test('fails the deploy when SageMaker silently rolled back to the old config', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'InService', EndpointConfigName: 'cfg-1' });
    await expect(isComplete(event('Update'))).rejects.toThrow(
      'Deployment of churn failed: the update was rolled back: the endpoint serves cfg-1, not cfg-2');
  });

  test('fails the deploy when the endpoint failed, with SageMaker\'s reason', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'Failed', FailureReason: 'image not found' });
    await expect(isComplete(event('Create'))).rejects.toThrow('Deployment of churn failed: endpoint is Failed: image not found');
  });

  test('treats throttling as not yet complete, so the framework asks again', async () => {
    sagemaker.on(DescribeEndpointCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(isComplete(event('Update'))).resolves.toEqual({ IsComplete: false });
  });

  test('fails on other errors, such as a missing endpoint', async () => {
    sagemaker.on(DescribeEndpointCommand).rejects(Object.assign(new Error('Could not find endpoint'), { name: 'ValidationException' }));
    await expect(isComplete(event('Update'))).rejects.toThrow('Could not find endpoint');
  });

  test('completes a delete without looking', async () => {
    await expect(isComplete(event('Delete'))).resolves.toEqual({ IsComplete: true });
    expect(sagemaker).not.toHaveReceivedAnyCommand();
  });

  test('rejects an event without the endpoint and config', async () => {
    await expect(isComplete(event('Update', { EndpointName: 'churn' }))).rejects.toThrow(
      "Invalid check: expected 'EndpointName' and 'EndpointConfigName' properties");
    expect(sagemaker).not.toHaveReceivedAnyCommand();
  });
});
