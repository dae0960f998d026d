import { SageMakerClient, UpdateEndpointWeightsAndCapacitiesCommand } from '@aws-sdk/client-sagemaker';
import type { AuditEntry } from '../../release/rollout-record';
import type { RolloutStore, StateWrite } from './rollout-store';

/** A change of an endpoint's rollout and weights, as a controller tick or a CLI command makes it. */
export interface RolloutChange {
  readonly endpointName: string;
  /** What the change writes, and the version it expects to find (`RolloutStore.commit`). */
  readonly write: StateWrite;
  /**
   * The weights to set, in whole percent per variant.
   * @default - none: the endpoint keeps its weights
   */
  readonly weights?: Readonly<Record<string, number>>;
  /** What the change records in the audit trail; each announced entry also goes to the outbox. */
  readonly audit: readonly AuditEntry[];
}

/**
 * What became of a change: nothing (another writer came first), or written with its audit entries
 * and outbox, its weights applied or not (`weightsError`: SageMaker refused them; the controller's
 * next tick finds the endpoint's weights are not the rollout's and puts them in place, on the record).
 */
export type ChangeOutcome =
  | { readonly committed: false }
  | {
    readonly committed: true;
    /** Whether the change's weights were set on the endpoint. */
    readonly weightsApplied: boolean;
    /**
     * SageMaker's refusal of the weights.
     * @default - none: the weights were applied, or the change had none
     */
    readonly weightsError?: Error;
  };

/** Sets an endpoint's weights (whole percent per variant); SageMaker's refusal, or undefined when they were set. */
export async function applyWeights(sagemaker: SageMakerClient, endpointName: string, weights: Readonly<Record<string, number>>): Promise<Error | undefined> {
  try {
    await sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({
      EndpointName: endpointName,
      DesiredWeightsAndCapacities: Object.entries(weights).map(([VariantName, DesiredWeight]) => ({ VariantName, DesiredWeight })),
    }));
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

/**
 * Makes a change in the one order the controller and the CLI share: write the state, its audit
 * entries and its outbox in one conditional transaction (a writer that lost changes nothing; a
 * change is never recorded in part), then apply the weights. The deliveries of the outbox are the
 * controller's (`deliverOutbox`), on this tick or a later one.
 */
export async function commitRolloutChange(store: RolloutStore, sagemaker: SageMakerClient, change: RolloutChange): Promise<ChangeOutcome> {
  if (!(await store.commit(change.write, change.audit))) {
    return { committed: false };
  }
  if (!change.weights) {
    return { committed: true, weightsApplied: false };
  }
  const weightsError = await applyWeights(sagemaker, change.endpointName, change.weights);
  return weightsError ? { committed: true, weightsApplied: false, weightsError } : { committed: true, weightsApplied: true };
}
