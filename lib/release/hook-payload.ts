/**
 * What the release controller sends the Lambda hooks a user names, and what a before-step hook
 * answers: the public contract users type their hooks with. Pure.
 */
import type { Evidence, PolicySpec } from './rollout-types';

/** When a hook runs. */
export type HookKind = 'before-step' | 'after-promotion' | 'after-abort';

/**
 * What a hook receives (schema version 2: evidence as `ArmSummary` since issue 12). Before-step hooks run synchronously before every
 * increase of the candidate's weight and must answer a `HookAnswer`; after-hooks are invoked
 * asynchronously after a promotion or an abort and their answer is ignored.
 */
export interface HookPayload {
  /** The payload schema's version. */
  readonly schemaVersion: 2;
  /** Which hook this call is: before a step, after a promotion or after an abort. */
  readonly hook: HookKind;
  /** The endpoint whose rollout changes. */
  readonly endpointName: string;
  /** The baseline variant's name. */
  readonly baseline: string;
  /** The candidate variant's name. */
  readonly candidate: string;
  /** The weights before the change, in whole percent per variant. */
  readonly fromWeights: Readonly<Record<string, number>>;
  /** The weights after the change, in whole percent per variant. */
  readonly toWeights: Readonly<Record<string, number>>;
  /** The decision's reason. */
  readonly reason: string;
  /** The numbers behind the decision. @default - absent when the change has no evidence behind it */
  readonly evidence?: Evidence;
  /**
   * The after-hook call's delivery id (`<endpoint>/rollout-<n>/v<version>/<sequence>/<atMs>`), the same
   * on every attempt: after-hooks are called at least once, so a hook drops an id it has seen.
   * @default - absent for before-step hooks, which are called once per decision and answered
   */
  readonly deliveryId?: string;
}

/** What a before-step hook answers: `pass: true` lets the step happen. */
export interface HookAnswer {
  /** Whether the step may happen; anything but `true` fails the hook. */
  readonly pass: boolean;
  /**
   * Why not, recorded in the audit trail when `pass` is false.
   * @default - the audit trail records that the hook did not answer `{ "pass": true }`
   */
  readonly reason?: string;
}

/** The payload of one hook call about a change of the rollout. */
export function hookPayload(
  hook: HookKind, endpointName: string, policy: Pick<PolicySpec, 'baseline' | 'candidate'>,
  change: { readonly fromWeights: Readonly<Record<string, number>>; readonly toWeights: Readonly<Record<string, number>>; readonly reason: string; readonly evidence?: Evidence },
): HookPayload {
  return {
    schemaVersion: 2, hook, endpointName, baseline: policy.baseline, candidate: policy.candidate,
    fromWeights: change.fromWeights, toWeights: change.toWeights, reason: change.reason, ...(change.evidence ? { evidence: change.evidence } : {}),
  };
}
