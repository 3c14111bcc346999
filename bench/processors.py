"""Processors for `make bench`: a no-op, one that reports when it started (for latency), and one that
fails at once (bench.memory)."""

from __future__ import annotations

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
