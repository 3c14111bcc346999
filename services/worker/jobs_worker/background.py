"""The worker's background duties: wake-ups (BLPOP on the served queues' wake lists), control
broadcasts (cancel, resume), and the lease keeper with the heartbeat.

Each duty is a loop that logs and retries on Redis errors rather than dying; the lease keeper fences the
worker (cancels its running tries) when it could not renew for longer than a lease.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis

from jobs_core.logging import get_logger
from jobs_core.redis_conn import UNREACHABLE

if TYPE_CHECKING:
    from jobs_worker.worker import JobsWorker

log = get_logger("jobs_worker.background")
HEARTBEAT_TTL_FACTOR = 3
RETRY_RENEWAL_S = 0.2


class Background:
    def __init__(self, worker: JobsWorker) -> None:
        self.worker = worker
        self.tasks: list[asyncio.Task[None]] = []
        self.blocking: Redis | None = None
        self.last_renewal = time.monotonic()
        self.renewals = 0

    async def start(self, blocking: Redis) -> None:
        self.blocking = blocking
        # Register now, not a beat period later, so that the cluster counts this worker as soon as it runs.
        await self._beat_safely()
        loop = asyncio.get_running_loop()
        for duty in (self._wake_loop, self._control_loop, self._lease_loop):
            self.tasks.append(loop.create_task(duty()))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        # Bounded: on Python 3.11 a cancel that races a socket timeout inside redis-py can be lost,
        # and a stuck listener must not keep a stopping worker alive.
        _, pending = await asyncio.wait(self.tasks, timeout=2.0)
        if pending:
            log.warning("background_tasks_not_stopped", count=len(pending))
        await self._deregister()
        if self.blocking is not None:
            await self.blocking.aclose()

    async def _wake_loop(self) -> None:
        assert self.blocking is not None
        keys = [self.worker.store.keys.wake(q) for q in self.worker.queues]
        timeout = max(self.worker.settings.poll_interval, 0.1)
        while True:
            try:
                if await self.blocking.blpop(keys, timeout=timeout):  # type: ignore[misc,arg-type]
                    self.worker.wake()
            except UNREACHABLE as err:
                log.warning("wake_listener_error", error=str(err))
                await asyncio.sleep(0.5)

    async def _control_loop(self) -> None:
        assert self.blocking is not None
        channel = self.worker.store.keys.control_channel()
        while True:
            try:
                async with self.blocking.pubsub() as pubsub:
                    await pubsub.subscribe(channel)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._on_control(str(message["data"]))
            except UNREACHABLE as err:
                log.warning("control_listener_error", error=str(err))
                await asyncio.sleep(0.5)

    def _on_control(self, data: str) -> None:
        verb, _, arg = data.partition(" ")
        if verb == "cancel":
            self.worker.interrupt(arg, lost=False)
        elif verb == "wake":
            self.worker.wake(arg)

    async def _lease_loop(self) -> None:
        interval = self.worker.settings.lease_ms / 3000
        wait = interval
        while True:
            await asyncio.sleep(wait)
            try:
                await self._renew()
                await self._heartbeat()
                self.last_renewal = time.monotonic()
                self.worker.redis_ok = True
                wait = interval
            except UNREACHABLE as err:
                self.worker.redis_ok = False
                log.warning("lease_renewal_failed", error=str(err))
                self._fence_if_expired()
                # After an outage the leases are short of time: renew as soon as Redis is back, not a
                # third of a lease later, or idle workers (woken at each lease deadline) take the tries over.
                wait = min(interval, RETRY_RENEWAL_S)

    async def _beat_safely(self) -> None:
        try:
            await self._heartbeat()
            self.worker.redis_ok = True
        except UNREACHABLE as err:
            log.warning("heartbeat_failed", error=str(err))

    async def _renew(self) -> None:
        held = self.worker.prefetch.held
        sent = {c.id: c for c in (*self.worker.running.values(), *held.values())}
        if not sent:
            return
        pairs = [v for c in sent.values() for v in (c.id, c.token)]
        reply = await self.worker.store.run("extend_leases", self.worker.settings.lease_ms, *pairs)
        self.renewals += 1
        # Not every try listed here was taken away: one whose outcome was written between reading
        # ``running`` and this reply shows up too (left alone), and so does one a user cancelled when
        # the cancel broadcast is slower than this reply (interrupted as a cancel). The try interrupted
        # is the one whose token was sent, even if a newer try of the job started meanwhile.
        for job_id, status in zip(reply[0::2], reply[1::2], strict=True):
            cancelled = status == "cancelled"
            if self.worker.prefetch.drop(job_id, sent[job_id].token) is not None:
                continue  # prefetched, not started: nothing runs to be stopped
            if self.worker.interrupt_try(sent[job_id], lost=not cancelled) and not cancelled:
                log.warning("lease_lost", job_id=job_id, status=status)

    def _fence_if_expired(self) -> None:
        if time.monotonic() - self.last_renewal < self.worker.settings.lease_ms / 1000 * 0.9:
            return
        self.worker.prefetch.take_all()  # their leases ran out too: other workers may claim them
        for claimed in list(self.worker.running.values()):
            if self.worker.interrupt_try(claimed, lost=True):
                log.warning("lease_expired_self_fence", job_id=claimed.id)

    async def _heartbeat(self) -> None:
        w, keys = self.worker, self.worker.store.keys
        ttl = int(w.settings.lease_ms / 1000 * HEARTBEAT_TTL_FACTOR) + 1
        info: dict[str, Any] = {
            "id": w.worker_id,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "queues": json.dumps(w.queues),
            "concurrency": w.max_jobs,
            "running": len(w.running),
            "beat": int(time.time() * 1000),
            "interval_ms": int(w.settings.lease_ms / 3),  # readers judge a beat's freshness by it
        }
        pipe = w.store.redis.pipeline(transaction=True)
        pipe.hset(keys.worker(w.worker_id), mapping=info)
        pipe.expire(keys.worker(w.worker_id), ttl)
        pipe.zadd(keys.workers(), {w.worker_id: info["beat"]})
        pipe.zremrangebyscore(keys.workers(), "-inf", info["beat"] - ttl * 1000)
        await pipe.execute()

    async def _deregister(self) -> None:
        w, keys = self.worker, self.worker.store.keys
        try:
            await w.store.redis.delete(keys.worker(w.worker_id))
            await w.store.redis.zrem(keys.workers(), w.worker_id)
        except UNREACHABLE:
            pass
