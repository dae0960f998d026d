import { judgeDeploy } from '../../../lib/serving/runtime/endpoint-health';

describe('judgeDeploy', () => {
  test.each(['Creating', 'Updating', 'SystemUpdating', 'RollingBack'])('waits while the endpoint is %s', (status) => {
    expect(judgeDeploy({ EndpointStatus: status, EndpointConfigName: 'old' }, 'new')).toEqual({ state: 'waiting', status });
  });

  test('accepts an endpoint in service on the config that was deployed', () => {
    expect(judgeDeploy({ EndpointStatus: 'InService', EndpointConfigName: 'cfg-2' }, 'cfg-2')).toEqual({ state: 'deployed' });
  });

  test('fails an endpoint that silently went back to the old config', () => {
    expect(judgeDeploy({ EndpointStatus: 'InService', EndpointConfigName: 'cfg-1', FailureReason: '' }, 'cfg-2')).toEqual({
      state: 'failed',
      reason: 'the update was rolled back: the endpoint serves cfg-1, not cfg-2 (SageMaker gave no reason: check the rollback alarms)',
    });
    expect(judgeDeploy({ EndpointStatus: 'InService', EndpointConfigName: 'cfg-1', FailureReason: 'Alarm x fired' }, 'cfg-2').state).toBe('failed');
  });

  test.each(['Failed', 'UpdateRollbackFailed', 'OutOfService'])('fails an endpoint that is %s, with the reason', (status) => {
    expect(judgeDeploy({ EndpointStatus: status, EndpointConfigName: 'cfg-2', FailureReason: 'capacity' }, 'cfg-2'))
      .toEqual({ state: 'failed', reason: `endpoint is ${status}: capacity` });
  });
});
