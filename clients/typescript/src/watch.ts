/**
 * `JobWatch`: one job's live state (status, progress, result, error) for user interfaces, with no
 * framework in it. The React hook and `watchJob` share one per API address and job id (`shared`).
 *
 * Order matters: the watch subscribes first and waits for the stream's `: connected` line, then reads
 * the job (`GET /jobs/:id`), applies that snapshot and then the events that arrived meanwhile, so no
 * transition between the two is lost. Reconnects resume with Last-Event-ID (the queue is known from
 * the snapshot) and need no new read; a connection that could not resume reads the job again.
 *
 * How it fails: 401, 403 and 404 (from the stream or the read) stop it with `connection: 'error'` and
 * the error in `connectionError`; a 401 first asks a token function for a fresh token, once. Anything
 * else is retried with back-off while someone watches.
 */

import type { BackoffPolicy } from './backoff.js';
import { JobsApiError } from './errors.js';
import type { ConnectionState, EndReason, JobSubscription } from './events.js';
import { JobQueueService } from './service.js';
import type { CallOptions, FetchLike } from './transport.js';
import { type JobDetail, type JobEvent, type JobStatus, TERMINAL_STATES } from './types.js';

/** A token for one job, or a function that fetches one (from your backend) for a job id. */
export type JobTokenSource = string | ((jobId: string) => string | Promise<string>);

export interface JobState<R = unknown> {
  /** null until known; `removed` when a drain deleted the job. */
  status: JobStatus | 'removed' | null;
  /** 0-100; 100 once completed. */
  progress: number;
  /** The result, once completed. */
  result: R | null;
  /** The job's last failure (failed, cancelled, or a try that will be retried). */
  error: string | null;
  /** completed, failed, cancelled or removed: nothing more will happen by itself. */
  isTerminal: boolean;
  /** The live connection: `idle` before any, `closed` after a terminal state, `error` when it gave up. */
  connection: ConnectionState | 'idle';
  /** Why `connection` is `error` (401, 403, 404, no address …). */
  connectionError: Error | null;
  queue: string | null;
  /** The try the job is on (0 before the first). */
  attempt: number;
}

export interface WatchOptions {
  baseUrl: string;
  token?: JobTokenSource;
  /** Send the token as `?token=` instead of `Authorization` (no CORS preflight). */
  tokenInQuery?: boolean;
  /** The job's queue when known: the first connection can then resume too. */
  queue?: string;
  fetch?: FetchLike;
  reconnect?: Partial<BackoffPolicy>;
}

export const IDLE_STATE: JobState<never> = Object.freeze({
  status: null,
  progress: 0,
  result: null,
  error: null,
  isTerminal: false,
  connection: 'idle',
  connectionError: null,
  queue: null,
  attempt: 0,
});

const STOPPING_STATUSES = new Set([401, 403, 404]);
const JOB_STATES = new Set(['waiting', 'delayed', 'blocked', 'active', 'completed', 'failed', 'cancelled', 'removed']);

function clampProgress(value: unknown): number {
  const number = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(number) ? Math.min(100, Math.max(0, number)) : 0;
}

export class JobWatch<R = unknown> {
  state: JobState<R> = { ...IDLE_STATE, connection: 'connecting' };
  private readonly listeners = new Set<() => void>();
  private readonly service: JobQueueService;
  private readonly lifetime = new AbortController();
  private sub: JobSubscription | undefined;
  private token: string | undefined;
  private hasSnapshot = false;
  /** Events that arrive while the snapshot is read; applied after it. */
  private buffer: JobEvent<R>[] | null = null;
  private refreshedToken = false;
  private stopped = false;

  constructor(
    readonly jobId: string,
    private readonly options: WatchOptions,
  ) {
    this.service = new JobQueueService({ baseUrl: options.baseUrl, fetch: options.fetch });
  }

