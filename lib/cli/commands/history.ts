import { AuditEntry, shortVersion } from '../../release/rollout-record';
import type { AwsClients } from '../aws';
import { describeEndpoint } from '../endpoint';
import { formatTime, table } from '../format';
import type { Io } from '../io';
import { numberOption } from '../options';
import { auditTrail, shortActor } from '../rollout';

/** Options of `modelship history <endpoint>`. */
export interface HistoryOptions {
  /** The endpoint's name. */
  readonly endpoint: string;
  /** How many entries, 1-1000 (a string from the command line). @default 20 */
  readonly limit?: string | number;
  /** The rollout table. @default modelship-rollouts-<endpoint> */
  readonly table?: string;
  /** Print a JSON array of audit entries instead of a table. @default false */
  readonly json?: boolean;
  readonly region?: string;
  readonly profile?: string;
}

/** The most entries one call shows. */
export const MAX_HISTORY = 1000;

/** Variant names in the order they first appear, so every row's weights line up. */
function variantOrder(entries: readonly AuditEntry[]): string[] {
  return [...new Set(entries.flatMap((e) => [...Object.keys(e.fromWeights), ...Object.keys(e.toWeights)]))];
}

/**
 * `modelship history <endpoint>`: the endpoint's audit trail across its rollouts, newest first,
 * as a table (time, rollout and candidate version, actor, action, weights before → after,
 * reason) or a JSON array. An endpoint without a rollout table or entries has an empty trail,
 * which is not an error; an endpoint that does not exist is (exit 2).
 */
export async function history(options: HistoryOptions, io: Io, aws: AwsClients): Promise<number> {
  const limit = numberOption('limit', options.limit, { min: 1, max: MAX_HISTORY, integer: true }, 20);
  const entries = await auditTrail(aws, options.endpoint, limit, options.table);
  if (entries.length === 0) {
    // No table or no entries: an endpoint without a controller, or no endpoint at all.
    await describeEndpoint(aws, options.endpoint);
  }
  if (options.json) {
    io.out(JSON.stringify(entries));
    return 0;
  }
  if (entries.length === 0) {
    io.out(`no audit trail for ${options.endpoint}`);
    return 0;
  }
  const order = variantOrder(entries);
  const weights = (w: Readonly<Record<string, number>>) => order.map((n) => w[n] ?? 0).join('/');
  for (const line of table(
    ['time', 'rollout', 'actor', 'action', `weights ${order.join('/')}`, 'reason'],
    entries.map((e) => [
      formatTime(e.atMs), e.rolloutId === undefined ? '-' : `#${e.rolloutId} ${shortVersion(e.candidateVersion)}`, shortActor(e.actor), e.action,
      `${weights(e.fromWeights)} → ${weights(e.toWeights)}`, e.reason,
    ]),
  )) {
    io.out(line);
  }
  return 0;
}
