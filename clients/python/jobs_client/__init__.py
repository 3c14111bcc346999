"""Python SDK of the nChat Jobs API: ``JobsClient`` (blocking) and ``AsyncJobsClient`` (asyncio) with the
same methods, typed answers (``jobs_client.models``) and one error hierarchy (``jobs_client.errors``).
The ``jobs`` command line (``jobs_client.cli``) is built on ``JobsClient``.
"""

from jobs_client.async_client import AsyncJobsClient
from jobs_client.async_events import AsyncEventStream
from jobs_client.calls import AddOptions, JobSpec
from jobs_client.config import VERSION as __version__
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
    QueueStats,
    Schedule,
)
from jobs_client.sync_client import JobsClient
from jobs_client.sync_events import EventStream

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
