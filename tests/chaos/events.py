"""Following the job event streams of every queue (XREAD BLOCK) for the whole run.

Listeners get every event (the canceller reacts to ``to=active``); ``wait_until`` re-checks a condition
each time a batch of events arrives, so waits end on the event that makes them true, not on a timer.
A condition that no event can announce (a leader key) is also re-checked at least every ``IDLE_S``.

How it fails: while Redis is down the follower retries quietly and resumes after the last id it saw;
``wait_until`` raises ``TimeoutError`` naming what it waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from jobs_core.keys import Keys

Listener = Callable[[str, dict[str, str]], None]
QUEUES = ("default", "high-priority", "low-priority", "scheduled")
IDLE_S = 0.5


class EventFollower:
    def __init__(self, url: str, prefix: str) -> None:
        self.redis = Redis.from_url(url, decode_responses=True, socket_connect_timeout=1)
        keys = Keys(prefix)
        self.streams = {keys.events(q): "0-0" for q in QUEUES}
        self.queue_of = {keys.events(q): q for q in QUEUES}
        self.listeners: list[Listener] = []
        self.count = 0
        self._batch = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._follow())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.redis.aclose()

    async def _follow(self) -> None:
        while True:
            try:
                replies = await self.redis.xread(self.streams, count=2000, block=int(IDLE_S * 1000))
            except (RedisError, OSError):
                await asyncio.sleep(0.1)  # Redis is restarting: retry after the last id seen
                replies = None
            for stream, entries in replies or []:
                self.streams[stream] = entries[-1][0]
                queue = self.queue_of[stream]
                for _, fields in entries:
                    self.count += 1
                    for listener in self.listeners:
                        listener(queue, fields)
            async with self._batch:
                self._batch.notify_all()

    async def next_batch(self) -> None:
        """Returns after the next XREAD round (events arrived, or ``IDLE_S`` passed)."""
        async with self._batch:
            await self._batch.wait()

    async def wait_until(self, check: Callable[[], Awaitable[Any]], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = await check()
            except (RedisError, OSError):
                value = None
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.next_batch(), remaining)
