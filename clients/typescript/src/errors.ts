/**
 * Error classes for every way a call fails: one per HTTP status the API answers (all extending
 * `JobsApiError`, which carries the API's `code`, `message` and `details`, the HTTP `status` and the
 * `requestId` to find the api's log line), and `ApiConnectionError` when no answer came at all.
 * A call aborted through its `AbortSignal` rejects with the signal's reason, never with these.
 */

export interface ApiErrorFields {
  code: string;
  status: number;
  details?: unknown;
  requestId?: string;
  cause?: unknown;
}

export class JobsApiError extends Error {
  /** The API's error code (`invalid_input`, `not_found`, `queue_full` …). */
  readonly code: string;
  /** HTTP status; 0 when no answer came. */
  readonly status: number;
  /** Field errors (`[{field, message}]`) or the subject (`{jobId}`, `{queue}`). */
  readonly details: unknown;
  /** `X-Request-ID` of the answer: the api logs each request under it. */
  readonly requestId: string | undefined;

  constructor(message: string, fields: ApiErrorFields) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = new.target.name;
    this.code = fields.code;
    this.status = fields.status;
    this.details = fields.details ?? null;
    this.requestId = fields.requestId;
  }
}

/** 400: bad input; `details` names each field. */
export class BadRequestError extends JobsApiError {}
/** 401: no token, or a wrong, altered or expired one. */
export class AuthenticationError extends JobsApiError {}
/** 403: a job-scoped token used for anything but reading its own job. */
export class PermissionDeniedError extends JobsApiError {}
/** 404: unknown job, queue or schedule. */
export class NotFoundError extends JobsApiError {}
/** 409: wrong state (cancel a finished job, retry one that has not failed …). */
export class ConflictError extends JobsApiError {}
/** 413: body or bulk too large. */
export class PayloadTooLargeError extends JobsApiError {}
/** 503: the API cannot reach Redis. */
export class ServiceUnavailableError extends JobsApiError {}
/** Any other 5xx. */
export class InternalServerError extends JobsApiError {}

/** 429: the queue is full; try again after `retryAfter` seconds. */
export class RateLimitError extends JobsApiError {
  /** Seconds to wait, from the `Retry-After` header (undefined when the answer had none). */
  readonly retryAfter: number | undefined;

  constructor(message: string, fields: ApiErrorFields & { retryAfter?: number }) {
    super(message, fields);
    this.retryAfter = fields.retryAfter;
  }
}

/** No answer: the network failed, the connection was refused, or `timeoutMs` passed. */
export class ApiConnectionError extends JobsApiError {
  constructor(message: string, cause?: unknown, code = 'connection_failed') {
    super(message, { code, status: 0, cause });
  }
}

const BY_STATUS: Record<number, typeof JobsApiError> = {
  400: BadRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  503: ServiceUnavailableError,
};

/** Seconds from a `Retry-After` header: delta-seconds or an HTTP date; undefined when absent or bad. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000);
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: unknown };
}

/** The error for an answer that is not 2xx; reads the `{"error": {…}}` body when there is one. */
export async function errorFromResponse(response: Response): Promise<JobsApiError> {
  const text = await response.text().catch(() => '');
  let body: ErrorBody = {};
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {
    // not JSON (a proxy's HTML page, say): the status and the start of the text say enough
  }
  const fields: ApiErrorFields = {
    code: typeof body.error?.code === 'string' ? body.error.code : `http_${response.status}`,
    status: response.status,
    details: body.error?.details,
    requestId: response.headers.get('X-Request-ID') ?? undefined,
  };
  const message =
    typeof body.error?.message === 'string'
      ? body.error.message
      : `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
  if (response.status === 429) {
    const retryAfter = parseRetryAfter(response.headers.get('Retry-After'));
    return new RateLimitError(message, { ...fields, retryAfter });
  }
  const Class = BY_STATUS[response.status] ?? (response.status >= 500 ? InternalServerError : JobsApiError);
  return new Class(message, fields);
}
