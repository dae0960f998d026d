import * as z from 'zod/mini';
import { formatValue } from '../../runtime/errors';

/**
 * Parsing of the gateway's two requests. Pure: a request in, a typed body or a client error
 * out, with a message that names the field, the rule and the value received.
 */

/** How deep a body may nest arrays and objects: deeper JSON is refused before it is parsed (serializing it again could exhaust the stack). */
export const MAX_JSON_DEPTH = 32;

/** How much of a value a refusal echoes back (and logs), in characters. */
export const ECHO_LIMIT = 64;

/** A value as a refusal quotes it: `formatValue`, cut to `ECHO_LIMIT` characters with what was left out counted. */
export function formatEchoed(value: unknown): string {
  const text = formatValue(value);
  return text.length <= ECHO_LIMIT ? text : `${text.slice(0, ECHO_LIMIT)}… (${text.length - ECHO_LIMIT} more characters)`;
}

/**
 * The deepest nesting of arrays and objects in JSON text, counted without parsing (brackets
 * inside strings do not count); stops counting past `limit`.
 */
export function jsonDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length && deepest <= limit; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) {
        i += 1; // a backslash escapes the next character
      } else if (c === 0x22) {
        inString = false;
      }
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      depth += 1;
      deepest = Math.max(deepest, depth);
    } else if (c === 0x5d || c === 0x7d) {
      depth -= 1;
    }
  }
  return deepest;
}

/** An HTTP request as API Gateway hands it to the handler (headers in lower case). */
export interface GatewayRequest {
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly body?: string;
  readonly isBase64Encoded: boolean;
  /**
   * The route's path parameters: `variant` on the forcing route.
   * @default - none: the route has no path parameters
   */
  readonly pathParameters?: Readonly<Record<string, string | undefined>>;
}

/** A request the gateway refuses. */
export interface ClientError {
  readonly ok: false;
  readonly status: 400 | 403 | 413 | 415;
  readonly code: 'InvalidRequest' | 'PayloadTooLarge' | 'UnsupportedMediaType' | 'UnknownOutcomeType' | 'ForceNotAllowed';
  readonly message: string;
}

/**
 * The gateway's routes, by the permission each needs: invoking (the gateway picks the variant),
 * forcing a variant (the path names it) and reporting outcomes. One route per permission, as
 * API Gateway authorises per route (IAM's `execute-api:Invoke` on the route, a JWT's scopes).
 */
export const GATEWAY_ROUTES = {
  invoke: '/invocations',
  forceVariant: '/variants/{variant}/invocations',
  reportOutcomes: '/outcomes',
} as const;

/** A permission of the gateway's callers: one per route. */
export type GatewayPermission = keyof typeof GATEWAY_ROUTES;

/** The header SageMaker reads a forced variant from: the gateway never forwards it, and refuses it rather than ignore a caller's intent. */
export const TARGET_VARIANT_HEADER = 'x-amzn-sagemaker-target-variant';

/** A parsed request. */
export interface Parsed<T> {
  readonly ok: true;
  readonly value: T;
}

/** `POST /invocations`. */
export interface InvocationRequest {
  /** The model's input, sent to the endpoint as `application/json`. */
  readonly input: unknown;
  /** The unit (user, session, account) to keep on one variant. */
  readonly unitId?: string;
  /**
   * A variant to send this request to, bypassing assignment: named in the path of the forcing route only.
   * @default - the unit's sticky variant, or one drawn by the weights
   */
  readonly variant?: string;
}

/** `POST /outcomes`. */
export interface OutcomeRequest {
  /** The id `POST /invocations` returned. */
  readonly inferenceId: string;
  /** The outcome's type, e.g. `purchase`. */
  readonly type: string;
  /** Whether the prediction led to a conversion. */
  readonly converted?: boolean;
  /** A numeric value such as revenue. */
  readonly value?: number;
}

const invocation = z.strictObject({
  input: z.unknown().check(z.refine((v) => v !== undefined, { error: 'is required (any JSON value)' })),
  unitId: z.optional(z.string({ error: 'must be a string of 1-256 characters' }).check(
    z.minLength(1, { error: 'must be a string of 1-256 characters' }), z.maxLength(256, { error: 'must be a string of 1-256 characters' }))),
  // Known only to be refused (see parseInvocation): the path of the forcing route names a forced variant.
  variant: z.optional(z.unknown()),
});

/** The body of an invocation as the schema reads it. */
type InvocationBody = Omit<InvocationRequest, 'variant'> & { readonly variant?: unknown };

/** What an outcome type may be, in `POST /outcomes` and in the gateway's `outcomeTypes`. */
export const OUTCOME_TYPE = /^[A-Za-z0-9_.:-]{1,64}$/;
/** `OUTCOME_TYPE` in words, for error messages. */
export const OUTCOME_TYPE_RULE = '1-64 letters, digits or _.:-';

