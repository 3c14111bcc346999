"""Typed answers of the API (pydantic). Attributes are snake_case; the API's camelCase names are their
aliases, so ``model_dump(by_alias=True)`` gives back the API's own JSON (what the CLI prints with
``-o json``).

Tolerant by design: fields the server adds later are kept (``extra="allow"``) instead of failing, and
every field a server might leave out has a default. States are plain strings for the same reason; the
constants below name the ones this version knows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PlainSerializer, field_validator
from pydantic.alias_generators import to_camel

TERMINAL = frozenset({"completed", "failed", "cancelled"})
#: terminal as far as an SSE event goes: a drained job is deleted ("removed"), it never runs
TERMINAL_EVENTS = TERMINAL | {"removed"}


def _iso_ms(moment: datetime) -> str:
    """The API's own time format: UTC, milliseconds, ``Z`` (``2026-02-03T12:00:00.000Z``)."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


#: a time of the API: a ``datetime`` in Python, written back in the API's own format
Time = Annotated[datetime, PlainSerializer(_iso_ms, when_used="json")]
#: an event's time: ms since the epoch in the API, a ``datetime`` in Python
EpochMs = Annotated[datetime, PlainSerializer(lambda m: round(m.timestamp() * 1000), when_used="json")]


class ApiModel(BaseModel):
    # defer_build: schemas are built on first use, so importing the SDK (and starting the CLI) stays quick
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="allow", defer_build=True
    )

    def to_json(self) -> dict[str, Any]:
        """The API's JSON as it came: its field names and formats, fields it added, none it left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


Number = int | float


class AddedJob(ApiModel):
    """Answer of ``POST /schedule`` (and each item of a bulk add)."""

    job_id: str
    queue_name: str
    status: str
    created_at: Time | None = None
    run_at: Time | None = None
    existing: bool = False
    #: job-scoped read-only token (``get_job``, ``events(job_id=…)``, ``wait``) for handing to a browser
    #: or another service; present when the API runs with JOBS_API_TOKEN
    access_token: str | None = None
    access_token_expires_at: Time | None = None


class JobToken(ApiModel):
    """Answer of ``POST /jobs/:id/token``: a fresh job-scoped read token."""

    job_id: str
    access_token: str
    access_token_expires_at: Time | None = None


class JobSummary(ApiModel):
    """A job as ``GET /jobs`` lists it."""

    job_id: str
    type: str | None = None
    queue: str | None = None
    status: str
    priority: str | None = None
    progress: Number = 0
    attempts: int = 0
    created_at: Time | None = None
    finished_at: Time | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL


class Job(JobSummary):
    """``GET /jobs/:id``: the summary plus payload, result, errors, timing and dependencies."""

    payload: dict[str, Any] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    result: Any = None
    error: str | None = None
    stack: str | None = None
    errors: list[Any] = Field(default_factory=list)
    run_at: Time | None = None
    started_at: Time | None = None
    completed_at: Time | None = None
    failed_at: Time | None = None
    cancelled_at: Time | None = None
    max_attempts: int = 1
    stalls: int = 0
    timeout: int | None = None
    backoff: dict[str, Any] | None = None
    depends_on: list[str] = Field(default_factory=list)
    dependents: list[str] = Field(default_factory=list)
    schedule_id: str | None = None
    worker: str | None = None
    duration_ms: int | None = None


class JobPage(ApiModel):
    jobs: list[JobSummary]
    total: int
    limit: int
    offset: int


class CancelResult(ApiModel):
    success: bool = True
    job_id: str
    message: str | None = None
    previous_status: str | None = None


class RetryResult(ApiModel):
    success: bool = True
    job_id: str
    message: str | None = None
    status: str | None = None


class LogLine(ApiModel):
    at: int | None = None
    attempt: int | None = None
    message: str = ""


class JobLogs(ApiModel):
    job_id: str
    count: int = 0
    logs: list[LogLine] = Field(default_factory=list)


class QueueCounts(ApiModel):
    waiting: int = 0
    delayed: int = 0
    blocked: int = 0
    active: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    paused: int = 0


class QueueStats(ApiModel):
    name: str
    counts: QueueCounts = Field(default_factory=QueueCounts)
    is_paused: bool = False
    processing_rate: float = 0.0


class QueueState(ApiModel):
    """Answer of pause and resume; ``changed`` is False when the queue already was in that state."""

    success: bool = True
    queue: str
    is_paused: bool
    changed: bool


class DrainResult(ApiModel):
    success: bool = True
    queue: str
    removed: int


class CleanResult(ApiModel):
    success: bool = True
    queue: str
    status: str
    removed: list[str] = Field(default_factory=list)
    count: int = 0


class RetryFailedResult(ApiModel):
    """What ``retry_failed`` did (computed by the client: the API retries one job per call)."""

    queue: str
    retried: list[str] = Field(default_factory=list)
    #: jobs left failed, with the API's reason (a failed dependency, or retried by someone else)
    skipped: list[dict[str, str]] = Field(default_factory=list)


class Schedule(ApiModel):
    schedule_id: str
    type: str
    schedule: str
    timezone: str = "UTC"
    payload: dict[str, Any] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    overlap: str | None = None
    builtin: bool = False
    status: str = "active"
    created_at: Time | None = None
    updated_at: Time | None = None
    last_run_at: Time | None = None
    last_job_id: str | None = None
    next_run_at: Time | None = None
    fires: int = 0
    skipped: int = 0
    #: only in ``get_schedule``: the jobs it created last, newest first
    recent_jobs: list[JobSummary] = Field(default_factory=list)
    #: only in ``create_schedule``: "created" or "updated"
    result: str | None = None
    #: only in pause and resume
    changed: bool | None = None


class ScheduleList(ApiModel):
    schedules: list[Schedule]
    total: int = 0


class DeletedSchedule(ApiModel):
    success: bool = True
    schedule_id: str
    message: str | None = None


class HealthQueue(ApiModel):
    name: str
    waiting: int = 0
    active: int = 0
    completed: int = 0
    failed: int = 0
    paused: bool = False
    workers: int = 0


class Health(ApiModel):
    """``GET /health``: ``status`` is healthy, degraded (``warnings`` say why) or unhealthy."""

    status: str
    service: str | None = None
    version: str | None = None
    uptime: int | None = None
    queues: list[HealthQueue] = Field(default_factory=list)
    dependencies: dict[str, Any] = Field(default_factory=dict)
    workers: dict[str, Any] | None = None
    scheduler: dict[str, Any] | None = None
    warnings: list[str] = Field(default_factory=list)


class Event(ApiModel):
    """One job transition from ``GET /events`` (queue events such as pause have ``job_id`` None).

    ``from_state`` → ``to_state``; ``active`` → ``active`` is a progress event. ``result`` comes with
    ``completed`` and ``error`` with failures and retries (an older server sends no ``result`` and names
    the job ``job``: both are understood; ``wait()`` then reads the job).
    """

    id: str | None = None
    queue: str | None = None
    job_id: str | None = Field(None, validation_alias=AliasChoices("jobId", "job"), alias="jobId")
    from_state: str = Field("", alias="from")
    to_state: str = Field("", alias="to")
    at: EpochMs | None = None
    attempt: int | None = None
    progress: Number | None = None
    result: Any = None
    error: str | None = None
    type: str | None = None

    @field_validator("job_id", mode="before")
    @classmethod
    def _queue_event(cls, value: Any) -> Any:
        return value or None

    @field_validator("at", mode="before")
    @classmethod
    def _epoch_ms(cls, value: Any) -> Any:
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value / 1000, UTC)
        return value

    @property
    def has_result(self) -> bool:
        """Whether the event carried ``result`` (it may be null: a job that returned None)."""
        return "result" in self.model_fields_set

    @property
    def is_terminal(self) -> bool:
        return self.job_id is not None and self.to_state in TERMINAL_EVENTS
