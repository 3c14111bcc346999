"""Scale-out and memory figures of `make bench`, and the plot of docs/performance.md.

Scale-out: aggregate throughput of 1, 2 and 4 worker processes (concurrency 50 each) over no-op jobs,
and of POST /schedule over 50 connections with 1 and 2 api processes (JOBS_API_PROCESSES), with the
Redis CPU share during each run and its commands per job: where Redis saturates (one core) is where
adding processes stops paying. Memory: Redis bytes per waiting job and per retained completed job, and
a worker's RSS while it runs 50 and 500 jobs at once. The PNG goes to BENCH_PLOT (default
docs/performance.png). A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bench import measure
from jobs_core.queues import QueueAdmin
from jobs_core.settings import CoreSettings
from jobs_core.store import JobStore
from support.processes import Service

ROOT = Path(__file__).resolve().parent.parent
Figures = dict[str, Any]


async def workers(url: str, n: int) -> list[Figures]:
    rows = []
    for count in (1, 2, 4):
        tp = await measure.drain(url, n, workers=count)
        rows.append({"processes": count, **tp})
        print(
            f"(f) {count} worker process(es): {tp['jobs_per_s']:,.0f} jobs/s   "
            f"Redis CPU {tp['redis_busy']:.0%} of a core   {tp['commands']:.1f} cmds/job = "
            f"{tp['commands'] * tp['jobs_per_s']:,.0f} cmds/s"
        )
    return rows


async def apis(url: str) -> list[Figures]:
    rows = []
    redis = Redis.from_url(url, decode_responses=True)
    for count in (1, 2):
        api, base = measure.start_api(url, f"bench-api-{count}", processes=count)
        rcpu0 = await measure.redis_cpu(redis)
        started = asyncio.get_running_loop().time()
        rate = await measure.post_many(base, 5000, 50)
        busy = (await measure.redis_cpu(redis) - rcpu0) / (asyncio.get_running_loop().time() - started)
        api.stop()
        rows.append({"processes": count, "jobs_per_s": rate, "redis_busy": busy})
        print(
            f"(f) {count} api process(es), 50 connections: {rate:,.0f} jobs/s   "
            f"Redis CPU {busy:.0%} of a core"
        )
    await redis.aclose()
    return rows


async def bytes_per_job(url: str, n: int) -> Figures:
    """Redis memory per waiting job (enqueued into a paused queue) and per retained completed job."""
    prefix = f"bench-mem-{random.randrange(10**6)}"
    settings = CoreSettings(redis_url=url, key_prefix=prefix, max_jobs_per_queue=10**8)
    redis = Redis.from_url(url, decode_responses=True)
    store, admin = JobStore(redis, settings), QueueAdmin(JobStore(redis, settings))
    await admin.pause("default")
    before = await _used(redis)
    specs = measure.specs(settings, n)
    for i in range(0, n, 1000):
        await store.enqueue(specs[i : i + 1000])
    waiting = (await _used(redis) - before) / n
    extra = {"JOBS_CONCURRENCY": "50", "JOBS_KEEP_COMPLETED": str(n), "JOBS_WORKER_QUEUES": "default"}
    worker = Service("jobs-worker", measure.env(url, prefix, **extra), "w")
    worker.wait_for("service_ready")
    await admin.resume("default")
    while int(await redis.hget(store.keys.stats("default"), "completed") or 0) < n:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    worker.stop()
    completed = (await _used(redis) - before) / n
    await redis.aclose()
    print(f"(g) Redis memory per job: waiting {waiting:,.0f} B   completed and retained {completed:,.0f} B")
    return {"waiting": waiting, "completed": completed}


async def _used(redis: Redis) -> int:
    return int((await redis.info("memory"))["used_memory"])


async def worker_rss(url: str) -> dict[int, float]:
    """RSS of one worker while it holds `concurrency` sleeping jobs at once."""
    out: dict[int, float] = {}
    for concurrency in (50, 500):
        prefix = f"bench-rss-{concurrency}"
        settings = CoreSettings(redis_url=url, key_prefix=prefix, max_jobs_per_queue=10**8)
        redis = Redis.from_url(url, decode_responses=True)
        store = JobStore(redis, settings)
        extra = {"JOBS_CONCURRENCY": str(concurrency), "JOBS_MAX_JOBS_PER_WORKER": str(concurrency)}
        worker = Service("jobs-worker", measure.env(url, prefix, **extra), "w")
        worker.wait_for("service_ready")
        specs = measure.specs(settings, concurrency, "bench-sleep")
        for spec in specs:
            spec["payload"] = '{"ms": 1500}'
        await store.enqueue(specs)
        active = store.keys.state("default", "active")
        while await redis.zcard(active) < concurrency:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        out[concurrency] = _rss_mib(worker.proc.pid)
        worker.stop()
        await redis.aclose()
    print(f"(g) worker RSS: {out[50]:.1f} MiB running 50 jobs at once, {out[500]:.1f} MiB running 500")
    return out


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def plot(worker_rows: list[Figures], api_rows: list[Figures], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, rows, title in ((left, worker_rows, "worker processes"), (right, api_rows, "api processes")):
        xs = [str(r["processes"]) for r in rows]
        ax.bar(xs, [r["jobs_per_s"] for r in rows], color="#4c78a8")
        ax.set_title(f"Throughput by {title}")
        ax.set_xlabel(title)
        ax.set_ylabel("jobs/s")
        busy = ax.twinx()
        busy.plot(xs, [100 * r["redis_busy"] for r in rows], color="#e45756", marker="o")
        busy.set_ylim(0, 110)
        busy.set_ylabel("Redis CPU, % of one core", color="#e45756")
    fig.suptitle(f"nChat Jobs on {os.cpu_count()} cores (no-op jobs; Redis, workers and apis share them)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    print(f"(f) plot written to {path}")


async def run_all(url: str, n: int) -> None:
    worker_rows = await workers(url, n)
    api_rows = await apis(url)
    await bytes_per_job(url, 10_000)
    await worker_rss(url)
    plot(worker_rows, api_rows, Path(os.environ.get("BENCH_PLOT", ROOT / "docs" / "performance.png")))