const outcome = z.strictObject({
  inferenceId: z.string({ error: 'is required: the id POST /invocations returned' }),
  type: z.string({ error: `must be ${OUTCOME_TYPE_RULE}` }).check(z.regex(OUTCOME_TYPE, { error: `must be ${OUTCOME_TYPE_RULE}` })),
  converted: z.optional(z.boolean({ error: 'must be true or false' })),
  value: z.optional(z.number({ error: 'must be a finite number' }).check(z.refine(Number.isFinite, { error: 'must be a finite number' }))),
}).check(z.refine((o) => o.converted !== undefined || o.value !== undefined, { error: "needs 'converted', 'value' or both" }));

function fail(status: ClientError['status'], code: ClientError['code'], message: string): ClientError {
  return { ok: false, status, code, message };
}

function readJson(request: GatewayRequest, maxBytes: number): Parsed<unknown> | ClientError {
  const contentType = request.headers?.['content-type'];
  if (!contentType || !/^application\/json\s*(;|$)/i.test(contentType)) {
    return fail(415, 'UnsupportedMediaType', `'Content-Type' must be application/json, got ${formatEchoed(contentType)}`);
  }
  const text = request.isBase64Encoded ? Buffer.from(request.body ?? '', 'base64').toString('utf8') : request.body ?? '';
  const size = Buffer.byteLength(text);
  if (size > maxBytes) {
    return fail(413, 'PayloadTooLarge', `The body must be at most ${maxBytes} bytes, got ${size}`);
  }
  if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    return fail(400, 'InvalidRequest', `The body must nest arrays and objects at most ${MAX_JSON_DEPTH} levels deep, got more`);
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return fail(400, 'InvalidRequest', `The body must be JSON: ${(e as Error).message.slice(0, ECHO_LIMIT)}`);
  }
}

function parse<T>(request: GatewayRequest, maxBytes: number, schema: z.ZodMiniType<T>): Parsed<T> | ClientError {
  const json = readJson(request, maxBytes);
  if (!json.ok) {
    return json;
  }
  if (json.value === null || typeof json.value !== 'object' || Array.isArray(json.value)) {
    return fail(400, 'InvalidRequest', `The body must be a JSON object, got ${formatEchoed(json.value)}`);
  }
  const result = z.safeParse(schema, json.value);
  if (result.success) {
    return { ok: true, value: result.data };
  }
  const body = json.value as Record<string, unknown>;
  return fail(400, 'InvalidRequest', result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return `Unknown field(s) ${formatEchoed(issue.keys.join(', '))}`;
    }
    const field = issue.path[0];
    return field === undefined ? `The body ${issue.message}` : `'${String(field)}' ${issue.message}, got ${formatEchoed(body[String(field)])}`;
  }).join('; '));
}

/**
 * Parses `POST /invocations` and `POST /variants/{variant}/invocations`, and decides whether
 * the request forces a variant: only the path of the forcing route may name one. A variant in
 * the body or in SageMaker's target-variant header is refused, 403 `ForceNotAllowed` on the
 * plain route (forcing needs its own permission), 400 on the forcing route (the path names it).
 */
export function parseInvocation(request: GatewayRequest, maxBytes: number): Parsed<InvocationRequest> | ClientError {
  const parsed = parse(request, maxBytes, invocation as z.ZodMiniType<InvocationBody>);
  if (!parsed.ok) {
    return parsed;
  }
  const { variant, ...body } = parsed.value;
  const forced = request.pathParameters?.variant;
  const elsewhere = variant !== undefined ? "'variant' in the body"
    : request.headers?.[TARGET_VARIANT_HEADER] !== undefined ? `the '${TARGET_VARIANT_HEADER}' header` : undefined;
  if (elsewhere !== undefined) {
    return forced === undefined
      ? fail(403, 'ForceNotAllowed', `Forcing a variant needs POST ${GATEWAY_ROUTES.forceVariant} and its permission; ${elsewhere} is refused on POST ${GATEWAY_ROUTES.invoke}`)
      : fail(400, 'InvalidRequest', `The path names the variant: ${elsewhere} is refused on POST ${GATEWAY_ROUTES.forceVariant}`);
  }
  return { ok: true, value: forced === undefined ? body : { ...body, variant: forced } };
}

/** What a gateway accepts of an outcome beyond its form. */
export interface OutcomeRules {
  /** The types accepted: every gateway names at least one, and any other type is refused. */
  readonly outcomeTypes: readonly string[];
  /** The largest `value` accepted, in absolute terms. */
  readonly maxValue: number;
}

/** Parses `POST /outcomes`: its form, then the gateway's outcome types and value bound. */
export function parseOutcome(request: GatewayRequest, maxBytes: number, rules: OutcomeRules): Parsed<OutcomeRequest> | ClientError {
  const parsed = parse(request, maxBytes, outcome as z.ZodMiniType<OutcomeRequest>);
  if (!parsed.ok) {
    return parsed;
  }
  const { type, value } = parsed.value;
  if (!rules.outcomeTypes.includes(type)) {
    return fail(400, 'UnknownOutcomeType', `'type' must be one of ${rules.outcomeTypes.map((t) => `'${t}'`).join(', ')}, got ${formatEchoed(type)}`);
  }
  if (value !== undefined && Math.abs(value) > rules.maxValue) {
    return fail(400, 'InvalidRequest', `'value' must be between ${-rules.maxValue} and ${rules.maxValue}, got ${formatEchoed(value)}`);
  }
  return parsed;
}
