import { ModelshipError } from '../../runtime/errors';
import { applyManualAction, ManualAction } from '../../release/decide';
import { shortVersion } from '../../release/rollout-record';
import { sameWeights } from '../../release/weights';
import type { AwsClients } from '../aws';
import { ChangeOptions, changeSettings, commitChange } from '../change';
import { describeEndpoint, requireChangeable, rolloutStore, servedVersion } from '../endpoint';
import { CliError, EXIT } from '../errors';
import { rolloutToChange } from '../rollout';
import type { Io } from '../io';

/** Actions that give the candidate traffic or hand it to the automation: refused on a rollout of a version the candidate no longer serves. */
const MOVES_CANDIDATE_FORWARD: readonly ManualAction[] = ['advance', 'promote', 'resume', 'retry'];

/** `modelship promote [--full]|abort|pause|resume|retry|undo <endpoint>`. */
export interface ManualActionOptions extends ChangeOptions {
  readonly endpoint: string;
  /** The command's verb: `promote` advances one step, or to 100% with `full`. */
  readonly action: Exclude<ManualAction, 'advance'>;
  /** With `promote`: all traffic to the candidate at once instead of one step. @default false */
  readonly full?: boolean;
  readonly table?: string;
}

/**
 * Promotes (one step, or `--full`), aborts, pauses, resumes, retries or undoes a rollout: the
 * state change `applyManualAction` defines, written with a conditional write and applied at
 * once (pause and resume only change who is in charge). `undo` needs a reason: it puts the
 * baseline (the version to go back to) at 100% even after a promotion, and the audit trail says why.
 */
export async function manualAction(options: ManualActionOptions, io: Io, aws: AwsClients): Promise<number> {
  const settings = changeSettings(options);
  if (options.action === 'undo' && !settings.reason) {
    throw new CliError(EXIT.USAGE, "'--reason' is required for undo: the audit trail records why the baseline is back");
  }
  const action: ManualAction = options.action === 'promote' && !options.full ? 'advance' : options.action;
  const endpoint = await describeEndpoint(aws, options.endpoint);
  const store = rolloutStore(aws, endpoint.name, options.table);
  const record = await rolloutToChange(store, endpoint.name, options.table);
  if (!record) {
    throw new CliError(EXIT.REFUSED, `'${endpoint.name}' has no rollout to ${options.action}; use 'modelship shift' to move its weights`);
  }
  if (MOVES_CANDIDATE_FORWARD.includes(action) && record.candidateVersion !== undefined) {
    // After a deploy, before the controller's tick: the rollout read is the previous version's.
    const serving = await servedVersion(aws, endpoint, record.policy.candidate);
    if (serving !== undefined && serving !== record.candidateVersion) {
      throw new CliError(EXIT.REFUSED, `'${record.policy.candidate}' of '${endpoint.name}' serves ${shortVersion(serving)}, but rollout #${record.rolloutId} is of `
        + `${shortVersion(record.candidateVersion)}: the controller starts its rollout at its next tick, or run 'modelship rollout start'; nothing changed`);
    }
  }
  let state;
  try {
    state = applyManualAction(record.policy, record.state, action, io.now());
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
  const notes = [`rollout #${record.rolloutId} of ${shortVersion(record.candidateVersion)}: phase ${record.state.phase} → ${state.phase}`];
  // A step that ends the rollout is recorded as the promotion it is.
  return commitChange({ endpoint, store, record, state, weights: moves ? { ...state.weights } : undefined, action: `manual-${state.phase === 'promoted' ? 'promote' : action}`, notes }, settings, io, aws);
}
