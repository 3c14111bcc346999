/**
 * Queue control, schedules and the 429 path against the real api, on a queue of their own
 * (`ts-control`), in order: pausing it must disturb no other test file.
 */

import { describe, expect, test } from 'vitest';

import { BadRequestError, JobQueueService, NotFoundError, RateLimitError } from '../src/index.js';
import { CONTROL_QUEUE as Q } from './support/constants.js';
import { countingFetch, limitedApi, openApi, uid, until } from './support/stack.js';

const jobs = (): JobQueueService => new JobQueueService({ baseUrl: openApi() });

describe('queues', () => {
  test('pause holds jobs, drain removes them, resume runs again, clean deletes finished jobs', async () => {
    const service = jobs();
    expect(await service.pauseQueue(Q)).toEqual({ success: true, queue: Q, isPaused: true, changed: true });
    expect((await service.pauseQueue(Q)).changed).toBe(false);
    const held = await service.addJob('echo', { value: 'held' }, { queue: Q });
    expect(await service.getQueue(Q)).toMatchObject({ name: Q, isPaused: true, counts: { waiting: 1, paused: 1 } });
    expect(await service.drainQueue(Q)).toEqual({ success: true, queue: Q, removed: 1 });
    await expect(service.getJobStatus(held.jobId)).rejects.toBeInstanceOf(NotFoundError);
    expect((await service.resumeQueue(Q)).isPaused).toBe(false);

    const jobId = uid('clean-me');
    const sub = service.subscribe(jobId, () => undefined);
    await sub.connected;
    await service.addJob('echo', { value: 'done' }, { queue: Q, jobId });
    await sub.done;
    const cleaned = await service.cleanQueue(Q, { status: 'completed', grace: 0, limit: 100 });
    expect(cleaned.removed).toContain(jobId);
    expect((await service.getQueues()).map((q) => q.name)).toContain(Q);
    await expect(service.getQueue('no-such-queue')).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });

  test('a full queue answers RateLimitError with retryAfter; addJob without a jobId is not retried', async () => {
    const service = jobs();
    const counting = countingFetch();
    const limited = new JobQueueService({ baseUrl: limitedApi(), fetch: counting.fetch });
    await service.pauseQueue(Q);
    try {
      await service.addBulk([0, 1].map((i) => ({ type: 'echo', payload: { i }, options: { queue: Q } })));
      const err = await limited.addJob('echo', {}, { queue: Q }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RateLimitError);
      expect(err).toMatchObject({ status: 429, code: 'queue_full', retryAfter: 5, details: { queue: Q } });
      expect(counting.calls).toHaveLength(1);
      // Retry-After beyond the policy's maxRetryAfterMs: fail at once rather than wait that long.
      const capped = limited.addJob('echo', {}, { queue: Q, jobId: uid() }, { retry: { maxRetryAfterMs: 1_000 } });
      await expect(capped).rejects.toBeInstanceOf(RateLimitError);
      expect(counting.calls).toHaveLength(2);
    } finally {
      await service.drainQueue(Q);
      await service.resumeQueue(Q);
    }
  });

  test('an idempotent addJob waits out Retry-After and then succeeds', async () => {
    const service = jobs();
    const counting = countingFetch();
    const limited = new JobQueueService({ baseUrl: limitedApi(), fetch: counting.fetch });
    await service.pauseQueue(Q);
    try {
      await service.addBulk([0, 1].map((i) => ({ type: 'echo', payload: { i }, options: { queue: Q } })));
      const jobId = uid('patient');
      const started = Date.now();
      const pending = limited.addJob('echo', { value: 'patient' }, { queue: Q, jobId });
      await until(() => counting.statuses.includes(429), 10_000, 'the first 429');
      await service.drainQueue(Q); // room again: the retry after Retry-After goes through
      expect(await pending).toMatchObject({ jobId, status: 'waiting', existing: false });
      expect(Date.now() - started).toBeGreaterThanOrEqual(5_000);
      expect(counting.statuses).toEqual([429, 201]);
    } finally {
      await service.drainQueue(Q);
      await service.resumeQueue(Q);
    }
  });
});

describe('schedules', () => {
  test('create or update, list, pause, resume, read, delete', async () => {
    const service = jobs();
    const scheduleId = uid('sched');
    const options = { schedule: '0 9 * * *', timezone: 'Europe/Paris', scheduleId, queue: Q };
    const made = await service.addSchedule('echo', { value: 1 }, options);
    expect(made).toMatchObject({ scheduleId, status: 'active', result: 'created', timezone: 'Europe/Paris' });
    expect(made.nextRunAt).not.toBeNull();
    const updated = await service.addSchedule('echo', { value: 2 }, options);
    expect(updated).toMatchObject({ scheduleId, result: 'updated', payload: { value: 2 } });
    expect((await service.listSchedules()).schedules.map((s) => s.scheduleId)).toContain(scheduleId);
    expect(await service.pauseSchedule(scheduleId)).toMatchObject({ status: 'paused', nextRunAt: null, changed: true });
    expect(await service.resumeSchedule(scheduleId)).toMatchObject({ status: 'active', changed: true });
    expect((await service.getSchedule(scheduleId)).recentJobs).toEqual([]);
    expect(await service.deleteSchedule(scheduleId)).toMatchObject({ success: true, scheduleId });
    await expect(service.getSchedule(scheduleId)).rejects.toBeInstanceOf(NotFoundError);
  });

  test('a bad cron expression is refused naming the field', async () => {
    const err = await jobs()
      .addSchedule('echo', {}, { schedule: '61 * * * *' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).message).toMatch(/^schedule: /);
  });
});
