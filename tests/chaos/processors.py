"""What the chaos workers run (loaded with JOBS_PROCESSOR_MODULES=chaos.processors).

Every processor writes a ``start`` line when its try begins and one ``effect`` line just before it
returns successfully (chaos.effects): the effect is the job's one visible action, so the checker counts
effects to find duplicates. Nothing is awaited between writing the effect and returning, so a cancel or a
shutdown cannot slip in between: a try either made its effect and returns it, or made none.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from chaos.effects import ENV_DIR, EffectLog
from jobs_worker import Job, register_job_processor

_log = EffectLog(os.environ.get(ENV_DIR, "."))


def _step(job: Job, step: str) -> None:
    _log.write(step, job.id, job.attempt, job.claimed.token)


def _done(job: Job) -> dict[str, Any]:
    _step(job, "effect")
    return {"ok": True, "attempt": job.attempt}


@register_job_processor("chaos-instant")
async def instant(job: Job) -> dict[str, Any]:
    _step(job, "start")
    return _done(job)


@register_job_processor("chaos-cancel")
@register_job_processor("chaos-slow")
async def slow(job: Job) -> dict[str, Any]:
    """Also the kind the run cancels mid-run: it sleeps ``ms`` unless interrupted."""
    _step(job, "start")
    await asyncio.sleep(float(job.payload["ms"]) / 1000)
    return _done(job)


@register_job_processor("chaos-flaky")
async def flaky(job: Job) -> dict[str, Any]:
    """Fails its first ``fails`` tries, then succeeds."""
    _step(job, "start")
    if job.attempt <= int(job.payload["fails"]):
        raise RuntimeError(f"planned failure of try {job.attempt}")
    return _done(job)


@register_job_processor("chaos-tick")
async def tick(job: Job) -> dict[str, Any]:
    """The job of each fire of the per-second cron schedule."""
    _step(job, "start")
    return _done(job)
