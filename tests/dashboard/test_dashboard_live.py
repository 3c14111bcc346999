"""Live updates: the SSE stream carries job events of the tab's queue or job and the stats ticks; the
process starts and stops like every service (service_ready, probes, SIGTERM → 0, no password → refused).
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from dashboard.dash_helpers import PASSWORD, make_jobs
from jobs_core.store import JobStore
from support.processes import Service

Client = TestClient[Any, Any]


async def read_sse(
    response: Any, want: Callable[[str, Any], bool], timeout: float = 10
) -> list[tuple[str, Any]]:
    """Reads SSE messages until one satisfies ``want``; returns every (event, data) seen."""
    seen: list[tuple[str, Any]] = []
    kind = ""

    async def run() -> None:
        nonlocal kind
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                seen.append((kind, data))
                if want(kind, data):
                    return

    await asyncio.wait_for(run(), timeout)
    return seen


async def test_queue_stream_carries_job_events_and_stats(client: Client, store: JobStore) -> None:
    response = await client.get("/events?queue=default")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    await asyncio.sleep(0.3)  # let the hub's reader take its position
    (job_id,) = await make_jobs(store, 1)
    await make_jobs(store, 1, options={"queue": "low-priority"})  # another queue: not for this tab

    def created(kind: str, data: Any) -> bool:
        return kind == "jobs" and any(e["job"] == job_id for e in data)

    seen = await read_sse(response, created)
    events = [e for kind, data in seen if kind == "jobs" for e in data]
    assert all(e["queue"] == "default" for e in events)
    mine = next(e for e in events if e["job"] == job_id)
    assert mine["from"] == "" and mine["to"] == "waiting" and mine["type"] == "echo"
    stats = await read_sse(response, lambda kind, _: kind == "stats")
    data = stats[-1][1]
    default = next(q for q in data["queues"] if q["name"] == "default")
    assert default["counts"]["waiting"] == 1 and "default" in data["minute"] and "workers" in data
    response.close()


async def test_job_stream_carries_only_that_job(client: Client, store: JobStore) -> None:
    (job_id,) = await make_jobs(store, 1)
    response = await client.get(f"/events?job={job_id}")
    await asyncio.sleep(0.3)
    await make_jobs(store, 2)
    await store.cancel(job_id)
    seen = await read_sse(response, lambda kind, data: kind == "jobs")
    events = [e for kind, data in seen if kind == "jobs" for e in data]
    assert events and all(e["job"] == job_id for e in events)
    assert events[-1]["to"] == "cancelled"
    response.close()


async def test_unknown_queue_stream_is_refused(client: Client) -> None:
    assert (await client.get("/events?queue=nope")).status == 404


def test_refuses_to_start_with_auth_and_no_password(base_env: dict[str, str]) -> None:
    env = {**base_env, "JOBS_DASHBOARD_AUTH_ENABLED": "true", "JOBS_DASHBOARD_PASSWORD": ""}
    command = str(Path(sys.executable).parent / "jobs-dashboard")
    done = subprocess.run([command], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2
    assert "JOBS_DASHBOARD_PASSWORD" in done.stderr and "Traceback" not in done.stderr


def test_disabled_dashboard_exits_at_once(base_env: dict[str, str]) -> None:
    env = {**base_env, "JOBS_DASHBOARD_ENABLED": "false", "JOBS_DASHBOARD_PASSWORD": PASSWORD}
    command = str(Path(sys.executable).parent / "jobs-dashboard")
    done = subprocess.run([command], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0 and "dashboard_disabled" in done.stdout


async def test_process_serves_and_stops_on_sigterm_with_a_tab_open(spawn: Callable[..., Service]) -> None:
    service = spawn("jobs-dashboard", JOBS_DASHBOARD_AUTH_ENABLED="true", JOBS_DASHBOARD_PASSWORD=PASSWORD)
    port = service.wait_for("service_ready")["port"]
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        assert (await http.get(base + "/readyz")).status == 200
        login = await (await http.get(base + "/login")).text()
        token = login.split('name="_csrf" value="')[1].split('"')[0]
        data = {"_csrf": token, "username": "admin", "password": PASSWORD}
        assert (await http.post(base + "/login", data=data)).status == 200
        stream = await http.get(base + "/events?queue=default")
        assert stream.status == 200
        await asyncio.sleep(0.3)
        service.signal(signal.SIGTERM)
        code = await asyncio.to_thread(service.proc.wait, 15)
        stream.close()
    assert code == 0
    service.wait_for("service_stopping")
