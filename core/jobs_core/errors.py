"""Typed errors of the job system, and the one place where Lua return codes become exceptions.

Every service maps these to its own surface (HTTP status in the API, flash messages in the dashboard);
none of them compares raw script codes. Each error carries a stable ``code`` string for clients.
"""

from __future__ import annotations

from typing import Any


class JobsError(Exception):
    """Base class; ``status`` is the HTTP status the API answers with."""

    status = 500
    code = "internal"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(JobsError):
    status, code = 400, "invalid_input"


class Unauthorized(JobsError):
    status, code = 401, "unauthorized"


class Forbidden(JobsError):
    status, code = 403, "forbidden"


class NotFound(JobsError):
    status, code = 404, "not_found"


class WrongState(JobsError):
    status, code = 409, "wrong_state"


class PayloadTooLarge(JobsError):
    status, code = 413, "payload_too_large"


class QueueFull(JobsError):
    status, code = 429, "queue_full"
    retry_after_s = 5


class RedisUnavailable(JobsError):
    status, code = 503, "redis_unavailable"


class RedisFull(RedisUnavailable):
    """Redis refused a write: used memory is over ``maxmemory`` (policy ``noeviction``). Nothing of
    the refused call was written; it works again once memory is freed."""

    code = "redis_full"


class ReplicationTimeout(RedisUnavailable):
    """The write is on the master, but fewer replicas than JOBS_REDIS_MIN_REPLICAS_ACK confirmed it in
    time: it could be lost if the master failed now, so it is not reported as accepted."""

    code = "replication_timeout"


# --- scheduler (jobs_core.leader, jobs_core.schedules) ---------------------------------------------------
class LeaderFenced(JobsError):
    """A fire from a term that no longer holds the leader lease; the replica steps down."""

    status, code = 409, "leader_fenced"


class ScheduleStale(JobsError):
    """The schedule changed since the leader built the job; it resyncs and fires again."""

    status, code = 409, "schedule_stale"


# Lua return codes (scripts/*.lua headers). Keep in step with the scripts; tests cover each code.
JOB_NOT_FOUND = -1
JOB_WRONG_STATE = -2
UNKNOWN_DEPENDENCY = -3
QUEUE_IS_FULL = -4
DEPENDENCY_FAILED = -5
# scheduler scripts (fire_schedule, delete_schedule, set_schedule_paused)
LEADER_FENCED = -10
SCHEDULE_NOT_FOUND = -11
SCHEDULE_STALE = -12


def error_for(code: int, op: str, subject: str, detail: Any = None, extra: Any = None) -> JobsError:
    """The exception for a negative script code; ``subject`` is the job id (or queue) acted on."""
    if code == JOB_NOT_FOUND:
        return NotFound(f"job {subject!r} not found", {"jobId": subject})
    if code == JOB_WRONG_STATE:
        return WrongState(
            f"cannot {op} job {subject!r}: it is {detail}", {"jobId": subject, "status": detail}
        )
    if code == UNKNOWN_DEPENDENCY:
        return InvalidInput(
            f"options.dependsOn: job {detail!r} does not exist",
            [{"field": "options.dependsOn", "message": f"unknown job id {detail!r}"}],
        )
    if code == QUEUE_IS_FULL:
        return QueueFull(
            f"queue {detail!r} is full (JOBS_MAX_JOBS_PER_QUEUE waiting and delayed jobs)",
            {"queue": detail},
        )
    if code == DEPENDENCY_FAILED:
        return WrongState(
            f"cannot {op} job {subject!r}: its dependency {detail!r} is {extra}; retry that one first",
            {"jobId": subject, "dependency": detail, "status": extra},
        )
    if code in (LEADER_FENCED, SCHEDULE_NOT_FOUND, SCHEDULE_STALE):
        return _scheduler_error(code, op, subject, detail)
    return JobsError(f"{op} of {subject!r} failed with unexpected code {code}")


def _scheduler_error(code: int, op: str, subject: str, detail: Any) -> JobsError:
    """``subject`` is the schedule id."""
    if code == LEADER_FENCED:
        return LeaderFenced(f"cannot {op} schedule {subject!r}: this replica no longer leads")
    if code == SCHEDULE_STALE:
        return ScheduleStale(f"schedule {subject!r} changed (now rev {detail})", {"rev": detail})
    return NotFound(f"schedule {subject!r} not found", {"scheduleId": subject})
