"""/health as SPEC.md shows it, plus live workers per queue and the scheduler leader, with a verdict:
degraded while a queue has waiting jobs and no live worker, or schedules and no leader; healthy again once
they are there. A worker counts from its start (it registers at once) until it stops (it deregisters)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from observability.obs_helpers import scrape
from support.api import ApiClient
from support.waiting import wait_state

SPEC_FIELDS = ["status", "service", "version", "uptime", "queues", "dependencies"]
NO_BUILTINS = {
    f"JOBS_{name}_ENABLED": "false"
    for name in ("CLEANUP_OLD_MESSAGES", "GENERATE_ANALYTICS", "BACKUP_DATABASE", "SEND_EMAIL_DIGEST")
}


async def health(api: ApiClient) -> dict[str, Any]:
    status, body, _ = await api.call("GET", "/health")
    assert status == 200, body
    assert list(body)[: len(SPEC_FIELDS)] == SPEC_FIELDS
    assert body["service"] == "jobs" and body["version"] == "1.0.0" and isinstance(body["uptime"], int)
    assert body["dependencies"]["redis"]["status"] == "connected"
    assert body["dependencies"]["redis"]["latency"] >= 0
    for queue in body["queues"]:
        assert {"name", "waiting", "active", "completed", "failed", "workers", "paused"} <= set(queue)
    return body  # type: ignore[no-any-return]


def queue(body: dict[str, Any], name: str) -> dict[str, Any]:
    return next(q for q in body["queues"] if q["name"] == name)  # type: ignore[no-any-return]


@pytest.mark.timeout(90)
async def test_health_tells_healthy_from_degraded(spawn: Any, redis: Any, prefix: str) -> None:
    api = ApiClient(int(spawn("jobs-api").wait_for("service_ready")["port"]))
    try:
        body = await health(api)
        assert body["status"] == "healthy" and body["warnings"] == []
        assert body["workers"] == {"live": 0}
        assert body["scheduler"] == {"leader": False, "replica": None, "schedules": 0}

        made = await api.schedule({"type": "echo"})
        body = await health(api)
        assert body["status"] == "degraded"
        assert body["warnings"] == ["queue default: 1 waiting jobs and no live worker"]

        worker = spawn("jobs-worker")  # service_ready comes after the worker registered itself
        body = await health(api)
        assert body["workers"] == {"live": 1}
        assert all(q["workers"] == 1 for q in body["queues"])
        await wait_state(redis, prefix, made["jobId"], {"completed"})
        body = await health(api)
        assert body["status"] == "healthy" and queue(body, "default")["completed"] == 1

        recurring = {"type": "echo", "schedule": "0 0 1 1 *", "options": {"scheduleId": "yearly"}}
        assert (await api.call("POST", "/schedule", json=recurring))[0] in (200, 201)
        body = await health(api)
        assert body["status"] == "degraded" and body["scheduler"]["schedules"] == 1
        assert "no scheduler leader" in body["warnings"][0]

        scheduler = spawn("jobs-scheduler", **NO_BUILTINS)
        scheduler.wait_for("leader_elected")
        body = await health(api)
        assert body["status"] == "healthy"
        assert body["scheduler"]["leader"] is True
        assert body["scheduler"]["replica"] == f"{socket.gethostname()}:{scheduler.proc.pid}"

        assert worker.stop() == 0  # deregisters on the way out
        assert (await health(api))["workers"] == {"live": 0}
        assert scheduler.stop() == 0  # releases the lease
        body = await health(api)
        assert body["status"] == "degraded" and body["scheduler"]["leader"] is False
    finally:
        await api.close()


async def test_killed_worker_stops_counting_after_three_beats(spawn: Any, redis: Any, prefix: str) -> None:
    """A SIGKILLed worker cannot deregister: its heartbeat hash outlives it; a stale beat does not count."""
    worker = spawn("jobs-worker", JOBS_LEASE_MS="600")  # beats every 0.2 s, counts for 0.6 s
    port = int(spawn("jobs-api").wait_for("service_ready")["port"])
    assert (await scrape(port)).value("jobs_workers_live", queue="default") == 1
    worker.kill()
    [worker_id] = await redis.zrange(f"{prefix}:workers", 0, -1)
    await asyncio.sleep(0.7)  # time passing is the point: three beat periods without a beat
    assert await redis.exists(f"{prefix}:worker:{worker_id}") == 1  # the hash lives 3 × lease + 1 s
    assert (await scrape(port)).value("jobs_workers_live", queue="default") == 0


async def test_metrics_can_be_turned_off(spawn: Any) -> None:
    api = ApiClient(int(spawn("jobs-api", JOBS_METRICS_ENABLED="false").wait_for("service_ready")["port"]))
    try:
        assert (await api.call("GET", "/metrics"))[0] == 404
        assert (await api.call("GET", "/health"))[0] == 200
    finally:
        await api.close()
