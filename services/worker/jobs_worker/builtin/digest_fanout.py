"""send-email-digest without ``userId`` (the built-in 9:00 schedule): one digest job per user whose email
frequency is this one, created in bulk through the core's ``JobStore.enqueue``.

Recipients: ``nchat_user_settings.notification_email_frequency`` equal to the frequency (email not
switched off), plus ``nchat_digest_settings`` rows enabled for it where that table exists; live, active
users only. Each child job has the id ``digest:{frequency}:{UTC day}:{user id}``: a second run on the same
day finds them (``existing``) and creates none, so nobody is mailed twice. A full queue
(JOBS_MAX_JOBS_PER_QUEUE) is a transient failure: the retry skips the jobs already made.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jobs_core.errors import QueueFull
from jobs_core.model import JobRequest, build_spec
from jobs_worker.builtin.failures import TargetUnavailable
from jobs_worker.builtin.nchat import table_exists
from jobs_worker.builtin.targets import Targets
from jobs_worker.job import Job

CHUNK = 500

SETTINGS_SQL = """
SELECT u.id FROM nchat_users u JOIN nchat_user_settings s ON s.user_id = u.id
 WHERE s.notification_email_frequency = $1 AND COALESCE(s.notification_email, true)
   AND u.deleted_at IS NULL AND u.status = 'active'
"""
DIGEST_SETTINGS_SQL = """
SELECT u.id FROM nchat_users u JOIN nchat_digest_settings d ON d.user_id = u.id
 WHERE d.enabled AND d.frequency = $1 AND u.deleted_at IS NULL AND u.status = 'active'
"""


async def recipients(conn: Any, frequency: str) -> list[str]:
    query = SETTINGS_SQL
    if await table_exists(conn, "nchat_digest_settings"):
        query = f"{SETTINGS_SQL} UNION {DIGEST_SETTINGS_SQL}"
    rows = await conn.fetch(f"SELECT id FROM ({query}) AS r ORDER BY id", frequency)
    return [str(row["id"]) for row in rows]


async def fan_out(job: Job, frequency: str, targets: Targets) -> dict[str, Any]:
    pool = await targets.database("send-email-digest")
    async with pool.acquire() as conn:
        users = await recipients(conn, frequency)
    day = datetime.now(UTC).date().isoformat()
    created = existing = 0
    for start in range(0, len(users), CHUNK):
        chunk = users[start : start + CHUNK]
        specs = [_spec(job, frequency, day, user_id) for user_id in chunk]
        try:
            items = await job.store.enqueue(specs)
        except QueueFull as err:
            raise TargetUnavailable(f"{err.message}; {created} digest jobs created so far") from None
        made = sum(1 for item in items if not item.existed)
        created, existing = created + made, existing + len(items) - made
        await job.update_progress(round(100 * (start + len(chunk)) / len(users), 1))
    await job.log("digest fan-out", users=len(users), created=created, existing=existing)
    return {
        "fanOut": True,
        "frequency": frequency,
        "day": day,
        "users": len(users),
        "created": created,
        "existing": existing,
    }


def _spec(job: Job, frequency: str, day: str, user_id: str) -> dict[str, Any]:
    request = JobRequest.model_validate(
        {
            "type": "send-email-digest",
            "payload": {"userId": user_id, "frequency": frequency},
            "options": {"jobId": f"digest:{frequency}:{day}:{user_id}"},
        }
    )
    return build_spec(request, job.store.settings)
