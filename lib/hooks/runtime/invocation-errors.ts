/** How the gateway answers when `InvokeEndpoint` fails. */
export interface InvocationFailure {
  readonly status: number;
  readonly code: string;
  /** What the caller is told: our own words. SageMaker's text (log-group URLs, account ids, ARNs) stays in our logs. */
  readonly message: string;
  /** Whether the caller may retry the same request. */
  readonly retryable: boolean;
  /**
   * Whether the variant caused it (its model failed, was not ready or did not answer in time):
   * only these count as the variant's `Errors`, so a failure of the caller, of SageMaker or of
   * the gateway's own setup never weighs against a candidate.
   */
  readonly variantError: boolean;
}

/** The gateway may not invoke its endpoint, or the endpoint does not exist: its operators must fix it. */
const MISCONFIGURED: InvocationFailure = {
  status: 500, code: 'GatewayMisconfigured', message: 'The gateway cannot invoke its endpoint; its operators must fix it', retryable: false, variantError: false,
};

const FAILURES: Record<string, InvocationFailure> = {
  // The request broke a SageMaker rule (payload, headers, variant): the caller's to fix.
  ValidationError: { status: 400, code: 'InvalidRequest', message: 'The endpoint refused the request as invalid', retryable: false, variantError: false },
  // The model's container answered with an error.
  ModelError: { status: 502, code: 'ModelError', message: 'The model answered with an error', retryable: false, variantError: true },
  ModelNotReadyException: { status: 503, code: 'ModelNotReady', message: 'The model is not ready; retry', retryable: true, variantError: true },
  ServiceUnavailable: { status: 503, code: 'ServiceUnavailable', message: 'The endpoint is unavailable; retry', retryable: true, variantError: false },
  ThrottlingException: { status: 429, code: 'Throttled', message: 'Too many requests to the endpoint; retry', retryable: true, variantError: false },
  TimeoutError: { status: 504, code: 'ModelTimeout', message: 'The model did not answer in time; retry', retryable: true, variantError: true },
  AccessDeniedException: MISCONFIGURED,
};

/** SageMaker's words for a missing endpoint, which it names a validation error. */
const ENDPOINT_NOT_FOUND = /^Endpoint \S+ of account \S+ not found/;

/**
 * Maps an `InvokeEndpoint` error (by its name, and for a validation error its message) to the
 * gateway's answer; anything unknown is a retryable 502 that is not the variant's.
 */
export function invocationFailure(errorName: string, errorMessage = ''): InvocationFailure {
  if ((errorName === 'ValidationError' || errorName === 'ValidationException') && ENDPOINT_NOT_FOUND.test(errorMessage)) {
    return MISCONFIGURED;
  }
  return FAILURES[errorName]
    ?? { status: 502, code: 'UpstreamError', message: 'The endpoint could not be reached; retry', retryable: true, variantError: false };
}
