"""An example of a custom processor module, loaded with ``JOBS_PROCESSOR_MODULES=custom_jobs`` (and this
folder on PYTHONPATH, as `make run` does). It handles SPEC.md's "Schedule Test Job" (``"type": "custom"``)
and shows the whole processor API: the payload, progress, job log lines, a result, and the error that
fails a job at once. A module of your own registering a built-in type (e.g. "send-notification")
replaces the built-in processor of that type.
"""

from __future__ import annotations

from typing import Any

from jobs_worker import Job, UnrecoverableError, register_job_processor


@register_job_processor("custom")
async def custom(job: Job) -> dict[str, Any]:
    action = job.payload.get("action")
    if not isinstance(action, str) or not action:
        raise UnrecoverableError("payload.action: a non-empty string is required")  # no retries
    await job.log("custom job started", action=action)
    await job.update_progress(50)
    data = job.payload.get("data") or {}
    await job.update_progress(100)
    return {"success": True, "action": action, "dataKeys": sorted(data) if isinstance(data, dict) else []}
