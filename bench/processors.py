"""Processors for `make bench`: a no-op, and one that reports when it started (for latency)."""

from __future__ import annotations

import os
import time
from typing import Any

from redis.asyncio import Redis

from jobs_worker import Job, register_job_processor

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
