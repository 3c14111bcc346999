/**
 * Following one job's Server-Sent Events (`GET /events?jobId=`), read with fetch and eventsource-parser
 * rather than `EventSource`, so that the token can travel in `Authorization` and every failure has a
 * status. The stream reconnects by itself with capped jittered back-off; once the job's queue is known
 * (given, or read from its first event) it asks for `queue` and `jobId` and sends `Last-Event-ID`, so the
 * API replays whatever happened while it was away. A connection silent for three keep-alive periods is
 * taken for dead and replaced.
 *
 * How it fails: 400, 401, 403, 404 and 410 end it (retrying cannot help: wrong input, token or job);
 * everything else (network, 429, 5xx, a stream that ends) is retried until it is closed.
 */

import { createParser, type EventSourceMessage } from 'eventsource-parser';

import { backoffDelay, type BackoffPolicy, DEFAULT_RECONNECT, sleep } from './backoff.js';
import { ApiConnectionError, JobsApiError } from './errors.js';
import { anySignal, type CallOptions, type Transport } from './transport.js';
import { type JobEvent, TERMINAL_STATES } from './types.js';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed' | 'error';

export interface SubscribeOptions extends Omit<CallOptions, 'retry' | 'timeoutMs'> {
  /** The job's queue, when known: narrows the stream and lets reconnects resume with Last-Event-ID. */
  queue?: string;
  /** Resume after this event id (with `queue`). */
  lastEventId?: string;
  /** Close after the job's terminal event (completed, failed, cancelled, removed). Default true. */
  stopOnTerminal?: boolean;
  /** Reconnect back-off; `false`: one connection only. */
  reconnect?: Partial<BackoffPolicy> | false;
  /** Replace a connection that sent nothing (not even a keep-alive) for this long. Default 45 s. */
  stallTimeoutMs?: number;
  /** Each time a connection is open (the `: connected` line): from then on no event is missed. */
  onConnected?: (info: { resumed: boolean }) => void;
  onStateChange?: (state: ConnectionState, error?: JobsApiError) => void;
}

export type EndReason = 'closed' | 'terminal' | 'error';

export interface JobSubscription {
  /** Resolves when the first connection is open; rejects if the subscription fails before. */
  readonly connected: Promise<void>;
  /** Resolves when the subscription ends, with why (and the error when it failed). */
  readonly done: Promise<{ reason: EndReason; error?: JobsApiError }>;
  readonly state: ConnectionState;
  /** The id of the last event received (what a resume sends as Last-Event-ID). */
  readonly lastEventId: string | undefined;
  readonly queue: string | undefined;
  /** Narrow later connections to this queue (and so allow Last-Event-ID resumption). */
  setQueue(queue: string): void;
  /** Drop the current connection and open a new one now. */
  reconnect(): void;
  close(): void;
}

const FATAL_STATUSES = new Set([400, 401, 403, 404, 410]);
const DEFAULT_STALL_MS = 45_000;

type Deferred<T> = { promise: Promise<T>; resolve: (value: T) => void; reject: (err: unknown) => void };

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // nobody has to listen: an unread failure is not an unhandled one
  return { promise, resolve, reject };
}

/** Parses an SSE message of type `job` into a JobEvent; anything else (or bad JSON) is null. */
export function toJobEvent<R>(message: EventSourceMessage): JobEvent<R> | null {
  if (message.event !== 'job') return null;
  try {
    const data = JSON.parse(message.data) as Omit<JobEvent<R>, 'id'>;
    return { ...data, id: message.id ?? '' };
  } catch {
    return null;
  }
}

