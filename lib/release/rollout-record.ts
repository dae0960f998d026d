import { initialState, ManualAction } from './decide';
import { parsePolicy } from './rollout-policy';
import type { RolloutMetricSource } from './metric-queries';
import type { Action, Evidence, Phase, PolicySpec, RolloutState } from './rollout-types';

/**
 * How rollouts and their audit trail are stored in DynamoDB, shared by the controller and the
 * CLI: one item per endpoint for its current rollout (`sk = ROLLOUT`) changed only by conditional
 * writes on `version` (by the controller's ticks and the CLI's manual actions alike), one for
 * manual changes of an endpoint without a rollout (`sk = MANUAL`, the same conditional writes),
 * and append-only audit items (`sk = AUDIT#<time>#<version>`), written in one transaction with the
 * state they describe, as is one outbox item (`sk = OUTBOX#<time>#<version>`) per announced entry:
 * the deliveries (event, notification, after-hooks) the controller still owes, removed once every
 * consumer acknowledged its delivery. A rollout belongs to one candidate
 * version: when another version reaches the candidate variant, the item is replaced by rollout
 * `rolloutId + 1`; finished rollouts live on in the audit trail, each entry naming its rollout and
 * version. Pure: items are plain objects shaped like DynamoDB's attribute values, so neither side
 * needs more than its client.
 */

/** A rollout as stored. */
export interface RolloutRecord {
  /** The endpoint whose traffic the rollout moves (the item's partition key). */
  readonly endpointName: string;
  /** The rollout's number on its endpoint: 1 for the first, one more for each that follows (read as 1 from an item an earlier controller wrote). */
  readonly rolloutId: number;
  /**
   * The model version behind the candidate variant this rollout is about (`modelVersionOf`: its model package ARN, or its artifact's S3 URL).
   * @default - absent in an item an earlier controller wrote: the controller records the version it finds at its next write
   */
  readonly candidateVersion?: string;
  /** Hash of the policy the state was last decided under. */
  readonly policyHash: string;
  /** The policy the state was last decided under. */
  readonly policy: PolicySpec;
  /** Where the rollout is: its phase, step and weights. */
  readonly state: RolloutState;
  /** Incremented by every write; writes are conditional on the version read. */
  readonly version: number;
  /** When the item was last written (epoch ms). */
  readonly updatedAtMs: number;
  /** Who last wrote it: `release-controller`, or the caller's ARN for a CLI action. */
  readonly updatedBy: string;
  /**
   * Where the controller reads each variant's counts, so other readers (the CLI) read the same.
   * @default - absent in an item an earlier controller wrote: readers use the gateway's metrics
   */
  readonly source?: RolloutMetricSource;
  /**
   * How far behind real time the controller's metric windows end, in seconds, so other readers use the same windows.
   * @default - absent in an item an earlier controller wrote: readers end the windows at the current time
   */
  readonly metricLagSeconds?: number;
  /**
   * The controller's attribution window, in seconds: the test's cohorts end this long before the metric windows.
   * @default - absent in an item an earlier controller wrote: readers use the policy's `outcomeDelayMinutes`, or 0
   */
  readonly attributionSeconds?: number;
}

/** What an audit entry records. */
export type AuditAction = Action | 'started' | 'policy-changed' | 'hook-failed' | 'weights-restored' | 'manual-shift' | `manual-${ManualAction}`;

/** The manual changes of an endpoint without a rollout, as stored: a counter that makes even the first change conditional. */
export interface ManualRecord {
  /** The endpoint whose weights were changed (the item's partition key). */
  readonly endpointName: string;
  /** Incremented by every change; writes are conditional on the version read (on absence for the first). */
  readonly version: number;
  /** The weights the last change set, in whole percent per variant. */
  readonly weights: Readonly<Record<string, number>>;
  /** When the last change was made (epoch ms). */
  readonly updatedAtMs: number;
  /** Who made it (the caller's ARN). */
  readonly updatedBy: string;
}

