/**
 * The API's request options and answers as TypeScript types (docs/api.md is the reference; field names
 * are the API's own). Types only: nothing here runs.
 */

import type { JsonObject } from './job-types.js';

export type JobStatus = 'waiting' | 'delayed' | 'blocked' | 'active' | 'completed' | 'failed' | 'cancelled';
export type Priority = 'critical' | 'high' | 'normal' | 'low';

/** States after which a job does nothing more by itself (`removed`: deleted by a drain). */
export const TERMINAL_STATES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled', 'removed']);

export interface RetryOptions {
  /** Total tries, the first included. */
  attempts?: number;
  /** Base wait between tries, ms. */
  delay?: number;
  backoff?: 'exponential' | 'fixed';
}

/** `options` of `POST /schedule`, plus SPEC.md's top-level `runAt`. */
export interface AddJobOptions {
  priority?: Priority;
  /** ms before the job may run. */
  delay?: number;
  /** When to run (instead of `delay`); a past time runs now. */
  runAt?: Date | string;
  queue?: string;
  retry?: RetryOptions;
  /** ms one try may take. */
  timeout?: number;
  /** Your id: adding it again answers the stored job (and makes the call safe to retry). */
  jobId?: string;
  dependsOn?: string[];
  removeOnComplete?: boolean | number;
  removeOnFail?: boolean | number;
}

/** The answer to `POST /schedule`, and each item of a bulk answer. */
export interface AddJobResult {
  jobId: string;
  queueName: string;
  status: JobStatus;
  createdAt: string;
  runAt: string;
  /** true when `options.jobId` named a job that already existed (nothing new was created). */
  existing: boolean;
  /** A token that reads this one job, for a browser; present when the API wants a token. */
  accessToken?: string;
  accessTokenExpiresAt?: string;
}

export interface JobSummary {
  jobId: string;
  type: string;
  queue: string;
  status: JobStatus;
  priority: Priority;
  /** 0-100 */
  progress: number;
  attempts: number;
  createdAt: string;
  finishedAt: string | null;
}

/** `GET /jobs/:id`. `R` is the result's type. */
export interface JobDetail<R = unknown> extends JobSummary {
  payload: JsonObject;
  options: JsonObject;
  result: R | null;
  error: string | null;
  stack: string | null;
  errors: JsonObject[];
  runAt: string;
  startedAt: string | null;
  completedAt: string | null;
  failedAt: string | null;
  cancelledAt: string | null;
  maxAttempts: number;
  stalls: number;
  timeout: number;
  backoff: { type: string; delay: number };
  dependsOn: string[];
  dependents: string[];
  scheduleId: string | null;
  worker: string | null;
  durationMs: number | null;
}

export interface ListJobsQuery {
  queue?: string;
  status?: JobStatus | JobStatus[];
  type?: string;
  limit?: number;
  offset?: number;
}

export interface JobList {
  jobs: JobSummary[];
  total: number;
  limit: number;
  offset: number;
}

export interface CancelResult {
  success: boolean;
  jobId: string;
  message: string;
  previousStatus: JobStatus;
}

export interface RetryResult {
  success: boolean;
  jobId: string;
  message: string;
  status: JobStatus;
}

export interface JobLogs {
  jobId: string;
  count: number;
  logs: JsonObject[];
}

export interface JobToken {
  jobId: string;
  accessToken: string;
  accessTokenExpiresAt: string;
}

export interface QueueStats {
  name: string;
  counts: Record<JobStatus | 'paused', number>;
  isPaused: boolean;
  /** Jobs completed per minute over the last 60 s. */
  processingRate: number;
}

export interface PauseResult {
  success: boolean;
  queue: string;
  isPaused: boolean;
  /** false when the queue already was in that state. */
  changed: boolean;
}

export interface DrainResult {
  success: boolean;
  queue: string;
  removed: number;
}

export interface CleanOptions {
  /** ms: only jobs that finished longer ago are removed. */
  grace?: number;
  status?: 'completed' | 'failed' | 'cancelled';
  limit?: number;
}

export interface CleanResult {
  success: boolean;
  queue: string;
  status: string;
  removed: string[];
  count: number;
}

/** Options of a recurring job: the job's options (no `jobId`/`dependsOn`) plus the schedule's own. */
export interface ScheduleOptions extends Omit<AddJobOptions, 'jobId' | 'dependsOn' | 'runAt'> {
  /** Cron expression: 5 fields, or 6 with seconds first. */
  schedule: string;
  /** IANA zone, default UTC. */
  timezone?: string;
  /** Your id: the call then creates or updates (and is safe to retry). */
  scheduleId?: string;
  overlap?: 'allow' | 'skip';
}

export interface ScheduleView {
  scheduleId: string;
  type: string;
  payload: JsonObject;
  schedule: string;
  timezone: string;
  options: JsonObject;
  overlap: 'allow' | 'skip';
  builtin: boolean;
  status: 'active' | 'paused';
  createdAt: string | null;
  updatedAt: string | null;
  lastRunAt: string | null;
  lastJobId: string | null;
  nextRunAt: string | null;
  nextRunAtLocal: string | null;
  fires: number;
  skipped: number;
  /** `GET /schedules/:id` only: the jobs it created last, newest first. */
  recentJobs?: JobSummary[];
  /** Creating: `created` or `updated`. */
  result?: string;
  /** Pausing and resuming: false when it already was in that state. */
  changed?: boolean;
}

export interface ScheduleList {
  schedules: ScheduleView[];
  total: number;
}

export interface DeleteScheduleResult {
  success: boolean;
  scheduleId: string;
  message: string;
}

export interface Health {
  status: 'healthy' | 'degraded' | 'unhealthy';
  [key: string]: unknown;
}

/** One Server-Sent Event of `GET /events` (docs/api.md "Live events"). */
export interface JobEvent<R = unknown> {
  /** The stream entry id (`Last-Event-ID` resumes after it). */
  id: string;
  queue: string;
  jobId?: string;
  from: string;
  to: string;
  /** ms since the epoch. */
  at: number;
  attempt: number;
  progress?: number;
  result?: R | null;
  error?: string;
  type?: string;
}
