import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { applyWeights, commitRolloutChange } from '../../lib/hooks/runtime/rollout-change';
import { observeRollout } from '../../lib/hooks/runtime/rollout-observation';
import { deliverOutbox, DeliveryReport, OutboxConsumer } from '../../lib/hooks/runtime/rollout-outbox';
import { RolloutStore } from '../../lib/hooks/runtime/rollout-store';
import { controllerSettingsFrom, RELEASE_EVENT_SOURCE } from '../../lib/release/controller-settings';
import { ACTIVE_PHASES, applyManualAction, decide } from '../../lib/release/decide';
import { HookAnswer, HookPayload, hookPayload } from '../../lib/release/hook-payload';
import { afterHookOf, AuditAction, AuditEntry, clipExternal, RolloutRecord, shortVersion, startRollout } from '../../lib/release/rollout-record';
import { policyHash } from '../../lib/release/rollout-policy';
import type { Decision, RolloutState } from '../../lib/release/rollout-types';
import { percentages, sameWeights } from '../../lib/release/weights';
import { variantModelVersion } from '../../lib/serving/runtime/model-version';

const logger = new Logger({ serviceName: 'modelship-release-controller' });
const settings = controllerSettingsFrom(process.env);
const policy = settings.policy;
const hash = policyHash(policy);
const variants = [policy.baseline, policy.candidate];
// Throttling and transient errors are retried by the SDK (five attempts, exponential backoff).
const retries = { maxAttempts: 5 };
const store = new RolloutStore(new DynamoDBClient(retries), settings.tableName);
const sagemaker = new SageMakerClient(retries);
const cloudwatch = new CloudWatchClient(retries);
const events = new EventBridgeClient(retries);
const sns = new SNSClient(retries);
const lambda = new LambdaClient(retries);

/** The controller's name in the audit trail. */
export const CONTROLLER_ACTOR = 'release-controller';

/** What one tick did. */
export interface TickResult {
  readonly action: AuditAction | 'conflict';
  readonly state: RolloutState;
  readonly weightsApplied: boolean;
  /** What its pass over the outbox delivered, what failed and what is still owed. */
  readonly deliveries: DeliveryReport;
}

/** Candidate versions by endpoint config name: configs and models never change once created. */
const candidateVersions = new Map<string, string>();

/**
 * The model version the candidate variant serves under the endpoint config, or undefined when it
 * cannot be read (a config without the variant, a model already deleted, a denied call): the
 * stored rollout then goes on, and a later tick records the version.
 */
async function candidateVersionOf(configName: string): Promise<string | undefined> {
  const known = candidateVersions.get(configName);
  if (known !== undefined) {
    return known;
  }
  try {
    const version = await variantModelVersion(sagemaker, configName, policy.candidate);
    if (version === undefined) {
      logger.warn('the endpoint config has no candidate variant with a model; the stored rollout goes on', { configName });
    } else {
      candidateVersions.set(configName, version);
    }
    return version;
  } catch (error) {
    logger.warn('cannot read which model version the candidate serves; the stored rollout goes on', { configName, error: (error as Error).message });
    return undefined;
  }
}

/** The endpoint's status, its weights in whole percent and the model version its candidate variant serves (when known). */
async function endpointNow(): Promise<{ status: string; weights: Record<string, number>; candidateVersion?: string }> {
  const out = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: settings.endpointName }));
  const shares = percentages(Object.fromEntries((out.ProductionVariants ?? []).map((v) => [v.VariantName ?? '', v.CurrentWeight ?? 0])));
  const candidateVersion = await candidateVersionOf(out.EndpointConfigName ?? '');
  // The policy's two variants only: those are the weights the rollout owns.
  return {
    status: out.EndpointStatus ?? 'Unknown', weights: Object.fromEntries(variants.map((v) => [v, shares[v] ?? 0])),
    ...(candidateVersion !== undefined ? { candidateVersion } : {}),
  };
}

