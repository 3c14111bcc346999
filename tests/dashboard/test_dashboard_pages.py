"""Every page renders what it should, from real jobs made through the core's scripts."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from dashboard.dash_helpers import complete_jobs, fail_jobs, make_jobs
from jobs_core.schedules import ScheduleStore, schedule_from_request
from jobs_core.store import JobStore

Client = TestClient[Any, Any]


def chart_data(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S)
    assert match
    return dict(json.loads(match.group(1)))


async def test_overview_shows_queues_counts_charts_and_workers(client: Client, store: JobStore) -> None:
    await complete_jobs(store, "default", 2)  # claims take the oldest ready jobs: finish these first
    await fail_jobs(store, "high-priority", 1)
    await make_jobs(store, 3)
    await store.redis.hset(
        store.keys.worker("w1"),
        mapping={"id": "w1", "host": "box", "pid": 7, "queues": '["default"]', "concurrency": 5,
                 "running": 2, "beat": 1},
    )  # fmt: skip
    await store.redis.zadd(store.keys.workers(), {"w1": 1})
    response = await client.get("/")
    html = await response.text()
    assert response.status == 200
    for name in ("default", "high-priority", "low-priority", "scheduled"):
        assert f'href="/queues/{name}"' in html
    assert 'data-count="default:waiting">3<' in html
    assert 'data-count="default:completed">2<' in html
    assert 'data-count="high-priority:failed">1<' in html
    assert "box / 7" in html and "2 / 5" in html
    assert "no scheduler data" in html and "used" in html  # no leader yet; Redis memory
    charts = chart_data(html)
    assert sum(charts["hour"]["completed"]) == 2 and sum(charts["hour"]["failed"]) == 1
    assert len(charts["hour"]["completed"]) == 60 and len(charts["day"]["completed"]) == 144
    assert sum(charts["day"]["completed"]) == 2


async def test_overview_shows_the_scheduler_leader(client: Client, store: JobStore) -> None:
    await store.redis.set(store.keys.leader(), "sched-host:42:abcd", px=5000)
    await store.redis.set(store.keys.leader_epoch(), 3)
    html = await (await client.get("/")).text()
    assert "sched-host (pid 42), epoch 3" in html


async def test_queue_page_tabs_and_rows(client: Client, store: JobStore) -> None:
    done = await complete_jobs(store, "default", 2)
    waiting = await make_jobs(store, 3)
    html = await (await client.get("/queues/default")).text()
    assert 'data-tab="waiting"' in html and 'class="on" data-tab="waiting"' in html  # first tab with jobs
    for job_id in waiting:
        assert f'href="/jobs/{job_id}"' in html
    html = await (await client.get("/queues/default?state=completed")).text()
    assert all(f'href="/jobs/{j}"' in html for j in done)
    assert not any(f'href="/jobs/{j}"' in html for j in waiting)


async def test_queue_page_paginates_newest_first(client: Client, store: JobStore) -> None:
    ids = await make_jobs(store, 30)
    first = await (await client.get("/queues/default?state=waiting")).text()
    second = await (await client.get("/queues/default?state=waiting&page=2")).text()
    rows = re.compile(r'data-job-row="([^"]+)"')
    assert len(rows.findall(first)) == 25 and len(rows.findall(second)) == 5
    assert set(rows.findall(first)) | set(rows.findall(second)) == set(ids)
    assert "1–25 of 30" in first and "26–30 of 30" in second


async def test_queue_page_filters_by_type(client: Client, store: JobStore) -> None:
    echo = await make_jobs(store, 2)
    sleepy = await make_jobs(store, 2, type="sleep")
    html = await (await client.get("/queues/default?state=waiting&type=sleep")).text()
    assert all(j in html for j in sleepy) and not any(j in html for j in echo)
    rows = await (await client.get("/queues/default/rows?state=waiting&type=echo")).text()
    assert all(j in rows for j in echo) and "of 2" in rows


async def test_failed_tab_shows_the_error(client: Client, store: JobStore) -> None:
    await fail_jobs(store, "default", 1, error="KeyError: 'user'")
    html = await (await client.get("/queues/default?state=failed")).text()
    assert "KeyError: &#39;user&#39;" in html


@pytest.mark.parametrize(
    ("path", "status"),
    [("/queues/nope", 404), ("/queues/default?state=odd", 400), ("/queues/default?page=x", 400),
     ("/jobs/nope", 404), ("/jobs/nope/live", 404), ("/search?q=nope", 404), ("/search?q=", 400),
     ("/no/such/page", 404)],
)  # fmt: skip
async def test_bad_requests_get_an_error_page(client: Client, path: str, status: int) -> None:
    response = await client.get(path)
    assert response.status == status
    text = await response.text()
    assert "Traceback" not in text and f"{status} ·" in text


async def test_job_page_shows_everything(client: Client, store: JobStore) -> None:
    (parent,) = await make_jobs(store, 1, payload={"to": "ann", "n": 3}, options={"priority": "high"})
    (child,) = await make_jobs(store, 1, options={"dependsOn": [parent], "priority": "high"})
    html = await (await client.get(f"/jobs/{parent}")).text()
    assert parent in html and "high-priority" in html and "echo" in html
    assert "&#34;to&#34;: &#34;ann&#34;" in html  # pretty JSON payload, escaped
    assert f'href="/jobs/{child}"' in html  # dependents as links
    assert "created" in html and "Cancel" in html and "Retry</button>" not in html
    child_html = await (await client.get(f"/jobs/{child}")).text()
    assert f'href="/jobs/{parent}"' in child_html and "blocked" in child_html


async def test_job_page_of_a_failed_job_shows_each_try(client: Client, store: JobStore) -> None:
    (job_id,) = await fail_jobs(store, "default", 1, error="RuntimeError: disk full")
    html = await (await client.get(f"/jobs/{job_id}")).text()
    assert "RuntimeError: disk full" in html and "Traceback: boom" in html
    assert "try 1 failed" in html and 'id="retry"' in html
    live = await (await client.get(f"/jobs/{job_id}/live")).text()
    assert "<html" not in live and "RuntimeError: disk full" in live


async def test_job_page_shows_logs_and_result(client: Client, store: JobStore) -> None:
    (job_id,) = await complete_jobs(store, "default", 1)
    line = json.dumps({"at": 1_700_000_000_000, "attempt": 1, "message": "sent mail", "to": "ann"})
    await store.redis.rpush(store.keys.job_logs(job_id), line)
    html = await (await client.get(f"/jobs/{job_id}")).text()
    assert "sent mail" in html and '{"to": "ann"}' in html
    assert "&#34;ok&#34;: true" in html and "completed" in html


async def test_search_by_id_goes_to_the_job(client: Client, store: JobStore) -> None:
    (job_id,) = await make_jobs(store, 1)
    response = await client.get(f"/search?q=%20{job_id}%20", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == f"/jobs/{job_id}"


async def test_schedules_page(client: Client, store: JobStore) -> None:
    schedules = ScheduleStore(store.redis, store.settings)
    body = {"type": "echo", "schedule": "*/5 * * * *", "timezone": "Europe/Paris",
            "options": {"scheduleId": "digest"}}  # fmt: skip
    await schedules.upsert(schedule_from_request(body, store.settings))
    html = await (await client.get("/schedules")).text()
    assert "digest" in html and "*/5 * * * *" in html and "Europe/Paris" in html
    assert "Pause" in html and "Delete" in html


async def test_schedules_page_without_schedules(client: Client) -> None:
    html = await (await client.get("/schedules")).text()
    assert "No schedule" in html


async def test_audit_page_starts_empty(client: Client) -> None:
    html = await (await client.get("/audit")).text()
    assert "No action recorded yet" in html
