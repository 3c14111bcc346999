"""The logic of event streams and of ``wait()``, without any I/O, shared by both clients.

``Subscription`` knows the query of a ``GET /events`` stream, the last event id seen (sent back as
``Last-Event-ID`` when reconnecting, so a stream of one queue resumes without losing or repeating
events), and the capped, jittered back-off between reconnects; 400, 401, 403 and 404 are final, anything
else (503, a dropped connection, the api restarting) is worth another try.

``Waiter`` decides what a job read or an event means for ``wait()``: still running, settled (a result, or
``JobFailed`` / ``JobCancelled``), or "read the job" (a completion event from a server that does not put
the result in its events). The clients subscribe first and read the job second, on every (re)connect, so
a job finishing at any moment is seen either in the read or in the stream.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Final

from httpx_sse import ServerSentEvent
from pydantic import ValidationError

from jobs_client.config import RetryPolicy
from jobs_client.errors import ApiError, JobCancelled, JobFailed, WaitTimeout
from jobs_client.models import Event, Job

FINAL_STATUSES = frozenset({400, 401, 403, 404})
log = logging.getLogger("jobs_client")


def parse_event(sse: ServerSentEvent) -> Event | None:
    """An ``event: job`` message as an ``Event``; other event names and broken data are skipped."""
    if sse.event != "job":
        return None
    try:
        data = json.loads(sse.data)
        return Event.model_validate({**data, "id": sse.id or None}) if isinstance(data, dict) else None
    except (ValueError, ValidationError) as err:
        log.warning("skipping an event that is not a job event (%s): %.200s", type(err).__name__, sse.data)
        return None


class Subscription:
    def __init__(
        self, queue: str | None, job_id: str | None, last_event_id: str | None, retry: RetryPolicy
    ) -> None:
        self.queue = queue
        self.job_id = job_id
        self.last_event_id = last_event_id
        self.failures = 0
        self._retry = retry

    def params(self) -> dict[str, str]:
        query = {"queue": self.queue, "jobId": self.job_id}
        return {k: v for k, v in query.items() if v}

    def headers(self) -> dict[str, str]:
        return {"Last-Event-ID": self.last_event_id} if self.last_event_id else {}

    def accept(self, sse: ServerSentEvent) -> Event | None:
        """The event of a message; the stream works again, so the back-off starts over."""
        self.failures = 0
        if sse.id:
            self.last_event_id = sse.id
        return parse_event(sse)

    @staticmethod
    def is_final(error: ApiError) -> bool:
        return error.status in FINAL_STATUSES

    def reconnect_delay(self, failure: Exception | None) -> float:
        self.failures += 1
        wait = self._retry.backoff_delay(self.failures)
        why = str(failure) if failure else "the stream ended"
        log.warning("events: %s; reconnecting in %.2f s (from event %s)", why, wait, self.last_event_id)
        return wait


class Refetch:
    """``wait()`` must read the job to settle (the event said "completed" but carried no result)."""


REFETCH: Final = Refetch()


@dataclass(frozen=True)
class Settled:
    job_id: str
    status: str
    result: Any = None
    error: str | None = None

    def unwrap(self) -> Any:
        """The result of a completed job; raises for a failed, cancelled or removed one."""
        if self.status == "completed":
            return self.result
        if self.status == "failed":
            raise JobFailed(self.job_id, self.error)
        raise JobCancelled(self.job_id, self.status)


class Waiter:
    def __init__(self, job_id: str, timeout: float | None, retry: RetryPolicy) -> None:
        self.job_id = job_id
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.status: str | None = None
        self.failures = 0
        self._retry = retry

    def on_job(self, job: Job) -> Settled | None:
        self.status = job.status
        if not job.is_terminal:
            return None
        return Settled(job.job_id, job.status, job.result, job.error)

    def on_event(self, event: Event) -> Settled | Refetch | None:
        if event.job_id != self.job_id:
            return None
        self.status = event.to_state
        if not event.is_terminal:
            return None
        if event.to_state == "completed" and not event.has_result:
            return REFETCH
        return Settled(self.job_id, event.to_state, event.result, event.error)

    def remaining(self) -> float | None:
        """Seconds left (never negative), None without a timeout."""
        return None if self.deadline is None else max(self.deadline - time.monotonic(), 0.0)

    def check_deadline(self) -> None:
        if self.remaining() == 0.0:
            raise self.timed_out()

    def timed_out(self) -> WaitTimeout:
        return WaitTimeout(self.job_id, self.timeout or 0.0, self.status)

    def reconnect_delay(self, failure: Exception | None) -> float:
        """Back-off before subscribing again, never past the deadline."""
        self.failures += 1
        wait = self._retry.backoff_delay(self.failures)
        remaining = self.remaining()
        log.warning("wait %s: %s; subscribing again in %.2f s", self.job_id, failure or "stream ended", wait)
        return wait if remaining is None else min(wait, remaining)
