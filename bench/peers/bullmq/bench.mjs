// BullMQ for Node under the same workload as bench/measure.py, printed side by side by `make bench`.
//
//   node bench.mjs throughput <redis-url> <jobs> <concurrency>   -> one JSON line
//   node bench.mjs latency <redis-url>                          -> one JSON line
//   node bench.mjs worker <redis-url> <concurrency> <mode>      (child process, started by the two above)
//
// Like ours, the worker is its own process, retention keeps the newest 1,000 completed jobs, the event
// stream is capped at 10,000 and per-minute metrics are on. Throughput: N no-op jobs are added to a
// paused queue, the worker starts, the queue is resumed and the clock runs until the worker has
// completed N. Latency: an idle worker, one job at a time after a random 0-20 ms gap; the job pushes its
// start time (wall clock, sub-millisecond) to a list the producer pops. Exits non-zero on any error.
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { Queue, Worker, MetricsTime } from "bullmq";
import IORedis from "ioredis";

const QUEUE = "bench";
const KEEP = { count: 1000 };
const TICK = 100; // USER_HZ on Linux
const nowMs = () => performance.timeOrigin + performance.now();

function connection(url) {
  return new IORedis(url, { maxRetriesPerRequest: null });
}

function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(")").pop().trim().split(/\s+/);
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}

async function redisStats(redis) {
  const stats = await redis.info("stats");
  const cpu = await redis.info("cpu");
  const field = (text, name) => Number(text.match(new RegExp(`${name}:([0-9.]+)`))[1]);
  return {
    commands: field(stats, "total_commands_processed"),
    cpu: field(cpu, "used_cpu_user") + field(cpu, "used_cpu_sys"),
  };
}

function startWorker(url, concurrency, mode) {
  const child = fork(new URL(import.meta.url).pathname, ["worker", url, String(concurrency), mode]);
  const messages = [];
  const waiters = [];
  child.on("message", (m) => (waiters.length ? waiters.shift()(m) : messages.push(m)));
  child.on("exit", (code) => code && waiters.forEach((w) => w({ error: `worker exited ${code}` })));
  const next = () => new Promise((resolve) => (messages.length ? resolve(messages.shift()) : waiters.push(resolve)));
  return { child, next };
}

async function throughput(url, n, concurrency) {
  const redis = connection(url);
  const queue = new Queue(QUEUE, { connection: redis });
  await queue.obliterate({ force: true });
  await queue.pause();
  for (let i = 0; i < n; i += 1000) {
    const size = Math.min(1000, n - i);
    await queue.addBulk(Array.from({ length: size }, () => ({ name: "noop", data: {}, opts: { removeOnComplete: KEEP } })));
  }
  const { child, next } = startWorker(url, concurrency, `count:${n}`);
  await next(); // ready
  const before = await redisStats(redis);
  const cpu0 = cpuSeconds(child.pid);
  const started = performance.now();
  await queue.resume();
  const done = await next();
  if (done.error) throw new Error(done.error);
  const elapsed = (performance.now() - started) / 1000;
  const cpu1 = cpuSeconds(child.pid);
  const after = await redisStats(redis);
  child.kill("SIGTERM");
  await queue.close();
  redis.disconnect();
  return {
    jobs: n,
    seconds: elapsed,
    jobs_per_s: n / elapsed,
    redis_commands_per_job: (after.commands - before.commands) / n,
    worker_cpu_us_per_job: ((cpu1 - cpu0) / n) * 1e6,
    redis_cpu_us_per_job: ((after.cpu - before.cpu) / n) * 1e6,
  };
}

async function latency(url) {
  const redis = connection(url);
  const popper = connection(url);
  const queue = new Queue(QUEUE, { connection: redis });
  await queue.obliterate({ force: true });
  const { child, next } = startWorker(url, 50, "latency");
  await next();
  const samples = [];
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < 305; i++) {
    await new Promise((r) => setTimeout(r, random() * 20));
    const sent = nowMs();
    await queue.add("started", { key: "bench:started" }, { removeOnComplete: KEEP });
    const [, value] = await popper.blpop("bench:started", 5);
    if (i >= 5) samples.push(Number(value) - sent);
  }
  child.kill("SIGTERM");
  await queue.close();
  redis.disconnect();
  popper.disconnect();
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(Math.floor(q * samples.length), samples.length - 1)];
  return { jobs: samples.length, p50_ms: at(0.5), p99_ms: at(0.99), max_ms: samples[samples.length - 1] };
}

async function worker(url, concurrency, mode) {
  const pusher = connection(url);
  const processor = mode === "latency"
    ? async (job) => { await pusher.rpush(job.data.key, nowMs().toFixed(3)); return null; }
    : async () => null;
  const w = new Worker(QUEUE, processor, {
    connection: connection(url),
    concurrency,
    metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
  });
  if (mode.startsWith("count:")) {
    const target = Number(mode.slice(6));
    let completed = 0;
    w.on("completed", () => { if (++completed === target) process.send({ done: completed }); });
  }
  w.on("failed", (job, err) => { console.error(`job failed: ${err}`); process.exit(3); });
  await w.waitUntilReady();
  process.send({ ready: true });
  process.on("SIGTERM", async () => { await w.close(); pusher.disconnect(); process.exit(0); });
}

const [role, url, ...rest] = process.argv.slice(2);
try {
  if (role === "worker") await worker(url, Number(rest[0]), rest[1]);
  else if (role === "throughput") console.log(JSON.stringify(await throughput(url, Number(rest[0]), Number(rest[1]))));
  else if (role === "latency") console.log(JSON.stringify(await latency(url)));
  else throw new Error(`unknown role ${role}`);
} catch (err) {
  console.error(err);
  process.exit(1);
}
