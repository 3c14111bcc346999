/**
 * Capped, jittered exponential back-off and an abortable sleep, shared by request retries and stream
 * reconnects. Jitter spreads clients that failed together (an api restart) so they do not return
 * together; the cap bounds the wait however long the outage.
 */

export interface BackoffPolicy {
  /** Wait before the first retry, ms (before jitter). */
  minDelayMs: number;
  /** No wait is longer (before a server's Retry-After, which may ask for more). */
  maxDelayMs: number;
  /** Growth per failed try. */
  factor: number;
}

export interface RetryPolicy extends BackoffPolicy {
  /** Tries in all, the first included; 1 = never retry. */
  maxAttempts: number;
  /** A Retry-After longer than this fails the call at once instead of waiting. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 4,
  minDelayMs: 250,
  maxDelayMs: 8_000,
  factor: 2,
  maxRetryAfterMs: 30_000,
};

export const DEFAULT_RECONNECT: BackoffPolicy = { minDelayMs: 250, maxDelayMs: 10_000, factor: 2 };

/**
 * The wait before retry number `failures` (1 = after the first failure): "equal jitter", uniformly
 * in [half, all] of the capped exponential step, so it is never zero and never above the cap.
 */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.minDelayMs * policy.factor ** Math.max(0, failures - 1));
  return step / 2 + (random() * step) / 2;
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
