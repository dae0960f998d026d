import { ListEndpointsCommand, ListEndpointsCommandOutput } from '@aws-sdk/client-sagemaker';
import { AuditEntry, RolloutRecord, shortVersion } from '../../release/rollout-record';
import type { AwsClients } from '../aws';
import { formatTime, formatWeights, table } from '../format';
import type { Io } from '../io';
import { numberOption } from '../options';
import { auditTrail, rolloutIfAny } from '../rollout';

/** Options of `modelship list`. */
export interface ListOptions {
  /** Only endpoints whose name contains this. @default - every endpoint */
  readonly nameContains?: string;
  /** Also list endpoints without a rollout. @default false */
  readonly all?: boolean;
  /** How many endpoints to look at, newest first, 1-500 (a string from the command line). @default 100 */
  readonly limit?: string | number;
  /** Print a JSON array instead of a table. @default false */
  readonly json?: boolean;
  readonly region?: string;
  readonly profile?: string;
}

/** One endpoint's line. */
export interface ListedEndpoint {
  readonly endpoint: string;
  readonly status: string;
  /** Its rollout, if it has one (read from `modelship-rollouts-<endpoint>`). */
  readonly rollout: RolloutRecord | null;
  /** The newest audit entry. */
  readonly lastDecision: AuditEntry | null;
  /** False when the caller may not read the endpoint's rollout table (a grant covers one controller's table). */
  readonly readable: boolean;
}

/** The endpoint's rollout and newest audit entry; unreadable when the caller has no grant on its table. */
async function rolloutOf(aws: AwsClients, endpoint: string): Promise<Pick<ListedEndpoint, 'rollout' | 'lastDecision' | 'readable'>> {
  try {
    const [rollout, [lastDecision]] = await Promise.all([rolloutIfAny(aws, endpoint), auditTrail(aws, endpoint, 1)]);
    return { rollout: rollout ?? null, lastDecision: lastDecision ?? null, readable: true };
  } catch (error) {
    if ((error as Error).name === 'AccessDeniedException') {
      return { rollout: null, lastDecision: null, readable: false };
    }
    throw error;
  }
}

/** The most endpoints one call looks at. */
export const MAX_LIST = 500;

/**
 * `modelship list`: the region's endpoints (newest first) with their rollouts: rollout number,
 * candidate version, phase, weights and the last decision. Endpoints without a rollout table or
 * record, or whose table the caller may not read, are left out unless `--all`. Two reads per
 * endpoint (the rollout, the newest audit entry).
 */
export async function list(options: ListOptions, io: Io, aws: AwsClients): Promise<number> {
  const limit = numberOption('limit', options.limit, { min: 1, max: MAX_LIST, integer: true }, 100);
  const endpoints: { name: string; status: string }[] = [];
  let NextToken: string | undefined;
  do {
    const out: ListEndpointsCommandOutput = await aws.sagemaker.send(new ListEndpointsCommand({
      SortBy: 'CreationTime', SortOrder: 'Descending', MaxResults: Math.min(100, limit - endpoints.length),
      ...(options.nameContains ? { NameContains: options.nameContains } : {}), ...(NextToken ? { NextToken } : {}),
    }));
    endpoints.push(...(out.Endpoints ?? []).map((e) => ({ name: e.EndpointName ?? '', status: e.EndpointStatus ?? 'Unknown' })));
    NextToken = out.NextToken;
  } while (NextToken && endpoints.length < limit);

  const listed: ListedEndpoint[] = [];
  for (const endpoint of endpoints) {
    const read = await rolloutOf(aws, endpoint.name);
    if (read.rollout || options.all) {
      listed.push({ endpoint: endpoint.name, status: endpoint.status, ...read });
    }
  }
  if (options.json) {
    io.out(JSON.stringify(listed));
    return 0;
  }
  if (listed.length === 0) {
    io.out(`no endpoints with a rollout${options.nameContains ? ` whose name contains '${options.nameContains}'` : ''}${options.all ? '' : ' (--all lists the others)'}`);
    return 0;
  }
  for (const line of table(
    ['endpoint', 'status', 'rollout', 'version', 'phase', 'weights', 'last decision'],
    listed.map(({ endpoint, status, rollout, lastDecision, readable }) => [
      endpoint, status,
      rollout ? `#${rollout.rolloutId}` : '-',
      rollout ? shortVersion(rollout.candidateVersion) : '-',
      rollout?.state.phase ?? (readable ? '-' : 'no access'),
      rollout ? formatWeights(rollout.state.weights, [rollout.policy.baseline, rollout.policy.candidate]) : '-',
      lastDecision ? `${formatTime(lastDecision.atMs)} ${lastDecision.action}` : '-',
    ]),
  )) {
    io.out(line);
  }
  return 0;
}
