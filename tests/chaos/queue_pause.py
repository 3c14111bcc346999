"""The pause fault: pause ``default`` through the api, hold it, resume, then prove from the queue's event
stream that no job of it started in between.

The pause and resume scripts write their own queue events (job '', to ``paused`` / ``running``) in the
same atomic step that sets or clears the flag, and every start of a try is a ``to=active`` event of the
same stream; so "no ``active`` event between the two" is exactly "no claim while paused".
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis

from chaos.events import EventFollower
from chaos.load import RETRYABLE, ApiPool, LoadError
from chaos.probe import KEYS

if TYPE_CHECKING:
    from chaos.faults import FaultRecord

QUEUE = "default"


async def _post(pool: ApiPool, path: str) -> dict[str, Any]:
    delay = 0.05
    while True:
        try:
            status, answer, _ = await pool.call("POST", path)
        except RETRYABLE:
            status, answer = 0, None
        if status == 200:
            return dict(answer)
        if status not in (0, 503):
            raise LoadError(f"POST {path} answered {status}: {answer}")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)


async def pause_and_resume(
    pool: ApiPool, redis: Redis, follower: EventFollower, hold_s: float, record: FaultRecord
) -> None:
    stream = KEYS.events(QUEUE)
    last = await redis.xrevrange(stream, count=1)
    since = last[0][0] if last else "0-0"
    await _post(pool, f"/queues/{QUEUE}/pause")
    record.at = time.time()
    await asyncio.sleep(hold_s)  # the fault's duration: time-driven on purpose
    status, view, _ = await pool.call("GET", f"/queues/{QUEUE}")
    if status != 200 or view.get("isPaused") is not True:
        record.violations.append(f"GET /queues/{QUEUE} while paused answered {status}: {view}")
    waiting = int(view["counts"]["waiting"]) if status == 200 else 0
    await _post(pool, f"/queues/{QUEUE}/resume")
    resumed = time.time()
    started_while_paused, resume_id = await _claims_while_paused(redis, stream, since)
    if started_while_paused:
        record.violations.append(f"{len(started_while_paused)} job(s) of {QUEUE} started while paused: "
                                 f"{started_while_paused[:5]}")  # fmt: skip
    record.notes["waiting at resume"] = waiting
    if waiting:
        await follower.wait_until(
            lambda: _first_start_after(redis, stream, resume_id), 60, f"a job of {QUEUE} to start"
        )
    record.recovery_s = time.time() - resumed


async def _claims_while_paused(redis: Redis, stream: str, since: str) -> tuple[list[str], str]:
    """Ids of jobs that went active between the pause and the resume event; and the resume event's id."""
    paused, started = False, []
    cursor = "(" + since
    while True:
        entries = await redis.xrange(stream, min=cursor, count=1000)
        if not entries:
            raise AssertionError(f"no pause/resume events of {QUEUE} found after {since}")
        for entry_id, fields in entries:
            if fields.get("job") == "" and fields.get("to") == "paused":
                paused = True
            elif fields.get("job") == "" and fields.get("to") == "running" and paused:
                return started, entry_id
            elif paused and fields.get("to") == "active":
                started.append(fields["job"])
        cursor = "(" + entries[-1][0]


async def _first_start_after(redis: Redis, stream: str, resume_id: str) -> bool:
    entries = await redis.xrange(stream, min="(" + resume_id, count=5000)
    return any(fields.get("to") == "active" for _, fields in entries)
