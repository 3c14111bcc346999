"""The leader's firing machinery: APScheduler (in memory) computes fire times; one Lua call records each.

Runs only in the replica that holds the lease, for one lease term. At start, and whenever the schedules
change (PUBLISH, or the version counter moved), it loads the definitions from Redis and (re)adds one
APScheduler job per active schedule, starting after the newest of: the schedule's last fire, its
notBefore, and now − JOBS_MISFIRE_GRACE. Fire times that fell in a fail-over gap are therefore run late
(caught up, each one: coalescing is off) instead of dropped. A custom executor hands each nominal fire time
to one consumer task, which calls ``fire_schedule.lua`` in order, so a later fire can never overtake an
earlier one of the same schedule and spend its slot.

How it fails: a refused fire (``LeaderFenced``) stops the firing and tells the replica to step down; a
stale or deleted schedule triggers a resync; Redis errors are retried while the lease is still held
locally, after which the fire is dropped (the next leader catches it up from the last recorded fire).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.base import BaseExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from redis.asyncio import Redis

from jobs_core.cron import CronSpec
from jobs_core.errors import InvalidInput, LeaderFenced, NotFound, RedisUnavailable, ScheduleStale
from jobs_core.leader import LeaderLease
from jobs_core.logging import get_logger
from jobs_core.redis_conn import CONNECTION_ERRORS, connect
from jobs_core.schedules import Schedule, ScheduleInfo, ScheduleStore, build_fire_spec
from jobs_scheduler.probes import Metrics
from jobs_scheduler.settings import SchedulerSettings

log = get_logger("jobs_scheduler.firing")
FireRequest = tuple[str, list[datetime]]


class CronTrigger(BaseTrigger):  # type: ignore[misc]
    """Our cron semantics (jobs_core.cron) behind APScheduler's trigger interface."""

    def __init__(self, spec: CronSpec, zone: ZoneInfo) -> None:
        self.spec, self.zone = spec, zone

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        return self.spec.next_after(previous_fire_time or now, self.zone)


class FencedExecutor(BaseExecutor):  # type: ignore[misc]
    """Passes (schedule id, nominal fire times) to the consumer instead of calling a function."""

    def __init__(self, submit: Callable[[FireRequest], None]) -> None:
        super().__init__()
        self._submit = submit

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        self._submit((job.id, list(run_times)))
        # Done at once: the fire runs in our consumer; APScheduler's per-process instance count is moot.
        asyncio.get_running_loop().call_soon(self._run_job_success, job.id, [])


def _placeholder() -> None:
    """APScheduler wants a callable per job; the executor never calls it."""


@dataclass
class Entry:
    schedule: Schedule
    rev: int
    spec: dict[str, Any]


