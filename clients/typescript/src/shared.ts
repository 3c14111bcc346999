/**
 * One `JobWatch` per API address and job id, shared by everyone watching that job (the React hook,
 * `watchJob`), counted by reference: the first user starts it, the last one to leave stops it and so
 * closes its connection. A watch that reached a terminal state stays, with its final state, while
 * anyone still uses it.
 */

import { type JobState, JobWatch, type WatchOptions } from './watch.js';

interface Entry {
  watch: JobWatch<unknown>;
  users: number;
}

const shared = new Map<string, Entry>();

export function watchKey(baseUrl: string, jobId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}\u0000${jobId}`;
}

/** The shared watch of this job (started on first use); give it back with `releaseWatch`. */
export function acquireWatch<R = unknown>(jobId: string, options: WatchOptions): JobWatch<R> {
  const key = watchKey(options.baseUrl, jobId);
  let entry = shared.get(key);
  if (!entry) {
    entry = { watch: new JobWatch<unknown>(jobId, options), users: 0 };
    shared.set(key, entry);
    entry.watch.start();
  }
  entry.users += 1;
  return entry.watch as JobWatch<R>;
}

/** One user fewer; the last one stops the watch and its connection. */
export function releaseWatch(watch: JobWatch<unknown>, baseUrl: string): void {
  const key = watchKey(baseUrl, watch.jobId);
  const entry = shared.get(key);
  if (!entry || entry.watch !== watch) return;
  entry.users -= 1;
  if (entry.users <= 0) {
    shared.delete(key);
    watch.stop();
  }
}

/** The shared watch of this job, if someone is watching it. */
export function peekWatch<R = unknown>(baseUrl: string, jobId: string): JobWatch<R> | undefined {
  return shared.get(watchKey(baseUrl, jobId))?.watch as JobWatch<R> | undefined;
}

/** How many jobs are being watched right now (one connection each at most). */
export function activeWatchCount(): number {
  return shared.size;
}

/**
 * Watches one job without React: `onChange` gets each new state; call the returned function to stop
 * (the connection closes when nobody else watches that job).
 */
export function watchJob<R = unknown>(
  jobId: string,
  options: WatchOptions,
  onChange: (state: JobState<R>) => void,
): () => void {
  const watch = acquireWatch<R>(jobId, options);
  const unlisten = watch.listen(() => onChange(watch.state));
  onChange(watch.state);
  return () => {
    unlisten();
    releaseWatch(watch as JobWatch<unknown>, options.baseUrl);
  };
}
