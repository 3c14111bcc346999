"""Every API call, described once: method, path, query, body, whether it may be retried, and how its
answer becomes a model. The sync and the async client only send these descriptions (``Call``) and hand
the answer back to ``Call.parse``, so both build the same requests and return the same types.

Units on this side are Python's: durations in seconds (or ``timedelta``), times as ``datetime``; they
become the API's milliseconds and ISO strings here. A value the API would refuse is left to the API,
which names the field in its 400 (``BadRequest.details``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, Literal, TypedDict, TypeVar
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter, ValidationError

from jobs_client import models as m
from jobs_client.errors import ApiError, error_from_response

T = TypeVar("T")
Duration = float | timedelta
Priority = Literal["critical", "high", "normal", "low"]


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, str | int] | None = None
    json: Any = None
    #: may be sent again after 429, 503 or a connection error without doing anything twice
    retryable: bool = True
    #: error statuses whose body is still the answer (``/health`` answers 503 with its document)
    accept: frozenset[int] = frozenset()

    def result(self, response: httpx.Response) -> T:
        """The parsed answer, or the ApiError for an error status (also for a body that is not ours)."""
        if response.status_code >= 400 and response.status_code not in self.accept:
            raise error_from_response(response)
        try:
            return self.parse(response.json())
        except (ValueError, ValidationError) as err:
            raise ApiError(
                f"unexpected answer to {self.method} {self.path}: {str(err).splitlines()[0]}",
                status=response.status_code,
                code="bad_response",
            ) from None


def _seg(value: str) -> str:
    """One path segment: ids may hold ``:`` or ``@`` (cron job ids), never a ``/`` that moves the path."""
    return quote(value, safe="")


def ms(value: Duration) -> int:
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return round(seconds * 1000)


class AddOptions(TypedDict, total=False):
    """Options of ``add_job`` (and fields of ``JobSpec``); durations in seconds or ``timedelta``."""

    queue: str
    priority: Priority
    delay: Duration
    run_at: datetime
    attempts: int
    backoff: Literal["exponential", "fixed"]
    retry_delay: Duration
    timeout: Duration
    job_id: str
    depends_on: Sequence[str]
    remove_on_complete: bool | int
    remove_on_fail: bool | int
    #: raw API options merged last, for fields this SDK version does not know yet
    options: Mapping[str, Any]


@dataclass(frozen=True)
class JobSpec:
    """One job to add; ``JobsClient.add_bulk`` takes a list of them."""

    type: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    queue: str | None = None
    priority: Priority | None = None
    delay: Duration | None = None
    run_at: datetime | None = None
    attempts: int | None = None
    backoff: Literal["exponential", "fixed"] | None = None
    retry_delay: Duration | None = None
    timeout: Duration | None = None
    job_id: str | None = None
    depends_on: Sequence[str] = ()
    remove_on_complete: bool | int | None = None
    remove_on_fail: bool | int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        """The body of ``POST /schedule`` (one entry of a bulk request)."""
        options: dict[str, Any] = {
            "queue": self.queue,
            "priority": self.priority,
            "delay": ms(self.delay) if self.delay is not None else None,
            "timeout": ms(self.timeout) if self.timeout is not None else None,
            "jobId": self.job_id,
            "dependsOn": list(self.depends_on) or None,
            "removeOnComplete": self.remove_on_complete,
            "removeOnFail": self.remove_on_fail,
        }
        retry = {
            "attempts": self.attempts,
            "backoff": self.backoff,
            "delay": ms(self.retry_delay) if self.retry_delay is not None else None,
        }
        options["retry"] = {k: v for k, v in retry.items() if v is not None} or None
        options = {k: v for k, v in options.items() if v is not None} | dict(self.options)
        body: dict[str, Any] = {"type": self.type, "payload": dict(self.payload), "options": options}
        if self.run_at is not None:
            body["runAt"] = self.run_at.isoformat()
        return body


def _listed(key: str, model: type[T]) -> Callable[[Any], list[T]]:
    adapter = TypeAdapter(list[model])  # type: ignore[valid-type]
    return lambda body: adapter.validate_python(body[key])


# ---- jobs -------------------------------------------------------------------------------------------


def add_job(spec: JobSpec) -> Call[m.AddedJob]:
    # Without a jobId a second POST would add a second job: only an idempotent add is retried.
    return Call(
        "POST", "/schedule", m.AddedJob.model_validate, json=spec.to_api(), retryable=bool(spec.job_id)
    )


def add_bulk(jobs: Iterable[JobSpec | Mapping[str, Any]]) -> Call[list[m.AddedJob]]:
    bodies = [job.to_api() if isinstance(job, JobSpec) else dict(job) for job in jobs]
    every_id = all((b.get("options") or {}).get("jobId") for b in bodies)
    return Call(
        "POST", "/schedule/bulk", _listed("jobs", m.AddedJob), json={"jobs": bodies}, retryable=every_id
    )


def get_job(job_id: str) -> Call[m.Job]:
    return Call("GET", f"/jobs/{_seg(job_id)}", m.Job.model_validate)


def list_jobs(
    queue: str | None, status: str | Sequence[str] | None, type: str | None, limit: int, offset: int
) -> Call[m.JobPage]:
    states = status if status is None or isinstance(status, str) else ",".join(status)
    query = {"queue": queue, "status": states, "type": type, "limit": limit, "offset": offset}
    params = {k: v for k, v in query.items() if v is not None}
    return Call("GET", "/jobs", m.JobPage.model_validate, params=params)


def cancel_job(job_id: str) -> Call[m.CancelResult]:
    # Sent twice it cannot cancel twice: the second answer is 409 (already cancelled).
    return Call("DELETE", f"/jobs/{_seg(job_id)}", m.CancelResult.model_validate)


def retry_job(job_id: str) -> Call[m.RetryResult]:
    return Call("POST", f"/jobs/{_seg(job_id)}/retry", m.RetryResult.model_validate)


def job_logs(job_id: str) -> Call[m.JobLogs]:
    return Call("GET", f"/jobs/{_seg(job_id)}/logs", m.JobLogs.model_validate)


def job_token(job_id: str) -> Call[m.JobToken]:
    # Sent twice it mints two tokens for the same job: harmless, both expire.
    return Call("POST", f"/jobs/{_seg(job_id)}/token", m.JobToken.model_validate)


# ---- queues -----------------------------------------------------------------------------------------


def list_queues() -> Call[list[m.QueueStats]]:
    return Call("GET", "/queues", _listed("queues", m.QueueStats))


def get_queue(queue: str) -> Call[m.QueueStats]:
    return Call("GET", f"/queues/{_seg(queue)}", m.QueueStats.model_validate)


def pause_queue(queue: str) -> Call[m.QueueState]:
    return Call("POST", f"/queues/{_seg(queue)}/pause", m.QueueState.model_validate)


def resume_queue(queue: str) -> Call[m.QueueState]:
    return Call("POST", f"/queues/{_seg(queue)}/resume", m.QueueState.model_validate)


def drain_queue(queue: str, delayed: bool) -> Call[m.DrainResult]:
    # "Remove what waits now": repeating it after a lost answer removes nothing the caller wanted kept.
    path = f"/queues/{_seg(queue)}/drain"
    return Call("POST", path, m.DrainResult.model_validate, json={"delayed": delayed})


def clean_queue(queue: str, status: str, grace: Duration, limit: int) -> Call[m.CleanResult]:
    body = {"status": status, "grace": ms(grace), "limit": limit}
    return Call("POST", f"/queues/{_seg(queue)}/clean", m.CleanResult.model_validate, json=body)


# ---- schedules --------------------------------------------------------------------------------------


def list_schedules() -> Call[list[m.Schedule]]:
    return Call("GET", "/schedules", _listed("schedules", m.Schedule))


def get_schedule(schedule_id: str) -> Call[m.Schedule]:
    return Call("GET", f"/schedules/{_seg(schedule_id)}", m.Schedule.model_validate)


def create_schedule(
    spec: JobSpec, schedule: str, timezone: str, schedule_id: str | None, overlap: str | None
) -> Call[m.Schedule]:
    body = spec.to_api()
    body.update(schedule=schedule, timezone=timezone)
    body["options"].update({k: v for k, v in (("scheduleId", schedule_id), ("overlap", overlap)) if v})
    # with a scheduleId it is an upsert: sending it again changes nothing
    return Call("POST", "/schedule", m.Schedule.model_validate, json=body, retryable=bool(schedule_id))


def delete_schedule(schedule_id: str) -> Call[m.DeletedSchedule]:
    return Call("DELETE", f"/schedules/{_seg(schedule_id)}", m.DeletedSchedule.model_validate)


def pause_schedule(schedule_id: str) -> Call[m.Schedule]:
    return Call("POST", f"/schedules/{_seg(schedule_id)}/pause", m.Schedule.model_validate)


def resume_schedule(schedule_id: str) -> Call[m.Schedule]:
    return Call("POST", f"/schedules/{_seg(schedule_id)}/resume", m.Schedule.model_validate)


# ---- health -----------------------------------------------------------------------------------------


def health() -> Call[m.Health]:
    # Not retried: a health check reports the present, and an unhealthy api answers 503 with the document.
    return Call("GET", "/health", m.Health.model_validate, retryable=False, accept=frozenset({503}))
