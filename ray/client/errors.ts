/**
 * What can go wrong talking to a Ray head, as typed values: each failure is one small class with
 * the fields a caller needs, and `kind` discriminates the union `RayError`, so a `switch (err.kind)`
 * narrows it. Every one extends `RayClientError`, so `instanceof` works too.
 */

export type RayErrorKind = 'unreachable' | 'not-found' | 'duplicate-submission' | 'bad-request' | 'unauthorized' | 'server';

export abstract class RayClientError extends Error {
  abstract readonly kind: RayErrorKind;
  /** `METHOD /path` of the request that failed. */
  readonly request: string;

  constructor(message: string, request: string, options?: { cause?: unknown }) {
    super(message, options);
    this.request = request;
  }
}

/** No HTTP answer at all: connection refused or reset, DNS failure, timeout (after the retries). */
export class RayUnreachableError extends RayClientError {
  readonly kind = 'unreachable';
  override name = 'RayUnreachableError';

  constructor(readonly address: string, request: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`cannot reach the Ray head at ${address} (${request}): ${reason}`, request, options);
  }
}

/** The head knows no job with this submission (or job) id. */
export class RayJobNotFoundError extends RayClientError {
  readonly kind = 'not-found';
  override name = 'RayJobNotFoundError';

  constructor(readonly submissionId: string, request: string) {
    super(`Ray has no job ${JSON.stringify(submissionId)}`, request);
  }
}

/** A job with this `submission_id` exists already: Ray refuses to submit it twice. */
export class RayDuplicateSubmissionError extends RayClientError {
  readonly kind = 'duplicate-submission';
  override name = 'RayDuplicateSubmissionError';

  constructor(readonly submissionId: string, request: string) {
    super(`Ray already has a job with submission_id ${JSON.stringify(submissionId)}`, request);
  }
}

/** The head rejected the request as malformed (or the client refused to send it). */
export class RayBadRequestError extends RayClientError {
  readonly kind = 'bad-request';
  override name = 'RayBadRequestError';

  constructor(readonly status: number | null, readonly detail: string, request: string) {
    super(`Ray rejected ${request}${status === null ? '' : ` (HTTP ${status})`}: ${detail}`, request);
  }
}

/** Token authentication is on and the request's token is missing or wrong (HTTP 401/403). */
export class RayUnauthorizedError extends RayClientError {
  readonly kind = 'unauthorized';
  override name = 'RayUnauthorizedError';

  constructor(readonly status: number, readonly detail: string, request: string) {
    super(`Ray refused ${request} (HTTP ${status}): ${detail || 'unauthorized'}; pass a token (RayJobClient option \`token\`)`, request);
  }
}

/** Any other failure the head reported (HTTP 5xx, or an answer that is not what the API promises). */
export class RayServerError extends RayClientError {
  readonly kind = 'server';
  override name = 'RayServerError';

  constructor(readonly status: number | null, readonly detail: string, request: string) {
    super(`Ray failed ${request}${status === null ? '' : ` (HTTP ${status})`}: ${detail}`, request);
  }
}

export type RayError =
  | RayUnreachableError | RayJobNotFoundError | RayDuplicateSubmissionError | RayBadRequestError | RayUnauthorizedError | RayServerError;

export function isRayError(err: unknown): err is RayError {
  return err instanceof RayClientError;
}
