"""Stopping Redis turns the api's /health to 503 at once and every service's readiness to not-ready within
its check period, while liveness stays green (Redis down is not a reason to restart anything); starting
Redis again turns everything back without a restart, and the worker runs jobs again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from observability.obs_helpers import probe, probe_is, scrape
from support.api import ApiClient
from support.redis_server import RedisServer
from support.waiting import wait_state


@pytest.mark.timeout(90)
async def test_outage_turns_readiness_off_and_back_without_restarts(
    tmp_path: Path, spawn: Any, prefix: str
) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    env = {"JOBS_REDIS_URL": server.url}
    api_proc = spawn("jobs-api", JOBS_HEALTH_CHECK_INTERVAL="1", **env)
    worker = spawn("jobs-worker", JOBS_LEASE_MS="1500", **env)
    scheduler = spawn("jobs-scheduler", JOBS_LEADER_LEASE_MS="2000", **env)
    api_port = int(api_proc.wait_for("service_ready")["port"])
    probe_ports = [int(p.wait_for("service_ready")["probe_port"]) for p in (worker, scheduler)]
    api = ApiClient(api_port)
    client = Redis.from_url(server.url, decode_responses=True)
    try:
        await probe_is(api_port, "/readyz", 200)
        for port in probe_ports:
            await probe_is(port, "/readyz", 200)

        server.stop()
        status, body, _ = await api.call("GET", "/health")
        assert status == 503 and body["status"] == "unhealthy"
        assert body["dependencies"]["redis"] == {"status": "disconnected", "latency": None}
        api_proc.wait_for("readiness_changed", ready=False, timeout=5)  # within the 1 s interval
        assert (await probe(api_port, "/readyz"))[0] == 503
        assert (await probe(api_port, "/livez"))[0] == 200
        for port in probe_ports:
            body = await probe_is(port, "/readyz", 503)
            assert body["redis"] == "disconnected" and body["alive"] is True
            assert (await probe(port, "/livez"))[0] == 200
        metrics = await scrape(api_port)
        assert metrics.value("jobs_redis_up") == 0 and "jobs_waiting" not in metrics.samples

        server.start()
        api_proc.wait_for("readiness_changed", ready=True, timeout=5)
        status, body, _ = await api.call("GET", "/health")
        assert status == 200 and body["dependencies"]["redis"]["status"] == "connected"
        for port in probe_ports:
            await probe_is(port, "/readyz", 200)
        assert (await scrape(api_port)).value("jobs_redis_up") == 1
        made = await api.schedule({"type": "echo"})
        await wait_state(client, prefix, made["jobId"], {"completed"})
        assert all(p.proc.poll() is None for p in (api_proc, worker, scheduler)), "no process restarted"
    finally:
        await api.close()
        await client.aclose()
        server.stop()