/** One decision or change, with its evidence. */
export interface AuditEntry {
  /** The endpoint whose rollout the entry is about. */
  readonly endpointName: string;
  /** The rollout the entry is about. @default - absent for a change of an endpoint without a rollout, and in entries an earlier version wrote */
  readonly rolloutId?: number;
  /** The candidate version of that rollout. @default - absent where `rolloutId` is, or the version was not yet known */
  readonly candidateVersion?: string;
  /** When it happened (epoch ms). */
  readonly atMs: number;
  /** The rollout version this entry produced. */
  readonly version: number;
  /** Who acted: `release-controller`, or the caller's ARN for a CLI action. */
  readonly actor: string;
  /** What was decided or done. */
  readonly action: AuditAction;
  /** Why, in a sentence a person reads. */
  readonly reason: string;
  /** The rollout's phase after this entry. */
  readonly phase: Phase;
  /** The weights before, in whole percent per variant (the endpoint's for `started`). */
  readonly fromWeights: Readonly<Record<string, number>>;
  /** The weights after, in whole percent per variant. */
  readonly toWeights: Readonly<Record<string, number>>;
  /** Hash of the policy in force (`none` for a CLI change to an endpoint without a rollout). */
  readonly policyHash: string;
  /**
   * The numbers behind the decision.
   * @default - absent for entries not decided on metrics (e.g. `started`, `policy-changed`, the CLI's)
   */
  readonly evidence?: Evidence;
  /** Its place among the entries one write made (one tick can record several). @default 0 */
  readonly sequence?: number;
}

/** A DynamoDB attribute value, as far as these items use them. */
export type Attribute = { S: string } | { N: string } | { SS: string[] };
/** A DynamoDB item. */
export type Item = Record<string, Attribute>;

/** The sort key of the rollout item. */
export const ROLLOUT_KEY = 'ROLLOUT';
/** The sort key of the manual-change item of an endpoint without a rollout. */
export const MANUAL_KEY = 'MANUAL';
/** The prefix of audit items' sort keys. */
export const AUDIT_PREFIX = 'AUDIT#';
/** The prefix of outbox items' sort keys. */
export const OUTBOX_PREFIX = 'OUTBOX#';

/** The rollout table of an endpoint's controller, by name, so the CLI finds it from the endpoint. */
export function rolloutTableName(endpointName: string): string {
  return `modelship-rollouts-${endpointName}`;
}

/** The endpoint tag that marks an endpoint as production (the CLI then asks for a reason and a confirmation). */
export const PRODUCTION_TAG = 'modelship:production';

/**
 * How much of a text from outside (a hook's answer, an error message) an audit entry keeps, in
 * characters: an entry stays far below DynamoDB's 400 KB item and the 256 KB of an event or a
 * notification that carries it.
 */
export const EXTERNAL_TEXT_LIMIT = 1024;

/** A text from outside as an audit entry keeps it: cut to `EXTERNAL_TEXT_LIMIT` characters, with what was left out counted. */
export function clipExternal(text: string): string {
  return text.length <= EXTERNAL_TEXT_LIMIT ? text : `${text.slice(0, EXTERNAL_TEXT_LIMIT)}… (${text.length - EXTERNAL_TEXT_LIMIT} more characters)`;
}

/** The key of an endpoint's rollout item. */
export function rolloutKey(endpointName: string): Item {
  return { pk: { S: endpointName }, sk: { S: ROLLOUT_KEY } };
}

/** The key of an endpoint's manual-change item. */
export function manualKey(endpointName: string): Item {
  return { pk: { S: endpointName }, sk: { S: MANUAL_KEY } };
}

const s = (value: string): Attribute => ({ S: value });
const n = (value: number): Attribute => ({ N: String(value) });

function text(item: Item, name: string): string {
  const value = item[name];
  if (!value || !('S' in value)) {
    throw new Error(`Stored item is missing the string attribute '${name}'`);
  }
  return value.S;
}

