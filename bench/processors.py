"""Processors for `make bench`: a no-op, one that reports when it started (for latency), one that fails
at once (bench.memory) and one that sleeps (bench.scaleout)."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from redis.asyncio import Redis

from jobs_worker import Job, UnrecoverableError, register_job_processor

_client: Redis | None = None


@register_job_processor("bench-noop")
async def noop(job: Job) -> None:
    return None


@register_job_processor("bench-started")
async def started(job: Job) -> Any:
    global _client
    if _client is None:
        _client = Redis.from_url(os.environ["JOBS_REDIS_URL"], decode_responses=True)
    await _client.rpush(job.payload["key"], f"{job.id} {time.time() * 1000:.3f}")
    return None


@register_job_processor("bench-fail")
async def fail(job: Job) -> None:
    """Fails at once, without retries (bench.memory: failed jobs are kept by their own limits)."""
    raise UnrecoverableError("bench failure")


@register_job_processor("bench-sleep")
async def sleep(job: Job) -> None:
    """Holds its slot for payload.ms (bench.scaleout: the worker's memory with many jobs at once)."""
    await asyncio.sleep(float(job.payload.get("ms", 1000)) / 1000)
