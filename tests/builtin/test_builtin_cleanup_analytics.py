"""cleanup-expired (messages in batches with progress and dryRun, read notifications, this service's own
history in Redis) and generate-analytics (the day's figures, a re-run replaces them)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from builtin.bi_helpers import ago, channel, message, result_of, user
from builtin.conftest import Rig
from support.waiting import wait_all

pytestmark = pytest.mark.timeout(90)
OLD, RECENT = 2500, 10


async def seed_messages(rig: Rig) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A channel with OLD messages 100 days old (a tenth of them thread replies) and RECENT new ones."""
    author = await user(rig.db, "author")
    cid = await channel(rig.db, "general", author, created=ago(days=200))
    await rig.db.execute(
        "INSERT INTO nchat_messages (channel_id, user_id, content, created_at, thread_id)"
        " SELECT $1, $2, 'old ' || g, now() - interval '100 days' - g * interval '1 second',"
        " CASE WHEN g % 10 = 0 THEN gen_random_uuid() END FROM generate_series(1, $3) g",
        cid,
        author,
        OLD,
    )
    oldest = await rig.db.fetchval("SELECT id FROM nchat_messages ORDER BY created_at LIMIT 1")
    await rig.db.execute(
        "INSERT INTO nchat_reactions (message_id, user_id, emoji) VALUES ($1, $2, 'x')", oldest, author
    )
    await rig.db.execute("UPDATE nchat_channel_members SET last_read_message_id = $1", oldest)
    for i in range(RECENT):
        await message(rig.db, cid, author, f"new {i}", ago(hours=i + 1))
    return cid, author, oldest


async def progress_seen(rig: Rig, job_id: str) -> list[float]:
    entries = await rig.redis.xrange(f"{rig.prefix}:q:low-priority:events")
    return [float(f["progress"]) for _, f in entries if f.get("job") == job_id and "progress" in f]


