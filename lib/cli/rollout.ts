import type { RolloutStore } from '../hooks/runtime/rollout-store';
import { AuditEntry, RolloutRecord, rolloutTableName } from '../release/rollout-record';
import type { AwsClients } from './aws';
import { rolloutStore } from './endpoint';
import { CliError, EXIT } from './errors';

/**
 * Reading a rollout. An endpoint without a release controller has no rollout table, and one
 * whose controller never ran has no record: for display both mean "no rollout"; a change is
 * refused without a table, because every change is recorded there.
 */

function missingTable(error: unknown): boolean {
  return (error as Error)?.name === 'ResourceNotFoundException';
}

/** The endpoint's rollout, or undefined when there is none (or no table). */
export async function rolloutIfAny(aws: AwsClients, endpoint: string, table?: string): Promise<RolloutRecord | undefined> {
  try {
    return await rolloutStore(aws, endpoint, table).read(endpoint);
  } catch (error) {
    if (missingTable(error)) {
      return undefined;
    }
    throw error;
  }
}

/** The endpoint's rollout before a change (undefined when none was started); refused without a table. */
export async function rolloutToChange(store: RolloutStore, endpoint: string, table?: string): Promise<RolloutRecord | undefined> {
  try {
    return await store.read(endpoint);
  } catch (error) {
    if (missingTable(error)) {
      throw new CliError(EXIT.REFUSED, `no rollout table '${table ?? rolloutTableName(endpoint)}' for '${endpoint}': changes are recorded there (deploy a ReleaseController, or name the table with --table); nothing changed`);
    }
    throw error;
  }
}

/** The newest `limit` audit entries, newest first; none when there is no table. */
export async function auditTrail(aws: AwsClients, endpoint: string, limit: number, table?: string): Promise<AuditEntry[]> {
  try {
    return await rolloutStore(aws, endpoint, table).history(endpoint, limit);
  } catch (error) {
    if (missingTable(error)) {
      return [];
    }
    throw error;
  }
}

/** The part of an actor's ARN a person recognises (`assumed-role/Deployer/alice`), or the actor as it is. */
export function shortActor(actor: string): string {
  const match = /^arn:[^:]+:(?:sts|iam)::\d*:(.+)$/.exec(actor);
  return match ? match[1] : actor;
}
