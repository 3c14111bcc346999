"""send-email-digest for one user: their unread messages, grouped by channel, as a text + HTML email.

Unread means: in a channel they are a member of, newer than both ``since`` and their ``last_read_at``
there, not written by them, not deleted. ``since`` defaults to the end of the user's last digest
(``jobs_digest_log``), else 24 hours (daily) or 7 days (weekly) ago. At most 50 messages are shown,
newest first, with each channel's full unread count. Nothing unread: no mail, ``sent: false``.

A digest that was sent is logged under its job id, so the same job run again (a retry after a crash
between the send and the log is the one exception) never mails twice. Without ``userId`` the job fans
out instead (:mod:`jobs_worker.builtin.digest_fanout`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from jobs_core.builtin_payloads import SendEmailDigest
from jobs_worker.builtin.digest_fanout import fan_out
from jobs_worker.builtin.digest_render import Unread, render
from jobs_worker.builtin.nchat import find_user
from jobs_worker.builtin.notification import check_email_route, deliver_email
from jobs_worker.builtin.targets import Targets
from jobs_worker.job import Job

MAX_MESSAGES = 50
WINDOWS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}

UNREAD_SQL = """
SELECT m.id, m.channel_id, c.name AS channel_name, m.content, m.created_at,
       COALESCE(u.display_name, 'someone') AS author,
       count(*) OVER (PARTITION BY m.channel_id) AS channel_unread,
       count(*) OVER () AS total_unread
  FROM nchat_channel_members cm
  JOIN nchat_messages m ON m.channel_id = cm.channel_id
  JOIN nchat_channels c ON c.id = m.channel_id
  LEFT JOIN nchat_users u ON u.id = m.user_id
 WHERE cm.user_id = $1
   AND m.created_at > GREATEST($2::timestamptz, COALESCE(cm.last_read_at, '-infinity'::timestamptz))
   AND m.created_at <= $3
   AND m.user_id IS DISTINCT FROM $1
   AND NOT COALESCE(m.is_deleted, false)
   AND m.deleted_at IS NULL
 ORDER BY m.created_at DESC
 LIMIT $4
"""

LOG_SQL = """
INSERT INTO jobs_digest_log (job_id, user_id, frequency, since, until, messages)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (job_id) DO NOTHING
"""


async def send_email_digest(job: Job, p: SendEmailDigest, targets: Targets) -> dict[str, Any]:
    if p.user_id is None:
        return await fan_out(job, p.frequency, targets)
    check_email_route(targets, "send-email-digest")
    pool = await targets.database("send-email-digest")
    until = datetime.now(UTC)
    async with pool.acquire() as conn:
        if await conn.fetchval("SELECT 1 FROM jobs_digest_log WHERE job_id = $1", job.id):
            return {"sent": False, "reason": "already sent by this job", "userId": p.user_id}
        user = await find_user(conn, p.user_id)
        since = p.since or await _last_digest(conn, user.id) or until - WINDOWS[p.frequency]
        rows = await conn.fetch(UNREAD_SQL, user.id, since, until, MAX_MESSAGES)
    window = {"userId": str(user.id), "frequency": p.frequency, "since": _iso(since), "until": _iso(until)}
    if not rows:
        return {"sent": False, "unread": 0, **window}
    unread = Unread.from_rows(rows)
    subject, text, html = render(user, unread, since, until, p.frequency)
    delivery = await deliver_email(
        targets, job.id, user, subject=subject, text=text, html=html, category="digest"
    )
    await pool.execute(LOG_SQL, job.id, user.id, p.frequency, since, until, unread.total)
    shown = sum(len(c.messages) for c in unread.channels)
    return {
        "sent": True,
        "unread": unread.total,
        "shown": shown,
        "channels": len(unread.channels),
        **window,
        **delivery,
    }


async def _last_digest(conn: Any, user_id: Any) -> datetime | None:
    value = await conn.fetchval("SELECT max(until) FROM jobs_digest_log WHERE user_id = $1", user_id)
    return value if isinstance(value, datetime) else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