/** Why a rollout starts at this tick, or undefined when the stored one goes on. */
function startReason(read: RolloutRecord | undefined, candidateVersion: string | undefined): string | undefined {
  if (!read) {
    return 'the first rollout on this endpoint';
  }
  if (candidateVersion === undefined || read.candidateVersion === candidateVersion) {
    return undefined;
  }
  if (read.candidateVersion !== undefined) {
    return `a new candidate version replaced ${shortVersion(read.candidateVersion)} on '${policy.candidate}'`;
  }
  // An item an earlier controller wrote has no version: a rollout in progress goes on (and
  // records the version found); a finished one cannot tell whether the version is new, so the
  // version found gets a rollout of its own.
  return ACTIVE_PHASES.includes(read.state.phase) ? undefined : `the finished rollout #${read.rolloutId} recorded no version, so ${shortVersion(candidateVersion)} gets its own`;
}

/** Runs the before-step hooks; the first failure's reason (what the hook said cut by `clipExternal`), or undefined when all pass. */
async function beforeStepFailure(payload: HookPayload): Promise<string | undefined> {
  for (const functionName of settings.beforeStepHooks) {
    try {
      const out = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }), {
        abortSignal: AbortSignal.timeout(settings.hookTimeoutSeconds * 1000),
      });
      const answer: Partial<HookAnswer> | undefined = out.Payload ? JSON.parse(Buffer.from(out.Payload).toString('utf8')) : undefined;
      if (out.FunctionError || answer?.pass !== true) {
        const said = out.FunctionError ?? (typeof answer?.reason === 'string' ? answer.reason : undefined);
        return `hook ${functionName} failed: ${said !== undefined ? clipExternal(said) : 'it did not answer { "pass": true }'}`;
      }
    } catch (error) {
      return `hook ${functionName} failed: ${(error as Error).name === 'AbortError' ? `no answer within ${settings.hookTimeoutSeconds} s` : clipExternal((error as Error).message)}`;
    }
  }
  return undefined;
}

/** The event, notification and after-hook payload of an entry carry its delivery id, so consumers drop repeats. */
const consumers: readonly OutboxConsumer[] = [
  {
    id: 'events',
    takes: () => true,
    deliver: async (entry, deliveryId) => {
      const out = await events.send(new PutEventsCommand({
        Entries: [{ Source: RELEASE_EVENT_SOURCE, DetailType: `Rollout ${entry.action}`, Detail: announcement(entry, deliveryId), EventBusName: settings.eventBusName, Resources: [] }],
      }));
      if (out.FailedEntryCount) {
        throw new Error(`EventBridge refused the event: ${out.Entries?.[0]?.ErrorCode ?? 'no error code'}`);
      }
    },
  },
  ...(settings.topicArn ? [{
    id: 'sns',
    takes: () => true,
    deliver: async (entry: AuditEntry, deliveryId: string) => {
      await sns.send(new PublishCommand({
        TopicArn: settings.topicArn, Subject: `modelship ${settings.endpointName}: ${entry.action}`.slice(0, 99), Message: announcement(entry, deliveryId),
        MessageAttributes: { deliveryId: { DataType: 'String', StringValue: deliveryId } },
      }));
    },
  }] : []),
  // After-hooks hear of a promotion or an abort itself, not of later entries of a finished rollout.
  ...settings.afterHooks.map((functionName): OutboxConsumer => ({
    id: `hook:${functionName}`,
    takes: (entry) => afterHookOf(entry.action) !== undefined,
    deliver: async (entry, deliveryId) => {
      const payload: HookPayload = { ...hookPayload(afterHookOf(entry.action)!, settings.endpointName, policy, entry), deliveryId };
      await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(payload)) }));
    },
  })),
];

/** An entry as the event's detail and the notification's message. */
function announcement(entry: AuditEntry, deliveryId: string): string {
  return JSON.stringify({ ...entry, deliveryId, baseline: policy.baseline, candidate: policy.candidate });
}

