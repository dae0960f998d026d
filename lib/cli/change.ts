import { commitRolloutChange } from '../hooks/runtime/rollout-change';
import type { RolloutStore } from '../hooks/runtime/rollout-store';
import type { AuditAction, RolloutRecord } from '../release/rollout-record';
import type { RolloutState } from '../release/rollout-types';
import type { AwsClients } from './aws';
import { callerArn, EndpointView, isProduction, waitInService, weightChangeLines } from './endpoint';
import { CliError, EXIT } from './errors';
import { Io, paint } from './io';
import { numberOption } from './options';

/** What every changing command takes, as given on the command line. */
export interface ChangeOptions {
  readonly reason?: string;
  readonly yes?: boolean;
  readonly dryRun?: boolean;
  /** Seconds to wait for InService, 1-86400 (a string from the command line). @default 900 */
  readonly timeout?: string | number;
  readonly json?: boolean;
}

/** `ChangeOptions` read and checked: what `commitChange` takes. */
export interface ChangeSettings {
  readonly reason?: string;
  readonly yes: boolean;
  readonly dryRun: boolean;
  readonly timeoutSeconds: number;
  readonly json: boolean;
}

/** The longest `--timeout`: a day. */
export const MAX_TIMEOUT_SECONDS = 86_400;

/** Reads the options every changing command takes; a changing command calls it before any AWS call. */
export function changeSettings(options: ChangeOptions): ChangeSettings {
  const reason = options.reason?.trim();
  return {
    ...(reason ? { reason } : {}),
    yes: Boolean(options.yes),
    dryRun: Boolean(options.dryRun),
    timeoutSeconds: numberOption('timeout', options.timeout, { min: 1, max: MAX_TIMEOUT_SECONDS, integer: true }, 900),
    json: Boolean(options.json),
  };
}

/** A change a command has worked out and wants made. */
export interface PlannedChange {
  readonly endpoint: EndpointView;
  readonly store: RolloutStore;
  /** The rollout as read, if there is one. */
  readonly record?: RolloutRecord;
  /** The rollout's state after the change (with a rollout). */
  readonly state?: RolloutState;
  /** The endpoint's weights after the change, in percent; undefined when they do not change. */
  readonly weights?: Record<string, number>;
  readonly action: AuditAction;
  /** Lines that explain the change beyond the weights (e.g. "the automation is paused"). */
  readonly notes: readonly string[];
}

/** Explains what changed when a conditional write lost. */
async function conflict(change: PlannedChange): Promise<CliError> {
  const now = await change.store.read(change.endpoint.name);
  const before = change.record!;
  const what = now
    ? `version ${before.version} → ${now.version}, by ${now.updatedBy} at ${new Date(now.updatedAtMs).toISOString()}: phase ${before.state.phase} → ${now.state.phase}, ` +
      `weights ${JSON.stringify(before.state.weights)} → ${JSON.stringify(now.state.weights)}`
    : 'the rollout was deleted';
  return new CliError(EXIT.CONFLICT, `the rollout of '${change.endpoint.name}' changed since it was read (${what}); nothing changed, run the command again`);
}

/**
 * Shows a change and makes it: asks for a reason and a confirmation on production endpoints,
 * commits it as the controller does (`commitRolloutChange`: the rollout written conditionally,
 * stopping with what changed if the controller or someone else wrote since it was read; the
 * weights; an audit entry of who, when, why and what), then waits for InService.
 */
export async function commitChange(change: PlannedChange, options: ChangeSettings, io: Io, aws: AwsClients): Promise<number> {
  const before = change.endpoint.weights;
  const after = change.weights ?? before;
  const production = await isProduction(aws, change.endpoint.arn);
  if (production && !options.reason) {
    throw new CliError(EXIT.USAGE, `'--reason' is required: '${change.endpoint.name}' is a production endpoint`);
  }
  const summary = {
    endpoint: change.endpoint.name, action: change.action, production, before, after,
    phase: change.state?.phase, notes: change.notes, dryRun: options.dryRun,
  };
  if (!options.json) {
    io.out(`${paint(io, 'bold', change.endpoint.name)}: ${change.action}${production ? paint(io, 'yellow', ' (production)') : ''}`);
    weightChangeLines(before, after).forEach((line) => io.out(`  ${line}`));
    change.notes.forEach((note) => io.out(`  ${note}`));
  }
  if (options.dryRun) {
    if (options.json) {
      io.out(JSON.stringify(summary));
    } else {
      io.out('dry run: nothing changed');
    }
    return EXIT.OK;
  }
  if (production && !options.yes) {
    if (!io.interactive) {
      throw new CliError(EXIT.REFUSED, `'${change.endpoint.name}' is a production endpoint: confirm with --yes; nothing changed`);
    }
    if (!(await io.confirm(`Apply this change to production endpoint '${change.endpoint.name}'?`))) {
      throw new CliError(EXIT.REFUSED, 'not confirmed; nothing changed');
    }
  }

  const actor = await callerArn(aws);
  const atMs = io.now();
  const version = (change.record?.version ?? 0) + 1;
  const outcome = await commitRolloutChange(change.store, aws.sagemaker, {
    endpointName: change.endpoint.name,
    ...(change.record && change.state
      ? { rollout: { record: { ...change.record, state: change.state, version, updatedAtMs: atMs, updatedBy: actor }, expectedVersion: change.record.version } }
      : {}),
    ...(change.weights ? { weights: after } : {}),
    audit: [{
      endpointName: change.endpoint.name, atMs, version, actor, action: change.action,
      reason: options.reason ?? `${change.action} from the CLI`,
      phase: change.state?.phase ?? 'running', fromWeights: before, toWeights: after, policyHash: change.record?.policyHash ?? 'none',
    }],
  });
  if (!outcome.committed) {
    throw await conflict(change);
  }
  const final = outcome.weightsApplied ? await waitInService(aws, io, change.endpoint.name, options.timeoutSeconds) : change.endpoint;
  if (options.json) {
    io.out(JSON.stringify({ ...summary, actor, version, status: final.status, weights: final.weights }));
  } else {
    io.out(paint(io, 'green', `done: ${change.endpoint.name} is ${final.status} with ${Object.entries(final.weights).map(([v, w]) => `${v} ${w}%`).join(', ')} (recorded as ${actor})`));
  }
  return EXIT.OK;
}
