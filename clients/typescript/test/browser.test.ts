/**
 * End to end in a real Chromium (Debian's `chromium`, driven by playwright-core; never a downloaded
 * browser): the example page, served from its own origin by its own backend, schedules a job through
 * that backend (which holds the master token and hands back the job-scoped token), then follows it with
 * useJobStatus on the jobs API, another origin. Every value the progress bar takes is recorded in the
 * page by a MutationObserver; they must rise to 100 and the result must appear.
 */

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';

import { buildExample } from '../example/build.mjs';
import { startExampleServer } from '../example/server.mjs';
import { MASTER_TOKEN } from './support/constants.js';
import { securedApi } from './support/stack.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run'];
const ARTIFACTS = new URL('../test-results/', import.meta.url);

let browser: Browser;
let example: { url: string; close: () => Promise<void> };
let staticDir: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
  staticDir = await mkdtemp(join(tmpdir(), 'jobs-example-'));
  await buildExample({ jobsUrl: securedApi(), outDir: staticDir });
  example = await startExampleServer({
    port: inject('examplePort'),
    jobsUrl: securedApi(),
    masterToken: MASTER_TOKEN,
    staticDir,
    job: { type: 'sleep', payload: { ms: 2_000, steps: 10 } },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
});

afterAll(async () => {
  await browser?.close();
  await example?.close();
  await rm(staticDir, { recursive: true, force: true });
});

/** Records, inside the page, every value the progress bar's data-progress takes (before it exists). */
async function recordProgress(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const seen: number[] = [];
    (window as unknown as { progressSeen: number[] }).progressSeen = seen;
    new MutationObserver(() => {
      const bar = document.querySelector('#bar');
      const value = bar ? Number(bar.getAttribute('data-progress')) : undefined;
      if (value !== undefined && seen[seen.length - 1] !== value) seen.push(value);
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-progress'] });
  });
}

test('a page on another origin shows a real job progressing to 100 % and its result', async () => {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (msg) => (msg.type() === 'error' ? problems.push(msg.text()) : undefined));
  const apiRequests: { url: string; origin: string | null; authorization: string | null }[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(securedApi())) return;
    void request.allHeaders().then(
      (headers) => apiRequests.push({ url: request.url(), origin: headers.origin ?? null, authorization: headers.authorization ?? null }),
      (err: unknown) => problems.push(`headers of ${request.url()}: ${String(err)}`),
    );
  });
  await recordProgress(page);
  await page.goto(example.url);
  await page.click('#start');
  await page.waitForSelector('#result', { timeout: 20_000 });

  expect(await page.textContent('#result')).toBe('{"slept":2}');
  expect(await page.getAttribute('#status', 'data-status')).toBe('completed');
  expect(await page.textContent('#percent')).toBe('100 %');
  const seen = await page.evaluate(() => (window as unknown as { progressSeen: number[] }).progressSeen);
  expect(seen.at(-1)).toBe(100);
  expect(seen.every((value, i) => i === 0 || value > (seen[i - 1] as number))).toBe(true);
  expect(seen.filter((value) => value > 0 && value < 100).length).toBeGreaterThanOrEqual(3);

  // Cross-origin, with the job-scoped token only: the master token never reached the browser.
  expect(apiRequests.map((r) => new URL(r.url).pathname)).toEqual(expect.arrayContaining(['/events']));
  expect(apiRequests.every((r) => r.origin === example.url)).toBe(true);
  expect(apiRequests.every((r) => r.authorization?.startsWith('Bearer ey'))).toBe(true);
  expect(JSON.stringify(apiRequests)).not.toContain(MASTER_TOKEN);
  expect(problems).toEqual([]);
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS.pathname, 'example-completed.png') });
  await page.close();
});
