import * as z from 'zod/mini';
import { settingsFromVariable } from '../runtime/settings-variable';
import { parsePolicy } from './rollout-policy';
import type { RolloutMetricSource } from './metric-queries';
import type { PolicySpec } from './rollout-types';

/**
 * What the release controller Lambda needs, passed by the construct as one JSON environment
 * variable so both sides share one definition.
 */
const metricSpec = z.object({ namespace: z.string(), metricName: z.string(), dimensions: z.record(z.string(), z.string()), stat: z.string() });

const schema = z.object({
  /** The endpoint whose weights the controller moves. */
  endpointName: z.string().check(z.minLength(1)),
  /** The rollout policy (validated by `parsePolicy`). */
  policy: z.unknown(),
  /** The table that holds the rollout and its audit trail. */
  tableName: z.string().check(z.minLength(1)),
  /** The EventBridge bus decisions are published to. */
  eventBusName: z.string().check(z.minLength(1)),
  /** An SNS topic that also hears about decisions. */
  topicArn: z.optional(z.string()),
  /** Lambda functions run before each weight increase; all must pass. */
  beforeStepHooks: z.array(z.string()),
  /** Lambda functions told after a promotion or an abort. */
  afterHooks: z.array(z.string()),
  /** How long a before-step hook may take before it counts as failed. */
  hookTimeoutSeconds: z.number().check(z.positive()),
  /** Where each variant's counts come from: the gateway's metrics, or metrics the user named. */
  source: z.object({
    gateway: z.optional(z.object({ namespace: z.string(), service: z.string(), endpointName: z.string(), outcomeType: z.string() })),
    custom: z.optional(z.record(z.string(), z.record(z.string(), metricSpec))),
  }),
  /** How far behind real time metrics are read, so late datapoints are in. */
  metricLagSeconds: z.number().check(z.gte(0)),
  /** The attribution window: the test compares predictions at least this old, so their outcomes are in. */
  attributionSeconds: z.number().check(z.gte(0)),
});

/** The controller's settings, with the policy parsed. */
export type ControllerSettings = Omit<z.infer<typeof schema>, 'policy' | 'source'> & {
  readonly policy: PolicySpec;
  readonly source: RolloutMetricSource;
};

/** The environment variable that carries the settings. */
export const CONTROLLER_SETTINGS_VARIABLE = 'MODELSHIP_RELEASE_SETTINGS';

/** EventBridge `source` of the controller's events. */
export const RELEASE_EVENT_SOURCE = 'modelship.release';

/** Reads the settings from the controller's environment; a bad value is a deployment error, so it throws. */
export function controllerSettingsFrom(env: Readonly<Record<string, string | undefined>>): ControllerSettings {
  const settings = settingsFromVariable(env, CONTROLLER_SETTINGS_VARIABLE, schema);
  const policy = parsePolicy(settings.policy);
  const custom = settings.source.custom;
  const unread = custom ? [policy.baseline, policy.candidate].filter((v) => !custom[v]?.invocations) : [];
  if (!settings.source.gateway && !custom) {
    throw new Error(`${CONTROLLER_SETTINGS_VARIABLE} is invalid: 'source' must name the gateway's metrics or custom ones`);
  }
  if (unread.length > 0) {
    throw new Error(`${CONTROLLER_SETTINGS_VARIABLE} is invalid: 'source.custom' must name the invocations of ${unread.map((v) => `'${v}'`).join(' and ')}`);
  }
  return { ...settings, policy, source: settings.source as RolloutMetricSource };
}
