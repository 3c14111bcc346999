"""Recurring jobs, the model: a schedule definition, its validation from a request, its run state and
how clients see it, and the job spec each fire creates (built like any API job).

How it fails: bad requests raise ``InvalidInput`` naming the field; nothing here touches Redis.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, StringConstraints, ValidationError, model_validator

from jobs_core.cron import CronError, CronSpec, TimezoneError, parse_cron, validate_timezone
from jobs_core.errors import InvalidInput
from jobs_core.logging import get_logger
from jobs_core.model import JobOptions, JobRequest, JobType, Strict, build_spec
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


def stored_int(value: str | None) -> int:
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
            rev=stored_int(h.get("rev")),
            paused=h.get("paused") == "1",
            created_ms=stored_int(h.get("createdAt")),
            updated_ms=stored_int(h.get("updatedAt")),
            not_before_ms=stored_int(h.get("notBefore")),
            last_fire_ms=stored_int(h.get("lastFire")),
            last_run_ms=stored_int(h.get("lastRun")),
            last_job_id=h.get("lastJob") or None,
            fires=stored_int(h.get("fires")),
            skipped=stored_int(h.get("skipped")),
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
