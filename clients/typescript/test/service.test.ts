/**
 * JobQueueService against the real api and worker: SPEC.md's four methods, bulk, lists, logs, error
 * classes with the API's code, details and request id, and what is retried (and what is not).
 */

import { describe, expect, test } from 'vitest';

import {
  ApiConnectionError,
  BadRequestError,
  ConflictError,
  type JobEvent,
  type JsonObject,
  JobQueueService,
  NotFoundError,
} from '../src/index.js';
import { countingFetch, deadApi, openApi, uid } from './support/stack.js';

const jobs = (): JobQueueService => new JobQueueService({ baseUrl: openApi() });

/** Subscribes first (waiting for `: connected`), then schedules, and collects every event to the end. */
async function runAndCollect(service: JobQueueService, jobId: string, payload: JsonObject): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  const sub = service.subscribe(jobId, (event) => events.push(event));
  await sub.connected;
  await service.addJob('sleep', payload, { jobId });
  expect(await sub.done).toEqual({ reason: 'terminal' });
  return events;
}

describe('SPEC.md service layer', () => {
  test('addJob, getJobStatus, live events with progress and the result', async () => {
    const service = jobs();
    const jobId = uid('sleep');
    const events = await runAndCollect(service, jobId, { ms: 300, steps: 3 });
    expect(events.map((e) => `${e.from}>${e.to}`)).toEqual([
      '>waiting',
      'waiting>active',
      'active>active',
      'active>active',
      'active>active',
      'active>completed',
    ]);
    expect(events.filter((e) => e.progress !== undefined).map((e) => e.progress)).toEqual([33, 67, 100]);
    expect(events.at(-1)).toMatchObject({ jobId, queue: 'default', attempt: 1, result: { slept: 0.3 } });
    const job = await service.getJobStatus(jobId);
    expect(job).toMatchObject({ jobId, status: 'completed', progress: 100, result: { slept: 0.3 }, type: 'sleep' });
  });

  test('addJob answers the job handle; the same jobId again answers the stored job', async () => {
    const service = jobs();
    const jobId = uid('twice');
    const first = await service.addJob('echo', { value: 1 }, { jobId, delay: 60_000, priority: 'high' });
    expect(first).toMatchObject({ jobId, status: 'delayed', queueName: 'high-priority', existing: false });
    expect(first.accessToken).toBeUndefined(); // an open API hands out no tokens
    const again = await service.addJob('echo', { value: 2 }, { jobId });
    expect(again).toMatchObject({ jobId, existing: true });
    expect((await service.getJobStatus(jobId)).payload).toEqual({ value: 1 });
    await service.cancelJob(jobId);
  });

  test('built-in types are routed by SPEC.md and runAt travels at the top level', async () => {
    const service = jobs();
    const runAt = new Date(Date.now() + 3_600_000);
    const made = await service.addJob(
      'send-notification',
      { userId: 'user-123', channel: 'email', content: { subject: 'Hello', body: 'World' } },
      { runAt },
    );
    expect(made.queueName).toBe('high-priority');
    expect(made.status).toBe('delayed');
    expect(Date.parse(made.runAt)).toBe(runAt.getTime());
    await service.cancelJob(made.jobId);
  });

  test('cancelJob and retryJob, and the conflicts they refuse', async () => {
    const service = jobs();
    const { jobId } = await service.addJob('echo', { value: 'later' }, { delay: 60_000 });
    expect(await service.cancelJob(jobId)).toMatchObject({ success: true, previousStatus: 'delayed' });
    const twice = await service.cancelJob(jobId).catch((err: unknown) => err);
    expect(twice).toBeInstanceOf(ConflictError);
    expect(twice).toMatchObject({ status: 409, code: 'wrong_state' });
    expect(await service.retryJob(jobId)).toMatchObject({ success: true, status: 'waiting' });
    const refused = await service.retryJob(jobId).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ConflictError);
  });
});

