/**
 * Real processes for the tests: a private `redis-server` on a free port and the repository's console
 * scripts (`jobs-api`, `jobs-worker` from its `.venv`), each awaited on its `service_ready` JSON log
 * line, never on a sleep. Output goes to a log file per process, whose tail a failure quotes.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { readFile } from 'node:fs/promises';

export const REPO = resolve(import.meta.dirname, '../../../..');
export const VENV_BIN = join(REPO, '.venv', 'bin');

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

export class Proc {
  readonly child: ChildProcess;
  private readonly ready: Promise<Record<string, unknown>>;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    env: Record<string, string>,
    readonly logPath: string,
    readyEvent?: string,
  ) {
    this.child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(logPath);
    this.child.stderr?.pipe(log);
    const lines = createInterface({ input: this.child.stdout! });
    this.ready = new Promise((done, fail) => {
      lines.on('line', (line) => {
        log.write(`${line}\n`);
        if (readyEvent && line.includes(`"${readyEvent}"`)) {
          try {
            const item = JSON.parse(line) as Record<string, unknown>;
            if (item.event === readyEvent) done(item);
          } catch {
            // not a JSON line
          }
        }
      });
      this.child.once('exit', (code) => fail(new Error(`${name} exited (${code}) before ${readyEvent}`)));
    });
    this.ready.catch(() => undefined);
  }

  /** The first log line with this event (`service_ready`), or an error quoting the log's tail. */
  async waitReady(timeoutMs = 30_000): Promise<Record<string, unknown>> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`${this.name}: not ready after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.ready, timeout]);
    } catch (err) {
      const tail = (await readFile(this.logPath, 'utf8').catch(() => '')).split('\n').slice(-30).join('\n');
      throw new Error(`${(err as Error).message}\n--- ${this.logPath} ---\n${tail}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((done) => this.child.once('exit', () => done()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/** A console script of the repository's virtual environment. */
export function jobsScript(name: string): string {
  const path = join(VENV_BIN, name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`make install\` at the repository root`);
  return path;
}

export function redisBinary(): string {
  const found = which('redis-server') ?? join(VENV_BIN, 'redis-server');
  if (!existsSync(found)) throw new Error('redis-server is not on PATH: run `make install` (it installs one)');
  return found;
}

/** Resolves once Redis answers PING on the port. */
export async function waitForRedis(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const pong = await new Promise<boolean>((done) => {
      const socket = new Socket();
      socket.setTimeout(200);
      socket.once('data', (data) => {
        socket.destroy();
        done(data.toString().startsWith('+PONG'));
      });
      socket.once('error', () => done(false));
      socket.once('timeout', () => {
        socket.destroy();
        done(false);
      });
      socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    });
    if (pong) return;
    await new Promise((r) => setTimeout(r, 20)); // the port is not open yet: nothing to wait on but time
  }
  throw new Error(`redis-server did not answer on port ${port}`);
}