function number(item: Item, name: string): number {
  const value = item[name];
  if (!value || !('N' in value)) {
    throw new Error(`Stored item is missing the number attribute '${name}'`);
  }
  return Number(value.N);
}

/** A rollout as a DynamoDB item. */
export function rolloutToItem(record: RolloutRecord): Item {
  return {
    ...rolloutKey(record.endpointName),
    rolloutId: n(record.rolloutId),
    ...(record.candidateVersion !== undefined ? { candidateVersion: s(record.candidateVersion) } : {}),
    policyHash: s(record.policyHash),
    policy: s(JSON.stringify(record.policy)),
    state: s(JSON.stringify(record.state)),
    version: n(record.version),
    updatedAtMs: n(record.updatedAtMs),
    updatedBy: s(record.updatedBy),
    ...(record.source ? { source: s(JSON.stringify(record.source)) } : {}),
    ...(record.metricLagSeconds !== undefined ? { metricLagSeconds: n(record.metricLagSeconds) } : {}),
    ...(record.attributionSeconds !== undefined ? { attributionSeconds: n(record.attributionSeconds) } : {}),
  };
}

/** A stored rollout item, read back. */
export function rolloutFromItem(item: Item): RolloutRecord {
  return {
    endpointName: text(item, 'pk'),
    rolloutId: item.rolloutId ? number(item, 'rolloutId') : 1,
    ...(item.candidateVersion ? { candidateVersion: text(item, 'candidateVersion') } : {}),
    policyHash: text(item, 'policyHash'),
    // Read back through the policy's defaults: an item an earlier version wrote lacks newer fields.
    policy: parsePolicy(JSON.parse(text(item, 'policy'))),
    state: JSON.parse(text(item, 'state')),
    version: number(item, 'version'),
    updatedAtMs: number(item, 'updatedAtMs'),
    updatedBy: text(item, 'updatedBy'),
    ...(item.source ? { source: JSON.parse(text(item, 'source')) } : {}),
    ...(item.metricLagSeconds ? { metricLagSeconds: number(item, 'metricLagSeconds') } : {}),
    ...(item.attributionSeconds ? { attributionSeconds: number(item, 'attributionSeconds') } : {}),
  };
}

/** The sort key of an audit entry: ordered by time, then version, then place within the write; unique. */
export function auditSortKey(atMs: number, version: number, sequence = 0): string {
  return `${AUDIT_PREFIX}${new Date(atMs).toISOString()}#${String(version).padStart(10, '0')}#${String(sequence).padStart(3, '0')}`;
}

/** An audit entry as a DynamoDB item. */
export function auditToItem(entry: AuditEntry): Item {
  return {
    pk: s(entry.endpointName),
    sk: s(auditSortKey(entry.atMs, entry.version, entry.sequence)),
    ...(entry.rolloutId !== undefined ? { rolloutId: n(entry.rolloutId) } : {}),
    ...(entry.candidateVersion !== undefined ? { candidateVersion: s(entry.candidateVersion) } : {}),
    atMs: n(entry.atMs),
    version: n(entry.version),
    actor: s(entry.actor),
    action: s(entry.action),
    reason: s(entry.reason),
    phase: s(entry.phase),
    fromWeights: s(JSON.stringify(entry.fromWeights)),
    toWeights: s(JSON.stringify(entry.toWeights)),
    policyHash: s(entry.policyHash),
    ...(entry.evidence ? { evidence: s(JSON.stringify(entry.evidence)) } : {}),
    ...(entry.sequence ? { sequence: n(entry.sequence) } : {}),
  };
}

