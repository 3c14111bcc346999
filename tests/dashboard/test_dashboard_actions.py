"""Every action: done through the core, confirmed when destructive, audited, refused when it cannot be."""

from __future__ import annotations

import base64
import json
from typing import Any

from aiohttp.test_utils import TestClient

from dashboard.dash_helpers import complete_jobs, csrf_of, fail_jobs, make_jobs
from jobs_core.queues import QueueAdmin
from jobs_core.schedules import ScheduleStore, schedule_from_request
from jobs_core.store import JobStore

Client = TestClient[Any, Any]


async def post(client: Client, path: str, **form: str) -> Any:
    token = await csrf_of(client, "/")
    return await client.post(path, data={"_csrf": token, **form}, allow_redirects=False)


def flashed(response: Any) -> dict[str, str]:
    value = response.cookies["jd_flash"].value
    return dict(json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))))


async def audit_actions(client: Client) -> str:
    return str(await (await client.get("/audit")).text())


async def counts(store: JobStore, queue: str = "default") -> dict[str, Any]:
    (stats,) = await QueueAdmin(store).stats([queue])
    return dict(stats)


async def test_pause_and_resume(client: Client, store: JobStore) -> None:
    response = await post(client, "/queues/default/pause")
    assert response.status == 303 and response.headers["Location"] == "/queues/default"
    assert flashed(response) == {"kind": "ok", "text": "Queue paused"}
    assert (await counts(store))["isPaused"]
    page = await (await client.get("/queues/default")).text()
    assert 'id="resume"' in page and "Queue paused" in page  # the flash is shown once
    assert "Queue paused" not in await (await client.get("/queues/default")).text()
    response = await post(client, "/queues/default/resume", next="/")
    assert response.headers["Location"] == "/"
    assert not (await counts(store))["isPaused"]
    log = await audit_actions(client)
    assert ">pause<" in log and ">resume<" in log and "admin" in log


async def test_drain_asks_for_confirmation_first(client: Client, store: JobStore) -> None:
    await make_jobs(store, 4)
    await make_jobs(store, 1, options={"delay": 60_000})
    response = await post(client, "/queues/default/drain", delayed="1")
    assert response.status == 200
    page = await response.text()
    assert "drain default?" in page and 'name="confirm" value="yes"' in page and 'name="delayed"' in page
    assert (await counts(store))["counts"]["waiting"] == 4  # nothing done yet
    assert ">drain<" not in await audit_actions(client)
    response = await post(client, "/queues/default/drain", delayed="1", confirm="yes")
    assert response.status == 303 and "5 jobs removed" in flashed(response)["text"]
    stats = await counts(store)
    assert stats["counts"]["waiting"] == 0 and stats["counts"]["delayed"] == 0
    log = await audit_actions(client)
    assert (">drain<" in log and "&#34;removed&#34;: 5" in log) or '"removed": 5' in log


async def test_clean_removes_finished_jobs_after_confirmation(client: Client, store: JobStore) -> None:
    await complete_jobs(store, "default", 3)
    confirm = await post(client, "/queues/default/clean", state="completed", grace="0")
    assert confirm.status == 200 and "clean default?" in await confirm.text()
    response = await post(client, "/queues/default/clean", state="completed", grace="0", confirm="yes")
    assert "3 completed jobs removed" in flashed(response)["text"]
    assert (await counts(store))["counts"]["completed"] == 0
    assert ">clean<" in await audit_actions(client)


async def test_clean_with_a_bad_state_is_refused(client: Client, store: JobStore) -> None:
    response = await post(client, "/queues/default/clean", state="waiting", grace="0", confirm="yes")
    assert flashed(response)["kind"] == "error" and "state" in flashed(response)["text"]


async def test_retry_all_failed(client: Client, store: JobStore) -> None:
    await fail_jobs(store, "default", 3)
    confirm = await post(client, "/queues/default/retry-failed")
    assert confirm.status == 200 and "retry all failed default?" in await confirm.text()
    assert (await counts(store))["counts"]["failed"] == 3
    response = await post(client, "/queues/default/retry-failed", confirm="yes")
    assert flashed(response)["text"] == "Retried 3 failed jobs"
    stats = await counts(store)
    assert stats["counts"]["failed"] == 0 and stats["counts"]["waiting"] == 3
    assert ">retry all failed<" in await audit_actions(client)


async def test_retry_a_failed_job(client: Client, store: JobStore) -> None:
    (job_id,) = await fail_jobs(store, "default", 1)
    response = await post(client, f"/jobs/{job_id}/retry")
    assert response.headers["Location"] == f"/jobs/{job_id}"
    assert flashed(response)["text"] == "Job retried: now waiting"
    record, _ = await store.get(job_id) or ({}, [])
    assert record["status"] == "waiting" and record["attempt"] == "0"


async def test_retry_in_the_wrong_state_is_refused(client: Client, store: JobStore) -> None:
    (job_id,) = await make_jobs(store, 1)
    response = await post(client, f"/jobs/{job_id}/retry")
    message = flashed(response)
    assert message["kind"] == "error" and "it is waiting" in message["text"]
    page = await (await client.get(f"/jobs/{job_id}")).text()
    assert "flash-error" in page
    assert ">retry<" not in await audit_actions(client)  # only what was done is recorded


async def test_cancel_a_waiting_job(client: Client, store: JobStore) -> None:
    (job_id,) = await make_jobs(store, 1)
    response = await post(client, f"/jobs/{job_id}/cancel")
    assert "it was waiting" in flashed(response)["text"]
    record, _ = await store.get(job_id) or ({}, [])
    assert record["status"] == "cancelled"


async def test_cancel_an_unknown_job(client: Client) -> None:
    response = await post(client, "/jobs/nope/cancel")
    assert flashed(response)["kind"] == "error" and "not found" in flashed(response)["text"]


async def test_run_a_delayed_job_now(client: Client, store: JobStore) -> None:
    (job_id,) = await make_jobs(store, 1, options={"delay": 3_600_000})
    page = await (await client.get(f"/jobs/{job_id}")).text()
    assert 'id="promote"' in page and "due (delayed until)" in page
    response = await post(client, f"/jobs/{job_id}/promote")
    assert flashed(response)["text"] == "Job runs now: waiting"
    stats = await counts(store)
    assert stats["counts"]["delayed"] == 0 and stats["counts"]["waiting"] == 1
    again = await post(client, f"/jobs/{job_id}/promote")
    assert flashed(again)["kind"] == "error"


async def test_schedule_pause_resume_delete(client: Client, store: JobStore) -> None:
    schedules = ScheduleStore(store.redis, store.settings)
    body = {"type": "echo", "schedule": "0 9 * * *", "options": {"scheduleId": "morning"}}
    await schedules.upsert(schedule_from_request(body, store.settings))
    response = await post(client, "/schedules/morning/pause")
    assert response.headers["Location"] == "/schedules"
    info = await schedules.get("morning")
    assert info is not None and info.state.paused
    await post(client, "/schedules/morning/resume")
    info = await schedules.get("morning")
    assert info is not None and not info.state.paused
    confirm = await post(client, "/schedules/morning/delete")
    assert confirm.status == 200 and await schedules.get("morning") is not None
    await post(client, "/schedules/morning/delete", confirm="yes")
    assert await schedules.get("morning") is None
    log = await audit_actions(client)
    assert ">pause schedule<" in log and ">delete schedule<" in log


async def test_actions_never_redirect_off_site(client: Client) -> None:
    response = await post(client, "/queues/default/pause", next="//evil.example/x")
    assert response.headers["Location"] == "/queues/default"
