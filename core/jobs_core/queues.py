"""Queue administration shared by the API and the dashboard: counts, rates, pause, resume, drain, clean.

Unknown queue names raise ``NotFound``; every change is one Lua script; reads are pipelined ZCARDs.
"""

from __future__ import annotations

import time
from typing import Any

from jobs_core.errors import InvalidInput, NotFound
from jobs_core.keys import JOB_STATES
from jobs_core.store import JobStore

CLEANABLE = ("completed", "failed", "cancelled")


class QueueAdmin:
    def __init__(self, store: JobStore) -> None:
        self.store = store
        self.keys = store.keys
        self.redis = store.redis
        self.names = list(store.settings.queues)

    def check(self, queue: str) -> str:
        if queue not in self.names:
            raise NotFound(f"queue {queue!r} not found", {"queue": queue, "known": self.names})
        return queue

    async def stats(self, queues: list[str] | None = None) -> list[dict[str, Any]]:
        """SPEC's queue stats for each queue: counts by state, paused flag and processing rate."""
        queues = [self.check(q) for q in queues] if queues else self.names
        minute = int(time.time() // 60)
        pipe = self.redis.pipeline(transaction=False)
        for q in queues:
            for state in JOB_STATES:
                pipe.zcard(self.keys.state(q, state))
            pipe.exists(self.keys.paused(q))
            pipe.hget(self.keys.minute(q, minute), "completed")
            pipe.hget(self.keys.minute(q, minute - 1), "completed")
        async with self.store_errors():
            replies = await pipe.execute()
        width = len(JOB_STATES) + 3
        return [self._one(q, replies[i * width : (i + 1) * width]) for i, q in enumerate(queues)]

    @staticmethod
    def _one(queue: str, row: list[Any]) -> dict[str, Any]:
        counts = dict(zip(JOB_STATES, (int(n) for n in row[: len(JOB_STATES)]), strict=True))
        paused = bool(row[len(JOB_STATES)])
        current, previous = (int(v or 0) for v in row[len(JOB_STATES) + 1 :])
        elapsed = (time.time() % 60) / 60
        counts["paused"] = counts["waiting"] if paused else 0
        return {
            "name": queue,
            "counts": counts,
            "isPaused": paused,
            # completed per minute over the last 60 s (sliding window over two minute buckets)
            "processingRate": round(current + previous * (1 - elapsed), 1),
        }

    def store_errors(self) -> Any:
        from jobs_core.redis_conn import unavailable_as_error

        return unavailable_as_error()

    async def pause(self, queue: str) -> bool:
        self.check(queue)
        return bool(await self.store.run("pause", queue, keys=[self.keys.paused(queue)]))

    async def resume(self, queue: str) -> bool:
        self.check(queue)
        channel = self.keys.control_channel()
        return bool(await self.store.run("resume", queue, channel, keys=[self.keys.paused(queue)]))

    async def drain(self, queue: str, include_delayed: bool = False) -> int:
        self.check(queue)
        delayed = "1" if include_delayed else "0"
        return int(await self.store.run("drain", queue, delayed, *self.store.keep_failed()))

    async def clean(self, queue: str, state: str, grace_ms: int, limit: int) -> list[str]:
        self.check(queue)
        if state not in CLEANABLE:
            raise InvalidInput(f"status: must be one of {', '.join(CLEANABLE)}")
        return list(await self.store.run("clean", queue, state, grace_ms, limit))

    async def count_cleanable(self, queue: str, state: str, grace_ms: int) -> int:
        """How many jobs ``clean`` with this grace would remove (a dry run of it)."""
        self.check(queue)
        if state not in CLEANABLE:
            raise InvalidInput(f"status: must be one of {', '.join(CLEANABLE)}")
        cutoff_ms = int(time.time() * 1000) - grace_ms
        async with self.store_errors():
            return int(await self.redis.zcount(self.keys.state(queue, state), "-inf", cutoff_ms))
