"""Recurring jobs through the real ``jobs-api`` process: create-or-update, read, pause, resume, delete."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from scheduler.sched_helpers import wait_until
from support.processes import Service

BODY = {
    "type": "cleanup-expired",
    "payload": {"targetType": "messages", "olderThan": 90},
    "schedule": "0 2 * * *",
    "options": {"priority": "low", "scheduleId": "nightly-cleanup"},
}


@pytest.fixture
async def http(api: str) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=api, timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


async def call(http: aiohttp.ClientSession, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with http.request(method, path, json=body) as response:
        return response.status, await response.json()


async def test_create_is_idempotent_by_schedule_id(http: aiohttp.ClientSession) -> None:
    status, created = await call(http, "POST", "/schedule", BODY)
    assert status == 201, created
    assert created["scheduleId"] == "nightly-cleanup"
    assert (created["schedule"], created["timezone"], created["type"]) == (
        "0 2 * * *",
        "UTC",
        "cleanup-expired",
    )
    assert created["nextRunAt"].endswith("T02:00:00.000Z")
    assert created["result"] == "created"
    status, again = await call(http, "POST", "/schedule", BODY)
    assert (status, again["result"]) == (200, "unchanged")
    changed = {**BODY, "schedule": "30 3 * * *", "timezone": "Europe/Berlin"}
    status, updated = await call(http, "POST", "/schedule", changed)
    assert (status, updated["result"]) == (200, "updated")
    assert updated["nextRunAtLocal"].split("T")[1].startswith("03:30:00")
    status, listing = await call(http, "GET", "/schedules")
    assert status == 200 and listing["total"] == 1
    assert listing["schedules"][0]["schedule"] == "30 3 * * *"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"schedule": "61 * * * *"}, "minute field: 61"),
        ({"schedule": "* * * * * * *"}, "expected 5 fields"),
        ({"schedule": "not a cron"}, "schedule:"),
        ({"schedule": 5}, "schedule"),
        ({"timezone": "Europe/Atlantis"}, "unknown time zone 'Europe/Atlantis'"),
        ({"options": {"overlap": "sometimes"}}, "options.overlap"),
    ],
)
async def test_bad_input_is_400_with_the_reason(
    http: aiohttp.ClientSession, change: dict[str, Any], reason: str
) -> None:
    status, body = await call(http, "POST", "/schedule", {**BODY, **change})
    assert status == 400, body
    assert body["error"]["code"] == "invalid_input"
    assert reason in body["error"]["message"]


async def test_read_pause_resume_delete(http: aiohttp.ClientSession) -> None:
    await call(http, "POST", "/schedule", BODY)
    status, one = await call(http, "GET", "/schedules/nightly-cleanup")
    assert status == 200
    assert one["lastRunAt"] is None and one["nextRunAt"] and one["recentJobs"] == []
    status, paused = await call(http, "POST", "/schedules/nightly-cleanup/pause")
    assert (status, paused["status"], paused["nextRunAt"], paused["changed"]) == (200, "paused", None, True)
    status, resumed = await call(http, "POST", "/schedules/nightly-cleanup/resume")
    assert (status, resumed["status"], resumed["changed"]) == (200, "active", True)
    assert resumed["nextRunAt"]
    status, deleted = await call(http, "DELETE", "/schedules/nightly-cleanup")
    assert (status, deleted["success"]) == (200, True)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/schedules/nope"),
        ("DELETE", "/schedules/nope"),
        ("POST", "/schedules/nope/pause"),
        ("POST", "/schedules/nope/resume"),
    ],
)
async def test_unknown_id_is_404(http: aiohttp.ClientSession, method: str, path: str) -> None:
    status, body = await call(http, method, path)
    assert status == 404, body
    assert body["error"]["code"] == "not_found"


@pytest.mark.timeout(60)
async def test_end_to_end_api_schedule_fired_by_a_replica(
    http: aiohttp.ClientSession, replicas: Callable[..., list[Service]]
) -> None:
    replicas(2)
    body = {
        "type": "report",
        "payload": {"n": 1},
        "schedule": "* * * * * *",
        "options": {"scheduleId": "every-s"},
    }
    status, created = await call(http, "POST", "/schedule", body)
    assert status == 201, created

    async def fired() -> dict[str, Any] | None:
        _, view = await call(http, "GET", "/schedules/every-s")
        return view if len(view["recentJobs"]) >= 2 else None

    view = await wait_until(fired, 10, "two jobs of the schedule")
    assert view["lastRunAt"] is not None and view["nextRunAt"] > view["lastRunAt"]
    newest = view["recentJobs"][0]
    assert newest["jobId"] == view["lastJobId"] and newest["jobId"].startswith("cron:every-s:")
    status, job = await call(http, "GET", f"/jobs/{newest['jobId']}")
    assert status == 200 and job["scheduleId"] == "every-s" and job["payload"] == {"n": 1}
    status, _ = await call(http, "DELETE", "/schedules/every-s")
    assert status == 200
