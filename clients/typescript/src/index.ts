/**
 * `@nchat/jobs-client`: a typed client for the nChat Jobs API (`JobQueueService`), its errors, live job
 * events, and `watchJob` (one job's live state without React). The React hook is in
 * `@nchat/jobs-client/react`.
 */

export { DEFAULT_RECONNECT, DEFAULT_RETRY } from './backoff.js';
export type { BackoffPolicy, RetryPolicy } from './backoff.js';
export { envJobsUrl } from './env.js';
export {
  ApiConnectionError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  InternalServerError,
  JobsApiError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  RateLimitError,
  ServiceUnavailableError,
} from './errors.js';
export type { ConnectionState, EndReason, JobSubscription, SubscribeOptions } from './events.js';
export type * from './job-types.js';
export { JobQueueService } from './service.js';
export type { BulkJob, JobQueueServiceConfig } from './service.js';
export type { CallOptions, FetchLike, TokenSource } from './transport.js';
export { TERMINAL_STATES } from './types.js';
export type * from './types.js';
export { activeWatchCount, watchJob } from './shared.js';
export { IDLE_STATE, JobWatch } from './watch.js';
export type { JobState, JobTokenSource, WatchOptions } from './watch.js';
