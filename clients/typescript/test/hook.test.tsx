// @vitest-environment happy-dom
/**
 * useJobStatus in a DOM (happy-dom, whose fetch enforces CORS: the page is on http://app.localhost:3000,
 * the api on 127.0.0.1) against the real api and worker, with job-scoped tokens as a browser gets them.
 */

import nodeConsole from 'node:console';

import type { ReactElement } from 'react';
import { act, cleanup, configure, render, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, test, vi } from 'vitest';

import { activeWatchCount, AuthenticationError, type JobState, NotFoundError, PermissionDeniedError } from '../src/index.js';
import { JobsProvider, useJobStatus, type UseJobStatusOptions } from '../src/react/index.js';
import { freePort } from './support/processes.js';
import { backend, countingFetch, deadApi, openApi, securedApi, startApi, uid } from './support/stack.js';

// Generous: under load a real api may answer slowly; a passing wait returns as soon as it holds.
configure({ asyncUtilTimeout: 10_000 });

afterEach(() => {
  cleanup();
  vi.unstubAllEnvs();
});

/** Renders the hook in a component and keeps every state it rendered. */
function probe(jobId: string | null, options?: UseJobStatusOptions) {
  const seen: JobState[] = [];
  function Probe(): ReactElement {
    const state = useJobStatus(jobId, options);
    seen.push(state);
    return <progress value={state.progress} max={100} />;
  }
  return { seen, last: (): JobState => seen[seen.length - 1] as JobState, Probe };
}

const increasing = (values: number[]): boolean => values.every((v, i) => i === 0 || v >= (values[i - 1] as number));

describe('a job followed live with a job-scoped token, from another origin', () => {
  test('progress moves up to 100, then the result; the connection closes', async () => {
    const made = await backend().addJob('sleep', { ms: 1_500, steps: 5 }, { jobId: uid('hook') });
    const { seen, last, Probe } = probe(made.jobId, { baseUrl: securedApi(), token: made.accessToken });
    render(<Probe />);
    await waitFor(() => expect(last().isTerminal).toBe(true), { timeout: 15_000 });
    expect(last()).toMatchObject({ status: 'completed', progress: 100, result: { slept: 1.5 }, error: null });
    expect(last().connection).toBe('closed');
    const progress = seen.map((s) => s.progress);
    expect(increasing(progress)).toBe(true);
    expect(new Set(progress.filter((p) => p > 0 && p < 100)).size).toBeGreaterThanOrEqual(2);
    expect(seen.some((s) => s.connection === 'open' && s.status === 'active')).toBe(true);
    expect(activeWatchCount()).toBe(1); // kept (final state) while mounted
  });

  test('a finished job shows its result from one read, and the stream closes', async () => {
    const service = backend();
    const jobId = uid('done');
    const sub = service.subscribe(jobId, () => undefined);
    await sub.connected;
    const made = await service.addJob('echo', { value: { answer: 42 } }, { jobId });
    await sub.done;
    const counting = countingFetch();
    const { last, Probe } = probe(jobId, { baseUrl: securedApi(), token: made.accessToken, fetch: counting.fetch });
    render(<Probe />);
    await waitFor(() => expect(last().connection).toBe('closed'));
    expect(last()).toMatchObject({ status: 'completed', result: { answer: 42 }, progress: 100, isTerminal: true });
    expect([counting.count('/events'), counting.count(`/jobs/${jobId}`)]).toEqual([1, 1]);
  });

  test('a delayed job is seen through every state, the token travelling in the URL', async () => {
    const made = await backend().addJob('sleep', { ms: 200, steps: 2 }, { delay: 400 });
    const counting = countingFetch();
    const options = { baseUrl: securedApi(), token: made.accessToken, tokenInQuery: true, fetch: counting.fetch };
    const { seen, last, Probe } = probe(made.jobId, options);
    render(<Probe />);
    await waitFor(() => expect(last().isTerminal).toBe(true), { timeout: 15_000 });
    const statuses = seen.map((s) => s.status).filter((s, i, all) => s !== null && s !== all[i - 1]);
    expect(statuses).toEqual(['delayed', 'waiting', 'active', 'completed']);
    expect(counting.calls.every((c) => c.url.includes('token='))).toBe(true);
  });
});

describe('one shared connection per job', () => {
  test('two components share one stream; the last unmount closes it', async () => {
    const made = await backend().addJob('sleep', { ms: 20_000, steps: 4 }, { jobId: uid('shared') });
    const counting = countingFetch();
    const a = probe(made.jobId, { token: made.accessToken });
    const b = probe(made.jobId, { token: made.accessToken });
    const view = render(
      <JobsProvider baseUrl={securedApi()} fetch={counting.fetch}>
        <a.Probe />
        <b.Probe />
      </JobsProvider>,
    );
    await waitFor(() => expect(a.last()).toMatchObject({ status: 'active', connection: 'open' }));
    expect(b.last()).toBe(a.last());
    expect(counting.count('/events')).toBe(1);
    expect(activeWatchCount()).toBe(1);
    view.unmount();
    expect(activeWatchCount()).toBe(0);
    const stream = counting.calls.find((c) => c.url.includes('/events'));
    expect(stream?.signal?.aborted).toBe(true);
    await backend().cancelJob(made.jobId);
  });
});

