"""Request and query models of the API beyond the job itself (bulk, list, drain, clean); they also
feed the OpenAPI document. Validation failures name the field and the reason.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from jobs_core.model import JobRequest


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class BulkRequest(Strict):
    jobs: list[dict[str, Any]] = Field(min_length=1, description="each entry as POST /schedule takes it")


class ListQuery(Strict):
    queue: str | None = None
    status: str | None = Field(None, description="one state or several, comma-separated")
    type: str | None = Field(None, max_length=64)
    limit: int = Field(20, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=1_000_000)


class DrainRequest(Strict):
    delayed: bool = Field(False, description="also remove delayed jobs")


class CleanRequest(Strict):
    grace: int = Field(
        0, ge=0, le=10 * 365 * 86_400_000, description="ms; only jobs finished before now-grace"
    )
    status: Literal["completed", "failed", "cancelled"] = "completed"
    # One clean is one script: 10,000 deletions hold Redis for about 0.1 s; more means several calls.
    limit: int = Field(1000, ge=1, le=10_000)


class EventsQuery(Strict):
    queue: str | None = None
    jobId: str | None = Field(None, max_length=128)
    token: str | None = Field(None, description="a job-scoped token (EventSource cannot set headers)")


__all__ = ["BulkRequest", "CleanRequest", "DrainRequest", "EventsQuery", "JobRequest", "ListQuery"]