/** Delivers what the outbox owes (this tick's entries, an earlier tick's, the CLI's), logging what failed. */
async function deliver(): Promise<DeliveryReport> {
  const report = await deliverOutbox(store, settings.endpointName, consumers);
  for (const sortKey of report.removedUnmatched) {
    logger.error('removed an outbox item without an audit entry under its key (not written with a change): it was not delivered', { endpointName: settings.endpointName, sortKey });
  }
  for (const failure of report.failures) {
    logger.warn('a delivery failed; it stays in the outbox for the next tick', { ...failure });
  }
  return report;
}

/**
 * Whether the newest audit entry is a `weights-restored` of this rollout from `endpointWeights` to
 * `rolloutWeights`: a restore SageMaker refused, which the tick retries without recording it again.
 */
async function recordedRestore(rolloutId: number, endpointWeights: Readonly<Record<string, number>>, rolloutWeights: Readonly<Record<string, number>>): Promise<boolean> {
  const [latest] = await store.history(settings.endpointName, 1);
  return latest?.action === 'weights-restored' && latest.rolloutId === rolloutId
    && sameWeights(latest.fromWeights, endpointWeights) && sameWeights(latest.toWeights, rolloutWeights);
}

/**
 * What woke a tick: the schedule, which decides; or SageMaker's report that the endpoint changed
 * state, which only starts a rollout for a new candidate version (a weight change of the
 * controller's own makes such reports too, and deciding on each would run at SageMaker's pace).
 */
export type TickTrigger = 'schedule' | 'endpoint-change';

/**
 * One tick: load the rollout, or start one when there is none or another model version reached
 * the candidate variant (a rollout per candidate version: its counts start with it; its first
 * tick only applies its first weights); honour a phase a person set with the CLI, take a policy
 * change from a deploy, decide from the metrics (on the schedule only), run the before-step
 * hooks, then commit the change (`commitRolloutChange`: the state, its audit entries and outbox in
 * one conditional transaction, then the weights), so a CLI action and a tick never overwrite each
 * other and a duplicate tick changes nothing; then deliver what the outbox owes. Every tick, in
 * every phase, compares the endpoint's weights with the rollout's: while InService a difference
 * (a change whose weights failed to apply, or a change made outside modelship) is recorded as
 * `weights-restored` and the rollout's weights are put back (once: while SageMaker refuses them,
 * later ticks retry without recording or announcing the restore again, and fail), and a running
 * rollout restarts its step's counts with the restore and decides at the next tick, on counts made
 * at its weights.
 * @throws the weight update's error, after the change was recorded and the outbox delivered (the next tick puts the weights in place)
 */
