/** The back-off arithmetic: exponential, jittered within [half, all] of each step, capped. */

import { expect, test } from 'vitest';

import { backoffDelay, sleep } from '../src/backoff.js';
import { DEFAULT_RECONNECT } from '../src/index.js';

test('each wait lies in [step/2, step], the step doubling up to the cap', () => {
  const policy = { minDelayMs: 100, maxDelayMs: 1_000, factor: 2 };
  const steps = [100, 200, 400, 800, 1_000, 1_000];
  steps.forEach((step, i) => {
    expect(backoffDelay(i + 1, policy, () => 0)).toBe(step / 2);
    expect(backoffDelay(i + 1, policy, () => 1)).toBe(step);
  });
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(3, policy)));
  expect(spread.size).toBeGreaterThan(40); // jittered: clients that failed together come back apart
  expect(Math.max(...Array.from({ length: 200 }, (_, i) => backoffDelay(i, DEFAULT_RECONNECT)))).toBeLessThanOrEqual(
    DEFAULT_RECONNECT.maxDelayMs,
  );
});

test('sleep ends early with the abort reason', async () => {
  const controller = new AbortController();
  const pending = sleep(60_000, controller.signal);
  controller.abort(new Error('stop'));
  await expect(pending).rejects.toThrow('stop');
});
