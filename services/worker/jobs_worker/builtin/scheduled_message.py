"""scheduled-message: post a message into ``nchat_messages`` exactly once, however often the job runs.

The message id is derived from ``scheduledMessageId`` (UUID v5), and the insert is ``ON CONFLICT (id)
DO NOTHING``: a retry after a crash, or a second job for the same scheduled message, finds the row and
inserts nothing. When ``scheduledMessageId`` is the id of a row of ``nchat_scheduled_messages`` (shape in
docs/builtin-jobs.md), that row is locked and marked ``sent`` in the same transaction as the insert, so
either both happen or neither; a row marked ``cancelled`` rolls the insert back and nothing is posted.

Fails at once for an unknown channel or user, or a user who is not a member of the channel.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from jobs_core.builtin_payloads import ScheduledMessage
from jobs_worker.builtin.nchat import as_uuid, find_channel, find_user, is_member, table_exists
from jobs_worker.builtin.targets import Targets
from jobs_worker.job import Job, UnrecoverableError

# Fixed namespace of the message ids: uuid5(MESSAGE_NAMESPACE, scheduledMessageId).
MESSAGE_NAMESPACE = uuid.UUID("4f7c2f9e-6a51-4b8e-9a43-1f0d2c5e8b17")

INSERT_SQL = """
INSERT INTO nchat_messages (id, channel_id, user_id, content, type, metadata, source_account_id)
VALUES ($1, $2, $3, $4, 'text', $5::jsonb, $6)
ON CONFLICT (id) DO NOTHING
RETURNING id
"""


class _Cancelled(Exception):
    """Raised inside the transaction to roll the insert back."""


def message_id_for(scheduled_message_id: str) -> uuid.UUID:
    return uuid.uuid5(MESSAGE_NAMESPACE, scheduled_message_id)


async def scheduled_message(job: Job, p: ScheduledMessage, targets: Targets) -> dict[str, Any]:
    pool = await targets.database("scheduled-message")
    message_id = message_id_for(p.scheduled_message_id)
    result: dict[str, Any] = {"scheduledMessageId": p.scheduled_message_id, "messageId": str(message_id)}
    async with pool.acquire() as conn:
        channel = await find_channel(conn, p.channel_id)
        user = await find_user(conn, p.user_id)
        if not await is_member(conn, channel.id, user.id):
            raise UnrecoverableError(f"user {p.user_id!r} is not a member of channel {p.channel_id!r}")
        row_id = as_uuid(p.scheduled_message_id)
        tracked = row_id is not None and await table_exists(conn, "nchat_scheduled_messages")
        metadata = json.dumps(
            {"scheduled": True, "scheduledMessageId": p.scheduled_message_id, "jobId": job.id}
        )
        try:
            async with conn.transaction():
                inserted = await conn.fetchval(
                    INSERT_SQL,
                    message_id,
                    channel.id,
                    user.id,
                    p.content,
                    metadata,
                    channel.source_account_id,
                )
                marked = await _mark_sent(conn, row_id, message_id) if tracked else None
        except _Cancelled:
            return {**result, "sent": False, "reason": "the scheduled message was cancelled"}
    return {
        **result,
        "sent": True,
        "inserted": inserted is not None,
        "channelId": str(channel.id),
        "markedSent": marked,
    }


async def _mark_sent(conn: Any, row_id: uuid.UUID | None, message_id: uuid.UUID) -> bool:
    """Locks the scheduled row (waits for whoever edits it) and marks it sent; False when no row."""
    status = await conn.fetchval(
        "SELECT status FROM nchat_scheduled_messages WHERE id = $1 FOR UPDATE", row_id
    )
    if status is None:
        return False
    if status == "cancelled":
        raise _Cancelled
    await conn.execute(
        "UPDATE nchat_scheduled_messages SET status = 'sent', sent_at = COALESCE(sent_at, now()),"
        " sent_message_id = $2, error_message = NULL WHERE id = $1",
        row_id,
        message_id,
    )
    return True
