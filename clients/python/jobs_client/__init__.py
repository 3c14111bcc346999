"""Python SDK of the nChat Jobs API: ``JobsClient`` (blocking) and ``AsyncJobsClient`` (asyncio) with the
same methods, typed answers (``jobs_client.models``) and one error hierarchy (``jobs_client.errors``).
The ``jobs`` command line (``jobs_client.cli``) is built on ``JobsClient``.

Names are imported on first use (PEP 562), so a program that needs only the blocking client (the CLI
does) never loads asyncio and the async modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobs_client.async_client import AsyncJobsClient
    from jobs_client.async_events import AsyncEventStream
    from jobs_client.calls import AddOptions, JobSpec
    from jobs_client.config import RetryPolicy
    from jobs_client.errors import (
        ApiError,
        BadRequest,
        Conflict,
        Forbidden,
        JobCancelled,
        JobFailed,
        JobsError,
        NotFound,
        PayloadTooLarge,
        RateLimited,
        Unauthorized,
        Unavailable,
        WaitTimeout,
    )
    from jobs_client.models import (
        AddedJob,
        Event,
        Health,
        Job,
        JobPage,
        JobSummary,
        JobToken,
        QueueStats,
        Schedule,
    )
    from jobs_client.sync_client import JobsClient
    from jobs_client.sync_events import EventStream

_ERRORS = "ApiError BadRequest Conflict Forbidden JobCancelled JobFailed JobsError NotFound PayloadTooLarge"
_MODELS = "AddedJob Event Health Job JobPage JobSummary JobToken QueueStats Schedule"
_HOMES = {
    "AsyncJobsClient": "async_client",
    "AsyncEventStream": "async_events",
    "AddOptions": "calls",
    "JobSpec": "calls",
    "RetryPolicy": "config",
    "JobsClient": "sync_client",
    "EventStream": "sync_events",
    **dict.fromkeys(f"{_ERRORS} RateLimited Unauthorized Unavailable WaitTimeout".split(), "errors"),
    **dict.fromkeys(_MODELS.split(), "models"),
}
__version__ = "1.0.0"


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'jobs_client' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"jobs_client.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "AddOptions",
    "AddedJob",
    "ApiError",
    "AsyncEventStream",
    "AsyncJobsClient",
    "BadRequest",
    "Conflict",
    "Event",
    "EventStream",
    "Forbidden",
    "Health",
    "Job",
    "JobCancelled",
    "JobFailed",
    "JobPage",
    "JobSpec",
    "JobSummary",
    "JobToken",
    "JobsClient",
    "JobsError",
    "NotFound",
    "PayloadTooLarge",
    "QueueStats",
    "RateLimited",
    "RetryPolicy",
    "Schedule",
    "Unauthorized",
    "Unavailable",
    "WaitTimeout",
    "__version__",
]
