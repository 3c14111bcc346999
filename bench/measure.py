"""The measurements behind `make bench` (see bench/__main__.py). Each prints its line and returns its
figures, so that the run ends with one table beside BullMQ for Node."""

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
Figures = dict[str, float]


def env(url: str, prefix: str, **extra: str) -> dict[str, str]:
    return {
        "JOBS_REDIS_URL": url,
        "JOBS_KEY_PREFIX": prefix,
        "JOBS_LOG_LEVEL": "info",
        "JOBS_LOG_COMPLETED": "false",
        "JOBS_LOG_FORMAT": "json",
        "JOBS_PROCESSOR_MODULES": "bench.processors",
        "JOBS_BUILTIN_PROCESSORS": "false",
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


async def enqueue_core(url: str, n: int) -> Figures:
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
    return {"sequential": single, "concurrent": concurrent, "bulk": bulk}


def start_api(url: str, prefix: str, processes: int = 1) -> tuple[Service, str]:
    port = free_port()
    extra = {"JOBS_PORT": str(port), "JOBS_API_PROCESSES": str(processes)}
    api = Service("jobs-api", env(url, prefix, **extra), "api")
    for _ in range(processes):
        api.wait_for("service_ready")
    return api, f"http://127.0.0.1:{port}"


async def post_many(base: str, total: int, connections: int) -> float:
    """POST /schedule `total` times over `connections` concurrent connections; jobs/s."""
    body = {"type": "bench-noop", "options": {"queue": "default"}}
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as http:
        left = total

        async def client() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                async with http.post(base + "/schedule", json=body) as r:
                    await r.read()

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(connections)))
        return total / (time.perf_counter() - started)


async def enqueue_http(url: str, n: int) -> Figures:
    api, base = start_api(url, "bench-http")
    single = await post_many(base, 1000, 1)
    concurrent = await post_many(base, 3000, 50)
    body = {"type": "bench-noop", "options": {"queue": "default"}}
    async with aiohttp.ClientSession() as http:
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
    return {"sequential": single, "concurrent": concurrent, "bulk": bulk}


async def drain(url: str, n: int, workers: int = 1, concurrency: int = 50) -> Figures:
    """n no-op jobs in a paused queue, `workers` processes started, queue resumed: the time to finish."""
    prefix = f"bench-tp-{random.randrange(10**6)}"
    settings = CoreSettings(redis_url=url, key_prefix=prefix, max_jobs_per_queue=10**8)
    redis = Redis.from_url(url, decode_responses=True)
    store = JobStore(redis, settings)
    admin = QueueAdmin(store)
    await admin.pause("default")
    all_specs = specs(settings, n)
    for i in range(0, n, 1000):
        await store.enqueue(all_specs[i : i + 1000])
    extra = {"JOBS_CONCURRENCY": str(concurrency), "JOBS_WORKER_QUEUES": "default"}
    fleet = [Service("jobs-worker", env(url, prefix, **extra), f"w{i}") for i in range(workers)]
    for worker in fleet:
        worker.wait_for("service_ready")
    cpu0, cmd0, rcpu0 = (
        sum(cpu_seconds(w.proc.pid) for w in fleet),
        await commands(redis),
        await redis_cpu(redis),
    )
    started = time.perf_counter()
    await admin.resume("default")
    # Retention keeps only the newest completed jobs, so count with the monotonic counter.
    # Polled every 2 ms (cheap) rather than read from the event stream, which would add its own load.
    while int(await redis.hget(store.keys.stats("default"), "completed") or 0) < n:  # noqa: ASYNC110
        await asyncio.sleep(0.002)
    elapsed = time.perf_counter() - started
    cpu1 = sum(cpu_seconds(w.proc.pid) for w in fleet)
    cmd1, rcpu1 = await commands(redis), await redis_cpu(redis)
    for worker in fleet:
        worker.stop()
    await redis.delete(*[key async for key in redis.scan_iter(f"{prefix}:*", count=10_000)])
    await redis.aclose()
    return {
        "jobs_per_s": n / elapsed,
        "seconds": elapsed,
        "commands": (cmd1 - cmd0) / n,
        "worker_cpu_us": (cpu1 - cpu0) / n * 1e6,
        "redis_cpu_us": (rcpu1 - rcpu0) / n * 1e6,
        "redis_busy": (rcpu1 - rcpu0) / elapsed,
    }


