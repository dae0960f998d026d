/** How the gateway answers when `InvokeEndpoint` fails. */
export interface InvocationFailure {
  readonly status: number;
  readonly code: string;
  /** Whether the caller may retry the same request. */
  readonly retryable: boolean;
}

const FAILURES: Record<string, InvocationFailure> = {
  // The request broke a SageMaker rule (payload, headers, variant): the caller's to fix.
  ValidationError: { status: 400, code: 'InvalidRequest', retryable: false },
  // The model's container answered with an error.
  ModelError: { status: 502, code: 'ModelError', retryable: false },
  ModelNotReadyException: { status: 503, code: 'ModelNotReady', retryable: true },
  ServiceUnavailable: { status: 503, code: 'ServiceUnavailable', retryable: true },
  ThrottlingException: { status: 429, code: 'Throttled', retryable: true },
  TimeoutError: { status: 504, code: 'ModelTimeout', retryable: true },
};

/** Maps an `InvokeEndpoint` error (by its name) to the gateway's answer; anything unknown is a 502. */
export function invocationFailure(errorName: string): InvocationFailure {
  return FAILURES[errorName] ?? { status: 502, code: 'UpstreamError', retryable: true };
}