export async function tick(nowMs: number = Date.now(), trigger: TickTrigger = 'schedule'): Promise<TickResult> {
  const read = await store.read(settings.endpointName);
  const endpoint = await endpointNow();
  const entries: Omit<AuditEntry, 'endpointName' | 'version' | 'policyHash' | 'rolloutId' | 'candidateVersion'>[] = [];
  const settingsOfRecord = {
    policy, policyHash: hash, source: settings.source, metricLagSeconds: settings.metricLagSeconds, attributionSeconds: settings.attributionSeconds,
  };
  const why = startReason(read, endpoint.candidateVersion);
  // A new candidate version starts a new rollout from the policy's first weights; the stored one ends here, on the record.
  // A person's pause carries over: the next version waits at its first weights for them to resume it.
  const pausedByPerson = read?.state.phase === 'paused' && read.updatedBy !== CONTROLLER_ACTOR;
  const started = why !== undefined
    ? startRollout({
      endpointName: settings.endpointName, previous: read, settings: settingsOfRecord, candidateVersion: endpoint.candidateVersion,
      endpointWeights: endpoint.weights, nowMs, actor: CONTROLLER_ACTOR, why: pausedByPerson ? `${why}; paused, as a person paused the previous rollout` : why,
      paused: pausedByPerson,
    })
    : undefined;
  if (!started && trigger === 'endpoint-change') {
    return { action: 'hold', state: read!.state, weightsApplied: false, deliveries: await deliver() };
  }
  const current = started?.record ?? read!;
  let state = current.state;
  if (started) {
    entries.push(started.audit);
  } else if (read!.policyHash !== hash) {
    entries.push({
      atMs: nowMs, actor: CONTROLLER_ACTOR, action: 'policy-changed', reason: `policy ${read!.policyHash} replaced by ${hash}; the rollout continues from its current weights`,
      phase: state.phase, fromWeights: state.weights, toWeights: state.weights,
    });
  }
  const inService = endpoint.status === 'InService';
  const drifted = !started && inService && !sameWeights(endpoint.weights, state.weights);
  // A restore of this very difference is on the record already (SageMaker refused it): retry it, without recording or announcing it again.
  const restoreRecorded = drifted && (await recordedRestore(current.rolloutId, endpoint.weights, state.weights));
  if (restoreRecorded) {
    const refusal = await applyWeights(sagemaker, settings.endpointName, state.weights);
    if (refusal) {
      logger.error('SageMaker still refuses the rollout\'s weights; the restore is on the record, so this tick only retried it', {
        endpointName: settings.endpointName, weights: state.weights, endpointWeights: endpoint.weights, error: refusal.message,
      });
      await deliver();
      throw refusal;
    }
    if (state.phase !== 'running') {
      return { action: 'hold', state, weightsApplied: true, deliveries: await deliver() };
    }
    // Unannounced: the restore was announced when it was recorded.
    entries.push({
      atMs: nowMs, actor: CONTROLLER_ACTOR, action: 'hold', phase: state.phase, fromWeights: state.weights, toWeights: state.weights,
      reason: `the rollout's weights ${JSON.stringify(state.weights)} are in place again after SageMaker refused them: the step's counts restart now`,
    });
  } else if (drifted) {
    // The endpoint's weights are not the rollout's (a change whose weights failed to apply, or a
    // change made outside modelship): put the rollout's back, on the record.
    entries.push({
      atMs: nowMs, actor: CONTROLLER_ACTOR, action: 'weights-restored', phase: state.phase, fromWeights: endpoint.weights, toWeights: state.weights,
      reason: `the endpoint's weights ${JSON.stringify(endpoint.weights)} are not the ${state.phase} rollout's: applying ${JSON.stringify(state.weights)}`,
    });
  }
  if (drifted && state.phase === 'running') {
    // Counts made at the drifted weights are not the rollout's: the step's count window restarts with the restore.
    state = { ...state, stepStartedAtMs: nowMs };
  }
  if (entries.length === 0 && state.phase !== 'running' && (endpoint.candidateVersion === undefined || read?.candidateVersion === endpoint.candidateVersion)) {
    // Paused, waiting for approval or finished, with nothing to apply or record: no write, no audit entry.
    return { action: 'hold', state, weightsApplied: false, deliveries: await deliver() };
  }
  // A rollout's first tick applies its first weights, as does a tick that restores them; deciding waits for counts made at them.
  if (state.phase === 'running' && !started && !drifted) {
    if (!inService) {
      entries.push({ atMs: nowMs, actor: CONTROLLER_ACTOR, action: 'hold', reason: `endpoint is ${endpoint.status}, not InService: holding until the next tick`, phase: state.phase, fromWeights: state.weights, toWeights: state.weights });
    } else {
      const { observation } = await observeRollout(cloudwatch, policy, state, {
        source: settings.source,
        lagSeconds: settings.metricLagSeconds,
        attributionSeconds: settings.attributionSeconds,
      }, nowMs);
      const decision: Decision = decide(policy, state, observation);
      let next = decision.state;
      let action: AuditAction = decision.action;
      let reason = decision.reason;
      if ((next.weights[policy.candidate] ?? 0) > (state.weights[policy.candidate] ?? 0) && settings.beforeStepHooks.length > 0) {
        const failure = await beforeStepFailure(hookPayload('before-step', settings.endpointName, policy, {
          fromWeights: state.weights, toWeights: next.weights, reason: decision.reason, evidence: decision.evidence,
        }));
        if (failure) {
          entries.push({ atMs: nowMs, actor: CONTROLLER_ACTOR, action: 'hook-failed', reason: failure, phase: state.phase, fromWeights: state.weights, toWeights: state.weights, evidence: decision.evidence });
          next = policy.onHookFailure === 'abort' ? applyManualAction(policy, state, 'abort', nowMs) : state;
          action = policy.onHookFailure === 'abort' ? 'abort' : 'hold';
          reason = `${failure}; ${policy.onHookFailure === 'abort' ? 'aborting' : 'holding'} as the policy says`;
        }
      }
      entries.push({ atMs: nowMs, actor: CONTROLLER_ACTOR, action, reason, phase: next.phase, fromWeights: state.weights, toWeights: next.weights, evidence: decision.evidence });
      state = next;
    }
  }

  const version = (read?.version ?? 0) + 1;
  const candidateVersion = endpoint.candidateVersion ?? current.candidateVersion;
  const rollout = { rolloutId: current.rolloutId, ...(candidateVersion !== undefined ? { candidateVersion } : {}) };
  const audit = entries.map((e, sequence): AuditEntry => ({ ...e, endpointName: settings.endpointName, policyHash: hash, version, ...rollout, ...(sequence ? { sequence } : {}) }));
  const outcome = await commitRolloutChange(store, sagemaker, {
    endpointName: settings.endpointName,
    write: {
      rollout: { ...current, ...settingsOfRecord, ...rollout, state, version, updatedAtMs: nowMs, updatedBy: CONTROLLER_ACTOR },
      expectedVersion: read?.version,
    },
    // Weights move only while the endpoint is InService; a later tick applies what this one could not.
    ...(inService && !restoreRecorded && !sameWeights(endpoint.weights, state.weights) ? { weights: state.weights } : {}),
    audit,
  });
  if (!outcome.committed) {
    logger.info('the rollout changed while this tick ran; leaving it to the next tick', { endpointName: settings.endpointName });
    return { action: 'conflict', state: read?.state ?? state, weightsApplied: false, deliveries: await deliver() };
  }
  const { weightsError } = outcome;
  const weightsApplied = outcome.weightsApplied || restoreRecorded;
  const last = audit.at(-1);
  if (weightsError) {
    // Logged before delivering, so a delivery that throws does not hide it. Recorded and announced;
    // the next tick finds the weights are not the rollout's and puts them in place.
    logger.error('the change is recorded but its weights were not applied; the next tick restores them', { endpointName: settings.endpointName, version, error: weightsError.message });
  }
  const deliveries = await deliver();
  logger.info('tick', { endpointName: settings.endpointName, action: last?.action, reason: last?.reason, weights: state.weights, weightsApplied, version, deliveries });
  if (weightsError) {
    throw weightsError;
  }
  return { action: last?.action ?? 'hold', state, weightsApplied, deliveries };
}

/**
 * The entry point: the schedule, or an endpoint state change from SageMaker (`source: aws.sagemaker`).
 * A tick whose deliveries failed fails once its work is done, so the invocation is retried and
 * `failureAlarm` sees deliveries that keep failing; what they owe stays in the outbox. So does one
 * that removed outbox items without an audit entry (forged), so a person hears of them.
 */
export const handler = async (event?: { readonly source?: string }): Promise<TickResult> => {
  const result = await tick(Date.now(), event?.source === 'aws.sagemaker' ? 'endpoint-change' : 'schedule');
  const { failures, pending, removedUnmatched } = result.deliveries;
  if (failures.length > 0) {
    throw new Error(`deliveries failed: ${failures.length} (${[...new Set(failures.map((f) => f.consumer))].join(', ')}); outbox items owed to the next tick: ${pending}`);
  }
  if (removedUnmatched.length > 0) {
    throw new Error(`outbox items without an audit entry were removed, not delivered: ${removedUnmatched.length} (${removedUnmatched.join(', ')})`);
  }
  return result;
};