export class EventFollower<R = unknown> implements JobSubscription {
  private readonly opened = deferred<void>();
  private readonly ended = deferred<{ reason: EndReason; error?: JobsApiError }>();
  private readonly lifetime = new AbortController();
  private connection: AbortController | undefined;
  private gotEventSinceOpen = false;
  state: ConnectionState = 'connecting';
  lastEventId: string | undefined;
  queue: string | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly jobId: string,
    private readonly onEvent: (event: JobEvent<R>) => void,
    private readonly options: SubscribeOptions = {},
  ) {
    this.queue = options.queue;
    this.lastEventId = options.lastEventId;
    options.signal?.addEventListener('abort', () => this.close(), { once: true });
    if (options.signal?.aborted) this.close();
    else void this.run();
  }

  get connected(): Promise<void> {
    return this.opened.promise;
  }

  get done(): Promise<{ reason: EndReason; error?: JobsApiError }> {
    return this.ended.promise;
  }

  private get stallMs(): number {
    return this.options.stallTimeoutMs ?? DEFAULT_STALL_MS;
  }

  setQueue(queue: string): void {
    this.queue ??= queue;
  }

  reconnect(): void {
    this.connection?.abort(new Error('reconnect requested'));
  }

  close(): void {
    this.finish('closed');
  }

  private finish(reason: EndReason, error?: JobsApiError): void {
    if (this.lifetime.signal.aborted) return;
    this.lifetime.abort(new Error(`subscription ${reason}`));
    this.setState(reason === 'error' ? 'error' : 'closed', error);
    this.opened.reject(error ?? new Error(`subscription ${reason} before it connected`));
    this.ended.resolve(error ? { reason, error } : { reason });
  }

  private setState(state: ConnectionState, error?: JobsApiError): void {
    if (this.state === state && !error) return;
    this.state = state;
    this.options.onStateChange?.(state, error);
  }

  private async run(): Promise<void> {
    const policy = this.options.reconnect === false ? undefined : { ...DEFAULT_RECONNECT, ...this.options.reconnect };
    for (let failures = 1; !this.lifetime.signal.aborted; failures++) {
      this.gotEventSinceOpen = false;
      try {
        await this.connectOnce();
      } catch (err) {
        if (this.lifetime.signal.aborted) return;
        if (err instanceof JobsApiError && FATAL_STATUSES.has(err.status)) return this.finish('error', err);
      }
      if (this.lifetime.signal.aborted) return;
      if (!policy) return this.finish('error', new ApiConnectionError('the event stream ended'));
      if (this.gotEventSinceOpen) failures = 1; // the budget is restored by real events, not keep-alives
      this.setState('reconnecting');
      try {
        await sleep(backoffDelay(failures, policy), this.lifetime.signal);
      } catch {
        return; // closed while waiting
      }
    }
  }

  private async connectOnce(): Promise<void> {
    const connection = new AbortController();
    this.connection = connection;
    const resumed = Boolean(this.queue && this.lastEventId);
    const headers: Record<string, string> = {};
    if (resumed) headers['Last-Event-ID'] = this.lastEventId as string;
    const call: CallOptions = { ...this.options, signal: anySignal([this.lifetime.signal, connection.signal]) };
    // A connect that hangs (a proxy holding the request) is given up like a silent stream.
    const hung = setTimeout(() => connection.abort(new Error('no answer')), this.stallMs);
    let response: Response;
    try {
      response = await this.transport.send('GET', '/events', { query: { jobId: this.jobId, queue: this.queue } }, call, headers);
    } finally {
      clearTimeout(hung);
    }
    if (!response.body) throw new ApiConnectionError('the event stream has no body');
    await this.read(response.body, connection, resumed);
  }

  private async read(body: ReadableStream<Uint8Array>, connection: AbortController, resumed: boolean): Promise<void> {
    const parser = createParser({
      onEvent: (message) => this.receive(message),
      onComment: (comment) => {
        if (comment.trim() === 'connected') this.open(resumed);
      },
    });
    const stallMs = this.stallMs;
    let stall = setTimeout(() => connection.abort(new Error('stream stalled')), stallMs);
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const cancel = (): void => void reader.cancel().catch(() => undefined);
    connection.signal.addEventListener('abort', cancel, { once: true });
    this.lifetime.signal.addEventListener('abort', cancel, { once: true });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        clearTimeout(stall);
        stall = setTimeout(() => connection.abort(new Error('stream stalled')), stallMs);
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } finally {
      clearTimeout(stall);
      this.lifetime.signal.removeEventListener('abort', cancel);
    }
  }

  private open(resumed: boolean): void {
    this.setState('open');
    this.opened.resolve();
    this.options.onConnected?.({ resumed });
  }

  private receive(message: EventSourceMessage): void {
    const event = toJobEvent<R>(message);
    if (!event || this.lifetime.signal.aborted) return;
    this.gotEventSinceOpen = true;
    if (event.id) this.lastEventId = event.id;
    this.queue ??= event.queue;
    try {
      this.onEvent(event);
    } catch (err) {
      queueMicrotask(() => {
        throw err; // the listener's bug: visible, but it does not end the stream
      });
    }
    const terminal = event.jobId === this.jobId && TERMINAL_STATES.has(event.to);
    if (terminal && this.options.stopOnTerminal !== false) this.finish('terminal');
  }
}
