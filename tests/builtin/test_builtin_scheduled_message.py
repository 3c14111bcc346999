"""scheduled-message posts exactly once: a second job for the same scheduled message and a worker
SIGKILLed in the middle of the insert's transaction both leave one row; bad references fail at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from builtin.bi_helpers import ago, channel, result_of, user
from builtin.conftest import Rig
from support.waiting import wait_state, wait_until

pytestmark = pytest.mark.timeout(90)


def job(scheduled_id: str, channel_id: str, user_id: str, content: str = "Scheduled hello") -> dict[str, Any]:
    payload = {
        "scheduledMessageId": scheduled_id,
        "channelId": channel_id,
        "userId": user_id,
        "content": content,
    }
    return {
        "type": "scheduled-message",
        "payload": payload,
        "options": {"retry": {"attempts": 3, "delay": 50}},
    }


async def scheduled_row(rig: Rig, cid: uuid.UUID, uid: uuid.UUID, status: str = "pending") -> uuid.UUID:
    return await rig.db.fetchval(  # type: ignore[no-any-return]
        "INSERT INTO nchat_scheduled_messages (user_id, channel_id, content, scheduled_at, status)"
        " VALUES ($1, $2, 'Scheduled hello', now(), $3) RETURNING id",
        uid,
        cid,
        status,
    )


async def messages_in(rig: Rig, cid: uuid.UUID) -> list[Any]:
    return await rig.db.fetch("SELECT id, content, metadata FROM nchat_messages WHERE channel_id = $1", cid)


async def test_posts_once_however_often_it_runs(rig: Rig) -> None:
    author = await user(rig.db, "user-789")
    outsider = await user(rig.db, "outsider")
    cid = await channel(rig.db, "channel-456", author)
    row = await scheduled_row(rig, cid, author)
    rig.start_worker(JOBS_DATABASE_URL=rig.nchat_url)

    first = result_of(await rig.run(job(str(row), str(cid), str(author))))
    assert first["inserted"] is True and first["markedSent"] is True
    again = result_of(await rig.run(job(str(row), str(cid), str(author))))  # a second job, same message
    assert again["inserted"] is False and again["messageId"] == first["messageId"]
    (posted,) = await messages_in(rig, cid)
    assert str(posted["id"]) == first["messageId"] and posted["content"] == "Scheduled hello"
    state = await rig.db.fetchrow(
        "SELECT status, sent_message_id FROM nchat_scheduled_messages WHERE id = $1", row
    )
    assert state["status"] == "sent" and str(state["sent_message_id"]) == first["messageId"]
    assert await rig.db.fetchval("SELECT message_count FROM nchat_channels WHERE id = $1", cid) == 1

    # SPEC.md's example: slug and username instead of ids, runAt a moment ahead.
    spec = job("msg-123", "channel-456", "user-789", "This message was scheduled")
    spec["runAt"] = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    assert result_of(await rig.run(spec))["inserted"] is True
    assert len(await messages_in(rig, cid)) == 2

    for bad, reason in [
        (job("m-1", "channel-456", "outsider"), "user 'outsider' is not a member of channel 'channel-456'"),
        (job("m-2", str(uuid.uuid4()), "user-789"), "unknown channel"),
        (job("m-3", "channel-456", "ghost"), "unknown user 'ghost'"),
    ]:
        view = await rig.run(bad)
        assert view["status"] == "failed" and view["attempts"] == 1 and reason in view["error"], view
    cancelled = await scheduled_row(rig, cid, outsider, status="cancelled")
    result = result_of(await rig.run(job(str(cancelled), str(cid), str(author))))
    assert result["sent"] is False and len(await messages_in(rig, cid)) == 2


async def test_a_worker_killed_inside_the_insert_transaction_posts_once(rig: Rig) -> None:
    author = await user(rig.db, "author")
    cid = await channel(rig.db, "general", author, created=ago(days=1))
    row = await scheduled_row(rig, cid, author)
    first = rig.start_worker(JOBS_DATABASE_URL=rig.nchat_url, JOBS_LEASE_MS="1000")
    # Hold the scheduled row: the worker inserts the message, then waits on this lock, uncommitted.
    lock = rig.db.transaction()
    await lock.start()
    await rig.db.execute("SELECT 1 FROM nchat_scheduled_messages WHERE id = $1 FOR UPDATE", row)
    answer = await rig.api.schedule(job(str(row), str(cid), str(author)))

    watch = await asyncpg.connect(rig.nchat_url)  # activity views are frozen inside a transaction

    async def inserted_and_waiting() -> bool:
        found = await watch.fetchval(
            "SELECT count(*) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid"
            " WHERE a.application_name = 'nchat-jobs-worker' AND a.wait_event_type = 'Lock'"
            " AND l.relation = 'nchat_messages'::regclass AND l.mode = 'RowExclusiveLock'"
        )
        return bool(found)

    await wait_until(inserted_and_waiting, 20, "the worker's insert waiting on the row lock")
    first.kill()
    await watch.close()
    await lock.rollback()
    second = rig.start_worker(JOBS_DATABASE_URL=rig.nchat_url)
    await wait_state(rig.redis, rig.prefix, answer["jobId"], ["completed", "failed"], timeout=30)
    view = await rig.api.job(answer["jobId"])
    assert result_of(view)["inserted"] is True and view["stalls"] == 1
    assert view["worker"] is not None and str(second.proc.pid) in view["worker"]
    assert len(await messages_in(rig, cid)) == 1
    assert await rig.db.fetchval("SELECT message_count FROM nchat_channels WHERE id = $1", cid) == 1
    assert await rig.db.fetchval("SELECT status FROM nchat_scheduled_messages WHERE id = $1", row) == "sent"
