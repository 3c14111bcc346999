"""send-notification end to end: through SMTP (address from nchat_users, by username) and through the
notifications plugin's real contract; transient failures retried, permanent ones failing at once; no
secret in results, errors or logs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from builtin.bi_helpers import result_of, run_job, user
from builtin.conftest import Rig
from support.api import ApiClient
from support.notifications_plugin import NotificationsPlugin
from support.processes import Service
from support.redis_server import free_port
from support.smtp_server import PASSWORD, SmtpServer

pytestmark = pytest.mark.timeout(90)

API_KEY = "notif-api-KEY-77"
SPEC_EXAMPLE = {  # SPEC.md "Schedule Job", without its one-minute delay
    "type": "send-notification",
    "payload": {"userId": "user-123", "channel": "email", "content": {"subject": "Hello", "body": "World"}},
    "options": {"priority": "high", "retry": {"attempts": 3, "delay": 100}},
}
FAST_RETRY = {"retry": {"attempts": 3, "delay": 50, "backoff": "fixed"}}


def notification(user_id: str, **extra: object) -> dict[str, object]:
    payload = {"userId": user_id, "channel": "email", "content": {"subject": "Hi", "body": "Body text"}}
    return {"type": "send-notification", "payload": {**payload, **extra}, "options": FAST_RETRY}


def assert_no_secret(worker: Service, *texts: object) -> None:
    everything = "".join(worker.raw) + "".join(str(t) for t in texts)
    for secret in (PASSWORD, API_KEY, "pg-test-Secr3t"):
        assert secret not in everything


async def test_spec_example_goes_out_by_smtp_to_the_users_address(rig: Rig, smtp: SmtpServer) -> None:
    await user(rig.db, "user-123", "user123@example.org")
    worker = rig.start_worker(JOBS_DATABASE_URL=rig.nchat_url, JOBS_SMTP_URL=smtp.auth_url)
    view = await rig.run(SPEC_EXAMPLE)
    result = result_of(view)
    assert result["success"] is True and result["via"] == "smtp" and result["to"] == "user123@example.org"
    (mail,) = smtp.to("user123@example.org")
    assert mail.message["Subject"] == "Hello" and mail.text().strip() == "World"
    assert mail.message["Message-ID"] == result["notificationId"]
    # An explicit "to" wins and needs no lookup.
    view = await rig.run(notification("someone-else", to={"email": "direct@example.org"}))
    assert result_of(view)["to"] == "direct@example.org" and len(smtp.to("direct@example.org")) == 1
    # An unknown user fails at once, naming it.
    view = await rig.run(notification("nobody"))
    assert view["status"] == "failed" and view["attempts"] == 1
    assert "unknown user 'nobody'" in view["error"]
    assert_no_secret(worker, view)


async def test_smtp_4xx_is_retried_and_5xx_fails_at_once(
    start_worker: Callable[..., Service], bapi: ApiClient, redis: Redis, prefix: str, smtp: SmtpServer
) -> None:
    worker = start_worker(JOBS_SMTP_URL=smtp.auth_url)
    smtp.refuse(2, 451)
    view = await run_job(bapi, redis, prefix, notification("u1", to={"email": "retry@example.org"}))
    assert result_of(view)["via"] == "smtp" and view["attempts"] == 3
    assert [e["attempt"] for e in view["errors"]] == [2, 1] and "451" in view["errors"][0]["error"]
    assert len(smtp.to("retry@example.org")) == 1
    smtp.refuse(1, 550)
    view = await run_job(bapi, redis, prefix, notification("u1", to={"email": "bounce@example.org"}))
    assert view["status"] == "failed" and view["attempts"] == 1 and "550" in view["error"]
    assert_no_secret(worker, view)


async def test_plugin_gets_its_contract_with_key_and_idempotency_key(
    rig: Rig, plugin: NotificationsPlugin, smtp: SmtpServer
) -> None:
    uid = await user(rig.db, "user-123", "user123@example.org")
    worker = rig.start_worker(
        JOBS_DATABASE_URL=rig.nchat_url,
        JOBS_NOTIFICATIONS_URL=plugin.url,
        JOBS_NOTIFICATIONS_API_KEY=API_KEY,
        JOBS_SMTP_URL=smtp.auth_url,  # set, but the plugin wins
    )
    plugin.fail(2, 503)  # transient: retried
    view = await rig.run(SPEC_EXAMPLE)
    result = result_of(view)
    assert view["attempts"] == 3 and "503" in view["errors"][0]["error"]
    requests = plugin.for_user(str(uid))
    assert [r.status for r in requests] == [503, 503, 200]
    sent = requests[-1]
    assert sent.body == {
        "user_id": str(uid),
        "channel": "email",
        "to": {"email": "user123@example.org"},
        "content": {"subject": "Hello", "body": "World"},
    }
    assert sent.headers["Authorization"] == f"Bearer {API_KEY}"
    assert {r.headers["Idempotency-Key"] for r in requests} == {view["jobId"]}
    assert result == {
        "success": True,
        "notificationId": result["notificationId"],
        "via": "notifications-plugin",
        "channel": "email",
        "userId": str(uid),
    }
    assert result["notificationId"].startswith("notif-") and smtp.received == []
    push = {"userId": "u9", "channel": "push", "to": {"pushToken": "tok-1"}, "content": {"body": "Ping"}}
    view = await rig.run({"type": "send-notification", "payload": push})
    assert result_of(view)["channel"] == "push"
    assert plugin.for_user("u9")[0].body["to"] == {"push_token": "tok-1"}
    assert_no_secret(worker, view)


async def test_plugin_400_fails_at_once_and_a_refused_connection_is_retried(
    start_worker: Callable[..., Service],
    bapi: ApiClient,
    redis: Redis,
    prefix: str,
    plugin: NotificationsPlugin,
) -> None:
    # No database: the plugin gets no recipient and answers 400 with its message.
    start_worker(JOBS_NOTIFICATIONS_URL=plugin.url, JOBS_WORKER_QUEUES="default")
    start_worker(JOBS_NOTIFICATIONS_URL=f"http://127.0.0.1:{free_port()}", JOBS_WORKER_QUEUES="low-priority")
    job = notification("user-404")
    view = await run_job(bapi, redis, prefix, {**job, "options": {**FAST_RETRY, "queue": "default"}})
    assert view["status"] == "failed" and view["attempts"] == 1
    assert view["error"] == (
        "UnrecoverableError: notifications plugin answered 400:"
        " Recipient required (email, phone, or push_token)"
    )
    view = await run_job(bapi, redis, prefix, {**job, "options": {**FAST_RETRY, "queue": "low-priority"}})
    assert view["status"] == "failed" and view["attempts"] == 3
    assert all("TargetUnavailable: ClientConnectorError" in e["error"] for e in view["errors"]), view[
        "errors"
    ]
