'use client';
/**
 * `JobsProvider`: the jobs API's address (and, optionally, how to get tokens) for every `useJobStatus`
 * below it, so components need not repeat them. Without a provider the hook falls back to
 * `NEXT_PUBLIC_JOBS_URL`.
 */

import { createContext, createElement, type ReactNode, useMemo } from 'react';

import type { BackoffPolicy } from '../backoff.js';
import type { FetchLike } from '../transport.js';
import type { JobTokenSource } from '../watch.js';

export interface JobsConfig {
  /** The jobs API's address, e.g. `http://jobs.localhost:3105`. */
  baseUrl?: string;
  /** A function that fetches a job-scoped token from your backend, by job id (or one fixed token). */
  token?: JobTokenSource;
  /** Send tokens as `?token=` instead of `Authorization`. */
  tokenInQuery?: boolean;
  fetch?: FetchLike;
  /** Reconnect back-off of every watch below. */
  reconnect?: Partial<BackoffPolicy>;
}

export const JobsContext = createContext<JobsConfig | null>(null);

export interface JobsProviderProps extends JobsConfig {
  children?: ReactNode;
}

export function JobsProvider({ children, ...config }: JobsProviderProps): ReactNode {
  const { baseUrl, token, tokenInQuery, fetch, reconnect } = config;
  const value = useMemo(
    () => ({ baseUrl, token, tokenInQuery, fetch, reconnect }),
    [baseUrl, token, tokenInQuery, fetch, reconnect],
  );
  return createElement(JobsContext.Provider, { value }, children);
}
