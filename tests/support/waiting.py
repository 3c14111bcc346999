"""Waiting on job state changes through the event streams (XREAD BLOCK), not by sleeping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from redis.asyncio import Redis

QUEUES = ("default", "high-priority", "low-priority", "scheduled")


async def wait_state(
    redis: Redis, prefix: str, job_id: str, states: Iterable[str], timeout: float = 15.0
) -> dict[str, str]:
    """Blocks until the job's registry status is one of ``states``; returns the record."""
    wanted = set(states)
    streams = {f"{prefix}:q:{q}:events": "$" for q in QUEUES}
    deadline = time.monotonic() + timeout
    while True:
        record = await redis.hgetall(f"{prefix}:job:{job_id}")
        if record.get("status") in wanted:
            return record
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"job {job_id} still {record.get('status')!r}, wanted {sorted(wanted)}")
        replies = await redis.xread(streams, block=int(min(remaining, 0.5) * 1000) or 1)
        for stream, entries in replies or []:
            streams[stream] = entries[-1][0]


async def wait_all(
    redis: Redis, prefix: str, job_ids: Iterable[str], states: Iterable[str], timeout: float = 30.0
) -> list[dict[str, str]]:
    deadline = time.monotonic() + timeout
    out = []
    for job_id in job_ids:
        out.append(await wait_state(redis, prefix, job_id, states, max(deadline - time.monotonic(), 0.1)))
    return out


async def wait_step(redis: Redis, key: str, step: str = "start", timeout: float = 10.0) -> str:
    """Blocks until a test processor reports ``step`` (see test_processors._record); returns the job id."""
    reply = await redis.blpop([f"{key}:{step}"], timeout=timeout)
    if reply is None:
        raise TimeoutError(f"no {step!r} reported under {key}")
    return str(reply[1])


async def wait_until(check: Callable[[], Awaitable[Any]], timeout: float, what: str) -> Any:
    """Asks ``check`` until it returns something truthy; the deadline makes the test fail, not hang.
    For states no event announces (HTTP probes, counters): short polls with a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)