  listen(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    void this.resolveToken().then(
      () => this.follow(),
      (err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))),
    );
  }

  stop(): void {
    this.stopped = true;
    this.lifetime.abort(new Error('watch stopped'));
    this.sub?.close();
  }

  private async resolveToken(): Promise<void> {
    const source = this.options.token;
    this.token = typeof source === 'function' ? await source(this.jobId) : source;
  }

  private call(): CallOptions {
    return { token: this.token, tokenInQuery: this.options.tokenInQuery, signal: this.lifetime.signal };
  }

  private follow(): void {
    if (this.stopped) return;
    const previous = this.sub;
    const sub = this.service.subscribe<string>(this.jobId, (event) => this.onEvent(event as JobEvent<R>), {
      ...this.call(),
      queue: previous?.queue ?? this.state.queue ?? this.options.queue,
      lastEventId: previous?.lastEventId,
      reconnect: this.options.reconnect,
      onConnected: ({ resumed }) => void this.onConnected(resumed),
      onStateChange: (state) => this.setConnection(sub, state),
    });
    this.sub = sub;
    if (previous) this.emit({ connection: 'reconnecting' });
    void sub.done.then(({ reason, error }) => this.onEnded(sub, reason, error));
  }

  private setConnection(sub: JobSubscription, connection: ConnectionState): void {
    if (sub !== this.sub || this.state.connection === 'error') return;
    if (connection === 'error') return; // onEnded decides: refresh the token, or give up
    this.emit({ connection });
  }

  private async onEnded(sub: JobSubscription, reason: EndReason, error?: JobsApiError): Promise<void> {
    if (sub !== this.sub || this.stopped || reason !== 'error' || !error) return;
    await this.recover(error);
  }

  /** A refusal: a fresh token once after a 401 (when a function gives tokens), else give up. */
  private async recover(error: JobsApiError): Promise<void> {
    if (error.status === 401 && typeof this.options.token === 'function' && !this.refreshedToken) {
      this.refreshedToken = true;
      try {
        await this.resolveToken();
      } catch (err) {
        return this.fail(err instanceof Error ? err : new Error(String(err)));
      }
      const old = this.sub;
      this.follow(); // resumes where the old one stood
      old?.close();
      return;
    }
    this.fail(error);
  }

  private fail(error: Error): void {
    if (this.stopped) return;
    this.emit({ connection: 'error', connectionError: error });
    this.sub?.close();
  }

  private async onConnected(resumed: boolean): Promise<void> {
    this.refreshedToken = false;
    if (resumed && this.hasSnapshot) return; // the API replays what happened while away
    this.buffer ??= [];
    let job: JobDetail<R>;
    try {
      job = (await this.service.getJobStatus(this.jobId, { ...this.call(), retry: false })) as JobDetail<R>;
    } catch (err) {
      return this.onSnapshotFailed(err);
    }
    this.hasSnapshot = true;
    this.applySnapshot(job);
    const pending = this.buffer ?? [];
    this.buffer = null;
    for (const event of pending) this.applyEvent(event);
  }

  private async onSnapshotFailed(err: unknown): Promise<void> {
    if (this.stopped || this.lifetime.signal.aborted) return;
    if (err instanceof JobsApiError && STOPPING_STATUSES.has(err.status)) return this.recover(err);
    if (this.hasSnapshot) {
      const pending = this.buffer ?? [];
      this.buffer = null;
      for (const event of pending) this.applyEvent(event);
    }
    this.sub?.reconnect(); // and read again once connected
  }

  private onEvent(event: JobEvent<R>): void {
    if (this.buffer) this.buffer.push(event);
    else this.applyEvent(event);
  }

  private applySnapshot(job: JobDetail<R>): void {
    if (this.state.isTerminal) return;
    const completed = job.status === 'completed';
    this.sub?.setQueue(job.queue);
    this.emit({
      status: job.status,
      progress: completed ? 100 : clampProgress(job.progress),
      result: completed ? job.result : null,
      error: completed ? null : job.error,
      isTerminal: TERMINAL_STATES.has(job.status),
      queue: job.queue,
      attempt: job.attempts,
    });
    if (this.state.isTerminal) this.sub?.close();
  }

  private applyEvent(event: JobEvent<R>): void {
    if (event.jobId !== this.jobId || this.state.isTerminal) return;
    const patch: Partial<JobState<R>> = { queue: event.queue, attempt: event.attempt };
    if (JOB_STATES.has(event.to)) patch.status = event.to as JobState['status'];
    if (event.progress !== undefined) {
      const progress = clampProgress(event.progress);
      // An event older than the snapshot may arrive after it: within one try progress only grows.
      const stale = event.attempt === this.state.attempt && progress < this.state.progress;
      if (!stale) patch.progress = progress;
    }
    if (event.error !== undefined) patch.error = event.error;
    if (event.to === 'completed') Object.assign(patch, { progress: 100, result: event.result ?? null, error: null });
    patch.isTerminal = TERMINAL_STATES.has(event.to);
    this.emit(patch);
  }

  private emit(patch: Partial<JobState<R>>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }
}