describe('more of the API', () => {
  test('addBulk creates a chain atomically, in request order', async () => {
    const service = jobs();
    const [a, b] = [uid('bulk-a'), uid('bulk-b')];
    const made = await service.addBulk([
      { type: 'echo', payload: { value: 'a' }, options: { jobId: a, delay: 60_000 } },
      { type: 'echo', payload: { value: 'b' }, options: { jobId: b, dependsOn: [a] } },
    ]);
    expect(made.map((j) => [j.jobId, j.status])).toEqual([
      [a, 'delayed'],
      [b, 'blocked'],
    ]);
    expect((await service.getJobStatus(a)).dependents).toEqual([b]);
    await service.cancelJob(a); // b fails with it: "dependency … cancelled"
    expect(await service.getJobStatus(b)).toMatchObject({ status: 'failed', error: `dependency ${a} cancelled` });
  });

  test('listJobs filters by queue, states and type; getJobLogs reads what a processor logged', async () => {
    const service = jobs();
    const jobId = uid('logger');
    const sub = service.subscribe(jobId, () => undefined);
    await sub.connected;
    await service.addJob('logger', { lines: 2 }, { jobId, queue: 'low-priority' });
    await sub.done;
    const list = await service.listJobs({ queue: 'low-priority', status: ['completed', 'failed'], type: 'logger' });
    expect(list.jobs.map((j) => j.jobId)).toContain(jobId);
    expect(list.jobs.every((j) => j.type === 'logger' && j.queue === 'low-priority')).toBe(true);
    const logs = await service.getJobLogs(jobId);
    expect(logs.count).toBe(2);
    expect(logs.logs.map((l) => l.message)).toEqual(['line 0', 'line 1']);
  });

  test('errors carry code, status, details and the request id', async () => {
    const service = jobs();
    const bad = await service
      .addJob('echo', {}, { priority: 'urgent' as 'high' }, { requestId: 'req-bad-priority' })
      .catch((err: unknown) => err);
    expect(bad).toBeInstanceOf(BadRequestError);
    expect(bad).toMatchObject({ status: 400, code: 'invalid_input', requestId: 'req-bad-priority' });
    expect((bad as BadRequestError).details).toEqual([
      expect.objectContaining({ field: 'options.priority' }),
    ]);
    const missing = await service.getJobStatus('no-such-job').catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ status: 404, code: 'not_found', details: { jobId: 'no-such-job' } });
    expect((missing as NotFoundError).requestId).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('retries', () => {
  const quick = { minDelayMs: 5, maxDelayMs: 20 };

  test('an idempotent call is retried on network errors, then fails with ApiConnectionError', async () => {
    const counting = countingFetch();
    const service = new JobQueueService({ baseUrl: await deadApi(), fetch: counting.fetch, retry: quick });
    const err = await service.getJobStatus('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiConnectionError);
    expect(err).toMatchObject({ status: 0, code: 'connection_failed' });
    expect(counting.calls).toHaveLength(4); // DEFAULT_RETRY.maxAttempts
    await service.getJobStatus('x', { retry: { maxAttempts: 2 } }).catch(() => undefined);
    expect(counting.calls).toHaveLength(6);
  });

  test('addJob is tried once unless a jobId makes it idempotent', async () => {
    const counting = countingFetch();
    const service = new JobQueueService({ baseUrl: await deadApi(), fetch: counting.fetch, retry: quick });
    await expect(service.addJob('echo', {})).rejects.toBeInstanceOf(ApiConnectionError);
    expect(counting.calls).toHaveLength(1);
    await expect(service.addJob('echo', {}, { jobId: 'mine' })).rejects.toBeInstanceOf(ApiConnectionError);
    expect(counting.calls).toHaveLength(5);
    await expect(service.cancelJob('mine')).rejects.toBeInstanceOf(ApiConnectionError);
    expect(counting.calls).toHaveLength(6);
  });

  test('an abort ends the call at once, even while it waits to retry', async () => {
    const service = new JobQueueService({ baseUrl: await deadApi(), retry: { minDelayMs: 60_000 } });
    const controller = new AbortController();
    const started = Date.now();
    const pending = service.getJobStatus('x', { signal: controller.signal }).catch((e: unknown) => e);
    setTimeout(() => controller.abort(new Error('user left')), 50);
    expect(await pending).toMatchObject({ message: 'user left' });
    expect(Date.now() - started).toBeLessThan(5_000);
    const already = AbortSignal.abort(new Error('never sent'));
    await expect(jobs().getJobStatus('x', { signal: already })).rejects.toThrow('never sent');
  });
});
