"""SPEC.md's six built-in job types, doing nChat's real work (docs/builtin-jobs.md).

:func:`register_builtins` registers one processor per type (when ``JOBS_BUILTIN_PROCESSORS`` is true,
before the modules of ``JOBS_PROCESSOR_MODULES`` are imported, so that a custom processor for the same
type replaces the built-in one) and returns the :class:`Targets` the worker closes at shutdown.

Every built-in processor runs inside :func:`_guarded`: the payload is validated first (a bad one fails
the job at once naming the field), and any failure leaves as ``UnrecoverableError`` (permanent) or
``TargetUnavailable`` (retried) with every configured secret scrubbed from its message
(:mod:`jobs_worker.builtin.failures`).
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from jobs_core.builtin_payloads import Payload, describe, field_errors, parse_payload
from jobs_core.logging import get_logger
from jobs_worker.builtin.failures import TargetUnavailable, classify
from jobs_worker.builtin.settings import TargetSettings
from jobs_worker.builtin.targets import Targets
from jobs_worker.job import Job, UnrecoverableError
from jobs_worker.processors import register_job_processor

log = get_logger("jobs_worker.builtin")
Builtin = Callable[[Job, Any, Targets], Awaitable[dict[str, Any]]]


def _processors() -> dict[str, Builtin]:
    from jobs_worker.builtin.analytics import generate_analytics
    from jobs_worker.builtin.backup import backup_database
    from jobs_worker.builtin.cleanup import cleanup_expired
    from jobs_worker.builtin.digest import send_email_digest
    from jobs_worker.builtin.notification import send_notification
    from jobs_worker.builtin.scheduled_message import scheduled_message

    return {
        "send-notification": send_notification,
        "send-email-digest": send_email_digest,
        "cleanup-expired": cleanup_expired,
        "generate-analytics": generate_analytics,
        "backup-database": backup_database,
        "scheduled-message": scheduled_message,
    }


def register_builtins(settings: TargetSettings, pool_size: int) -> Targets:
    targets = Targets(settings, pool_size)
    for job_type, fn in _processors().items():
        register_job_processor(job_type)(_guarded(job_type, fn, targets))
    return targets


def _guarded(job_type: str, fn: Builtin, targets: Targets) -> Callable[[Job], Awaitable[dict[str, Any]]]:
    async def processor(job: Job) -> dict[str, Any]:
        payload = _payload(job_type, job.payload)
        try:
            return await fn(job, payload, targets)
        except asyncio.CancelledError:
            raise
        except Exception as err:
            replacement = classify(err, targets.scrub)
            if not isinstance(err, UnrecoverableError | TargetUnavailable):
                # Not one of ours: keep where it came from, for whoever reads the worker's log.
                where = targets.scrub("".join(traceback.format_exception(err))[-4000:])
                log.warning("builtin_error", job_id=job.id, type=job_type, attempt=job.attempt, stack=where)
            raise replacement from None

    processor.__name__ = processor.__qualname__ = f"builtin_{job_type.replace('-', '_')}"
    return processor


def _payload(job_type: str, payload: Any) -> Payload:
    try:
        return parse_payload(job_type, payload)
    except ValidationError as err:
        raise UnrecoverableError(f"invalid payload: {describe(field_errors(err))}") from None
