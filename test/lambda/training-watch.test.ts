import { CloudWatchLogsClient, FilterLogEventsCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTrainingJobCommand, SageMakerClient, StopTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { TRAINING_LOG_GROUP, watch } from '../../lambda/training-watch';

const sagemaker = mockClient(SageMakerClient);
const logs = mockClient(CloudWatchLogsClient);
const metrics = [{ name: 'train:loss', regex: 'loss=([0-9.]+)' }];
const jobName = 'churn-0123456789abcdef0123456789abcdef';

beforeEach(() => {
  sagemaker.reset();
  logs.reset();
});

function jobIs(status: string) {
  sagemaker.on(DescribeTrainingJobCommand).resolves({ TrainingJobStatus: status as never });
}

describe('the training watch handler', () => {
  test('stops a running job whose watched metric is NaN and says where', async () => {
    jobIs('InProgress');
    logs.on(FilterLogEventsCommand).resolves({
      events: [{ message: 'step 10 loss=0.3', timestamp: 1000 }, { message: 'step 11 loss=nan', timestamp: 2000 }],
    });
    await expect(watch({ trainingJobName: jobName, metrics, cursor: 500 })).resolves.toEqual({
      state: 'NON_FINITE', metric: 'train:loss', line: 'step 11 loss=nan', cursor: 2000,
    });
    expect(logs).toHaveReceivedCommandWith(FilterLogEventsCommand, {
      logGroupName: TRAINING_LOG_GROUP,
      logStreamNamePrefix: `${jobName}/`,
      startTime: 500,
      filterPattern: '?nan ?NaN ?NAN ?inf ?Inf ?INF',
    });
    expect(sagemaker).toHaveReceivedCommandWith(StopTrainingJobCommand, { TrainingJobName: jobName });
  });

  test('keeps watching a healthy job and advances the cursor over every page', async () => {
    jobIs('InProgress');
    logs.on(FilterLogEventsCommand)
      .resolvesOnce({ events: [{ message: 'grad=inf loss=0.4', timestamp: 3000 }], nextToken: 'page-2' })
      .resolvesOnce({ events: [{ message: 'loss=0.3 lr=inf', timestamp: 4000 }] });
    await expect(watch({ trainingJobName: jobName, metrics, cursor: 0 })).resolves.toEqual({ state: 'RUNNING', cursor: 4000 });
    expect(logs).toHaveReceivedCommandTimes(FilterLogEventsCommand, 2);
    expect(logs).toHaveReceivedNthSpecificCommandWith(2, FilterLogEventsCommand, { nextToken: 'page-2' });
    expect(sagemaker).not.toHaveReceivedCommand(StopTrainingJobCommand);
  });

  test.each(['Completed', 'Failed', 'Stopped'])('reports DONE once the job is %s, without stopping it', async (status) => {
    jobIs(status);
    logs.on(FilterLogEventsCommand).resolves({ events: [{ message: 'loss=nan', timestamp: 10 }] });
    await expect(watch({ trainingJobName: jobName, metrics, cursor: 5 })).resolves.toEqual({ state: 'DONE', cursor: 10 });
    expect(sagemaker).not.toHaveReceivedCommand(StopTrainingJobCommand);
  });

  test('waits for a job that does not exist yet, or whose log group does not', async () => {
    sagemaker.on(DescribeTrainingJobCommand).rejects(Object.assign(new Error('Requested resource not found'), { name: 'ValidationException' }));
    logs.on(FilterLogEventsCommand).rejects(new ResourceNotFoundException({ message: 'no log group', $metadata: {} }));
    await expect(watch({ trainingJobName: jobName, metrics, cursor: 7 })).resolves.toEqual({ state: 'RUNNING', cursor: 7 });
  });

  test('lets throttling reach Step Functions, which retries the task', async () => {
    sagemaker.on(DescribeTrainingJobCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(watch({ trainingJobName: jobName, metrics })).rejects.toThrow('Rate exceeded');
    expect(sagemaker).not.toHaveReceivedCommand(StopTrainingJobCommand);
  });

  test('rejects a malformed event before calling AWS', async () => {
    await expect(watch({ metrics } as never)).rejects.toThrow("Invalid watch event: expected 'trainingJobName' and 'metrics'");
    expect(sagemaker).not.toHaveReceivedAnyCommand();
    expect(logs).not.toHaveReceivedAnyCommand();
  });
});
