"""Helpers of the queue-control tests: reading what test processors recorded, reading a queue's event
stream, and bulk requests. Each helper reads Redis or the API once; none of them waits by sleeping.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

PRIORITY_RANK = {"critical": 0, "high": 1, "normal": 2, "low": 3}


@dataclass(frozen=True)
class Step:
    """One line a test processor wrote: ``id|start|ms|attempt`` (see support/test_processors.py)."""

    job_id: str
    what: str
    at_ms: float
    attempt: int


async def steps(redis: Redis, key: str) -> list[Step]:
    out = []
    for entry in await redis.lrange(key, 0, -1):  # type: ignore[misc]
        job_id, what, at, attempt = entry.split("|")
        out.append(Step(job_id, what, float(at), int(attempt)))
    return out


def starts(trace: list[Step]) -> dict[str, list[float]]:
    """Start times of each job, in the order they happened."""
    out: dict[str, list[float]] = {}
    for step in trace:
        if step.what == "start":
            out.setdefault(step.job_id, []).append(step.at_ms)
    return out


def ends(trace: list[Step]) -> dict[str, float]:
    return {step.job_id: step.at_ms for step in trace if step.what == "end"}


async def events(redis: Redis, prefix: str, queue: str) -> list[dict[str, str]]:
    """Every entry of the queue's event stream, oldest first, with its stream id as ``id``."""
    entries = await redis.xrange(f"{prefix}:q:{queue}:events", "-", "+")
    return [{"id": entry_id, **fields} for entry_id, fields in entries]


def transition_at(entries: list[dict[str, str]], job_id: str, to: str) -> int:
    """Redis time (ms) of the job's first transition into ``to``."""
    for entry in entries:
        if entry["job"] == job_id and entry["to"] == to:
            return int(entry["at"])
    raise AssertionError(f"no {to!r} event for {job_id}")


async def bulk(api: Any, jobs: list[dict[str, Any]]) -> tuple[int, Any, dict[str, str]]:
    result: tuple[int, Any, dict[str, str]] = await api.call("POST", "/schedule/bulk", json={"jobs": jobs})
    return result


async def job_keys(redis: Redis, prefix: str) -> list[str]:
    """Keys of stored job records (the hashes; a job's logs, errors and dependency sets are not counted)."""
    return [key async for key in redis.scan_iter(f"{prefix}:job:*", _type="hash")]


async def wait_counter(
    redis: Redis, prefix: str, queue: str, field: str, n: int, *, timeout: float = 30.0
) -> None:
    """Blocks until the queue's monotonic counter ``field`` (completed, failed …) reaches ``n``; wakes on
    the queue's events rather than polling, since retention may already have deleted the jobs."""
    stream, cursor = f"{prefix}:q:{queue}:events", "$"
    deadline = time.monotonic() + timeout
    while int(await redis.hget(f"{prefix}:q:{queue}:stats", field) or 0) < n:  # type: ignore[misc]
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"{queue} {field} did not reach {n}")
        for _, entries in await redis.xread({stream: cursor}, block=int(min(remaining, 0.5) * 1000) or 1):
            cursor = entries[-1][0]