/** A stored audit item, read back. */
export function auditFromItem(item: Item): AuditEntry {
  return {
    endpointName: text(item, 'pk'),
    ...(item.rolloutId ? { rolloutId: number(item, 'rolloutId') } : {}),
    ...(item.candidateVersion ? { candidateVersion: text(item, 'candidateVersion') } : {}),
    atMs: number(item, 'atMs'),
    version: number(item, 'version'),
    actor: text(item, 'actor'),
    action: text(item, 'action') as AuditAction,
    reason: text(item, 'reason'),
    phase: text(item, 'phase') as Phase,
    fromWeights: JSON.parse(text(item, 'fromWeights')),
    toWeights: JSON.parse(text(item, 'toWeights')),
    policyHash: text(item, 'policyHash'),
    ...(item.evidence ? { evidence: JSON.parse(text(item, 'evidence')) } : {}),
    ...(item.sequence ? { sequence: number(item, 'sequence') } : {}),
  };
}

/**
 * Whether an entry is announced: published as an event, sent to the topic and, for a promotion
 * or an abort, to the after-hooks. Every entry but holds, whoever made it (the controller or the CLI).
 */
export function isAnnounced(entry: Pick<AuditEntry, 'action'>): boolean {
  return entry.action !== 'hold';
}

/** The after-hook an entry's action runs (a promotion or an abort, the controller's or a person's), or undefined. */
export function afterHookOf(action: AuditAction): 'after-promotion' | 'after-abort' | undefined {
  if (action === 'promote' || action === 'manual-promote') {
    return 'after-promotion';
  }
  return action === 'abort' || action === 'manual-abort' ? 'after-abort' : undefined;
}

/**
 * The id every delivery of an entry carries (in the event's detail, the notification and the
 * hook's payload), the same on every attempt, so a consumer drops repeats:
 * `<endpoint>/rollout-<n>/v<version>/<sequence>/<atMs>`, or `<endpoint>/manual/v<version>/<sequence>/<atMs>`
 * for a change of an endpoint without a rollout (its versions count on their own). The entry's
 * time keeps ids apart when the table is recreated and the numbers start again.
 */
export function deliveryId(entry: Pick<AuditEntry, 'endpointName' | 'rolloutId' | 'version' | 'sequence' | 'atMs'>): string {
  const rollout = entry.rolloutId !== undefined ? `rollout-${entry.rolloutId}` : 'manual';
  return `${entry.endpointName}/${rollout}/v${entry.version}/${entry.sequence ?? 0}/${entry.atMs}`;
}

/** An announced entry whose deliveries are owed: its outbox item, read back. */
export interface PendingDelivery {
  /** The outbox item's sort key. */
  readonly sortKey: string;
  /** The entry to announce. */
  readonly entry: AuditEntry;
  /** The id its deliveries carry (`deliveryId`). */
  readonly deliveryId: string;
  /** The consumers that acknowledged their delivery (`events`, `sns`, `hook:<function>`). */
  readonly delivered: readonly string[];
}

/** The sort key of an entry's outbox item: its audit item's, under `OUTBOX#`. */
export function outboxSortKey(entry: Pick<AuditEntry, 'atMs' | 'version' | 'sequence'>): string {
  return `${OUTBOX_PREFIX}${auditSortKey(entry.atMs, entry.version, entry.sequence).slice(AUDIT_PREFIX.length)}`;
}

/** The outbox item of an announced entry, written with it: nothing delivered yet. */
export function outboxToItem(entry: AuditEntry): Item {
  return { pk: s(entry.endpointName), sk: s(outboxSortKey(entry)), deliveryId: s(deliveryId(entry)), entry: s(JSON.stringify(entry)) };
}

/** A stored outbox item, read back. */
export function outboxFromItem(item: Item): PendingDelivery {
  const delivered = item.delivered;
  return {
    sortKey: text(item, 'sk'),
    entry: JSON.parse(text(item, 'entry')),
    deliveryId: text(item, 'deliveryId'),
    delivered: delivered && 'SS' in delivered ? [...delivered.SS].sort() : [],
  };
}

/** The manual-change record as a DynamoDB item. */
export function manualToItem(record: ManualRecord): Item {
  return {
    ...manualKey(record.endpointName),
    version: n(record.version),
    weights: s(JSON.stringify(record.weights)),
    updatedAtMs: n(record.updatedAtMs),
    updatedBy: s(record.updatedBy),
  };
}

