import { applyWeights, commitRolloutChange, RolloutChange } from '../hooks/runtime/rollout-change';
import type { RolloutStore } from '../hooks/runtime/rollout-store';
import { AuditAction, AuditEntry, EXTERNAL_TEXT_LIMIT, ManualRecord, RolloutRecord, RolloutStartSpec, startRollout } from '../release/rollout-record';
import type { RolloutState } from '../release/rollout-types';
import { sameWeights } from '../release/weights';
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

/**
 * Reads the options every changing command takes; a changing command calls it before any AWS call.
 * @throws CliError (exit 2) for a `--reason` longer than `EXTERNAL_TEXT_LIMIT` characters, or a bad `--timeout`
 */
export function changeSettings(options: ChangeOptions): ChangeSettings {
  const reason = options.reason?.trim();
  if (reason !== undefined && reason.length > EXTERNAL_TEXT_LIMIT) {
    // The audit entry carries it to every event and notification: a long one could not be sent.
    throw new CliError(EXIT.USAGE, `'--reason' must be at most ${EXTERNAL_TEXT_LIMIT} characters, got ${reason.length}`);
  }
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
  /** Without a rollout: the endpoint's manual-change record as read (undefined before the first change). */
  readonly manual?: ManualRecord;
  /** The rollout's state after the change (with a rollout). */
  readonly state?: RolloutState;
  /** A new rollout replacing the one read (`modelship rollout start`): everything `startRollout` needs but who and when. */
  readonly start?: Omit<RolloutStartSpec, 'actor' | 'nowMs' | 'why' | 'previous'>;
  /** The endpoint's weights after the change, in percent; undefined when they do not change. */
  readonly weights?: Record<string, number>;
  readonly action: AuditAction;
  /** Lines that explain the change beyond the weights (e.g. "the automation is paused"). */
  readonly notes: readonly string[];
}

/** How often the command sets the weights of an endpoint without a rollout in all, when SageMaker refuses them (nothing else would). */
export const MANUAL_WEIGHT_ATTEMPTS = 4;
/** The pause before the first retry, doubled for each next one, in ms. */
const MANUAL_RETRY_DELAY_MS = 2_000;

/**
 * Sets the weights of a recorded change on an endpoint without a rollout again, with growing
 * pauses, while SageMaker refuses them (no controller reconciles such an endpoint); the last
 * refusal, or undefined once they are set.
 */
async function retryManualWeights(aws: AwsClients, io: Io, endpointName: string, weights: Readonly<Record<string, number>>, refusal: Error): Promise<Error | undefined> {
  let last: Error | undefined = refusal;
  for (let attempt = 2; last && attempt <= MANUAL_WEIGHT_ATTEMPTS; attempt++) {
    io.err(`SageMaker refused the weights (${last.message}); trying again (${attempt}/${MANUAL_WEIGHT_ATTEMPTS})`);
    await io.sleep(MANUAL_RETRY_DELAY_MS * 2 ** (attempt - 2));
    last = await applyWeights(aws.sagemaker, endpointName, weights);
  }
  return last;
}

/** Explains what changed when a conditional write lost, naming who won. */
async function conflict(change: PlannedChange): Promise<CliError> {
  const name = change.endpoint.name;
  const after = 'nothing changed, run the command again';
  if (change.record || change.start || change.state) {
    const now = await change.store.read(name);
    const before = change.record;
    const what = !now
      ? 'the rollout was deleted'
      : `${before ? `version ${before.version} → ${now.version}` : `rollout #${now.rolloutId} was started`}, by ${now.updatedBy} at ${new Date(now.updatedAtMs).toISOString()}: `
        + `phase ${before?.state.phase ?? 'none'} → ${now.state.phase}, weights ${JSON.stringify(before?.state.weights ?? change.endpoint.weights)} → ${JSON.stringify(now.state.weights)}`;
    return new CliError(EXIT.CONFLICT, `the rollout of '${name}' changed since it was read (${what}); ${after}`);
  }
  const now = await change.store.readManual(name);
  const what = now
    ? `change ${now.version} by ${now.updatedBy} at ${new Date(now.updatedAtMs).toISOString()} set ${JSON.stringify(now.weights)}`
    : 'its manual-change record was deleted';
  return new CliError(EXIT.CONFLICT, `the weights of '${name}' were changed by someone else since they were read (${what}); ${after}`);
}

