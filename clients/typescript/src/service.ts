/**
 * `JobQueueService`: SPEC.md's service layer (`addJob`, `getJobStatus`, `cancelJob`, `retryJob`) and
 * the rest of the API: bulk adds, lists, logs, job tokens, queues, schedules, health and live events.
 * Payloads and results are typed per job type through a type map (the built-in six by default).
 *
 * How it fails: see `transport` (error classes by status, retries of idempotent calls only) and
 * `events` (which stream errors end a subscription).
 */

import { JobsApiError } from './errors.js';
import { EventFollower, type JobSubscription, type SubscribeOptions } from './events.js';
import type { BuiltinJobTypes, JobTypeName, PayloadOf, ResultOf } from './job-types.js';
import { type CallOptions, Transport, type TransportConfig } from './transport.js';
import type {
  AddJobOptions,
  AddJobResult,
  CancelResult,
  CleanOptions,
  CleanResult,
  DeleteScheduleResult,
  DrainResult,
  Health,
  JobDetail,
  JobEvent,
  JobList,
  JobLogs,
  JobToken,
  ListJobsQuery,
  PauseResult,
  QueueStats,
  RetryResult,
  ScheduleList,
  ScheduleOptions,
  ScheduleView,
} from './types.js';

export type JobQueueServiceConfig = TransportConfig;

/** One entry of `addBulk`. */
export interface BulkJob<M, T extends JobTypeName<M> = JobTypeName<M>> {
  type: T;
  payload?: PayloadOf<M, T>;
  options?: AddJobOptions;
}

const id = encodeURIComponent;

/** The body `POST /schedule` takes: SPEC.md's top-level `runAt`, the rest under `options`. */
function jobBody(type: string, payload: unknown, options: AddJobOptions = {}): Record<string, unknown> {
  const { runAt, ...rest } = options;
  const body: Record<string, unknown> = { type, payload: payload ?? {}, options: rest };
  if (runAt !== undefined) body.runAt = runAt instanceof Date ? runAt.toISOString() : runAt;
  return body;
}

export class JobQueueService<M = BuiltinJobTypes> {
  private readonly http: Transport;

