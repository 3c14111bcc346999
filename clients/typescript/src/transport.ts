/**
 * HTTP to the jobs API: URL building, the bearer token (header, or `?token=` for a job-scoped token),
 * JSON in and out, error classes, timeouts, and retries of idempotent calls on 429, 502-504 and network
 * errors with capped jittered back-off that honours Retry-After. A call that is not idempotent is tried
 * once: repeating it could do its work twice.
 *
 * How it fails: a non-2xx answer rejects with the `JobsApiError` subclass of its status; no answer
 * rejects with `ApiConnectionError`; an aborted call rejects with its signal's reason.
 */

import { backoffDelay, DEFAULT_RETRY, type RetryPolicy, sleep } from './backoff.js';
import { ApiConnectionError, errorFromResponse, JobsApiError, RateLimitError } from './errors.js';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;
/** A token, or a function giving one (called for each request: rotate it there). */
export type TokenSource = string | (() => string | Promise<string>);

export interface TransportConfig {
  /** The API's address, e.g. `http://jobs.localhost:3105`. */
  baseUrl: string;
  /** The master token on a server; a job-scoped token in a browser. */
  token?: TokenSource;
  /** Another fetch (tests, server runtimes, instrumentation); default: the global one. */
  fetch?: FetchLike;
  /** Retry policy of idempotent calls. */
  retry?: Partial<RetryPolicy>;
}

/** Options every call takes. */
export interface CallOptions {
  /** Aborts the call (and its retries); it then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Use this token for this call instead of the service's (a job-scoped token, say). */
  token?: string;
  /** Send the token as `?token=` (job-scoped tokens only): no CORS preflight for a GET. */
  tokenInQuery?: boolean;
  /** Per-call retry policy; `false` = one try. Only idempotent calls are ever retried. */
  retry?: Partial<RetryPolicy> | false;
  /** Give up on one try after this many ms (ApiConnectionError code `timeout`). */
  timeoutMs?: number;
  /** Sent as X-Request-ID; the api logs the request under it. */
  requestId?: string;
}

export type Query = Record<string, string | number | boolean | undefined>;

interface RequestSpec {
  query?: Query;
  body?: unknown;
  /** Safe to repeat: the only calls that are retried. */
  idempotent: boolean;
}

const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

function isRetryable(err: unknown): boolean {
  return err instanceof JobsApiError && (err.status === 0 || RETRYABLE_STATUSES.has(err.status));
}

/** Aborts when any of the signals does (AbortSignal.any where the runtime has it). */
export function anySignal(signals: AbortSignal[]): AbortSignal {
  if (signals.length === 1) return signals[0] as AbortSignal;
  if (typeof AbortSignal.any === 'function') return AbortSignal.any(signals);
  const controller = new AbortController();
  for (const signal of signals) {
    if (signal.aborted) controller.abort(signal.reason);
    else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}

export class Transport {
  readonly baseUrl: string;
  private readonly token: TokenSource | undefined;
  private readonly fetcher: FetchLike;
  private readonly retry: RetryPolicy;

  constructor(config: TransportConfig) {
    if (!config.baseUrl) throw new TypeError('baseUrl is required, e.g. http://jobs.localhost:3105');
    this.baseUrl = config.baseUrl.replace(/\/+$/, '');
    this.token = config.token;
    // Looked up at call time and called unbound: window.fetch refuses another `this`.
    this.fetcher = config.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.retry = { ...DEFAULT_RETRY, ...config.retry };
  }

  url(path: string, query: Query = {}): string {
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url.toString();
  }

  /** The token for this call: the call's own, else the service's (resolved if a function). */
  async tokenFor(call: CallOptions): Promise<string | undefined> {
    if (call.token !== undefined) return call.token;
    return typeof this.token === 'function' ? await this.token() : this.token;
  }

  /** One request with its retries; resolves to the answer's JSON. */
  async request<T>(method: string, path: string, spec: RequestSpec, call: CallOptions = {}): Promise<T> {
    const policy: RetryPolicy = { ...this.retry, ...(call.retry || {}) };
    const attempts = spec.idempotent && call.retry !== false ? policy.maxAttempts : 1;
    for (let failures = 1; ; failures++) {
      try {
        const response = await this.send(method, path, spec, call);
        return (await this.readJson(response, call)) as T;
      } catch (err) {
        if (call.signal?.aborted || !isRetryable(err) || failures >= attempts) throw err;
        const retryAfterMs = err instanceof RateLimitError ? (err.retryAfter ?? 0) * 1000 : 0;
        if (retryAfterMs > policy.maxRetryAfterMs) throw err;
        await sleep(Math.max(backoffDelay(failures, policy), retryAfterMs), call.signal);
      }
    }
  }

  /**
   * One try: the answer when it is 2xx (its body unread), else its error. Streams use it directly.
   * `extraHeaders` are added as given (Last-Event-ID).
   */
  async send(
    method: string,
    path: string,
    spec: Omit<RequestSpec, 'idempotent'>,
    call: CallOptions,
    extraHeaders: Record<string, string> = {},
  ): Promise<Response> {
    const token = await this.tokenFor(call);
    const query = { ...spec.query, ...(token && call.tokenInQuery ? { token } : {}) };
    // No Accept header: nothing needs it, and some fetch implementations name it in CORS preflights,
    // which the API (allowing Authorization, Content-Type, Last-Event-ID, X-Request-ID) refuses.
    const headers: Record<string, string> = { ...extraHeaders };
    if (token && !call.tokenInQuery) headers.Authorization = `Bearer ${token}`;
    if (spec.body !== undefined) headers['Content-Type'] = 'application/json';
    if (call.requestId) headers['X-Request-ID'] = call.requestId;
    const timeout = call.timeoutMs ? AbortSignal.timeout(call.timeoutMs) : undefined;
    const signals = [call.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    const url = this.url(path, query);
    let response: Response;
    try {
      response = await this.fetcher(url, {
        method,
        headers,
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        signal: signals.length ? anySignal(signals) : undefined,
      });
    } catch (err) {
      throw this.noAnswer(err, call, timeout, `${method} ${path}`);
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  }

  private async readJson(response: Response, call: CallOptions): Promise<unknown> {
    try {
      const text = await response.text();
      return text ? JSON.parse(text) : undefined;
    } catch (err) {
      throw this.noAnswer(err, call, undefined, 'reading the answer');
    }
  }

  /** What to throw when no (whole) answer came: the caller's abort reason, a timeout, or the failure. */
  noAnswer(err: unknown, call: CallOptions, timeout: AbortSignal | undefined, what: string): unknown {
    if (call.signal?.aborted) return call.signal.reason;
    if (timeout?.aborted) {
      return new ApiConnectionError(`${what}: no answer within ${call.timeoutMs} ms`, err, 'timeout');
    }
    const reason = err instanceof Error ? err.message : String(err);
    return new ApiConnectionError(`${what}: cannot reach ${this.baseUrl} (${reason})`, err);
  }
}
