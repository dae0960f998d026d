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
  /** Marks the line as an inference record; `RECORD_FILTER_PATTERN` selects on it. */
  readonly recordType: 'modelship.inference';
  /** The record schema's version (`RECORD_SCHEMA_VERSION`) when it was written. */
  readonly schemaVersion: number;
  /** Unique per record: the inference id. Deduplicate on it downstream. */
  readonly recordId: string;
  /** The signed id returned to the caller (the capture id when the invocation failed). */
  readonly inferenceId: string;
  /** The id sent to SageMaker as `InferenceId`: joins the data-capture record's `eventMetadata.inferenceId`. */
  readonly captureId: string;
  /** The endpoint the gateway serves. */
  readonly endpointName: string;
  /**
   * The production variant that served it, or the one the gateway sent it to when it failed.
   * @default - absent only in records of failed requests written before the gateway chose every request's variant
   */
  readonly variant?: string;
  /**
   * The model version the variant serves (model package ARN or artifact version), if known.
   * @default - absent when the gateway does not know the variant's version
   */
  readonly modelVersion?: string;
  /** How the variant was chosen. */
  readonly assignment: Assignment;
  /** Keyed hash of the caller's unit id; the raw id is never recorded. @default - absent when the request carried no `unitId` */
  readonly unitHash?: string;
  /**
   * The unit's bucket in the experiment metrics (`UnitBucket` dimension), 0-31, derived from `unitHash`; only for sticky requests.
   * @default - absent unless the variant was chosen by the unit's sticky assignment
   */
  readonly unitBucket?: number;
  /** When the gateway received the request (ISO 8601). */
  readonly requestedAt: string;
  /** Time spent in the gateway in total, in milliseconds. */
  readonly latencyMs: number;
  /** Time spent waiting for `InvokeEndpoint`, in milliseconds. */
  readonly modelLatencyMs: number;
  /** The HTTP status the gateway answered with. */
  readonly status: number;
  /** SageMaker's error name when the invocation failed. @default - absent when the invocation succeeded */
  readonly error?: string;
  /** Whether the bodies were sampled for this record. */
  readonly bodiesSampled: boolean;
  /** Whether a sampled body was left out for being larger than the gateway's limit. @default - absent when the bodies were not sampled */
  readonly bodiesTruncated?: boolean;
  /**
   * The request's model input, redacted; only when sampled.
   * @default - absent when the bodies were not sampled or the input was left out for its size
   */
  readonly request?: unknown;
  /**
   * The model's output, redacted; only when sampled.
   * @default - absent when the bodies were not sampled, the invocation failed or the output was left out for its size
   */
  readonly response?: unknown;
}

/** A business outcome, counted once per inference id and outcome type. */
export interface OutcomeRecord {
  /** Marks the line as an outcome record; `RECORD_FILTER_PATTERN` selects on it. */
  readonly recordType: 'modelship.outcome';
  /** The record schema's version (`RECORD_SCHEMA_VERSION`) when it was written. */
  readonly schemaVersion: number;
  /** Unique per record: `<inferenceId>#<outcomeType>`. */
  readonly recordId: string;
  /** The signed inference id the outcome was reported for, as the caller sent it. */
  readonly inferenceId: string;
  /** The endpoint the gateway serves. */
  readonly endpointName: string;
  /** The production variant that served the inference, as signed into its id. */
  readonly variant: string;
  /** The outcome's type as reported, e.g. `purchase`. */
  readonly outcomeType: string;
  /** Whether the prediction led to a conversion, as reported. @default - absent when the report left it out */
  readonly converted?: boolean;
  /** The outcome's numeric value (e.g. revenue), as reported. @default - absent when the report left it out */
  readonly value?: number;
  /** When the gateway issued the inference id (ISO 8601). */
  readonly issuedAt: string;
  /** When the outcome was reported (ISO 8601). */
  readonly reportedAt: string;
}

/** How the gateway chose the variant: by the unit's sticky hash, by the caller's override, or by a random draw by the endpoint's weights. */
export type Assignment = 'sticky' | 'override' | 'weighted';

/** Either kind of record. */
export type GatewayRecord = InferenceRecord | OutcomeRecord;