  constructor(config: JobQueueServiceConfig) {
    this.http = new Transport(config);
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /** Schedules a job. Retried on 429/503/network errors only when `options.jobId` makes it idempotent. */
  addJob<T extends JobTypeName<M>>(
    type: T,
    payload: PayloadOf<M, T>,
    options: AddJobOptions = {},
    call?: CallOptions,
  ): Promise<AddJobResult> {
    const idempotent = options.jobId !== undefined;
    return this.http.request('POST', '/schedule', { body: jobBody(type, payload, options), idempotent }, call);
  }

  /** Schedules up to JOBS_MAX_BULK_JOBS jobs atomically; retried only when every job has a jobId. */
  async addBulk(jobs: BulkJob<M>[], call?: CallOptions): Promise<AddJobResult[]> {
    const body = { jobs: jobs.map((job) => jobBody(job.type, job.payload, job.options)) };
    const idempotent = jobs.every((job) => job.options?.jobId !== undefined);
    const answer = await this.http.request<{ jobs: AddJobResult[] }>('POST', '/schedule/bulk', { body, idempotent }, call);
    return answer.jobs;
  }

  /** The job with its status, progress (0-100), result and error. */
  getJobStatus<T extends JobTypeName<M> = string>(jobId: string, call?: CallOptions): Promise<JobDetail<ResultOf<M, T>>> {
    return this.http.request('GET', `/jobs/${id(jobId)}`, { idempotent: true }, call);
  }

  /** Newest first; `status` takes one state or several. */
  listJobs(query: ListJobsQuery = {}, call?: CallOptions): Promise<JobList> {
    const status = Array.isArray(query.status) ? query.status.join(',') : query.status;
    const q = { queue: query.queue, status, type: query.type, limit: query.limit, offset: query.offset };
    return this.http.request('GET', '/jobs', { query: q, idempotent: true }, call);
  }

  /** Cancels a waiting, delayed, blocked or running job (ConflictError when it already finished). */
  cancelJob(jobId: string, call?: CallOptions): Promise<CancelResult> {
    return this.http.request('DELETE', `/jobs/${id(jobId)}`, { idempotent: false }, call);
  }

  /** Runs a failed or cancelled job again (ConflictError otherwise). */
  retryJob(jobId: string, call?: CallOptions): Promise<RetryResult> {
    return this.http.request('POST', `/jobs/${id(jobId)}/retry`, { idempotent: false }, call);
  }

  getJobLogs(jobId: string, call?: CallOptions): Promise<JobLogs> {
    return this.http.request('GET', `/jobs/${id(jobId)}/logs`, { idempotent: true }, call);
  }

  /** A fresh job-scoped read token for an existing job (needs the master token): hand it to a browser. */
  createJobToken(jobId: string, call?: CallOptions): Promise<JobToken> {
    return this.http.request('POST', `/jobs/${id(jobId)}/token`, { idempotent: true }, call);
  }

  async getQueues(call?: CallOptions): Promise<QueueStats[]> {
    return (await this.http.request<{ queues: QueueStats[] }>('GET', '/queues', { idempotent: true }, call)).queues;
  }

  getQueue(name: string, call?: CallOptions): Promise<QueueStats> {
    return this.http.request('GET', `/queues/${id(name)}`, { idempotent: true }, call);
  }

  pauseQueue(name: string, call?: CallOptions): Promise<PauseResult> {
    return this.http.request('POST', `/queues/${id(name)}/pause`, { idempotent: true }, call);
  }

  resumeQueue(name: string, call?: CallOptions): Promise<PauseResult> {
    return this.http.request('POST', `/queues/${id(name)}/resume`, { idempotent: true }, call);
  }

  /** Deletes the queue's waiting jobs (and delayed ones with `{delayed: true}`). */
  drainQueue(name: string, options: { delayed?: boolean } = {}, call?: CallOptions): Promise<DrainResult> {
    return this.http.request('POST', `/queues/${id(name)}/drain`, { body: options, idempotent: false }, call);
  }

  /** Deletes finished jobs older than `grace` ms, oldest first, at most `limit`. */
  cleanQueue(name: string, options: CleanOptions = {}, call?: CallOptions): Promise<CleanResult> {
    return this.http.request('POST', `/queues/${id(name)}/clean`, { body: options, idempotent: false }, call);
  }

  /** Creates a recurring job (or updates it, when `options.scheduleId` names an existing one). */
  addSchedule<T extends JobTypeName<M>>(
    type: T,
    payload: PayloadOf<M, T>,
    options: ScheduleOptions,
    call?: CallOptions,
  ): Promise<ScheduleView> {
    const { schedule, timezone, ...jobOptions } = options;
    const body = { type, payload, schedule, ...(timezone ? { timezone } : {}), options: jobOptions };
    const idempotent = options.scheduleId !== undefined;
    return this.http.request('POST', '/schedule', { body, idempotent }, call);
  }

  listSchedules(call?: CallOptions): Promise<ScheduleList> {
    return this.http.request('GET', '/schedules', { idempotent: true }, call);
  }

  getSchedule(scheduleId: string, call?: CallOptions): Promise<ScheduleView> {
    return this.http.request('GET', `/schedules/${id(scheduleId)}`, { idempotent: true }, call);
  }

  deleteSchedule(scheduleId: string, call?: CallOptions): Promise<DeleteScheduleResult> {
    return this.http.request('DELETE', `/schedules/${id(scheduleId)}`, { idempotent: false }, call);
  }

  pauseSchedule(scheduleId: string, call?: CallOptions): Promise<ScheduleView> {
    return this.http.request('POST', `/schedules/${id(scheduleId)}/pause`, { idempotent: true }, call);
  }

  resumeSchedule(scheduleId: string, call?: CallOptions): Promise<ScheduleView> {
    return this.http.request('POST', `/schedules/${id(scheduleId)}/resume`, { idempotent: true }, call);
  }

  /** `GET /health` (a 503 answer, Redis down, still resolves: its body says `unhealthy`). */
  async health(call?: CallOptions): Promise<Health> {
    try {
      return await this.http.request<Health>('GET', '/health', { idempotent: false }, call);
    } catch (err) {
      if (err instanceof JobsApiError && err.status === 503) return { status: 'unhealthy' };
      throw err;
    }
  }

  /**
   * Follows one job's events live until `close()`, the signal aborts, or (by default) its terminal
   * event. Wait for `connected` before scheduling a job with your own jobId, or before reading its
   * status, and no transition is missed.
   */
  subscribe<T extends JobTypeName<M> = string>(
    jobId: string,
    onEvent: (event: JobEvent<ResultOf<M, T>>) => void,
    options?: SubscribeOptions,
  ): JobSubscription {
    return new EventFollower<ResultOf<M, T>>(this.http, jobId, onEvent, options);
  }
}