async def throughput(url: str, n: int) -> Figures:
    tp = await drain(url, n)
    print(
        f"(b) one worker, concurrency 50, {n:,} no-op jobs: "
        f"{tp['jobs_per_s']:,.0f} jobs/s ({tp['seconds']:.2f} s)"
    )
    print(
        f"(e) per job: {tp['commands']:.1f} Redis commands (incl. inside Lua), "
        f"worker CPU {tp['worker_cpu_us']:.0f} us, Redis CPU {tp['redis_cpu_us']:.0f} us"
    )
    return tp


async def _sample_starts(redis: Redis, key: str, send: Any, delayed: bool) -> list[float]:
    """305 jobs one at a time after a random 0-20 ms gap; start minus send (or runAt) of the last 300."""
    rng, samples = random.Random(7), []
    for i in range(305):
        await asyncio.sleep(rng.uniform(0, 0.02))
        delay = rng.randint(20, 120) if delayed else 0
        sent = time.time() * 1000
        run_at = await send(delay)
        _, value = await redis.blpop([key], timeout=5)  # type: ignore[misc]
        if i >= 5:
            samples.append(float(value.split()[1]) - (run_at if delayed else sent))
    return samples


def _latency_line(label: str, samples: list[float]) -> Figures:
    p50, p99 = statistics.median(samples), pct(samples, 0.99)
    print(f"{label}: p50 {p50:.2f} ms   p99 {p99:.2f} ms   max {max(samples):.2f} ms  ({len(samples)} jobs)")
    return {"p50": p50, "p99": p99, "max": max(samples)}


async def latency(url: str, delayed: bool) -> Figures:
    prefix = "bench-lat-d" if delayed else "bench-lat"
    settings = CoreSettings(redis_url=url, key_prefix=prefix)
    redis = Redis.from_url(url, decode_responses=True)
    store = JobStore(redis, settings)
    worker = Service("jobs-worker", env(url, prefix, JOBS_CONCURRENCY="50"), "w")
    worker.wait_for("service_ready")
    key = f"{prefix}:started"

    async def send(delay: int) -> int:
        [spec] = specs(settings, 1, "bench-started", delay=delay)
        spec["payload"] = f'{{"key": "{key}"}}'
        [made] = await store.enqueue([spec])
        return made.run_at_ms

    samples = await _sample_starts(redis, key, send, delayed)
    worker.stop()
    await redis.aclose()
    label = (
        "(d) delayed-job lateness (start - runAt)" if delayed else "(c) enqueue-to-start latency, idle worker"
    )
    return _latency_line(label, samples)


async def latency_http(url: str) -> Figures:
    """As (c), with the job sent by POST /schedule: what a client of the gateway sees."""
    prefix = "bench-lat-http"
    redis = Redis.from_url(url, decode_responses=True)
    worker = Service("jobs-worker", env(url, prefix, JOBS_CONCURRENCY="50"), "w")
    api, base = start_api(url, prefix)
    worker.wait_for("service_ready")
    key = f"{prefix}:started"
    body = {"type": "bench-started", "payload": {"key": key}, "options": {"queue": "default"}}
    async with aiohttp.ClientSession() as http:

        async def send(delay: int) -> int:
            async with http.post(base + "/schedule", json=body) as r:
                await r.read()
            return 0

        samples = await _sample_starts(redis, key, send, False)
    api.stop()
    worker.stop()
    await redis.aclose()
    return _latency_line("(c) enqueue-to-start latency through HTTP, idle worker", samples)