class Firing:
    """APScheduler plus the fire consumer for one lease term."""

    def __init__(
        self,
        store: ScheduleStore,
        lease: LeaderLease,
        settings: SchedulerSettings,
        metrics: Metrics,
        on_fenced: Callable[[], None],
    ) -> None:
        assert lease.epoch is not None
        self.store, self.lease, self.settings, self.metrics = store, lease, settings, metrics
        self.term = (lease.token, lease.epoch)
        self.on_fenced = on_fenced
        self.entries: dict[str, Entry] = {}
        self.version = -1
        self.queue: asyncio.Queue[FireRequest] = asyncio.Queue()
        self.scheduler = AsyncIOScheduler(
            timezone=UTC,
            jobstores={"default": MemoryJobStore()},
            executors={"default": FencedExecutor(self.queue.put_nowait)},
            job_defaults={"coalesce": False, "misfire_grace_time": None, "max_instances": 1_000_000},
        )
        self._sync_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.scheduler.start()
        self._spawn(self._consume())
        await self.sync()
        self._spawn(self._listen())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        self._tasks = [t for t in self._tasks if not t.done()]
        self._tasks.append(asyncio.get_running_loop().create_task(work))

    async def _listen(self) -> None:
        """Resync on every PUBLISH about schedules; resubscribe after Redis comes back."""
        # A client of its own without a read timeout: a blocking read that times out can swallow the
        # task's cancellation (asyncio.timeout racing cancel() in Python 3.11) and keep it alive.
        client = connect(self.settings, retries=0, timeout=None)
        try:
            while True:
                await self._listen_once(client)
                await asyncio.sleep(min(self.settings.leader_lease_ms / 3000, 1.0))
        finally:
            await client.aclose()

    async def _listen_once(self, client: Redis) -> None:
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.store.keys.schedules_channel())
            await self.check_version()  # changes made while we were not subscribed
            async for _ in pubsub.listen():
                await self.check_version()
        except (RedisUnavailable, *CONNECTION_ERRORS) as err:
            log.warning("schedule_changes_unavailable", error=type(err).__name__)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _resync_soon(self) -> None:
        try:
            await self.sync()
        except (RedisUnavailable, *CONNECTION_ERRORS) as err:
            log.warning("resync_failed", error=type(err).__name__)

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # Bounded: shutdown must not hang on a task that is slow to die; fencing covers its writes.
            await asyncio.wait(self._tasks, timeout=1.0)
        self._tasks.clear()

    async def check_version(self) -> None:
        """Resync when the schedules changed (the fallback for a missed PUBLISH)."""
        if await self.store.version() != self.version:
            await self.sync()

    async def sync(self) -> None:
        """Make APScheduler's jobs match the active schedules in Redis."""
        async with self._sync_lock:
            version = await self.store.version()
            infos = {i.schedule.id: i for i in await self.store.list_all() if not i.state.paused}
            for sid in [s for s in self.entries if s not in infos]:
                self._remove(sid)
            for sid, info in infos.items():
                entry = self.entries.get(sid)
                if entry is None or entry.rev != info.state.rev:
                    self._add(info)
            self.version = version
        log.info("schedules_synced", version=version, active=len(self.entries))

    def _remove(self, sid: str) -> None:
        self.entries.pop(sid, None)
        with contextlib.suppress(Exception):
            self.scheduler.remove_job(sid)
        log.info("schedule_removed", schedule_id=sid)

    def _add(self, info: ScheduleInfo) -> None:
        schedule, state = info.schedule, info.state
        try:
            spec = build_fire_spec(schedule, self.settings)
        except InvalidInput as err:
            log.error("schedule_invalid", schedule_id=schedule.id, error=err.message)
            self._remove(schedule.id)
            return
        now = datetime.now(UTC)
        floor_ms = max(state.last_fire_ms, state.not_before_ms)
        start = max(
            datetime.fromtimestamp(floor_ms / 1000, UTC), now - timedelta(seconds=self.settings.misfire_grace)
        )
        first = schedule.cron.next_after(start, schedule.zone)
        self.entries[schedule.id] = Entry(schedule, state.rev, spec)
        self.scheduler.add_job(
            _placeholder,
            trigger=CronTrigger(schedule.cron, schedule.zone),
            id=schedule.id,
            name=schedule.id,
            next_run_time=first,
            replace_existing=True,
        )
        log.info("schedule_loaded", schedule_id=schedule.id, rev=state.rev, first_fire=first.isoformat())

    async def _consume(self) -> None:
        while True:
            sid, times = await self.queue.get()
            for when in times:
                try:
                    if not await self._fire(sid, when):
                        return
                except Exception:  # a bug must not silence every schedule of this leader
                    log.exception("fire_failed", schedule_id=sid, fire_time=when.isoformat())

    async def _fire(self, sid: str, when: datetime) -> bool:
        """One fire; False when this term must stop firing."""
        entry = self.entries.get(sid)
        if entry is None:
            return True
        late = (datetime.now(UTC) - when).total_seconds()
        if late > self.settings.misfire_grace:
            self.metrics.fires.labels("missed").inc()
            log.warning("fire_missed", schedule_id=sid, fire_time=when.isoformat(), late_s=round(late, 3))
            return True
        fire_ms = int(when.timestamp() * 1000)
        try:
            result = await self._call(entry, fire_ms)
        except LeaderFenced:
            self.metrics.fenced.inc()
            log.warning("fire_fenced", schedule_id=sid, fire_time=when.isoformat(), epoch=self.term[1])
            self.on_fenced()
            return False
        except (ScheduleStale, NotFound) as err:
            log.info("fire_resync", schedule_id=sid, fire_time=when.isoformat(), reason=err.code)
            self.entries.pop(sid, None)
            self._spawn(self._resync_soon())
            return True
        if result is None:
            return False
        self.metrics.fires.labels(result.outcome).inc()
        log.info(
            "schedule_fired", schedule_id=sid, fire_time=when.isoformat(), outcome=result.outcome,
            job_id=result.job_id, queue=entry.spec["queue"], type=entry.schedule.type, detail=result.detail,
            late_ms=int(late * 1000),
        )  # fmt: skip
        return True

    async def _call(self, entry: Entry, fire_ms: int) -> Any:
        """The script call, retried while Redis is unreachable and the lease still held locally."""
        delay = 0.05
        while True:
            try:
                return await self.store.fire(self.term, entry.schedule, entry.rev, fire_ms, entry.spec)
            except RedisUnavailable as err:
                if not self.lease.held():
                    log.warning(
                        "fire_dropped", schedule_id=entry.schedule.id, fire_ms=fire_ms, error=err.message
                    )
                    return None
                await asyncio.sleep(min(delay, self.lease.remaining()))
                delay = min(delay * 2, 0.5)
