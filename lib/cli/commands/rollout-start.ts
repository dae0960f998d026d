import { ACTIVE_PHASES, initialState } from '../../release/decide';
import { shortVersion } from '../../release/rollout-record';
import type { AwsClients } from '../aws';
import { ChangeOptions, changeSettings, commitChange } from '../change';
import { describeEndpoint, requireChangeable, rolloutStore, servedVersion } from '../endpoint';
import { CliError, EXIT } from '../errors';
import type { Io } from '../io';
import { rolloutToChange } from '../rollout';

/** `modelship rollout start <endpoint>`. */
export interface RolloutStartOptions extends ChangeOptions {
  readonly endpoint: string;
  readonly table?: string;
}

/**
 * Begins a rollout for the model version the candidate variant serves now, as the controller
 * does when it sees a new version (`startRollout`): the next rollout number, the policy's first
 * weights, counts from now. Refused while a rollout of that version is in progress (use `retry`
 * after an abort, `abort` or `undo` first to start over), and before the controller's first tick
 * (the policy is stored with the rollout).
 */
export async function rolloutStart(options: RolloutStartOptions, io: Io, aws: AwsClients): Promise<number> {
  const settings = changeSettings(options);
  const endpoint = await describeEndpoint(aws, options.endpoint);
  const store = rolloutStore(aws, endpoint.name, options.table);
  const record = await rolloutToChange(store, endpoint.name, options.table);
  if (!record) {
    throw new CliError(EXIT.REFUSED, `'${endpoint.name}' has no rollout record yet: its release controller starts the first rollout at its first tick, with the policy it was deployed with; nothing changed`);
  }
  const candidateVersion = await servedVersion(aws, endpoint, record.policy.candidate);
  if (candidateVersion === undefined) {
    throw new CliError(EXIT.REFUSED, `cannot tell which model version '${record.policy.candidate}' of '${endpoint.name}' serves (config ${endpoint.configName}); nothing changed`);
  }
  if (record.candidateVersion === candidateVersion && ACTIVE_PHASES.includes(record.state.phase)) {
    throw new CliError(EXIT.REFUSED, `rollout #${record.rolloutId} of ${shortVersion(candidateVersion)} is already ${record.state.phase} on '${endpoint.name}'; nothing changed`);
  }
  requireChangeable(endpoint);
  const weights = initialState(record.policy, io.now()).weights;
  const notes = [
    `rollout #${record.rolloutId + 1} of ${shortVersion(candidateVersion)} starts from the policy's first weights; counts start now`,
    `rollout #${record.rolloutId} of ${shortVersion(record.candidateVersion)} (${record.state.phase}) stays in the history`,
  ];
  return commitChange({
    endpoint, store, record, weights: { ...weights }, action: 'started', notes,
    start: {
      endpointName: endpoint.name, candidateVersion, endpointWeights: endpoint.weights,
      settings: { policy: record.policy, policyHash: record.policyHash, source: record.source, metricLagSeconds: record.metricLagSeconds, attributionSeconds: record.attributionSeconds },
    },
  }, settings, io, aws);
}