/** A stored manual-change item, read back. */
export function manualFromItem(item: Item): ManualRecord {
  return {
    endpointName: text(item, 'pk'),
    version: number(item, 'version'),
    weights: JSON.parse(text(item, 'weights')),
    updatedAtMs: number(item, 'updatedAtMs'),
    updatedBy: text(item, 'updatedBy'),
  };
}

/** A model version as a person reads it: `<group>/<version>` for a model package ARN, the value itself otherwise. */
export function shortVersion(version: string | undefined): string {
  if (version === undefined) {
    return 'unknown version';
  }
  const match = /^arn:[^:]+:sagemaker:[^:]*:\d*:model-package\/(.+)$/.exec(version);
  return match ? match[1] : version;
}

/** What starts a rollout: the controller when a candidate version appears, or a person (`modelship rollout start`). */
export interface RolloutStartSpec {
  /** The endpoint whose rollout starts. */
  readonly endpointName: string;
  /**
   * The rollout it follows: the new one takes the next number and version.
   * @default - none: the endpoint's first rollout, number 1
   */
  readonly previous?: RolloutRecord;
  /** The record's fields that are not the rollout's own: policy, its hash, where counts are read. */
  readonly settings: Pick<RolloutRecord, 'policy' | 'policyHash' | 'source' | 'metricLagSeconds' | 'attributionSeconds'>;
  /** The model version behind the candidate variant. @default - unknown (it could not be read): recorded at a later tick */
  readonly candidateVersion?: string;
  /** The endpoint's weights now, in whole percent (the `started` entry's starting weights). */
  readonly endpointWeights: Readonly<Record<string, number>>;
  /** When it starts (epoch ms): its counts run from here. */
  readonly nowMs: number;
  /** Who starts it: `release-controller`, or the caller's ARN. */
  readonly actor: string;
  /** Why, appended to the entry's reason (e.g. "a new candidate version was deployed"). */
  readonly why: string;
  /**
   * Start it paused, at its first weights, for a person to resume (the rollout it follows was paused by one).
   * @default false
   */
  readonly paused?: boolean;
}

/**
 * A new rollout: the next number, the policy's first weights, counts from now (so nothing of an
 * earlier candidate enters them), and its `started` audit entry, which names the previous rollout
 * and how it ended.
 */
export function startRollout(spec: RolloutStartSpec): { readonly record: RolloutRecord; readonly audit: AuditEntry } {
  const { previous, settings, nowMs } = spec;
  const first = initialState(settings.policy, nowMs);
  const state = spec.paused ? { ...first, phase: 'paused' as const } : first;
  const rolloutId = (previous?.rolloutId ?? 0) + 1;
  const version = (previous?.version ?? 0) + 1;
  const after = previous
    ? `; rollout #${previous.rolloutId} (${shortVersion(previous.candidateVersion)}) ended ${previous.state.phase} with ${JSON.stringify(previous.state.weights)}`
    : '';
  return {
    record: {
      ...settings, endpointName: spec.endpointName, rolloutId, ...(spec.candidateVersion !== undefined ? { candidateVersion: spec.candidateVersion } : {}),
      state, version, updatedAtMs: nowMs, updatedBy: spec.actor,
    },
    audit: {
      endpointName: spec.endpointName, rolloutId, ...(spec.candidateVersion !== undefined ? { candidateVersion: spec.candidateVersion } : {}), atMs: nowMs, version, actor: spec.actor,
      action: 'started',
      reason: `rollout #${rolloutId} of ${shortVersion(spec.candidateVersion)} started under policy ${settings.policyHash}${spec.paused ? ', paused' : ''}: ${spec.why}${after}`,
      phase: state.phase, fromWeights: { ...spec.endpointWeights }, toWeights: state.weights, policyHash: settings.policyHash,
    },
  };
}
