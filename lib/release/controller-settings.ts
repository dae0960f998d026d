import * as z from 'zod/mini';
import { settingsFromVariable } from '../private/settings-variable';
import { parsePolicy } from './rollout-policy';
import type { PolicySpec } from './rollout-types';

/**
 * What the release controller Lambda needs, passed by the construct as one JSON environment
 * variable so both sides share one definition.
 */
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
  /** Where the gateway's metrics are. */
  metrics: z.object({ namespace: z.string(), service: z.string() }),
  /** How far behind real time metrics are read, so late datapoints are in. */
  metricLagSeconds: z.number().check(z.gte(0)),
});

/** The controller's settings, with the policy parsed. */
export type ControllerSettings = Omit<z.infer<typeof schema>, 'policy'> & { readonly policy: PolicySpec };

/** The environment variable that carries the settings. */
export const CONTROLLER_SETTINGS_VARIABLE = 'MODELSHIP_RELEASE_SETTINGS';

/** EventBridge `source` of the controller's events. */
export const RELEASE_EVENT_SOURCE = 'modelship.release';

/** Reads the settings from the controller's environment; a bad value is a deployment error, so it throws. */
export function controllerSettingsFrom(env: Readonly<Record<string, string | undefined>>): ControllerSettings {
  const settings = settingsFromVariable(env, CONTROLLER_SETTINGS_VARIABLE, schema);
  return { ...settings, policy: parsePolicy(settings.policy) };
}
