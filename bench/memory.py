"""Redis memory after a long run with the default retention settings: is history bounded?

Run: ``python -m bench.memory`` (``BENCH_MEMORY_JOBS`` sets the number of jobs, default 200,000;
``BENCH_MEMORY_WORKERS`` the worker processes, default 2).

Starts a private Redis (AOF everysec, noeviction, as in production) and real ``jobs-worker`` processes
with every retention setting at its default (JOBS_KEEP_COMPLETED 1000, JOBS_KEEP_FAILED 5000, a day and
a week of age, JOBS_EVENTS_MAXLEN 10000). A producer pushes the jobs through the core's ``enqueue``
in bulks of 1000, spread over the four default queues; one job in eight fails, so that failed jobs
reach their limit too. The default JOBS_MAX_JOBS_PER_QUEUE (10,000) holds as well: a full queue
refuses the bulk and the producer waits, the back-pressure a real producer sees as HTTP 429. Every
25,000 finished jobs it samples ``used_memory``; at the end it prints memory, key counts and the
biggest structures.

A benchmark, not a test: it asserts nothing. It exits non-zero only if Redis or a worker fails.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from jobs_core.errors import QueueFull  # noqa: E402
from jobs_core.model import JobRequest, build_spec  # noqa: E402
from jobs_core.settings import DEFAULT_QUEUES, CoreSettings  # noqa: E402
from jobs_core.store import JobStore  # noqa: E402
from support.processes import Service  # noqa: E402
from support.redis_server import RedisServer  # noqa: E402

PREFIX = "mem"
BULK = 1000
FAIL_EVERY = 8
SAMPLE_EVERY = 25_000


def worker_env(url: str) -> dict[str, str]:
    """Defaults for everything that decides what Redis keeps; only logging and the job mix differ."""
    return {
        "JOBS_REDIS_URL": url,
        "JOBS_KEY_PREFIX": PREFIX,
        "JOBS_CONCURRENCY": "50",
        "JOBS_LOG_COMPLETED": "false",  # 200k log lines would only cost the pipe reader CPU
        "JOBS_LOG_LEVEL": "info",
        "JOBS_LOG_FORMAT": "json",
        "JOBS_PROCESSOR_MODULES": "bench.processors",
        "JOBS_PROBE_PORT": "-1",
        "PYTHONPATH": str(ROOT),
    }


def make_specs(settings: CoreSettings, n: int) -> list[dict[str, Any]]:
    """n job specs as POST /schedule would build them: a small payload, queues round-robin."""
    out = []
    for i in range(n):
        body = {
            "type": "bench-fail" if (i // len(DEFAULT_QUEUES)) % FAIL_EVERY == 0 else "bench-noop",
            "payload": {"userId": f"user-{i % 5000}", "channel": "email", "n": i},
            "options": {"queue": DEFAULT_QUEUES[i % len(DEFAULT_QUEUES)]},
        }
        out.append(build_spec(JobRequest.model_validate(body), settings))
    return out


async def finished(redis: Redis) -> int:
    """Completed + failed jobs so far, from the monotonic per-queue counters (retention-proof)."""
    pipe = redis.pipeline(transaction=False)
    for queue in DEFAULT_QUEUES:
        pipe.hmget(f"{PREFIX}:q:{queue}:stats", "completed", "failed")
    return sum(int(v or 0) for row in await pipe.execute() for v in row)


async def used_memory(redis: Redis) -> int:
    return int((await redis.info("memory"))["used_memory"])


async def produce(store: JobStore, specs: list[dict[str, Any]]) -> int:
    """Enqueues every bulk, waiting while the target queue is full; returns how often it had to wait."""
    refused = 0
    for start in range(0, len(specs), BULK):
        while True:
            try:
                await store.enqueue(specs[start : start + BULK])
                break
            except QueueFull:
                refused += 1
                await asyncio.sleep(0.02)
    return refused


async def follow(redis: Redis, n: int, workers: list[Service]) -> list[tuple[int, int]]:
    """Samples (finished jobs, used_memory) every SAMPLE_EVERY jobs until all n are finished."""
    samples, next_mark = [], SAMPLE_EVERY
    while (done := await finished(redis)) < n:
        if any(w.proc.poll() is not None for w in workers):
            raise RuntimeError("a worker exited:\n" + "".join(workers[0].raw[-20:]))
        if done >= next_mark:
            samples.append((done, await used_memory(redis)))
            next_mark += SAMPLE_EVERY
        await asyncio.sleep(0.05)
    samples.append((n, await used_memory(redis)))
    return samples


def category(key: str) -> str:
    rest = key[len(PREFIX) + 1 :]
    if rest.startswith("job:"):
        return "job records (hash, logs, errors)"
    if rest.startswith("q:"):
        name = rest.split(":")[2]
        return {
            "events": "event streams",
            "completed": "completed sets",
            "failed": "failed sets",
            "type": "type indexes",
        }.get(name, "other queue keys (stats, minute buckets, ready, seq …)")
    return "other"


async def report(redis: Redis, n: int, elapsed: float, refused: int, samples: list[tuple[int, int]]) -> None:
    memory = await redis.info("memory")
    keys = [key async for key in redis.scan_iter(count=1000)]
    pipe = redis.pipeline(transaction=False)
    for key in keys:
        pipe.memory_usage(key, samples=0)
    sizes = dict(zip(keys, [int(s or 0) for s in await pipe.execute()], strict=True))
    by_category: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    for key, size in sizes.items():
        by_category[category(key)] += size
        counts[category(key)] += 1
    print(
        f"{n:,} jobs through {len(DEFAULT_QUEUES)} queues in {elapsed:.1f} s ({n / elapsed:,.0f} jobs/s); ",
        end="",
    )
    print(f"producer waited on a full queue {refused:,} times")
    print("used_memory while running: " + "  ".join(f"{d // 1000}k: {m / 2**20:.1f} MiB" for d, m in samples))
    print(
        f"used_memory at the end: {memory['used_memory']:,} bytes ({memory['used_memory_human']}); "
        f"dataset {memory.get('used_memory_dataset', 0):,} bytes; peak {memory['used_memory_peak_human']}"
    )
    print(f"keys: {await redis.dbsize():,}")
    for name, size in by_category.most_common():
        print(f"  {name:<58} {counts[name]:>7,} keys {size / 2**20:>8.2f} MiB")
    print("biggest structures:")
    for key, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {key:<40} {await _length(redis, key):>8,} entries {size / 2**20:>8.2f} MiB")


async def _length(redis: Redis, key: str) -> int:
    kind = await redis.type(key)
    length = {
        "stream": redis.xlen,
        "zset": redis.zcard,
        "hash": redis.hlen,
        "list": redis.llen,
        "set": redis.scard,
    }
    return int(await length[kind](key)) if kind in length else 1  # type: ignore[operator]


async def run(url: str, n: int, worker_count: int) -> None:
    settings = CoreSettings(redis_url=url, key_prefix=PREFIX)  # every other setting at its default
    redis = Redis.from_url(url, decode_responses=True)
    store = JobStore(redis, settings)
    specs = make_specs(settings, n)
    workers = [Service("jobs-worker", worker_env(url), f"worker-{i}") for i in range(worker_count)]
    try:
        for worker in workers:
            worker.wait_for("service_ready", timeout=30)
        print(f"Redis {url} (AOF everysec, noeviction); {os.cpu_count()} cores; {worker_count} workers × 50")
        print(f"empty: used_memory {await used_memory(redis) / 2**20:.1f} MiB")
        started = time.perf_counter()
        producer = asyncio.create_task(produce(store, specs))
        samples = await follow(redis, n, workers)
        refused = await producer
        await report(redis, n, time.perf_counter() - started, refused, samples)
    finally:
        for worker in workers:
            worker.stop()
        await redis.aclose()


def main() -> None:
    n = int(os.environ.get("BENCH_MEMORY_JOBS", "200000"))
    worker_count = int(os.environ.get("BENCH_MEMORY_WORKERS", "2"))
    with tempfile.TemporaryDirectory() as folder:
        server = RedisServer(Path(folder))
        server.start()
        try:
            asyncio.run(run(server.url, n, worker_count))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
