"""The built-in schedules of SPEC.md "Scheduled Tasks", declared from the ``JOBS_*_ENABLED/SCHEDULE`` pairs.

Every replica applies them at start: an enabled one is created or updated under its fixed id (an
unchanged definition is a no-op, so N replicas starting together change nothing N times), a disabled one
is deleted. They are ordinary schedules afterwards: listed, paused and resumed through the API. A pause
survives restarts, because re-declaring a definition keeps its paused flag.

How it fails: Redis errors propagate (the caller retries); bad expressions never get here, since
:class:`SchedulerSettings` rejects them at start.
"""

from __future__ import annotations

from typing import Any

from jobs_core.errors import NotFound
from jobs_core.logging import get_logger
from jobs_core.schedules import BUILTIN_PREFIX, Schedule, ScheduleStore
from jobs_scheduler.settings import SchedulerSettings

log = get_logger("jobs_scheduler.builtins")

# (settings name, job type); the id is BUILTIN_PREFIX + the name with dashes.
BUILTINS = (
    ("cleanup_old_messages", "cleanup-expired"),
    ("generate_analytics", "generate-analytics"),
    ("backup_database", "backup-database"),
    ("send_email_digest", "send-email-digest"),
)


HOUR_MS = 3_600_000


def builtin_payload(name: str, settings: SchedulerSettings) -> dict[str, Any]:
    """Payloads the built-in processors accept (jobs_core.builtin_payloads). The backup names no
    destination: the worker, which holds the S3 settings, picks s3 when a bucket is set, else local."""
    if name == "cleanup_old_messages":
        return {"targetType": "messages", "olderThan": settings.cleanup_old_messages_days}
    if name == "send_email_digest":
        return {"frequency": "daily"}
    if name == "backup_database":
        return {"retention": 30}
    return {}  # generate-analytics: yesterday (UTC), every metric


def builtin_options(name: str) -> dict[str, Any]:
    """Long jobs get more than JOBS_DEFAULT_TIMEOUT: a cleanup of millions of rows, a big dump."""
    timeouts = {"cleanup_old_messages": 2 * HOUR_MS, "backup_database": 6 * HOUR_MS}
    return {"timeout": timeouts[name]} if name in timeouts else {}


def builtin_schedules(settings: SchedulerSettings) -> tuple[list[Schedule], list[str]]:
    """(schedules to declare, ids to remove) according to the settings."""
    wanted, unwanted = [], []
    for name, job_type in BUILTINS:
        sid = BUILTIN_PREFIX + name.replace("_", "-")
        if not getattr(settings, f"{name}_enabled"):
            unwanted.append(sid)
            continue
        expression = getattr(settings, f"{name}_schedule")
        payload = builtin_payload(name, settings)
        options = builtin_options(name)
        wanted.append(Schedule(sid, job_type, expression, settings.builtin_timezone, payload, options))
    return wanted, unwanted


async def apply_builtins(store: ScheduleStore, settings: SchedulerSettings) -> None:
    wanted, unwanted = builtin_schedules(settings)
    for schedule in wanted:
        outcome, rev = await store.upsert(schedule)
        if outcome != "unchanged":
            log.info(
                "builtin_schedule",
                schedule_id=schedule.id,
                schedule=schedule.schedule,
                result=outcome,
                rev=rev,
            )
    for sid in unwanted:
        try:
            await store.delete(sid)
        except NotFound:
            continue
        log.info("builtin_schedule", schedule_id=sid, result="removed")
