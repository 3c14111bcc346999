"""Bad payloads of the built-in types are refused by POST /schedule, /schedule/bulk and recurring
schedules with 400 naming the field, and nothing is stored; good ones (SPEC.md's examples) are taken."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio import Redis

from support.api import ApiClient

pytestmark = pytest.mark.timeout(60)

X = {"body": "x"}
BAD: list[tuple[str, dict[str, Any], str]] = [
    ("send-notification", {"userId": "u1", "channel": "email", "content": {}}, "payload.content.body"),
    ("send-notification", {"userId": "u1", "channel": "fax", "content": X}, "payload.channel"),
    ("send-notification", {"channel": "email", "content": X}, "payload.userId"),
    ("send-notification", {"userId": "u1", "channel": "email", "content": X, "cc": 1}, "payload.cc"),
    ("send-notification", {"userId": "u1", "channel": "email", "to": {"email": "nope"}, "content": X},
     "payload.to.email"),
    ("send-notification", {"userId": "u1", "channel": "sms", "to": {"email": "a@b.co"}, "content": X},
     "payload"),
    ("send-email-digest", {"userId": "u1", "frequency": "hourly"}, "payload.frequency"),
    ("send-email-digest", {"userId": "u1", "since": "yesterday"}, "payload.since"),
    ("send-email-digest", {"userId": "u1", "since": "2026-02-02T09:00:00"}, "payload.since"),
    ("cleanup-expired", {"targetType": "files", "olderThan": 90}, "payload.targetType"),
    ("cleanup-expired", {"targetType": "messages"}, "payload.olderThan"),
    ("cleanup-expired", {"targetType": "messages", "olderThan": "90"}, "payload.olderThan"),
    ("cleanup-expired", {"targetType": "messages", "olderThan": 0}, "payload.olderThan"),
    ("cleanup-expired", {"targetType": "messages", "olderThan": 9, "batchSize": 10**5}, "payload.batchSize"),
    ("generate-analytics", {"date": "2026-02-30"}, "payload.date"),
    ("generate-analytics", {"metrics": ["messages", "revenue"]}, "payload.metrics.1"),
    ("generate-analytics", {"metrics": []}, "payload.metrics"),
    ("backup-database", {"destination": "ftp", "retention": 30}, "payload.destination"),
    ("backup-database", {"destination": "s3", "retention": -1}, "payload.retention"),
    ("scheduled-message", {"scheduledMessageId": "m1", "channelId": "c1", "userId": "u1"}, "payload.content"),
    ("scheduled-message", {"scheduledMessageId": "m 1", "channelId": "c1", "userId": "u1", "content": "hi"},
     "payload.scheduledMessageId"),
]  # fmt: skip

GOOD: list[tuple[str, dict[str, Any]]] = [  # SPEC.md "Built-in Job Types", verbatim
    ("send-notification", {"userId": "user-123", "channel": "email", "to": {"email": "user@example.com"},
                           "content": {"subject": "Hello", "body": "World"}}),
    ("send-email-digest", {"userId": "user-123", "frequency": "daily", "since": "2026-02-02T09:00:00Z"}),
    ("cleanup-expired", {"targetType": "messages", "olderThan": 90}),
    ("generate-analytics", {"date": "2026-02-03", "metrics": ["messages", "users", "channels"]}),
    ("backup-database", {"destination": "s3", "retention": 30}),
    ("scheduled-message", {"scheduledMessageId": "msg-123", "channelId": "channel-456", "userId": "user-789",
                           "content": "This message was scheduled"}),
]  # fmt: skip


async def stored_keys(redis: Redis, prefix: str) -> list[str]:
    return [key async for key in redis.scan_iter(f"{prefix}:job:*")]


async def test_bad_payloads_are_refused_naming_the_field(bapi: ApiClient, redis: Redis, prefix: str) -> None:
    for job_type, payload, field in BAD:  # one api for every case: a process per case costs seconds
        status, body, _ = await bapi.call("POST", "/schedule", json={"type": job_type, "payload": payload})
        assert status == 400, (job_type, payload, body)
        fields = [d["field"] for d in body["error"]["details"]]
        assert field in fields, (job_type, payload, body)
        assert body["error"]["message"].startswith(f"{field}:"), body
    assert await stored_keys(redis, prefix) == []


async def test_bulk_names_the_entry_and_stores_nothing(bapi: ApiClient, redis: Redis, prefix: str) -> None:
    jobs = [{"type": t, "payload": p} for t, p in GOOD]
    jobs.append({"type": "send-notification", "payload": {"userId": "u", "channel": "email", "content": {}}})
    status, body, _ = await bapi.call("POST", "/schedule/bulk", json={"jobs": jobs})
    assert status == 400, body
    assert body["error"]["details"][0]["field"] == f"jobs.{len(GOOD)}.payload.content.body"
    assert await stored_keys(redis, prefix) == []


async def test_recurring_schedule_with_a_bad_payload_is_refused(
    bapi: ApiClient, redis: Redis, prefix: str
) -> None:
    bad = {
        "type": "cleanup-expired",
        "payload": {"targetType": "files", "olderThan": 9},
        "schedule": "0 2 * * *",
    }
    status, body, _ = await bapi.call("POST", "/schedule", json=bad)
    assert status == 400, body
    assert body["error"]["details"][0]["field"] == "payload.targetType"
    assert "'messages', 'notifications' or 'jobs'" in body["error"]["message"]
    status, body, _ = await bapi.call("GET", "/schedules")
    assert body["schedules"] == []


async def test_spec_examples_and_other_types_are_accepted(bapi: ApiClient) -> None:
    status, body, _ = await bapi.call(
        "POST",
        "/schedule/bulk",
        json={"jobs": [{"type": t, "payload": p, "options": {"delay": 60_000}} for t, p in GOOD]},
    )
    assert status == 201, body
    recurring = {
        "type": "cleanup-expired",
        "payload": GOOD[2][1],
        "schedule": "0 2 * * *",
        "options": {"priority": "low"},
    }
    status, body, _ = await bapi.call("POST", "/schedule", json=recurring)
    assert status == 201, body
    # Types that are not built in are not looked at.
    status, body, _ = await bapi.call(
        "POST", "/schedule", json={"type": "custom", "payload": {"anything": [1]}}
    )
    assert status == 201, body
