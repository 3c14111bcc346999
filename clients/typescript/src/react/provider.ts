'use client';
/**
 * `JobsProvider`: the jobs API's address (and, optionally, how to get tokens) for every `useJobStatus`
 * below it, so components need not repeat them. Without a provider the hook falls back to
 * `NEXT_PUBLIC_JOBS_URL`.
 */

import { createContext, createElement, type ReactNode, useMemo } from 'react';

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
}

export const JobsContext = createContext<JobsConfig | null>(null);

export interface JobsProviderProps extends JobsConfig {
  children?: ReactNode;
}

export function JobsProvider({ baseUrl, token, tokenInQuery, fetch, children }: JobsProviderProps): ReactNode {
  const value = useMemo(() => ({ baseUrl, token, tokenInQuery, fetch }), [baseUrl, token, tokenInQuery, fetch]);
  return createElement(JobsContext.Provider, { value }, children);
}
