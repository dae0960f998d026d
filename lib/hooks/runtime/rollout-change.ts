import { SageMakerClient, UpdateEndpointWeightsAndCapacitiesCommand } from '@aws-sdk/client-sagemaker';
import type { AuditEntry, ManualRecord, RolloutRecord } from '../../release/rollout-record';
import type { RolloutStore } from './rollout-store';

/** A change of an endpoint's rollout and weights, as a controller tick or a CLI command makes it. */
export interface RolloutChange {
  readonly endpointName: string;
  /**
   * What the change writes, only if the stored item still has `expectedVersion` (undefined: only
   * if there is none yet): the rollout after the change, or for an endpoint without a rollout its
   * manual-change record.
   */
  readonly write:
  | { readonly rollout: RolloutRecord; readonly expectedVersion: number | undefined }
  | { readonly manual: ManualRecord; readonly expectedVersion: number | undefined };
  /** The weights to set, in whole percent per variant; omitted when the endpoint keeps its weights. */
  readonly weights?: Readonly<Record<string, number>>;
  /** What the change records in the audit trail. */
  readonly audit: readonly AuditEntry[];
}

/** What became of a change: nothing (another writer came first), or written and recorded. */
export type ChangeOutcome = { readonly committed: false } | { readonly committed: true; readonly weightsApplied: boolean };

/**
 * Makes a change in the one order the controller and the CLI share: write the rollout
 * conditionally (a writer that lost changes nothing), apply the weights, then append the audit
 * entries, each of which names the rollout version the change produced.
 */
export async function commitRolloutChange(store: RolloutStore, sagemaker: SageMakerClient, change: RolloutChange): Promise<ChangeOutcome> {
  const { write } = change;
  const written = 'rollout' in write ? await store.write(write.rollout, write.expectedVersion) : await store.writeManual(write.manual, write.expectedVersion);
  if (!written) {
    return { committed: false };
  }
  if (change.weights) {
    await sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({
      EndpointName: change.endpointName,
      DesiredWeightsAndCapacities: Object.entries(change.weights).map(([VariantName, DesiredWeight]) => ({ VariantName, DesiredWeight })),
    }));
  }
  await store.append(change.audit);
  return { committed: true, weightsApplied: change.weights !== undefined };
}
