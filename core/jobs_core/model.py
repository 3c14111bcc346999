"""The job contract shared by every producer (API, bulk, scheduler, dashboard): priorities, states,
request options with their validation, queue routing, and the spec handed to the ``enqueue`` script.

Validation errors are pydantic's, so each names the field and the reason; nothing here touches Redis.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from jobs_core.builtin_payloads import check_payload
from jobs_core.errors import InvalidInput
from jobs_core.settings import CoreSettings

DAY_MS = 86_400_000
MAX_DELAY_MS = 366 * DAY_MS
MAX_PAYLOAD_BYTES = 512 * 1024

JobId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")]
JobType = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]


class Priority(StrEnum):
    critical = "critical"
    high = "high"
    normal = "normal"
    low = "low"


class State(StrEnum):
    waiting = "waiting"
    delayed = "delayed"
    blocked = "blocked"
    active = "active"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"


# SPEC.md "Queue Selection": types with a home queue; others go by priority.
TYPE_QUEUES = {
    "send-notification": "high-priority",
    "scheduled-message": "scheduled",
    "cleanup-expired": "low-priority",
}
PRIORITY_QUEUES = {
    Priority.critical: "high-priority",
    Priority.high: "high-priority",
    Priority.normal: "default",
    Priority.low: "low-priority",
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RetryOptions(Strict):
    attempts: int | None = Field(None, ge=1, le=100, description="total tries, the first included")
    delay: int | None = Field(None, ge=0, le=DAY_MS, description="base wait between tries (ms)")
    backoff: Literal["exponential", "fixed"] | None = None


class JobOptions(Strict):
    priority: Priority = Priority.normal
    delay: int = Field(0, ge=0, le=MAX_DELAY_MS, description="ms before the job may run")
    queue: str | None = None
    retry: RetryOptions | None = None
    timeout: int | None = Field(None, ge=1, le=DAY_MS, description="ms one try may take")
    job_id: JobId | None = Field(None, alias="jobId")
    remove_on_complete: bool | int | None = Field(None, alias="removeOnComplete", ge=0)
    remove_on_fail: bool | int | None = Field(None, alias="removeOnFail", ge=0)
    depends_on: list[JobId] = Field(default_factory=list, alias="dependsOn", max_length=100)


class JobRequest(Strict):
    """One job as POST /schedule (without "schedule") and each entry of a bulk request take it."""

    type: JobType
    payload: dict[str, Any] = Field(default_factory=dict)
    options: JobOptions = Field(default_factory=JobOptions)
    run_at: datetime | None = Field(None, alias="runAt")

    @field_validator("run_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _retention(value: bool | int | None) -> int:
    """removeOnComplete/removeOnFail → script form: -1 queue default, 0 delete at once, N keep N."""
    if value is None or value is False:
        return -1
    if value is True:
        return 0
    return int(value)


def route_queue(job_type: str, options: JobOptions, settings: CoreSettings) -> str:
    """options.queue, else the type's home queue, else by priority (DESIGN §2)."""
    if options.queue is not None:
        if options.queue not in settings.queues:
            raise InvalidInput(
                f"options.queue: unknown queue {options.queue!r}",
                [{"field": "options.queue", "message": f"known queues: {', '.join(settings.queues)}"}],
            )
        return options.queue
    for candidate in (TYPE_QUEUES.get(job_type), PRIORITY_QUEUES[options.priority], "default"):
        if candidate and candidate in settings.queues:
            return candidate
    return settings.queues[0]


def _backoff(options: JobOptions, settings: CoreSettings) -> tuple[int, str, int]:
    retry = options.retry or RetryOptions()
    backoff = retry.backoff or settings.retry_backoff
    default_delay = settings.backoff_delay if backoff == "exponential" else settings.retry_delay
    delay = retry.delay if retry.delay is not None else default_delay
    return retry.attempts or settings.max_retries, backoff, delay


def build_spec(
    request: JobRequest, settings: CoreSettings, now: datetime | None = None, where: str = ""
) -> dict[str, Any]:
    """The spec the ``enqueue`` script stores (lib/create_job.lua); raises InvalidInput.

    A built-in type's payload is checked (JOBS_BUILTIN_PROCESSORS); ``where`` prefixes its field names."""
    if settings.builtin_processors:
        check_payload(request.type, request.payload, where)
    payload_text = json.dumps(request.payload, separators=(",", ":"), ensure_ascii=False)
    if len(payload_text.encode()) > MAX_PAYLOAD_BYTES:
        raise InvalidInput(f"payload: larger than {MAX_PAYLOAD_BYTES} bytes once encoded")
    options = request.options
    if request.run_at is not None and options.delay:
        raise InvalidInput("runAt: give either runAt or options.delay, not both")
    run_at_ms = 0
    if request.run_at is not None:
        run_at_ms = int(request.run_at.timestamp() * 1000)
        now_ms = int((now or datetime.now(UTC)).timestamp() * 1000)
        if run_at_ms - now_ms > MAX_DELAY_MS:
            raise InvalidInput("runAt: more than 366 days ahead")
    attempts, backoff, backoff_delay = _backoff(options, settings)
    return {
        "id": options.job_id or f"job-{uuid.uuid4().hex}",
        "type": request.type,
        "queue": route_queue(request.type, options, settings),
        "priority": options.priority.value,
        "payload": payload_text,
        "options": options.model_dump_json(by_alias=True, exclude_defaults=True),
        "runAt": run_at_ms,
        "delay": options.delay,
        "maxAttempts": attempts,
        "backoff": backoff,
        "backoffDelay": backoff_delay,
        "timeout": options.timeout or settings.default_timeout,
        "dependsOn": list(dict.fromkeys(options.depends_on)),
        "removeOnComplete": _retention(options.remove_on_complete),
        "removeOnFail": _retention(options.remove_on_fail),
    }


def backoff_ms(backoff: str, base_ms: int, failed_attempt: int) -> int:
    """Wait before try n+1 after try n failed: base·2^(n-1) (exponential) or base (fixed)."""
    if backoff == "exponential":
        return int(min(base_ms * 2 ** max(failed_attempt - 1, 0), DAY_MS))
    return base_ms
