"""The four built-in schedules of SPEC.md fire jobs that do real work: with every-second crons, a scheduler
and a worker clean old messages, store yesterday's analytics, write a backup and mail a digest."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from builtin.bi_helpers import ago, channel, message, user
from builtin.conftest import Rig
from support.smtp_server import SmtpServer
from support.waiting import wait_state, wait_until

pytestmark = pytest.mark.timeout(120)
SCHEDULES = {
    "builtin:cleanup-old-messages": "cleanup-expired",
    "builtin:generate-analytics": "generate-analytics",
    "builtin:backup-database": "backup-database",
    "builtin:send-email-digest": "send-email-digest",
}


async def test_the_four_builtin_schedules_do_real_work(rig: Rig, smtp: SmtpServer, backup_dir: Path) -> None:
    alice = await user(rig.db, "alice", notification_email_frequency="daily")
    bob = await user(rig.db, "bob")
    general = await channel(rig.db, "general", alice, bob, created=ago(days=400))
    await message(rig.db, general, bob, "ancient", ago(days=120))
    await message(rig.db, general, bob, "from yesterday", ago(days=1))
    await message(rig.db, general, bob, "fresh news", ago(minutes=5))
    every_second = "* * * * * *"
    scheduler = rig.start_scheduler(
        JOBS_BUILTIN_PROCESSORS="true",  # the fires meet the same payload checks as the API
        JOBS_CLEANUP_OLD_MESSAGES_SCHEDULE=every_second,
        JOBS_CLEANUP_OLD_MESSAGES_DAYS="90",
        JOBS_GENERATE_ANALYTICS_SCHEDULE=every_second,
        JOBS_BACKUP_DATABASE_SCHEDULE=every_second,
        JOBS_SEND_EMAIL_DIGEST_SCHEDULE=every_second,
    )
    first_jobs: dict[str, str] = {}

    async def all_fired() -> bool:
        for sid in SCHEDULES:
            status, view, _ = await rig.api.call("GET", f"/schedules/{sid}")
            if status == 200 and view["lastJobId"] and sid not in first_jobs:
                first_jobs[sid] = view["lastJobId"]
        return len(first_jobs) == len(SCHEDULES)

    await wait_until(all_fired, 30, "a fire of each built-in schedule")
    assert scheduler.stop() == 0
    rig.start_worker(JOBS_DATABASE_URL=rig.nchat_url, JOBS_SMTP_URL=smtp.url, JOBS_BACKUP_DIR=str(backup_dir))
    results: dict[str, Any] = {}
    for sid, job_id in first_jobs.items():
        await wait_state(rig.redis, rig.prefix, job_id, ["completed", "failed"], timeout=60)
        view = await rig.api.job(job_id)
        assert view["status"] == "completed" and view["type"] == SCHEDULES[sid], view
        results[sid] = view["result"]
    assert results["builtin:cleanup-old-messages"]["deleted"] == 1
    assert [
        r["content"] for r in await rig.db.fetch("SELECT content FROM nchat_messages ORDER BY created_at")
    ] == [
        "from yesterday",
        "fresh news",
    ]
    assert results["builtin:generate-analytics"]["messages"]["total"] == 1  # yesterday's message
    assert results["builtin:backup-database"]["destination"] == "local"
    assert await asyncio.to_thread(Path(results["builtin:backup-database"]["key"]).exists)
    fan_out = results["builtin:send-email-digest"]
    assert fan_out["fanOut"] is True and fan_out["created"] == 1
    child = f"digest:daily:{fan_out['day']}:{alice}"
    await wait_state(rig.redis, rig.prefix, child, ["completed"], timeout=30)
    assert "fresh news" in smtp.to("alice@example.org")[0].text()
