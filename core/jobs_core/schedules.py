"""Recurring jobs, the store: schedule definitions in Redis and the fenced fire (the model and its
validation live in schedule_model).

A definition is canonical JSON in one hash (never pickle), keyed by schedule id; its run state (rev,
paused, last fire, counters) and its recent job ids sit beside it. Every change is one Lua script that
bumps a version counter and PUBLISHes, so the leading scheduler resyncs at once without a restart.
The leader fires through ``fire_schedule.lua``, which makes the job exactly like the API's enqueue does.

How it fails: bad requests raise ``InvalidInput`` naming the field; unknown ids ``NotFound``; a fire from
a replica that lost the lease ``LeaderFenced``; a fire built from an old definition ``ScheduleStale``;
Redis being down ``RedisUnavailable``. A definition that cannot be read back is skipped and logged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from jobs_core.errors import error_for
from jobs_core.keys import RECENT_JOBS_CAP, Keys
from jobs_core.logging import get_logger
from jobs_core.redis_conn import unavailable_as_error
from jobs_core.schedule_model import (
    BUILTIN_PREFIX,
    SCHEDULE_SCRIPTS,
    FireResult,
    RecurringOptions,
    RecurringRequest,
    Schedule,
    ScheduleId,
    ScheduleInfo,
    ScheduleState,
    build_fire_spec,
    schedule_from_request,
    schedule_view,
    stored_int,
)
from jobs_core.scripts import Scripts
from jobs_core.settings import CoreSettings

# The model lives in schedule_model; importers of this module keep finding it here.
__all__ = [
    "BUILTIN_PREFIX",
    "SCHEDULE_SCRIPTS",
    "FireResult",
    "RecurringOptions",
    "RecurringRequest",
    "Schedule",
    "ScheduleId",
    "ScheduleInfo",
    "ScheduleState",
    "ScheduleStore",
    "build_fire_spec",
    "schedule_from_request",
    "schedule_view",
]
log = get_logger(__name__)


class ScheduleStore:
    """Schedules of one key prefix; used by the API (CRUD) and the scheduler (sync, fire)."""

    def __init__(self, redis: Redis, settings: CoreSettings) -> None:
        self.redis = redis
        self.settings = settings
        self.keys = Keys(settings.key_prefix)
        self.scripts = Scripts(redis, SCHEDULE_SCRIPTS)

    async def upsert(self, schedule: Schedule) -> tuple[Literal["created", "updated", "unchanged"], int]:
        keys = [self.keys.schedules(), self.keys.schedule_state(schedule.id), self.keys.schedules_version()]
        args = [schedule.id, schedule.to_json(), self.keys.schedules_channel()]
        async with unavailable_as_error():
            code, rev = await self.scripts.run("upsert_schedule", keys, args)
        outcome: dict[int, Literal["created", "updated", "unchanged"]] = {1: "created", 2: "updated"}
        return outcome.get(int(code), "unchanged"), int(rev)

    async def delete(self, schedule_id: str) -> None:
        k = self.keys
        keys = [
            k.schedules(),
            k.schedule_state(schedule_id),
            k.schedule_recent(schedule_id),
            k.schedules_version(),
        ]
        async with unavailable_as_error():
            code = int(await self.scripts.run("delete_schedule", keys, [schedule_id, k.schedules_channel()]))
        if code < 0:
            raise error_for(code, "delete", schedule_id)

    async def set_paused(self, schedule_id: str, paused: bool) -> bool:
        """True when the state changed; NotFound for an unknown id."""
        k = self.keys
        keys = [k.schedules(), k.schedule_state(schedule_id), k.schedules_version()]
        args = [schedule_id, "1" if paused else "0", k.schedules_channel()]
        async with unavailable_as_error():
            code = int(await self.scripts.run("set_schedule_paused", keys, args))
        if code < 0:
            raise error_for(code, "pause" if paused else "resume", schedule_id)
        return code == 1

    async def version(self) -> int:
        (value,) = await self._read(lambda pipe: pipe.get(self.keys.schedules_version()))
        return stored_int(value)

    async def _read(self, *commands: Callable[[Pipeline], object]) -> list[Any]:
        """Runs read commands in one round trip (pipelines keep redis-py's typing simple, too)."""
        async with unavailable_as_error():
            pipe = self.redis.pipeline(transaction=False)
            for command in commands:
                command(pipe)
            return await pipe.execute()

    async def get(self, schedule_id: str) -> ScheduleInfo | None:
        (text,) = await self._read(lambda pipe: pipe.hget(self.keys.schedules(), schedule_id))
        if text is None:
            return None
        found = await self._with_state({schedule_id: text})
        return found[0] if found else None

    async def list_all(self) -> list[ScheduleInfo]:
        """Every readable schedule, by id."""
        (defs,) = await self._read(lambda pipe: pipe.hgetall(self.keys.schedules()))
        return await self._with_state(dict(sorted(defs.items())))

    async def _with_state(self, defs: dict[str, str]) -> list[ScheduleInfo]:
        async with unavailable_as_error():
            pipe = self.redis.pipeline(transaction=False)
            for sid in defs:
                pipe.hgetall(self.keys.schedule_state(sid))
                pipe.lrange(self.keys.schedule_recent(sid), 0, RECENT_JOBS_CAP - 1)
            replies = await pipe.execute()
        out = []
        for i, (sid, text) in enumerate(defs.items()):
            try:
                schedule = Schedule.from_json(text)
                schedule.cron, schedule.zone  # noqa: B018 - a definition that cannot fire is unreadable
            except (ValueError, KeyError, TypeError) as err:
                log.warning("schedule_unreadable", schedule_id=sid, error=str(err))
                continue
            out.append(
                ScheduleInfo(schedule, ScheduleState.from_hash(replies[2 * i]), list(replies[2 * i + 1]))
            )
        return out

    async def recent_jobs(self, job_ids: list[str]) -> list[dict[str, str]]:
        """Stored records of these jobs (those already removed by retention are left out)."""
        async with unavailable_as_error():
            pipe = self.redis.pipeline(transaction=False)
            for job_id in job_ids:
                pipe.hgetall(self.keys.job(job_id))
            return [r for r in await pipe.execute() if r]

    async def fire(
        self, lease: tuple[str, int], schedule: Schedule, rev: int, fire_ms: int, spec: dict[str, Any]
    ) -> FireResult:
        """Create the job of one fire time; raises LeaderFenced, NotFound or ScheduleStale."""
        k, (token, epoch) = self.keys, lease
        keys = [
            k.leader(),
            k.leader_epoch(),
            k.schedules(),
            k.schedule_state(schedule.id),
            k.schedule_recent(schedule.id),
        ]
        args = [
            self.settings.key_prefix, self.settings.events_maxlen, self.settings.max_jobs_per_queue,
            token, epoch, schedule.id, rev, fire_ms, schedule.overlap, json.dumps(spec), RECENT_JOBS_CAP,
        ]  # fmt: skip
        async with unavailable_as_error():
            raw = await self.scripts.run("fire_schedule", keys, args)
        code = int(raw[0])
        if code < 0:
            raise error_for(code, "fire", schedule.id, raw[1] if len(raw) > 1 else None)
        if code == 1:
            return FireResult("created", str(raw[1]), str(raw[2]))
        return FireResult(raw[1], str(raw[2]) if len(raw) > 2 else None)
