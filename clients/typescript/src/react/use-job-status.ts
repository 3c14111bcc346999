'use client';
/**
 * `useJobStatus(jobId, options)`: a job's live status, progress (0-100), result and error, with the
 * state of its connection. Every component watching the same job shares one connection (see `watch`);
 * it closes at the job's terminal state and when the last of them unmounts.
 *
 * Safe under server-side rendering: the server renders the idle state and makes no request; the
 * connection opens after hydration. Without an address (option, `JobsProvider`, `NEXT_PUBLIC_JOBS_URL`)
 * it reports `connection: 'error'` with the reason instead of throwing during render.
 */

import { useCallback, useContext, useRef, useSyncExternalStore } from 'react';

import type { BackoffPolicy } from '../backoff.js';
import { envJobsUrl } from '../env.js';
import type { FetchLike } from '../transport.js';
import { acquireWatch, peekWatch, releaseWatch } from '../shared.js';
import { IDLE_STATE, type JobState, type JobTokenSource, type JobWatch } from '../watch.js';
import { JobsContext } from './provider.js';

export interface UseJobStatusOptions {
  /** The jobs API's address; else the `JobsProvider`'s; else `NEXT_PUBLIC_JOBS_URL`. */
  baseUrl?: string;
  /** The job-scoped token your backend handed out, or a function that fetches one by job id. */
  token?: JobTokenSource;
  /** Send the token as `?token=` instead of `Authorization` (no CORS preflight). */
  tokenInQuery?: boolean;
  /** The job's queue, when known (`addJob` answers `queueName`). */
  queue?: string;
  /** false: do nothing (and stay idle). */
  enabled?: boolean;
  fetch?: FetchLike;
  /** Reconnect back-off (default 250 ms doubling to 10 s, jittered). */
  reconnect?: Partial<BackoffPolicy>;
}

const NO_ADDRESS: JobState<never> = Object.freeze({
  ...IDLE_STATE,
  connection: 'error' as const,
  connectionError: new Error('no jobs API address: pass baseUrl, wrap in <JobsProvider> or set NEXT_PUBLIC_JOBS_URL'),
});
const STARTING: JobState<never> = Object.freeze({ ...IDLE_STATE, connection: 'connecting' as const });
const noop = (): void => undefined;

export function useJobStatus<R = unknown>(jobId: string | null | undefined, options: UseJobStatusOptions = {}): JobState<R> {
  const context = useContext(JobsContext);
  const baseUrl = options.baseUrl ?? context?.baseUrl ?? envJobsUrl();
  const token = options.token ?? context?.token;
  const settings = {
    token,
    tokenInQuery: options.tokenInQuery ?? context?.tokenInQuery,
    fetch: options.fetch ?? context?.fetch,
    reconnect: options.reconnect ?? context?.reconnect,
  };
  const latest = useRef(settings);
  latest.current = settings; // read when the watch starts, so a new function each render changes nothing
  const active = options.enabled !== false && Boolean(jobId) && Boolean(baseUrl);
  const tokenKey = typeof token === 'function' ? 'function' : (token ?? '');

  const subscribe = useCallback(
    (onChange: () => void) => {
      if (!active || !jobId || !baseUrl) return noop;
      const watch = acquireWatch<R>(jobId, { baseUrl, queue: options.queue, ...latest.current });
      const unlisten = watch.listen(onChange);
      return () => {
        unlisten();
        releaseWatch(watch as JobWatch<unknown>, baseUrl);
      };
    },
    // A new token string starts a new watch (when no other component holds this job's).
    [active, jobId, baseUrl, tokenKey, options.queue],
  );
  const getSnapshot = (): JobState<R> => {
    if (options.enabled === false || !jobId) return IDLE_STATE;
    if (!baseUrl) return NO_ADDRESS;
    return peekWatch<R>(baseUrl, jobId)?.state ?? STARTING;
  };
  return useSyncExternalStore(subscribe, getSnapshot, () => IDLE_STATE);
}
