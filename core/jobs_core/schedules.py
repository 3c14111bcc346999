"""Recurring jobs: the schedule definitions in Redis, their validation, and the fenced fire.

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
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, StringConstraints, ValidationError, model_validator
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from jobs_core.cron import CronError, CronSpec, TimezoneError, parse_cron, validate_timezone
from jobs_core.errors import InvalidInput, error_for
from jobs_core.keys import RECENT_JOBS_CAP, Keys
from jobs_core.logging import get_logger
from jobs_core.model import JobOptions, JobRequest, JobType, Strict, build_spec
from jobs_core.redis_conn import unavailable_as_error
from jobs_core.scripts import Scripts
from jobs_core.settings import CoreSettings
from jobs_core.views import iso

SCHEDULE_SCRIPTS = ("upsert_schedule", "delete_schedule", "set_schedule_paused", "fire_schedule")
BUILTIN_PREFIX = "builtin:"
ScheduleId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}$")]
log = get_logger(__name__)


class RecurringOptions(JobOptions):
    """``options`` of a recurring job: every job option, plus the schedule's own id and overlap policy."""

    schedule_id: ScheduleId | None = Field(None, alias="scheduleId")
    overlap: Literal["allow", "skip"] = "allow"

    @model_validator(mode="after")
    def _single_job_only(self) -> RecurringOptions:
        if self.job_id is not None:
            raise ValueError(
                "jobId cannot be used with a schedule: each fire gets cron:{scheduleId}:{fireTime}"
            )
        if self.depends_on:
            raise ValueError("dependsOn cannot be used with a schedule")
        return self


class RecurringRequest(Strict):
    """POST /schedule with a ``schedule`` (SPEC.md "Schedule Recurring Job")."""

    type: JobType
    payload: dict[str, Any] = Field(default_factory=dict)
    schedule: str
    timezone: str = "UTC"
    options: RecurringOptions = Field(default_factory=lambda: RecurringOptions.model_validate({}))


@dataclass(frozen=True)
class Schedule:
    """A stored definition. ``options`` are the user's job options (without scheduleId)."""

    id: str
    type: str
    schedule: str
    timezone: str = "UTC"
    payload: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """Canonical text: the same definition always gives the same bytes (idempotent upserts)."""
        body = {k: getattr(self, k) for k in ("id", "type", "schedule", "timezone", "payload", "options")}
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Schedule:
        data = json.loads(text)
        return cls(
            id=str(data["id"]),
            type=str(data["type"]),
            schedule=str(data["schedule"]),
            timezone=str(data.get("timezone", "UTC")),
            payload=dict(data.get("payload") or {}),
            options=dict(data.get("options") or {}),
        )

    @property
    def cron(self) -> CronSpec:
        return parse_cron(self.schedule)

    @property
    def zone(self) -> ZoneInfo:
        return validate_timezone(self.timezone)

    @property
    def overlap(self) -> str:
        return str(self.options.get("overlap", "allow"))

    def job_options(self) -> JobOptions:
        return JobOptions.model_validate({k: v for k, v in self.options.items() if k != "overlap"})


def _invalid(err: ValidationError) -> InvalidInput:
    details = [
        {
            "field": ".".join(str(p) for p in e["loc"]) or "body",
            "message": e["msg"].removeprefix("Value error, "),
        }
        for e in err.errors()
    ]
    first = details[0]
    return InvalidInput(f"{first['field']}: {first['message']}", details)


