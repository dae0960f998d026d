/** How the gateway answers when `InvokeEndpoint` fails. */
export interface InvocationFailure {
  readonly status: number;
  readonly code: string;
  /** What the caller is told: our own words. SageMaker's text (log-group URLs, account ids, ARNs) stays in our logs. */
  readonly message: string;
  /** Whether the caller may retry the same request. */
  readonly retryable: boolean;
}

const FAILURES: Record<string, InvocationFailure> = {
  // The request broke a SageMaker rule (payload, headers, variant): the caller's to fix.
  ValidationError: { status: 400, code: 'InvalidRequest', message: 'The endpoint refused the request as invalid', retryable: false },
  // The model's container answered with an error.
  ModelError: { status: 502, code: 'ModelError', message: 'The model answered with an error', retryable: false },
  ModelNotReadyException: { status: 503, code: 'ModelNotReady', message: 'The model is not ready; retry', retryable: true },
  ServiceUnavailable: { status: 503, code: 'ServiceUnavailable', message: 'The endpoint is unavailable; retry', retryable: true },
  ThrottlingException: { status: 429, code: 'Throttled', message: 'Too many requests to the endpoint; retry', retryable: true },
  TimeoutError: { status: 504, code: 'ModelTimeout', message: 'The model did not answer in time; retry', retryable: true },
};

/** Maps an `InvokeEndpoint` error (by its name) to the gateway's answer; anything unknown is a 502. */
export function invocationFailure(errorName: string): InvocationFailure {
  return FAILURES[errorName] ?? { status: 502, code: 'UpstreamError', message: 'The endpoint could not be reached; retry', retryable: true };
}