describe('where the address comes from', () => {
  test('NEXT_PUBLIC_JOBS_URL when neither an option nor a provider gives one', async () => {
    const service = backend();
    const jobId = uid('env');
    const sub = service.subscribe(jobId, () => undefined);
    await sub.connected;
    const made = await service.addJob('echo', { value: 'env' }, { jobId });
    await sub.done;
    vi.stubEnv('NEXT_PUBLIC_JOBS_URL', securedApi());
    const { last, Probe } = probe(jobId, { token: made.accessToken });
    render(<Probe />);
    await waitFor(() => expect(last().result).toBe('env'));
  });

  test('no address at all: an error state, not an exception', () => {
    const { last, Probe } = probe('any');
    render(<Probe />);
    expect(last().connection).toBe('error');
    expect(last().connectionError?.message).toContain('NEXT_PUBLIC_JOBS_URL');
  });

  test('no job id: idle, no request', () => {
    const counting = countingFetch();
    const { last, Probe } = probe(null, { baseUrl: openApi(), fetch: counting.fetch });
    render(<Probe />);
    expect(last()).toMatchObject({ connection: 'idle', status: null });
    expect(counting.calls).toHaveLength(0);
  });
});

describe('refusals end it without retrying; other failures are retried', () => {
  test('an altered token (401) and another job’s token (403)', async () => {
    const service = backend();
    const mine = await service.addJob('echo', {}, { delay: 60_000 });
    const theirs = await service.addJob('echo', {}, { delay: 60_000 });
    const token = mine.accessToken as string;
    const counting = countingFetch();
    const altered = probe(mine.jobId, { baseUrl: securedApi(), token: `${token.slice(0, -2)}xx`, fetch: counting.fetch });
    const foreign = probe(theirs.jobId, { baseUrl: securedApi(), token, fetch: counting.fetch });
    render(
      <>
        <altered.Probe />
        <foreign.Probe />
      </>,
    );
    await waitFor(() => expect(altered.last().connection).toBe('error'));
    await waitFor(() => expect(foreign.last().connection).toBe('error'));
    expect(altered.last().connectionError).toBeInstanceOf(AuthenticationError);
    expect(foreign.last().connectionError).toBeInstanceOf(PermissionDeniedError);
    expect(counting.count('/events')).toBe(2); // one try each
    await Promise.all([service.cancelJob(mine.jobId), service.cancelJob(theirs.jobId)]);
  });

  test('a token function is asked again after a 401, once', async () => {
    const made = await backend().addJob('echo', { value: 'fresh' }, { delay: 200 });
    const asked: string[] = [];
    const token = async (jobId: string): Promise<string> => {
      asked.push(jobId);
      return asked.length === 1 ? 'expired-or-altered' : (made.accessToken as string);
    };
    const { last, Probe } = probe(made.jobId, { baseUrl: securedApi(), token });
    render(<Probe />);
    await waitFor(() => expect(last().result).toBe('fresh'), { timeout: 10_000 });
    expect(asked).toEqual([made.jobId, made.jobId]);
  });

  test('a job that is gone (404) ends it; an unreachable api keeps it reconnecting', async () => {
    const service = backend();
    const gone = await service.addJob('echo', {}, { queue: 'scheduled', delay: 60_000 });
    await service.drainQueue('scheduled', { delayed: true }); // its token stays valid, the job does not
    const missing = probe(gone.jobId, { baseUrl: securedApi(), token: gone.accessToken });
    const unreachable = probe('any', { baseUrl: await deadApi() });
    render(
      <>
        <missing.Probe />
        <unreachable.Probe />
      </>,
    );
    await waitFor(() => expect(missing.last().connection).toBe('error'));
    expect(missing.last().connectionError).toBeInstanceOf(NotFoundError);
    await waitFor(() => expect(unreachable.last().connection).toBe('reconnecting'));
    await act(async () => cleanup());
    expect(activeWatchCount()).toBe(0);
  });
});

describe('the api restarting under a watching component', () => {
  test('it reconnects with back-off, resumes with the queue and Last-Event-ID, and misses nothing', async () => {
    const port = await freePort();
    let api = await startApi(port);
    try {
      const made = await backend().addJob('sleep', { ms: 4_000, steps: 10 }, { jobId: uid('restart') });
      const counting = countingFetch();
      const reconnect = { minDelayMs: 50, maxDelayMs: 200 };
      const options = { baseUrl: `http://127.0.0.1:${port}`, token: made.accessToken, fetch: counting.fetch, reconnect };
      const { seen, last, Probe } = probe(made.jobId, options);
      render(<Probe />);
      await waitFor(() => expect(last().progress).toBeGreaterThanOrEqual(20), { timeout: 10_000 });
      // happy-dom prints each refused connection to the process's own console: not worth reading here
      const quiet = vi.spyOn(nodeConsole, 'error').mockImplementation(() => undefined);
      await api.stop(); // SIGTERM: the api ends its streams at once
      await waitFor(() => expect(last().connection).toBe('reconnecting'));
      api = await startApi(port);
      quiet.mockRestore();
      await waitFor(() => expect(last().isTerminal).toBe(true), { timeout: 20_000 });
      expect(last()).toMatchObject({ status: 'completed', progress: 100, result: { slept: 4 } });
      expect(increasing(seen.map((s) => s.progress))).toBe(true);
      const resumed = counting.calls.filter((c) => c.url.includes('/events')).at(-1);
      expect(resumed?.url).toContain('queue=default');
      expect(resumed?.headers['Last-Event-ID']).toMatch(/^\d+-\d+$/);
      expect(counting.count(`/jobs/${made.jobId}`)).toBe(1); // resuming needed no second read
    } finally {
      await api.stop();
    }
  });
});
