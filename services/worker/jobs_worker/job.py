"""The job object a processor receives: its data, and the calls that report progress and log lines.

Progress and log writes are fenced: once this try has lost its lease or was cancelled, they are
ignored by Redis and the calls return False instead of raising, so a processor need not care.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from jobs_core.keys import LOG_LINES_CAP
from jobs_core.store import JobStore


class UnrecoverableError(Exception):
    """Raise it from a processor to fail the job at once, without the remaining retries."""


@dataclass(frozen=True)
class Claimed:
    """One claimed try as the claim script returns it."""

    id: str
    queue: str
    type: str
    payload: str
    attempt: int
    max_attempts: int
    timeout_ms: int
    priority: str
    token: str
    backoff: str
    backoff_delay: int
    created_at: int

    @functools.cached_property
    def key(self) -> str:
        """Names this try among all on the worker: tokens (``worker:claims``) repeat across jobs, and two
        tries of one job can overlap on one worker (an old one ending while its successor starts)."""
        return f"{self.id}@{self.token}"

    @classmethod
    def from_row(cls, row: list[Any]) -> Claimed:
        return cls(
            row[0],
            row[1],
            row[2],
            row[3],
            int(row[4]),
            int(row[5]),
            int(row[6]),
            row[7],
            row[8],
            row[9],
            int(row[10]),
            int(row[11]),
        )


@dataclass
class Job:
    """What ``@register_job_processor`` functions receive."""

    claimed: Claimed
    store: JobStore
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.claimed.id

    @property
    def type(self) -> str:
        return self.claimed.type

    @property
    def data(self) -> dict[str, Any]:
        """Alias of ``payload`` (BullMQ's name)."""
        return self.payload

    @property
    def queue(self) -> str:
        return self.claimed.queue

    @property
    def priority(self) -> str:
        return self.claimed.priority

    @property
    def attempt(self) -> int:
        """1 for the first try."""
        return self.claimed.attempt

    @property
    def max_attempts(self) -> int:
        return self.claimed.max_attempts

    async def update_progress(self, progress: float) -> bool:
        """Reports 0..100; visible in GET /jobs/:id and as an event. False when this try is fenced."""
        if not 0 <= progress <= 100:
            raise ValueError("progress must be between 0 and 100")
        value = int(progress) if float(progress).is_integer() else round(float(progress), 2)
        return bool(await self.store.run("progress", self.id, self.claimed.token, value))

    async def log(self, message: str, **fields: Any) -> bool:
        """Keeps one line in the job's log (GET /jobs/:id/logs). False when this try is fenced."""
        line = json.dumps(
            {"at": int(time.time() * 1000), "attempt": self.attempt, "message": str(message), **fields},
            default=str,
        )
        return bool(await self.store.run("append_log", self.id, self.claimed.token, line, LOG_LINES_CAP))
