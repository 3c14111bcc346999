'use client';
/**
 * `@nchat/jobs-client/react`: `useJobStatus` and `JobsProvider`. React is a peer dependency.
 */

export { JobsContext, JobsProvider } from './provider.js';
export type { JobsConfig, JobsProviderProps } from './provider.js';
export { useJobStatus } from './use-job-status.js';
export type { UseJobStatusOptions } from './use-job-status.js';
export type { JobState, JobTokenSource } from '../watch.js';
