"""Processors the tests run in real worker processes (loaded via JOBS_PROCESSOR_MODULES).

They record what happened in Redis (lists under the job's payload ``key``), so tests can check order,
counts and timing from outside the worker.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from redis.asyncio import Redis

from jobs_worker import Job, UnrecoverableError, register_job_processor

_client: Redis | None = None


def redis() -> Redis:
    global _client
    if _client is None:
        _client = Redis.from_url(os.environ["JOBS_REDIS_URL"], decode_responses=True)
    return _client


async def _record(job: Job, what: str) -> None:
    key = job.payload.get("key")
    if key:
        pipe = redis().pipeline(transaction=True)
        pipe.rpush(key, f"{job.id}|{what}|{time.time() * 1000:.3f}|{job.attempt}")
        pipe.rpush(f"{key}:{what}", job.id)  # tests BLPOP this to wait for the step
        await pipe.execute()


@register_job_processor("noop")
async def noop(job: Job) -> dict[str, Any]:
    return {"ok": True}


@register_job_processor("echo")
async def echo(job: Job) -> Any:
    await _record(job, "start")
    return job.payload.get("value", job.payload)


@register_job_processor("sleep")
async def sleep(job: Job) -> dict[str, Any]:
    await _record(job, "start")
    steps = int(job.payload.get("steps", 0))
    total = float(job.payload.get("ms", 100)) / 1000
    if steps:
        for i in range(steps):
            await asyncio.sleep(total / steps)
            await job.update_progress(round(100 * (i + 1) / steps))
    else:
        await asyncio.sleep(total)
    await _record(job, "end")
    return {"slept": total}


@register_job_processor("fail")
async def fail(job: Job) -> None:
    await _record(job, "start")
    if job.attempt <= int(job.payload.get("times", 1_000_000)):
        raise ValueError(job.payload.get("message", "boom"))


@register_job_processor("unrecoverable")
async def unrecoverable(job: Job) -> None:
    await _record(job, "start")
    raise UnrecoverableError("cannot ever work")


@register_job_processor("logger")
async def logger(job: Job) -> str:
    for i in range(int(job.payload.get("lines", 3))):
        await job.log(f"line {i}", index=i)
    return "logged"


@register_job_processor("block-loop")
async def block_loop(job: Job) -> None:
    time.sleep(float(job.payload.get("seconds", 5)))  # noqa: ASYNC251 - blocks the loop on purpose


@register_job_processor("sync-add")
def sync_add(job: Job) -> int:
    return int(job.payload["a"]) + int(job.payload["b"])


@register_job_processor("bad-result")
async def bad_result(job: Job) -> Any:
    return {1, 2}


@register_job_processor("fail-once")
async def fail_once(job: Job) -> str:
    """Fails the first time it ever runs for this payload key, then succeeds (survives API retries)."""
    await _record(job, "start")
    if await redis().set(f"{job.payload['key']}:failed-once", 1, nx=True):
        raise ValueError("first run fails")
    return "second run works"


@register_job_processor("log-fail-once")
async def log_fail_once(job: Job) -> str:
    """Logs a line on every try and fails the first one: logs of all tries stay with the job."""
    await job.log(f"try {job.attempt}")
    if job.attempt == 1:
        raise ValueError("first try fails")
    return "logged twice"


@register_job_processor("big-log")
async def big_log(job: Job) -> str:
    """One log line far over the per-line limit (multi-byte characters), then a normal one."""
    await job.log("x" + "é" * 10_000, detail="y" * 100)
    await job.log("small", n=1)
    return "done"


@register_job_processor("huge-error")
async def huge_error(job: Job) -> None:
    """Fails with a message of about 100 kB (multi-byte characters), like an HTTP body in an error."""
    raise UnrecoverableError("é" * 50_000)
