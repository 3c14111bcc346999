// @vitest-environment happy-dom
/**
 * The service in a page (happy-dom, origin http://app.localhost:3000, whose fetch enforces CORS) with
 * what a browser may hold: a job-scoped token reads its own job and follows its events, and every
 * other use is refused; the master token is refused in a URL; another origin cannot read answers.
 */

import { Window } from 'happy-dom';
import { describe, expect, test } from 'vitest';

import {
  ApiConnectionError,
  AuthenticationError,
  type FetchLike,
  type JobEvent,
  JobQueueService,
  PermissionDeniedError,
} from '../src/index.js';
import { MASTER_TOKEN } from './support/constants.js';
import { backend, securedApi } from './support/stack.js';

describe('a page holding a job-scoped token', () => {
  test('reads its job and follows its events, with the token in the header or the URL', async () => {
    const made = await backend().addJob('sleep', { ms: 300, steps: 3 }, { delay: 300 });
    const page = new JobQueueService({ baseUrl: securedApi(), token: made.accessToken });
    expect((await page.getJobStatus(made.jobId)).status).toBe('delayed');
    expect((await page.getJobStatus(made.jobId, { tokenInQuery: true })).jobId).toBe(made.jobId);
    const events: JobEvent[] = [];
    const sub = page.subscribe(made.jobId, (event) => events.push(event), { tokenInQuery: true });
    expect(await sub.done).toEqual({ reason: 'terminal' });
    expect(events.at(-1)).toMatchObject({ to: 'completed', result: { slept: 0.3 } });
  });

  test('anything else is refused with PermissionDeniedError, readable from the page', async () => {
    const service = backend();
    const mine = await service.addJob('echo', {}, { delay: 60_000 });
    const theirs = await service.addJob('echo', {}, { delay: 60_000 });
    const page = new JobQueueService({ baseUrl: securedApi(), token: mine.accessToken });
    const attempts = [
      page.getJobStatus(theirs.jobId),
      page.cancelJob(mine.jobId),
      page.retryJob(mine.jobId),
      page.getJobLogs(mine.jobId),
      page.createJobToken(mine.jobId),
      page.addJob('echo', {}),
      page.listJobs(),
      page.getQueues(),
      page.pauseQueue('default'),
      page.listSchedules(),
    ];
    for (const refused of await Promise.allSettled(attempts)) {
      expect(refused.status).toBe('rejected');
      const reason = (refused as PromiseRejectedResult).reason as PermissionDeniedError;
      expect(reason).toBeInstanceOf(PermissionDeniedError);
      expect(reason).toMatchObject({ status: 403, code: 'forbidden' });
      expect(reason.message).not.toContain(theirs.jobId);
    }
    expect((await service.getJobStatus(mine.jobId)).status).toBe('delayed'); // the writes changed nothing
    await Promise.all([service.cancelJob(mine.jobId), service.cancelJob(theirs.jobId)]);
  });

  test('the master token is refused in a URL', async () => {
    const made = await backend().addJob('echo', {}, { delay: 60_000 });
    const leaky = new JobQueueService({ baseUrl: securedApi(), token: MASTER_TOKEN });
    await expect(leaky.getJobStatus(made.jobId, { tokenInQuery: true })).rejects.toBeInstanceOf(AuthenticationError);
    await backend().cancelJob(made.jobId);
  });

  test('a page on an origin not in JOBS_CORS_ORIGINS cannot read the answers', async () => {
    const made = await backend().addJob('echo', {}, { delay: 60_000 });
    const other = new Window({ url: 'http://elsewhere.localhost:4000/' });
    const fetch = ((input: string, init?: RequestInit) => other.fetch(input, init as never)) as unknown as FetchLike;
    const page = new JobQueueService({ baseUrl: securedApi(), token: made.accessToken, fetch });
    const blocked = await page.getJobStatus(made.jobId, { retry: false }).catch((err: unknown) => err);
    expect(blocked).toBeInstanceOf(ApiConnectionError); // the browser hides the answer: no status at all
    await other.happyDOM.close();
    await backend().cancelJob(made.jobId);
  });
});
