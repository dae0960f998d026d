import * as z from 'zod/mini';
import { settingsFromVariable } from '../../runtime/settings-variable';
import { OUTCOME_TYPE } from './gateway-request';

/** How many outcome types a gateway publishes experiment metrics for, at most. */
export const MAX_OUTCOME_TYPES = 10;

/**
 * The outcome types a gateway accepts when its props name none: the example app's and the
 * release policies' usual type. Every gateway has a finite list, as each type is new metric
 * dimensions; one type keeps the experiment metrics' zeros to two series per unit bucket.
 */
export const DEFAULT_OUTCOME_TYPES: readonly string[] = ['purchase'];

/** The largest outcome value a gateway accepts unless told otherwise, in absolute terms. */
export const DEFAULT_MAX_OUTCOME_VALUE = 1_000_000_000;

/** The largest `maxOutcomeValue` a gateway may be given: squares of larger values lose precision in sums. */
export const MAX_OUTCOME_VALUE_LIMIT = 1e15;

/** How long a gateway handler keeps the keys it read before reading them again. */
export const KEY_CACHE_TTL_SECONDS = 300;

/**
 * The shortest rotation interval of the signing key for an outcome window, in whole days: the
 * previous key verifies the ids it signed only until the next rotation, ids are signed with it
 * for up to `KEY_CACHE_TTL_SECONDS` after a rotation (cached keys), and a scheduled rotation may
 * come up to a day early (anywhere in its UTC day). So: the window plus the cache's time-to-live,
 * in whole days rounded up, plus a day.
 */
export function minKeyRotationDays(outcomeWindowSeconds: number): number {
  return Math.ceil((outcomeWindowSeconds + KEY_CACHE_TTL_SECONDS) / 86400) + 1;
}

/**
 * What the gateway's handlers need to know, passed from the construct to the handlers as one
 * JSON environment variable so both sides share a single definition.
 */
const schema = z.object({
  /** The SageMaker endpoint behind the gateway. */
  endpointName: z.string().check(z.minLength(1)),
  /** Its production variants: the only ones an inference id can be signed for. */
  variants: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  /** The model version each variant serves, where known. */
  modelVersions: z.record(z.string(), z.string()),
  /** The Secrets Manager secret holding the gateway's keys: its current version signs, its previous one still verifies. */
  signingKeySecretId: z.string().check(z.minLength(1)),
  /** Requests larger than this get a 413. */
  maxPayloadBytes: z.number().check(z.int(), z.positive()),
  /** How long the endpoint's weights are trusted before they are read again. */
  weightsTtlSeconds: z.number().check(z.positive()),
  /** Mixed into sticky assignment: a new salt reshuffles units. */
  assignmentSalt: z.string(),
  /** Share of records that keep request and response bodies, 0-1. */
  bodySampleRate: z.number().check(z.gte(0), z.lte(1)),
  /** JSON fields whose values are redacted from recorded bodies. */
  redactFields: z.array(z.string()),
  /** Recorded bodies larger than this are left out. */
  maxRecordedBodyBytes: z.number().check(z.int(), z.positive()),
  /** How long after a prediction its outcomes are accepted. */
  outcomeWindowSeconds: z.number().check(z.int(), z.positive()),
  /** The DynamoDB table that counts each outcome once. */
  outcomeTableName: z.string().check(z.minLength(1)),
  /** The outcome types the gateway accepts and publishes experiment metrics for (sticky requests only): at least one, others are refused. */
  outcomeTypes: z.array(z.string().check(z.regex(OUTCOME_TYPE))).check(z.minLength(1), z.maxLength(MAX_OUTCOME_TYPES)),
  /** The largest outcome value accepted, in absolute terms. */
  maxOutcomeValue: z.number().check(z.positive()),
});

/** The gateway's settings. */
export type GatewaySettings = z.infer<typeof schema>;

/** Where the gateway's EMF metrics land: the namespace and the `service` dimension Powertools adds. */
export const GATEWAY_METRICS = { namespace: 'Modelship', service: 'modelship-gateway' } as const;

/** The environment variable that carries the settings. */
export const GATEWAY_SETTINGS_VARIABLE = 'MODELSHIP_GATEWAY_SETTINGS';

/** Reads the settings from the handler's environment; a bad value is a deployment error, so it throws. */
export function gatewaySettingsFrom(env: Readonly<Record<string, string | undefined>>): GatewaySettings {
  return settingsFromVariable(env, GATEWAY_SETTINGS_VARIABLE, schema);
}
