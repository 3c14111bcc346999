/**
 * What tests use of the running stack: clients for the open and the secured api, unique ids, a fetch
 * that counts the requests it passes on (to the real network), and waiting on a condition.
 */

import { randomUUID } from 'node:crypto';

import { inject } from 'vitest';

import { JobQueueService } from '../../src/index.js';
import type { FetchLike } from '../../src/index.js';
import { join } from 'node:path';

import { APP_ORIGIN, MASTER_TOKEN } from './constants.js';
import { freePort, jobsScript, Proc } from './processes.js';

export const openApi = (): string => inject('openApi');
export const securedApi = (): string => inject('securedApi');
export const limitedApi = (): string => inject('limitedApi');

/** The service as a backend holds it: the master token, the secured api. */
export function backend(): JobQueueService {
  return new JobQueueService({ baseUrl: securedApi(), token: MASTER_TOKEN });
}

export function uid(prefix = 'ts'): string {
  return `${prefix}-${randomUUID().slice(0, 12)}`;
}

export interface CountingFetch {
  fetch: FetchLike;
  /** Every request passed on: method, URL and the signal it carried. */
  calls: { method: string; url: string; headers: Record<string, string>; signal: AbortSignal | undefined }[];
  /** The status of each answer, in the order they came. */
  statuses: number[];
  count: (pathPart: string) => number;
}

/** The global fetch, recording each call (nothing is answered here: every request is real). */
export function countingFetch(): CountingFetch {
  const calls: CountingFetch['calls'] = [];
  const statuses: number[] = [];
  return {
    calls,
    statuses,
    fetch: async (input, init) => {
      const headers = { ...(init?.headers as Record<string, string> | undefined) };
      calls.push({ method: init?.method ?? 'GET', url: input, headers, signal: init?.signal ?? undefined });
      const response = await globalThis.fetch(input, init);
      statuses.push(response.status);
      return response;
    },
    count: (pathPart) => calls.filter((c) => c.url.includes(pathPart)).length,
  };
}

/** An address where nothing listens (a port that was just free: connections are refused at once). */
export async function deadApi(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

/** Resolves once `condition()` holds; polls every 20 ms (for what gives no event to await). */
export async function until(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * One more `jobs-api` on this stack's Redis (wanting the master token, open to the DOM tests' origin),
 * for tests that stop and restart an api under a client.
 */
export async function startApi(port: number): Promise<Proc> {
  const env = {
    ...inject('serviceEnv'),
    JOBS_PORT: String(port),
    JOBS_API_TOKEN: MASTER_TOKEN,
    JOBS_CORS_ORIGINS: APP_ORIGIN,
  };
  const log = join(inject('logDir'), `api-extra-${port}-${Date.now()}.log`);
  const proc = new Proc(`api-extra:${port}`, jobsScript('jobs-api'), [], env, log, 'service_ready');
  await proc.waitReady();
  return proc;
}
