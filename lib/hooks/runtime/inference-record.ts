/**
 * The records the inference gateway writes for the log store: one JSON line per served
 * prediction and per counted outcome. Pure: no SDK, no clock, no environment.
 *
 * The gateway writes each record as one line on its standard output; a subscription filter on
 * its log group ships exactly these lines (`RECORD_FILTER_PATTERN`) to the log store.
 */

/** Bump when a field changes meaning; readers branch on it. */
export const RECORD_SCHEMA_VERSION = 1;

/** The CloudWatch Logs filter pattern that selects record lines and nothing else. */
export const RECORD_FILTER_PATTERN = '{ $.recordType = "modelship.*" }';

/** A prediction the gateway served or failed to serve. */
export interface InferenceRecord {
  readonly recordType: 'modelship.inference';
  readonly schemaVersion: number;
  /** Unique per record: the inference id. Deduplicate on it downstream. */
  readonly recordId: string;
  /** The signed id returned to the caller (the capture id when the invocation failed). */
  readonly inferenceId: string;
  /** The id sent to SageMaker as `InferenceId`: joins the data-capture record's `eventMetadata.inferenceId`. */
  readonly captureId: string;
  readonly endpointName: string;
  /** The production variant that served it, or the one it was sent to when it failed (absent when SageMaker routed a failed request). */
  readonly variant?: string;
  /** The model version the variant serves (model package ARN or artifact version), if known. */
  readonly modelVersion?: string;
  /** How the variant was chosen. */
  readonly assignment: Assignment;
  /** Keyed hash of the caller's unit id; the raw id is never recorded. */
  readonly unitHash?: string;
  /** When the gateway received the request (ISO 8601). */
  readonly requestedAt: string;
  /** Time spent in the gateway in total, in milliseconds. */
  readonly latencyMs: number;
  /** Time spent waiting for `InvokeEndpoint`, in milliseconds. */
  readonly modelLatencyMs: number;
  /** The HTTP status the gateway answered with. */
  readonly status: number;
  /** SageMaker's error name when the invocation failed. */
  readonly error?: string;
  /** Whether the bodies were sampled for this record. */
  readonly bodiesSampled: boolean;
  /** Whether a sampled body was left out for being larger than the gateway's limit. */
  readonly bodiesTruncated?: boolean;
  /** The request's model input, redacted; only when sampled. */
  readonly request?: unknown;
  /** The model's output, redacted; only when sampled. */
  readonly response?: unknown;
}

/** A business outcome, counted once per inference id and outcome type. */
export interface OutcomeRecord {
  readonly recordType: 'modelship.outcome';
  readonly schemaVersion: number;
  /** Unique per record: `<inferenceId>#<outcomeType>`. */
  readonly recordId: string;
  readonly inferenceId: string;
  readonly endpointName: string;
  readonly variant: string;
  readonly outcomeType: string;
  readonly converted?: boolean;
  readonly value?: number;
  /** When the gateway issued the inference id (ISO 8601). */
  readonly issuedAt: string;
  /** When the outcome was reported (ISO 8601). */
  readonly reportedAt: string;
}

/** How the gateway chose the variant: by the unit's sticky hash, by the caller's override, or by SageMaker's weights. */
export type Assignment = 'sticky' | 'override' | 'weighted';

/** Either kind of record. */
export type GatewayRecord = InferenceRecord | OutcomeRecord;