def schedule_from_request(
    body: dict[str, Any], settings: CoreSettings, *, reserved_ok: bool = False
) -> Schedule:
    """Validate a recurring-job request completely (cron, zone, options, routing) or raise InvalidInput."""
    try:
        request = RecurringRequest.model_validate(body)
    except ValidationError as err:
        raise _invalid(err) from None
    try:
        spec = parse_cron(request.schedule)
    except CronError as err:
        raise InvalidInput(f"schedule: {err}", [{"field": "schedule", "message": str(err)}]) from None
    try:
        validate_timezone(request.timezone)
    except TimezoneError as err:
        raise InvalidInput(f"timezone: {err}", [{"field": "timezone", "message": str(err)}]) from None
    sid = request.options.schedule_id or f"sch-{uuid.uuid4().hex[:16]}"
    if sid.startswith(BUILTIN_PREFIX) and not reserved_ok:
        message = f"ids starting with {BUILTIN_PREFIX!r} belong to the built-in schedules (JOBS_* settings)"
        raise InvalidInput(
            f"options.scheduleId: {message}", [{"field": "options.scheduleId", "message": message}]
        )
    options = request.options.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    options.pop("scheduleId", None)
    schedule = Schedule(sid, request.type, spec.expression, request.timezone, request.payload, options)
    build_fire_spec(schedule, settings)  # the same checks a fire will meet: queue, payload size
    return schedule


def build_fire_spec(schedule: Schedule, settings: CoreSettings) -> dict[str, Any]:
    """The enqueue spec of one fire (``fire_schedule.lua`` sets its id and scheduleId)."""
    request = JobRequest.model_validate(
        {"type": schedule.type, "payload": schedule.payload, "options": schedule.job_options()}
    )
    return build_spec(request, settings)


def _int(value: str | None) -> int:
    return int(value) if value not in (None, "") else 0


@dataclass(frozen=True)
class ScheduleState:
    rev: int = 0
    paused: bool = False
    created_ms: int = 0
    updated_ms: int = 0
    not_before_ms: int = 0
    last_fire_ms: int = 0  # high-water mark: newest fire time spent (job made or skipped)
    last_run_ms: int = 0  # fire time of the newest job made
    last_job_id: str | None = None
    fires: int = 0
    skipped: int = 0

    @classmethod
    def from_hash(cls, h: dict[str, str]) -> ScheduleState:
        return cls(
            rev=_int(h.get("rev")),
            paused=h.get("paused") == "1",
            created_ms=_int(h.get("createdAt")),
            updated_ms=_int(h.get("updatedAt")),
            not_before_ms=_int(h.get("notBefore")),
            last_fire_ms=_int(h.get("lastFire")),
            last_run_ms=_int(h.get("lastRun")),
            last_job_id=h.get("lastJob") or None,
            fires=_int(h.get("fires")),
            skipped=_int(h.get("skipped")),
        )


@dataclass(frozen=True)
class ScheduleInfo:
    schedule: Schedule
    state: ScheduleState
    recent_job_ids: list[str]

    def next_run_at(self, now: datetime | None = None) -> datetime | None:
        """Next fire time after now (and after the last fire); None while paused."""
        if self.state.paused:
            return None
        moment = now or datetime.now(UTC)
        last = datetime.fromtimestamp(self.state.last_fire_ms / 1000, UTC)
        return self.schedule.cron.next_after(max(moment, last), self.schedule.zone)


def schedule_view(info: ScheduleInfo, now: datetime | None = None) -> dict[str, Any]:
    """How a schedule looks to clients (API, dashboard): camelCase, ISO times in UTC."""
    s, st = info.schedule, info.state
    next_run = info.next_run_at(now)
    return {
        "scheduleId": s.id,
        "type": s.type,
        "payload": s.payload,
        "schedule": s.schedule,
        "timezone": s.timezone,
        "options": s.options,
        "overlap": s.overlap,
        "builtin": s.id.startswith(BUILTIN_PREFIX),
        "status": "paused" if st.paused else "active",
        "createdAt": iso(st.created_ms),
        "updatedAt": iso(st.updated_ms),
        "lastRunAt": iso(st.last_run_ms),
        "lastJobId": st.last_job_id,
        "nextRunAt": iso(int(next_run.timestamp() * 1000)) if next_run else None,
        "nextRunAtLocal": next_run.isoformat() if next_run else None,
        "fires": st.fires,
        "skipped": st.skipped,
    }


@dataclass(frozen=True)
class FireResult:
    outcome: Literal["created", "duplicate", "paused", "overlap", "exists", "queue_full"]
    job_id: str | None = None
    detail: str | None = None


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
        return _int(value)

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
