/**
 * Server-side rendering (node, no DOM): the hook renders its idle state and makes no request; the
 * built package keeps `"use client"` on its React entry and resolves through its `exports`.
 */

import { readFile } from 'node:fs/promises';

import type { ReactElement } from 'react';
import { renderToString } from 'react-dom/server';
import { afterEach, expect, test, vi } from 'vitest';

import { activeWatchCount } from '../src/index.js';
import { JobsProvider, useJobStatus } from '../src/react/index.js';
import { openApi } from './support/stack.js';

afterEach(() => vi.restoreAllMocks());

function Status({ jobId }: { jobId: string }): ReactElement {
  const { status, progress, connection } = useJobStatus(jobId, { token: 'job-token' });
  return <p>{`${status ?? 'unknown'} ${progress}% ${connection}`}</p>;
}

test('rendering on the server makes no request and starts no watch', () => {
  const fetch = vi.spyOn(globalThis, 'fetch');
  const html = renderToString(
    <JobsProvider baseUrl={openApi()}>
      <Status jobId="job-1" />
    </JobsProvider>,
  );
  expect(html).toBe('<p>unknown 0% idle</p>');
  expect(fetch).not.toHaveBeenCalled();
  expect(activeWatchCount()).toBe(0);
});

test('the build: ESM with declarations, "use client" on the React entry, reachable by the package name', async () => {
  const react = await readFile(new URL('../dist/react/index.js', import.meta.url), 'utf8');
  expect(react.startsWith("'use client';")).toBe(true);
  await expect(readFile(new URL('../dist/react/index.d.ts', import.meta.url), 'utf8')).resolves.toContain('useJobStatus');
  const root = await import('@nchat/jobs-client');
  const hooks = await import('@nchat/jobs-client/react');
  expect(typeof root.JobQueueService).toBe('function');
  expect(typeof hooks.useJobStatus).toBe('function');
  expect(new root.RateLimitError('full', { code: 'queue_full', status: 429, retryAfter: 5 })).toBeInstanceOf(root.JobsApiError);
});
