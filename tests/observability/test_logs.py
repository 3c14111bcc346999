"""Logs: JSON lines with timestamp, level and service from every service; job lines with job_id, queue,
type, attempt, duration and outcome (a failure with its error); request lines with the request id;
console lines for humans; and a Redis password given in the URL never appears, even in the errors of a
Redis outage."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from support.api import ApiClient
from support.processes import Service
from support.redis_server import RedisServer
from support.waiting import wait_state

PASSWORD = "pw-7f3a-never-logged"


async def protect(url: str) -> None:
    """Sets the password (CONFIG SET: a restarted server needs it again)."""
    admin = Redis.from_url(url, decode_responses=True)
    await admin.config_set("requirepass", PASSWORD)
    await admin.aclose()


@pytest.mark.timeout(90)
async def test_job_and_request_lines_and_no_password(tmp_path: Path, spawn: Any, prefix: str) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    await protect(server.url)
    url = server.url.replace("redis://", f"redis://:{PASSWORD}@")
    client = Redis.from_url(url, decode_responses=True)
    services = [spawn(c, JOBS_REDIS_URL=url) for c in ("jobs-api", "jobs-worker", "jobs-scheduler")]
    api_proc, worker, _ = services
    api = ApiClient(int(api_proc.wait_for("service_ready")["port"]))
    try:
        bad = await api.schedule(
            {"type": "fail", "payload": {"message": "disk on fire"}, "options": {"retry": {"attempts": 1}}}
        )
        good = await api.schedule({"type": "echo"})
        await wait_state(client, prefix, bad["jobId"], {"failed"})
        await wait_state(client, prefix, good["jobId"], {"completed"})
        line = worker.wait_for("job_finished", job_id=bad["jobId"])
        assert line["outcome"] == "failed" and line["level"] == "warning"
        assert line["error"] == "ValueError: disk on fire"
        assert (line["queue"], line["type"], line["attempt"]) == ("default", "fail", 1)
        assert isinstance(line["duration_ms"], int)
        done = worker.wait_for("job_finished", job_id=good["jobId"])
        assert done["outcome"] == "completed" and done["level"] == "info"

        status, _, headers = await api.call("GET", "/jobs/nope", headers={"X-Request-ID": "req-42"})
        assert status == 404 and headers["X-Request-ID"] == "req-42"
        request = api_proc.wait_for("request", request_id="req-42")
        assert (request["method"], request["path"], request["status"]) == ("GET", "/jobs/nope", 404)

        server.stop()  # error lines of every service, with the URL's password in their settings
        assert (await api.call("GET", "/health"))[0] == 503
        worker.wait_for("claim_failed")
        server.start()
        await protect(server.url)
        api_proc.wait_for("readiness_changed", ready=True, timeout=10)
        for service in services:
            assert service.stop() == 0, service.name
    finally:
        await api.close()
        await client.aclose()
        server.stop()
    for service in services:
        assert not any(PASSWORD in line for line in service.raw), service.name
        for item in service.lines:
            assert {"timestamp", "level", "service", "event"} <= set(item), item
        assert any("***" in line for line in service.raw), "the Redis URL is logged, masked"


def test_console_format_for_humans(spawn: Any) -> None:
    service: Service = spawn("jobs-api", wait=False, JOBS_LOG_FORMAT="console")
    deadline = time.monotonic() + 15
    while not any("service_ready" in line for line in service.raw):
        assert time.monotonic() < deadline and service.proc.poll() is None, service.raw
        time.sleep(0.05)  # reading another process's output: nothing to block on here
    ready = next(line for line in service.raw if "service_ready" in line)
    assert not ready.lstrip().startswith("{") and "[info" in ready
    assert service.stop() == 0