/** Whether the change changes anything: the weights, the rollout's state, or which rollout it is. */
function changesSomething(change: PlannedChange, after: Readonly<Record<string, number>>): boolean {
  return change.start !== undefined
    || !sameWeights(after, change.endpoint.weights)
    || (change.record !== undefined && JSON.stringify(change.state) !== JSON.stringify(change.record.state));
}

/**
 * Shows a change and makes it: asks for a reason and a confirmation on production endpoints,
 * commits it as the controller does (`commitRolloutChange`: the rollout, an audit entry of who,
 * when, why and what, and its outbox written in one conditional transaction, stopping with what
 * changed if the controller or someone else wrote since it was read; then the weights), then
 * waits for InService. The CLI delivers nothing itself: the controller's next tick publishes the
 * entry's event and notification and runs its after-hooks, so the CLI needs no permission for them.
 */
export async function commitChange(change: PlannedChange, options: ChangeSettings, io: Io, aws: AwsClients): Promise<number> {
  const before = change.endpoint.weights;
  const after = change.weights ?? before;
  if (!changesSomething(change, after)) {
    if (options.json) {
      io.out(JSON.stringify({ endpoint: change.endpoint.name, action: change.action, changed: false, weights: before }));
    } else {
      io.out(`${change.endpoint.name}: nothing to change (${Object.entries(before).map(([v, w]) => `${v} ${w}%`).join(', ')}${change.record ? `, rollout ${change.record.state.phase}` : ''}); nothing written`);
    }
    return EXIT.OK;
  }
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
  const reason = options.reason ?? `${change.action} from the CLI`;
  let write: RolloutChange['write'];
  let audit: AuditEntry;
  if (change.start) {
    const started = startRollout({ ...change.start, previous: change.record, actor, nowMs: atMs, why: reason });
    write = { rollout: started.record, expectedVersion: change.record?.version };
    audit = started.audit;
  } else {
    const version = ((change.record ?? change.manual)?.version ?? 0) + 1;
    write = change.record && change.state
      ? { rollout: { ...change.record, state: change.state, version, updatedAtMs: atMs, updatedBy: actor }, expectedVersion: change.record.version }
      : { manual: { endpointName: change.endpoint.name, version, weights: after, updatedAtMs: atMs, updatedBy: actor }, expectedVersion: change.manual?.version };
    audit = {
      endpointName: change.endpoint.name, atMs, version, actor, action: change.action, reason,
      ...(change.record ? { rolloutId: change.record.rolloutId, ...(change.record.candidateVersion !== undefined ? { candidateVersion: change.record.candidateVersion } : {}) } : {}),
      phase: change.state?.phase ?? 'running', fromWeights: before, toWeights: after, policyHash: change.record?.policyHash ?? 'none',
    };
  }
  const outcome = await commitRolloutChange(change.store, aws.sagemaker, {
    endpointName: change.endpoint.name,
    write,
    ...(!sameWeights(after, before) ? { weights: after } : {}),
    audit: [audit],
  });
  if (!outcome.committed) {
    throw await conflict(change);
  }
  const reconciled = change.record !== undefined || change.start !== undefined;
  const weightsError = outcome.weightsError && !reconciled ? await retryManualWeights(aws, io, change.endpoint.name, after, outcome.weightsError) : outcome.weightsError;
  if (weightsError && reconciled) {
    throw new CliError(EXIT.FAILED, `the change is recorded (version ${audit.version}, by ${actor}) but SageMaker did not apply the weights: ${weightsError.message}; `
      + 'the release controller puts them in place at its next tick');
  }
  if (weightsError) {
    throw new CliError(EXIT.FAILED, `the change is recorded and announced (audit entry ${audit.action}, version ${audit.version}, by ${actor}: ${JSON.stringify(before)} → ${JSON.stringify(after)}) `
      + `but SageMaker refused the weights ${MANUAL_WEIGHT_ATTEMPTS} times: ${weightsError.message}; the endpoint keeps ${JSON.stringify(before)} and, without a rollout, nothing `
      + 'applies them later: run the command again (it records a new change)');
  }
  const final = outcome.weightsApplied || outcome.weightsError ? await waitInService(aws, io, change.endpoint.name, options.timeoutSeconds) : change.endpoint;
  if (options.json) {
    io.out(JSON.stringify({ ...summary, actor, version: audit.version, status: final.status, weights: final.weights }));
  } else {
    io.out(paint(io, 'green', `done: ${change.endpoint.name} is ${final.status} with ${Object.entries(final.weights).map(([v, w]) => `${v} ${w}%`).join(', ')} (recorded as ${actor})`));
  }
  return EXIT.OK;
}