async def test_cleanup_of_messages_in_batches_with_dry_run(rig: Rig) -> None:
    cid, _, oldest = await seed_messages(rig)
    top_level = OLD - OLD // 10 + RECENT
    assert await rig.db.fetchval("SELECT message_count FROM nchat_channels WHERE id = $1", cid) == top_level
    rig.start_worker(JOBS_DATABASE_URL=rig.nchat_url)
    dry = {"targetType": "messages", "olderThan": 90, "dryRun": True}
    result = result_of(await rig.run({"type": "cleanup-expired", "payload": dry}))
    assert result["matched"] == OLD and result["deleted"] == 0
    assert await rig.db.fetchval("SELECT count(*) FROM nchat_messages") == OLD + RECENT

    view = await rig.run({"type": "cleanup-expired", "payload": {**dry, "dryRun": False, "batchSize": 500}})
    result = result_of(view)
    assert (result["matched"], result["deleted"], result["batches"]) == (OLD, OLD, OLD // 500 + 1)
    assert view["queue"] == "low-priority" and view["progress"] == 100
    steps = await progress_seen(rig, view["jobId"])
    assert steps == sorted(steps) and len(steps) >= OLD // 500 and steps[0] == 20.0
    assert await rig.db.fetchval("SELECT count(*) FROM nchat_messages") == RECENT
    # nChat's trigger kept the counter right; the foreign keys cascaded or let go.
    assert await rig.db.fetchval("SELECT message_count FROM nchat_channels WHERE id = $1", cid) == RECENT
    assert await rig.db.fetchval("SELECT count(*) FROM nchat_reactions WHERE message_id = $1", oldest) == 0
    assert await rig.db.fetchval("SELECT last_read_message_id FROM nchat_channel_members") is None


async def test_cleanup_of_read_notifications_and_of_job_history(rig: Rig) -> None:
    someone = await user(rig.db, "someone")
    for is_read, days in [(True, 40), (True, 40), (False, 40), (True, 1)]:
        await rig.db.execute(
            "INSERT INTO nchat_notifications (user_id, type, title, is_read, created_at)"
            " VALUES ($1, 'message', 'hi', $2, now() - $3 * interval '1 day')",
            someone,
            is_read,
            days,
        )
    rig.start_worker(JOBS_DATABASE_URL=rig.nchat_url)
    result = result_of(
        await rig.run(
            {"type": "cleanup-expired", "payload": {"targetType": "notifications", "olderThan": 30}}
        )
    )
    assert (result["matched"], result["deleted"]) == (2, 2)
    left = await rig.db.fetch("SELECT is_read FROM nchat_notifications ORDER BY created_at")
    assert [r["is_read"] for r in left] == [False, True]

    # Three finished jobs, made two days old; the cleanup job's own record is never touched.
    body = (await rig.api.call("POST", "/schedule/bulk", json={"jobs": [{"type": "noop"}] * 3}))[1]
    old_ids = [item["jobId"] for item in body["jobs"]]
    await wait_all(rig.redis, rig.prefix, old_ids, ["completed"])
    two_days_ago = (time.time() - 2 * 86_400) * 1000
    await rig.redis.zadd(f"{rig.prefix}:q:default:completed", dict.fromkeys(old_ids, two_days_ago), xx=True)
    jobs = {"targetType": "jobs", "olderThan": 1}
    result = result_of(await rig.run({"type": "cleanup-expired", "payload": {**jobs, "dryRun": True}}))
    assert result["matched"] == 3 and result["byQueueAndState"] == {"default/completed": 3}
    result = result_of(await rig.run({"type": "cleanup-expired", "payload": {**jobs, "batchSize": 2}}))
    assert result["deleted"] == 3
    for job_id in old_ids:
        assert (await rig.api.call("GET", f"/jobs/{job_id}"))[0] == 404


async def test_analytics_of_a_day_and_a_rerun_replaces(rig: Rig) -> None:
    day = date(2026, 2, 3)
    at = datetime(2026, 2, 3, 12, tzinfo=UTC)
    alice, bob = await user(rig.db, "alice"), await user(rig.db, "bob")
    await rig.db.execute("UPDATE nchat_users SET created_at = $1 WHERE id = $2", at, bob)  # new that day
    general = await channel(rig.db, "general", alice, bob, created=at - timedelta(days=30))
    random = await channel(rig.db, "random", alice, created=at)  # new that day, no message
    for author, when in [(alice, at), (bob, at + timedelta(hours=11)), (alice, at - timedelta(hours=13))]:
        await message(rig.db, general, author, "hi", when)  # the last one is on 2 February
    root = await message(rig.db, general, bob, "root", at)
    await message(rig.db, general, alice, "reply", at, thread_id=root)  # thread replies count
    await message(rig.db, general, alice, "gone", at, is_deleted=True)  # deleted ones do not
    rig.start_worker(JOBS_DATABASE_URL=rig.nchat_url)
    payload = {"date": day.isoformat(), "metrics": ["messages", "users", "channels"]}
    result = result_of(await rig.run({"type": "generate-analytics", "payload": payload}))
    assert result == {
        "date": "2026-02-03",
        "messages": {"total": 4, "perChannel": {str(general): 4}},
        "users": {"active": 2, "new": 1},
        "channels": {"new": 1, "active": 1},
    }
    await message(rig.db, random, alice, "late arrival", at + timedelta(hours=1))
    result = result_of(
        await rig.run({"type": "generate-analytics", "payload": {**payload, "metrics": ["messages"]}})
    )
    assert result == {
        "date": "2026-02-03",
        "messages": {"total": 5, "perChannel": {str(general): 4, str(random): 1}},
    }
    rows = await rig.db.fetch("SELECT metric, dimension, value FROM jobs_analytics_daily WHERE day = $1", day)
    stored = {(r["metric"], r["dimension"]): r["value"] for r in rows}
    assert stored == {
        ("messages.total", ""): 5,
        ("messages.channel", str(general)): 4,
        ("messages.channel", str(random)): 1,
        ("users.active", ""): 2,  # not asked the second time: kept from the first run
        ("users.new", ""): 1,
        ("channels.new", ""): 1,
        ("channels.active", ""): 1,
    }
    # No date: yesterday (UTC), stored under that day.
    result = result_of(await rig.run({"type": "generate-analytics", "payload": {"metrics": ["users"]}}))
    assert result["date"] == (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
