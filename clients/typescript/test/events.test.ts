/**
 * `subscribe()` against the real api's event stream: resuming with Last-Event-ID, a reconnect in the
 * middle of a job losing and repeating nothing, a stalled stream replaced, what ends a subscription
 * (404, 401: tried once) and what does not (network errors: retried until closed).
 */

import { describe, expect, test } from 'vitest';

import {
  AuthenticationError,
  type ConnectionState,
  type JobEvent,
  JobQueueService,
  NotFoundError,
} from '../src/index.js';
import { countingFetch, deadApi, openApi, securedApi, uid, until } from './support/stack.js';

const quick = { minDelayMs: 10, maxDelayMs: 50 };

describe('resuming', () => {
  test('Last-Event-ID with the queue replays exactly what followed that event', async () => {
    const service = new JobQueueService({ baseUrl: openApi() });
    const jobId = uid('replay');
    const first: JobEvent[] = [];
    const sub = service.subscribe(jobId, (e) => first.push(e));
    await sub.connected;
    await service.addJob('sleep', { ms: 200, steps: 2 }, { jobId });
    await sub.done;
    expect(sub.queue).toBe('default');
    const again: JobEvent[] = [];
    const replay = service.subscribe(jobId, (e) => again.push(e), { queue: 'default', lastEventId: first[1]?.id });
    expect(await replay.done).toEqual({ reason: 'terminal' });
    expect(again.map((e) => e.id)).toEqual(first.slice(2).map((e) => e.id));
  });

  test('a reconnect in the middle of a job loses and repeats nothing', async () => {
    const service = new JobQueueService({ baseUrl: openApi() });
    const jobId = uid('reconnect');
    const events: JobEvent[] = [];
    const opened: boolean[] = [];
    const sub = service.subscribe(
      jobId,
      (event) => {
        events.push(event);
        if (event.progress === 30) sub.reconnect(); // drop the connection mid-job
      },
      { reconnect: quick, onConnected: ({ resumed }) => opened.push(resumed) },
    );
    await sub.connected;
    await service.addJob('sleep', { ms: 1_000, steps: 10 }, { jobId });
    expect(await sub.done).toEqual({ reason: 'terminal' });
    expect(opened).toEqual([false, true]); // the second connection resumed after the last event seen
    expect(events.filter((e) => e.progress !== undefined).map((e) => e.progress)).toEqual([
      10, 20, 30, 40, 50, 60, 70, 80, 90, 100,
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(events.at(-1)?.to).toBe('completed');
  });

  test('a stream silent for longer than stallTimeoutMs is replaced', async () => {
    const service = new JobQueueService({ baseUrl: openApi() });
    const states: ConnectionState[] = [];
    let opened = 0;
    const sub = service.subscribe(uid('quiet'), () => undefined, {
      stallTimeoutMs: 300,
      reconnect: quick,
      onConnected: () => (opened += 1),
      onStateChange: (state) => states.push(state),
    });
    await until(() => opened >= 2, 10_000, 'a second connection');
    sub.close();
    expect(await sub.done).toEqual({ reason: 'closed' });
    expect(states.slice(0, 3)).toEqual(['open', 'reconnecting', 'open']);
    expect(states.at(-1)).toBe('closed');
  });
});

describe('ending', () => {
  test('an unknown queue (404) and a missing token (401) end it after one request', async () => {
    const counting = countingFetch();
    const open = new JobQueueService({ baseUrl: openApi(), fetch: counting.fetch });
    const lost = open.subscribe('x', () => undefined, { queue: 'no-such-queue', reconnect: quick });
    const ended = await lost.done;
    expect(ended.reason).toBe('error');
    expect(ended.error).toBeInstanceOf(NotFoundError);
    await expect(lost.connected).rejects.toBeInstanceOf(NotFoundError);
    const secured = new JobQueueService({ baseUrl: securedApi(), fetch: counting.fetch });
    const refused = await secured.subscribe('x', () => undefined, { reconnect: quick }).done;
    expect(refused.error).toBeInstanceOf(AuthenticationError);
    expect(counting.calls).toHaveLength(2);
  });

  test('network errors are retried with back-off until the signal aborts', async () => {
    const counting = countingFetch();
    const service = new JobQueueService({ baseUrl: await deadApi(), fetch: counting.fetch });
    const controller = new AbortController();
    const states: ConnectionState[] = [];
    const sub = service.subscribe('x', () => undefined, {
      signal: controller.signal,
      reconnect: quick,
      onStateChange: (state) => states.push(state),
    });
    await until(() => counting.calls.length >= 3, 10_000, 'three tries');
    controller.abort();
    expect(await sub.done).toEqual({ reason: 'closed' });
    expect(states).toContain('reconnecting');
    expect(states.at(-1)).toBe('closed');
  });
});
