/** What `DescribeEndpoint` says of an endpoint after a deploy. */
export interface EndpointDescription {
  readonly EndpointStatus?: string;
  readonly EndpointConfigName?: string;
  readonly FailureReason?: string;
}

/** The verdict on a deploy: still moving, done, or failed with the reason. */
export type DeployVerdict =
  | { readonly state: 'waiting'; readonly status: string }
  | { readonly state: 'deployed' }
  | { readonly state: 'failed'; readonly reason: string };

const MOVING = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack']);
const FAILED = new Set(['Failed', 'UpdateRollbackFailed', 'OutOfService', 'Deleting']);

/**
 * Judges an endpoint after an update to `expectedConfig`. SageMaker can roll an update back and
 * return the endpoint to `InService` on the old config with an empty `FailureReason`, so being
 * in service is not enough: it must be in service on the config that was deployed.
 */
export function judgeDeploy(endpoint: EndpointDescription, expectedConfig: string): DeployVerdict {
  const status = endpoint.EndpointStatus ?? 'Unknown';
  if (MOVING.has(status)) {
    return { state: 'waiting', status };
  }
  if (FAILED.has(status)) {
    return { state: 'failed', reason: `endpoint is ${status}${endpoint.FailureReason ? `: ${endpoint.FailureReason}` : ''}` };
  }
  if (status !== 'InService') {
    return { state: 'failed', reason: `endpoint is in unexpected status ${status}` };
  }
  if (endpoint.EndpointConfigName !== expectedConfig) {
    return {
      state: 'failed',
      reason: `the update was rolled back: the endpoint serves ${endpoint.EndpointConfigName ?? 'no config'}, not ${expectedConfig}`
        + (endpoint.FailureReason ? ` (${endpoint.FailureReason})` : ' (SageMaker gave no reason: check the rollback alarms)'),
    };
  }
  return { state: 'deployed' };
}
