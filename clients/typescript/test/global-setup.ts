/**
 * Starts the real stack once for the whole `npm test` run: a private Redis, two `jobs-api` processes
 * (one open, one wanting a token with CORS for the test origins) and one `jobs-worker` running the
 * repository's test processors (`sleep` with `{ms, steps}` reports progress). Tests get the addresses
 * through `inject()`; everything is stopped afterwards.
 */

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { TestProject } from 'vitest/node';

import { freePort, jobsScript, Proc, REPO, redisBinary, waitForRedis } from './support/processes.js';
import { APP_ORIGIN, MASTER_TOKEN, TEST_QUEUES } from './support/constants.js';

declare module 'vitest' {
  export interface ProvidedContext {
    openApi: string;
    securedApi: string;
    /** An api that accepts at most 2 waiting + delayed jobs per queue (JOBS_MAX_JOBS_PER_QUEUE). */
    limitedApi: string;
    redisUrl: string;
    exampleOrigin: string;
    examplePort: number;
    logDir: string;
    /** The environment every service of this stack gets (Redis, key prefix, queues, processors). */
    serviceEnv: Record<string, string>;
  }
}

async function startRedis(dir: string): Promise<{ proc: Proc; port: number }> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
  const proc = new Proc('redis', redisBinary(), [...args, '--maxmemory-policy', 'noeviction'], {}, join(dir, 'redis.log'));
  await waitForRedis(port);
  return { proc, port };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const began = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'jobs-client-ts-'));
  const procs: Proc[] = [];
  const teardown = async (): Promise<void> => {
    const stopping = Date.now();
    await Promise.all(procs.reverse().map((p) => p.stop()));
    console.log(`stack stopped in ${Date.now() - stopping} ms`);
    if (!process.env.KEEP_TEST_LOGS) await rm(dir, { recursive: true, force: true });
  };
  try {
    const redis = await startRedis(dir);
    procs.push(redis.proc);
    const examplePort = await freePort();
    const exampleOrigin = `http://localhost:${examplePort}`;
    const base: Record<string, string> = {
      JOBS_REDIS_URL: `redis://127.0.0.1:${redis.port}/0`,
      JOBS_KEY_PREFIX: `ts${randomBytes(4).toString('hex')}`,
      JOBS_QUEUES: TEST_QUEUES.join(','),
      JOBS_LOG_FORMAT: 'json',
      JOBS_PROBE_PORT: '-1',
      JOBS_PROCESSOR_MODULES: 'support.test_processors',
      PYTHONPATH: [join(REPO, 'tests'), process.env.PYTHONPATH ?? ''].join(':'),
    };
    const start = async (name: string, script: string, env: Record<string, string>): Promise<Record<string, unknown>> => {
      const proc = new Proc(name, jobsScript(script), [], { ...base, ...env }, join(dir, `${name}.log`), 'service_ready');
      procs.push(proc);
      return proc.waitReady();
    };
    const [open, secured, , limited] = await Promise.all([
      start('api-open', 'jobs-api', { JOBS_PORT: String(await freePort()) }),
      start('api-secured', 'jobs-api', {
        JOBS_PORT: String(await freePort()),
        JOBS_API_TOKEN: MASTER_TOKEN,
        JOBS_CORS_ORIGINS: [APP_ORIGIN, exampleOrigin].join(','),
      }),
      start('worker', 'jobs-worker', { JOBS_CONCURRENCY: '20' }),
      start('api-limited', 'jobs-api', { JOBS_PORT: String(await freePort()), JOBS_MAX_JOBS_PER_QUEUE: '2' }),
    ]);
    project.provide('openApi', `http://127.0.0.1:${open.port}`);
    project.provide('securedApi', `http://127.0.0.1:${secured.port}`);
    project.provide('limitedApi', `http://127.0.0.1:${limited.port}`);
    project.provide('redisUrl', base.JOBS_REDIS_URL as string);
    project.provide('exampleOrigin', exampleOrigin);
    project.provide('examplePort', examplePort);
    project.provide('logDir', dir);
    project.provide('serviceEnv', base);
    console.log(`stack ready in ${Date.now() - began} ms (logs: ${dir})`);
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
