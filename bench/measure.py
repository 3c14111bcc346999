"""The measurements behind `make bench` (see bench/__main__.py)."""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
from typing import Any

import aiohttp
from redis.asyncio import Redis

from jobs_core.model import JobRequest, build_spec
from jobs_core.queues import QueueAdmin
from jobs_core.settings import CoreSettings
from jobs_core.store import JobStore
from support.processes import Service
from support.redis_server import free_port

TICK = os.sysconf("SC_CLK_TCK")


def env(url: str, prefix: str, **extra: str) -> dict[str, str]:
    return {
        "JOBS_REDIS_URL": url,
        "JOBS_KEY_PREFIX": prefix,
        "JOBS_LOG_LEVEL": "info",
        "JOBS_LOG_COMPLETED": "false",
        "JOBS_LOG_FORMAT": "json",
        "JOBS_PROCESSOR_MODULES": "bench.processors",
        "JOBS_PROBE_PORT": "-1",
        "JOBS_MAX_JOBS_PER_QUEUE": "10000000",
        "PYTHONPATH": str(os.getcwd()),
        **extra,
    }


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def specs(
    settings: CoreSettings, n: int, job_type: str = "bench-noop", **options: Any
) -> list[dict[str, Any]]:
    request = JobRequest.model_validate({"type": job_type, "options": {"queue": "default", **options}})
    return [build_spec(request, settings) for _ in range(n)]


async def commands(redis: Redis) -> int:
    return int((await redis.info("stats"))["total_commands_processed"])


async def redis_cpu(redis: Redis) -> float:
    info = await redis.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def enqueue_core(url: str, n: int) -> None:
    settings = CoreSettings(redis_url=url, key_prefix="bench-enq", max_jobs_per_queue=10**8)
    redis = Redis.from_url(url, decode_responses=True)
    store = JobStore(redis, settings)
    batch = specs(settings, min(n, 5000))
    started = time.perf_counter()
    for spec in batch[:2000]:
        await store.enqueue([spec])
    single = 2000 / (time.perf_counter() - started)
    started = time.perf_counter()
    await asyncio.gather(*(store.enqueue([s]) for s in batch[2000:4000]))
    concurrent = 2000 / (time.perf_counter() - started)
    bulk_specs = specs(settings, n)
    started = time.perf_counter()
    for i in range(0, n, 1000):
        await store.enqueue(bulk_specs[i : i + 1000])
    bulk = n / (time.perf_counter() - started)
    print(
        f"(a) enqueue via core:  sequential {single:,.0f}/s   100-way concurrent {concurrent:,.0f}/s   "
        f"bulk of 1000 {bulk:,.0f}/s"
    )
    await redis.aclose()


async def enqueue_http(url: str, n: int) -> None:
    port = free_port()
    api = Service("jobs-api", env(url, "bench-http", JOBS_PORT=str(port)), "api")
    api.wait_for("service_ready")
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        body = {"type": "bench-noop", "options": {"queue": "default"}}
        started = time.perf_counter()
        for _ in range(1000):
            async with http.post(base + "/schedule", json=body) as r:
                await r.read()
        single = 1000 / (time.perf_counter() - started)
        sem = asyncio.Semaphore(50)

        async def one() -> None:
            async with sem, http.post(base + "/schedule", json=body) as r:
                await r.read()

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(3000)))
        concurrent = 3000 / (time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(n // 1000):
            async with http.post(base + "/schedule/bulk", json={"jobs": [body] * 1000}) as r:
                await r.read()
        bulk = (n // 1000) * 1000 / (time.perf_counter() - started)
    api.stop()
    print(
        f"(a) enqueue via HTTP:  sequential {single:,.0f}/s   50 connections {concurrent:,.0f}/s   "
        f"bulk of 1000 {bulk:,.0f}/s"
    )


async def throughput(url: str, n: int) -> None:
    prefix = f"bench-tp-{random.randrange(10**6)}"
    settings = CoreSettings(redis_url=url, key_prefix=prefix, max_jobs_per_queue=10**8)
    redis = Redis.from_url(url, decode_responses=True)
    store = JobStore(redis, settings)
    admin = QueueAdmin(store)
    await admin.pause("default")
    all_specs = specs(settings, n)
    for i in range(0, n, 1000):
        await store.enqueue(all_specs[i : i + 1000])
    worker = Service(
        "jobs-worker", env(url, prefix, JOBS_CONCURRENCY="50", JOBS_WORKER_QUEUES="default"), "w"
    )
    worker.wait_for("service_ready")
    cpu0, cmd0, rcpu0 = cpu_seconds(worker.proc.pid), await commands(redis), await redis_cpu(redis)
    started = time.perf_counter()
    await admin.resume("default")
    # Retention keeps only the newest completed jobs, so count with the monotonic counter.
    # Polled every 2 ms (cheap) rather than read from the event stream, which would add its own load.
    while int(await redis.hget(store.keys.stats("default"), "completed") or 0) < n:  # noqa: ASYNC110
        await asyncio.sleep(0.002)
    elapsed = time.perf_counter() - started
    cpu1, cmd1, rcpu1 = cpu_seconds(worker.proc.pid), await commands(redis), await redis_cpu(redis)
    worker.stop()
    print(f"(b) one worker, concurrency 50, {n:,} no-op jobs: {n / elapsed:,.0f} jobs/s ({elapsed:.2f} s)")
    print(
        f"(e) per job: {(cmd1 - cmd0) / n:.1f} Redis commands (incl. inside Lua), "
        f"worker CPU {(cpu1 - cpu0) / n * 1e6:.0f} us, Redis CPU {(rcpu1 - rcpu0) / n * 1e6:.0f} us"
    )
    await redis.aclose()


async def latency(url: str, delayed: bool) -> None:
    prefix = "bench-lat-d" if delayed else "bench-lat"
    settings = CoreSettings(redis_url=url, key_prefix=prefix)
    redis = Redis.from_url(url, decode_responses=True)
    store = JobStore(redis, settings)
    worker = Service("jobs-worker", env(url, prefix, JOBS_CONCURRENCY="50"), "w")
    worker.wait_for("service_ready")
    rng, key, samples = random.Random(7), f"{prefix}:started", []
    for i in range(305):
        await asyncio.sleep(rng.uniform(0, 0.02))
        delay = rng.randint(20, 120) if delayed else 0
        [spec] = specs(settings, 1, "bench-started", delay=delay)
        spec["payload"] = f'{{"key": "{key}"}}'
        sent = time.time() * 1000
        [made] = await store.enqueue([spec])
        _, value = await redis.blpop([key], timeout=5)  # type: ignore[misc]
        started_ms = float(value.split()[1])
        reference = made.run_at_ms if delayed else sent
        if i >= 5:
            samples.append(started_ms - reference)
    worker.stop()
    label = (
        "(d) delayed-job lateness (start - runAt)" if delayed else "(c) enqueue-to-start latency, idle worker"
    )
    print(
        f"{label}: p50 {statistics.median(samples):.2f} ms   p99 {pct(samples, 0.99):.2f} ms   "
        f"max {max(samples):.2f} ms  ({len(samples)} jobs)"
    )
    await redis.aclose()


async def run_all(url: str, n: int) -> None:
    print(f"Redis {url} (AOF everysec, noeviction); {os.cpu_count()} cores; N={n:,}")
    await enqueue_core(url, n)
    await enqueue_http(url, n)
    await throughput(url, n)
    await latency(url, delayed=False)
    await latency(url, delayed=True)
