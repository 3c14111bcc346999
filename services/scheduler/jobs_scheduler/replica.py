"""One scheduler replica: stand by, win the lease, fire while holding it, step down when it is lost.

The loop ticks every lease/3 while leading (renew) and every min(lease/3, 1 s) with jitter while standing
by (try to acquire). Leading means running a :class:`Firing` for that lease term; stepping down stops it
before anything else, so no fire outlives the term locally, and ``fire_schedule.lua`` fences any that
would anyway. SIGTERM stops firing, releases the lease at once (the next standby attempt wins it) and
returns.

How it fails: Redis errors never end the loop. While leading, the lease counts as held only until 80 % of
the TTL after the last successful renewal started; past that the replica steps down by itself, even if it
cannot reach Redis to learn that it lost. When Redis comes back, the election simply runs again.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time

from redis.asyncio import Redis

from jobs_core.errors import JobsError
from jobs_core.keys import Keys
from jobs_core.leader import LeaderLease
from jobs_core.logging import get_logger
from jobs_core.redis_conn import UNREACHABLE
from jobs_core.schedules import ScheduleStore
from jobs_scheduler.builtins import apply_builtins
from jobs_scheduler.firing import Firing
from jobs_scheduler.probes import Metrics, ProbeState
from jobs_scheduler.settings import SchedulerSettings

log = get_logger("jobs_scheduler")
FAILURES = (JobsError, TimeoutError, *UNREACHABLE)  # down, or full (OOM refusals)


class Replica:
    def __init__(self, settings: SchedulerSettings, redis: Redis, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.lease = LeaderLease(redis, Keys(settings.key_prefix), settings.leader_lease_ms)
        self.store = ScheduleStore(redis, settings)
        self.state = ProbeState()
        self.firing: Firing | None = None
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._fenced = False
        self.interval = settings.leader_lease_ms / 3000

    def request_stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def prepare(self) -> bool:
        """Wait for Redis and declare the built-in schedules; False when asked to stop meanwhile."""
        while not self._stop.is_set():
            try:
                await apply_builtins(self.store, self.settings)
                self._mark(redis_ok=True)
                return True
            except FAILURES as err:
                self._mark(redis_ok=False)
                log.warning("redis_unavailable", phase="start", error=type(err).__name__)
                await self._sleep(self.interval)
        return False

    async def run(self) -> None:
        self.state.role = "standby"
        while not self._stop.is_set():
            await self._tick()
            await self._sleep(self.interval if self.firing else self._standby_delay())
        await self._leave()

    def _standby_delay(self) -> float:
        # Jitter spreads the standbys' attempts; capping at 1 s bounds the take-over after a release.
        return min(self.interval, 1.0) * random.uniform(0.8, 1.0)

    async def _tick(self) -> None:
        try:
            if self.firing is None:
                if await self.lease.acquire():
                    await self._lead()
            elif self._fenced:
                await self._step_down("fenced")
            elif await asyncio.wait_for(self.lease.renew(), timeout=max(self.lease.remaining(), 0.01)):
                self.metrics.renewals.inc()
                await self.firing.check_version()
            else:
                await self._step_down("lease_lost")
            self._mark(redis_ok=True)
        except FAILURES as err:
            self._mark(redis_ok=False)
            log.warning("redis_unavailable", role=self.state.role, error=type(err).__name__)
        except Exception:  # unexpected: stop firing rather than fire from a confused state
            log.exception("tick_failed", role=self.state.role)
            if self.firing is not None:
                await self._step_down("error")
        if self.firing is not None and not self.lease.held():
            await self._step_down("lease_deadline")

    async def _lead(self) -> None:
        self._fenced = False
        self.firing = Firing(self.store, self.lease, self.settings, self.metrics, self._on_fenced)
        self.state.role = "leader"
        self.metrics.leader.set(1)
        self.metrics.elections.inc()
        log.info("leader_elected", epoch=self.lease.epoch, replica=self.lease.token)
        try:
            await self.firing.start()
        except FAILURES:
            await self._step_down("start_failed")
            raise

    def _on_fenced(self) -> None:
        self._fenced = True
        self._wake.set()

    async def _step_down(self, reason: str) -> None:
        epoch = self.lease.epoch
        await self._stop_firing()
        self.lease.step_down()
        log.warning("leader_stepped_down", reason=reason, epoch=epoch)

    async def _stop_firing(self) -> None:
        firing, self.firing = self.firing, None
        if firing is not None:
            await firing.stop()
        self.state.role = "stopping" if self._stop.is_set() else "standby"
        self.metrics.leader.set(0)

    async def _leave(self) -> None:
        """SIGTERM: stop firing first, then give the lease up so a standby need not wait for it."""
        leading = self.firing is not None
        await self._stop_firing()
        self.state.role = "stopping"
        if leading:
            released = False
            with contextlib.suppress(*FAILURES):
                released = await asyncio.wait_for(self.lease.release(), timeout=2.0)
            log.info("leader_released", released=released)

    def _mark(self, redis_ok: bool) -> None:
        self.state.redis_ok = redis_ok
        self.state.last_tick = time.monotonic()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()
        if self._stop.is_set():
            self._wake.set()
