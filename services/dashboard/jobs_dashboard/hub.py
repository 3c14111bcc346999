"""Live updates: one Redis reader per process, fanned out to every open tab as Server-Sent Events.

* The reader blocks on XREAD over all queues' event streams (its own connection, no socket timeout)
  and hands each event to the subscribers whose filter wants it (a queue page: that queue; a job page:
  that job; the overview: none, it lives on stats).
* While anybody listens, a stats tick reads counts, the current minute's throughput and the number of
  live workers once every ``STATS_EVERY_S`` for the whole process, not per tab.
* A subscriber that cannot keep up (its buffer is full) is told to ``resync`` instead of growing memory.

How it fails: while Redis is unreachable the reader and the tick log once, retry with back-off and carry
on from the last stream position they saw; tabs keep their connection and simply see nothing new.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from jobs_core.admin import Admin, StreamEvent
from jobs_core.errors import RedisUnavailable
from jobs_core.insights import Insights
from jobs_core.logging import get_logger
from jobs_core.queues import QueueAdmin

log = get_logger("jobs_dashboard.hub")
STATS_EVERY_S = 1.5
READ_BLOCK_MS = 2000
BUFFER = 2000
CLOSED: dict[str, Any] = {"kind": "closed"}


@dataclass(eq=False)
class Subscriber:
    queue: str | None = None
    job: str | None = None
    inbox: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(BUFFER))
    lagging: bool = False

    def wants(self, event: StreamEvent) -> bool:
        if self.job is not None:
            return event.fields.get("job") == self.job
        return self.queue is not None and event.queue == self.queue

    def offer(self, message: dict[str, Any]) -> None:
        try:
            self.inbox.put_nowait(message)
        except asyncio.QueueFull:
            self.lagging = True


class EventHub:
    def __init__(self, reader: Admin, queues: QueueAdmin, insights: Insights) -> None:
        self.reader = reader  # bound to a client without socket timeout: XREAD BLOCK
        self.queues = queues
        self.insights = insights
        self.subscribers: set[Subscriber] = set()
        self.last_stats: dict[str, Any] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._read_loop()), asyncio.create_task(self._stats_loop())]

    async def close(self) -> None:
        for sub in list(self.subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                sub.inbox.put_nowait(CLOSED)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def subscribe(self, queue: str | None = None, job: str | None = None) -> Subscriber:
        sub = Subscriber(queue, job)
        self.subscribers.add(sub)
        if self.last_stats is not None:
            sub.offer(self.last_stats)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    async def _read_loop(self) -> None:
        positions: dict[str, str] | None = None
        failures = 0
        while True:
            try:
                if positions is None:
                    positions = await self.reader.latest_event_ids(self.queues.names)
                events = await self.reader.read_events(positions, READ_BLOCK_MS)
                failures = 0
            except RedisUnavailable as err:
                failures += 1
                if failures == 1:
                    log.warning("event_reader_unavailable", error=err.message)
                await asyncio.sleep(min(0.2 * 2**failures, 5.0))
                continue
            self._dispatch(events)

    def _dispatch(self, events: list[StreamEvent]) -> None:
        if not events or not self.subscribers:
            return
        for sub in list(self.subscribers):
            wanted = [{"queue": e.queue, "id": e.id, **e.fields} for e in events if sub.wants(e)]
            if wanted:
                sub.offer({"kind": "jobs", "events": wanted})

    async def _stats_loop(self) -> None:
        failures = 0
        while True:
            await asyncio.sleep(STATS_EVERY_S)
            if not self.subscribers:
                continue
            try:
                message = await self.snapshot()
                failures = 0
            except RedisUnavailable as err:
                failures += 1
                if failures == 1:
                    log.warning("stats_unavailable", error=err.message)
                continue
            self.last_stats = message
            for sub in list(self.subscribers):
                sub.offer(message)

    async def snapshot(self) -> dict[str, Any]:
        """Counts of every queue, this minute's throughput and the live worker count, in one message."""
        stats = await self.queues.stats()
        minute = await self.insights.this_minute(self.queues.names)
        workers = await self.reader.live_worker_count()
        return {"kind": "stats", "at": int(time.time() * 1000), "queues": stats, "minute": minute,
                "workers": workers}  # fmt: skip
