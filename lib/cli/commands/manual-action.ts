import { ModelshipError } from '../../runtime/errors';
import { applyManualAction, ManualAction } from '../../release/decide';
import { sameWeights } from '../../release/weights';
import type { AwsClients } from '../aws';
import { ChangeOptions, changeSettings, commitChange } from '../change';
import { describeEndpoint, requireChangeable, rolloutStore } from '../endpoint';
import { CliError, EXIT } from '../errors';
import { rolloutToChange } from '../rollout';
import type { Io } from '../io';

/** `modelship promote|abort|pause|resume <endpoint>`. */
export interface ManualActionOptions extends ChangeOptions {
  readonly endpoint: string;
  readonly action: ManualAction;
  readonly table?: string;
}

/**
 * Promotes, aborts, pauses or resumes a rollout: the same state change the controller would
 * make, written with a conditional write and applied at once (promote and abort move the
 * weights; pause and resume only change who is in charge).
 */
export async function manualAction(options: ManualActionOptions, io: Io, aws: AwsClients): Promise<number> {
  const settings = changeSettings(options);
  const endpoint = await describeEndpoint(aws, options.endpoint);
  const store = rolloutStore(aws, endpoint.name, options.table);
  const record = await rolloutToChange(store, endpoint.name, options.table);
  if (!record) {
    throw new CliError(EXIT.REFUSED, `'${endpoint.name}' has no rollout to ${options.action}; use 'modelship shift' to move its weights`);
  }
  let state;
  try {
    state = applyManualAction(record.policy, record.state, options.action, io.now());
  } catch (error) {
    if (error instanceof ModelshipError) {
      throw new CliError(EXIT.REFUSED, `cannot ${options.action} the rollout of '${endpoint.name}': ${error.problems.join('; ')}`);
    }
    throw error;
  }
  const moves = !sameWeights(state.weights, endpoint.weights);
  if (moves) {
    requireChangeable(endpoint);
  }
  const notes = [`phase: ${record.state.phase} → ${state.phase}`];
  return commitChange({ endpoint, store, record, state, weights: moves ? { ...state.weights } : undefined, action: `manual-${options.action}`, notes }, settings, io, aws);
}
