"""A processor module that replaces a built-in type (loaded after the built-ins: it wins)."""

from __future__ import annotations

from typing import Any

from jobs_worker import Job, register_job_processor


@register_job_processor("generate-analytics")
async def my_analytics(job: Job) -> dict[str, Any]:
    return {"custom": True, "payload": job.payload}
