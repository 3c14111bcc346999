"""send-email-digest: the unread messages of one user, grouped by channel, mailed (SMTP or the plugin);
nothing unread sends nothing; the fan-out makes one job per user of that frequency, and a re-run none."""

from __future__ import annotations

import pytest

from builtin.bi_helpers import ago, channel, message, result_of, user
from builtin.conftest import Rig
from support.notifications_plugin import NotificationsPlugin
from support.smtp_server import SmtpServer
from support.waiting import wait_all

pytestmark = pytest.mark.timeout(90)


async def seed(rig: Rig) -> dict[str, object]:
    alice = await user(rig.db, "alice", notification_email_frequency="daily")
    bob = await user(rig.db, "bob")
    await user(rig.db, "carol", notification_email_frequency="weekly")
    await user(rig.db, "dave", notification_email_frequency="daily", notification_email=False)
    erin = await user(rig.db, "erin")
    await rig.db.execute(
        "INSERT INTO nchat_digest_settings (user_id, enabled, frequency) VALUES ($1, true, 'daily')", erin
    )
    general = await channel(rig.db, "general", alice, bob)
    random = await channel(rig.db, "random", alice, bob)
    private = await channel(rig.db, "private", bob)
    for i in range(3):
        await message(rig.db, general, bob, f"general news {i}", ago(hours=2, minutes=i))
    await message(rig.db, general, bob, "<b>not markup</b>", ago(minutes=50))
    await message(rig.db, general, alice, "my own words", ago(minutes=40))
    await message(rig.db, general, bob, "deleted one", ago(minutes=30), is_deleted=True)
    await message(rig.db, private, bob, "secret plans", ago(minutes=20))
    await message(rig.db, random, bob, "already read", ago(hours=2))
    await message(rig.db, random, bob, "fresh in random", ago(minutes=10))
    await message(rig.db, general, bob, "two days old", ago(days=2))
    await rig.db.execute(
        "UPDATE nchat_channel_members SET last_read_at = $1 WHERE channel_id = $2 AND user_id = $3",
        ago(hours=1),
        random,
        alice,
    )
    return {"alice": alice, "erin": erin}


async def test_digest_of_one_user_by_smtp_then_nothing_new(rig: Rig, smtp: SmtpServer) -> None:
    await seed(rig)
    rig.start_worker(JOBS_DATABASE_URL=rig.nchat_url, JOBS_SMTP_URL=smtp.auth_url)
    view = await rig.run({"type": "send-email-digest", "payload": {"userId": "alice", "frequency": "daily"}})
    result = result_of(view)
    assert (result["sent"], result["unread"], result["channels"], result["via"]) == (True, 5, 2, "smtp")
    (mail,) = smtp.to("alice@example.org")
    assert mail.message["Subject"] == "Your daily nChat digest: 5 unread messages"
    text, html = mail.text(), mail.html()
    assert "#general (4 unread)" in text and "#random (1 unread)" in text
    assert "general news 2" in text and "fresh in random" in text
    for absent in ("my own words", "deleted one", "secret plans", "already read", "two days old"):
        assert absent not in text
    assert "&lt;b&gt;not markup&lt;/b&gt;" in html and "<b>not markup</b>" not in html
    # The next digest starts where this one ended: nothing new, nothing sent.
    again = result_of(await rig.run({"type": "send-email-digest", "payload": {"userId": "alice"}}))
    assert again["sent"] is False and again["unread"] == 0 and again["since"] == result["until"]
    assert len(smtp.to("alice@example.org")) == 1


async def test_fan_out_creates_one_job_per_user_and_a_rerun_none(
    rig: Rig, smtp: SmtpServer, plugin: NotificationsPlugin
) -> None:
    users = await seed(rig)
    rig.start_worker(
        JOBS_DATABASE_URL=rig.nchat_url, JOBS_SMTP_URL=smtp.auth_url, JOBS_WORKER_QUEUES="default"
    )
    fan_out = {"type": "send-email-digest", "payload": {"frequency": "daily"}}
    result = result_of(await rig.run(fan_out))
    assert (result["users"], result["created"], result["existing"]) == (2, 2, 0)  # alice and erin
    children = [f"digest:daily:{result['day']}:{users[name]}" for name in ("alice", "erin")]
    await wait_all(rig.redis, rig.prefix, children, ["completed"])
    alice, erin = [result_of(await rig.api.job(child)) for child in children]
    assert alice["sent"] is True and alice["unread"] == 5 and erin["sent"] is False
    again = result_of(await rig.run(fan_out))
    assert (again["created"], again["existing"]) == (0, 2)
    assert len(smtp.to("alice@example.org")) == 1 and smtp.to("erin@example.org") == []

    # Through the plugin when it is configured (a second worker, on a queue of its own).
    rig.start_worker(
        JOBS_DATABASE_URL=rig.nchat_url, JOBS_NOTIFICATIONS_URL=plugin.url, JOBS_WORKER_QUEUES="low-priority"
    )
    since = ago(days=1).isoformat()
    view = await rig.run(
        {
            "type": "send-email-digest",
            "payload": {"userId": "alice", "since": since},
            "options": {"queue": "low-priority"},
        }
    )
    assert result_of(view)["via"] == "notifications-plugin"
    (request,) = plugin.for_user(str(users["alice"]))
    assert request.body["channel"] == "email" and request.body["to"] == {"email": "alice@example.org"}
    assert request.body["category"] == "digest" and "fresh in random" in request.body["content"]["body"]
    assert "<html" in request.body["content"]["html"] and request.headers["Idempotency-Key"] == view["jobId"]
