"""Worker and scheduler probe ports: several processes side by side on one machine (port 0 = a free one,
logged as probe_port; -1 = none), a port in use stops the process with one line, a blocked event loop
fails the worker's liveness with an explicit 503 (the probe thread still answers), and SIGTERM makes a
worker not ready while it finishes its running job."""

from __future__ import annotations

import signal
import socket
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from jobs_core.probes import ProbeServer, Verdict
from observability.obs_helpers import probe, probe_is, scrape
from support.api import ApiClient
from support.waiting import wait_state, wait_step


async def test_workers_and_schedulers_side_by_side(spawn: Any) -> None:
    services = [spawn("jobs-worker"), spawn("jobs-worker"), spawn("jobs-scheduler"), spawn("jobs-scheduler")]
    ports = [int(s.wait_for("service_ready")["probe_port"]) for s in services]
    assert len(set(ports)) == 4
    for port in ports:
        for path in ("/livez", "/readyz"):
            status, body = await probe(port, path)
            assert status == 200 and body["alive"] is True and body["ready"] is True, body
        assert (await probe(port, "/nope"))[0] == 404
    workers, schedulers = [await scrape(p) for p in ports[:2]], [await scrape(p) for p in ports[2:]]
    for m in workers:
        assert m.value("jobs_worker_running_jobs") == 0
        assert "process_resident_memory_bytes" in m.samples
    for m in schedulers:
        assert "jobs_scheduler_event_loop_lag_seconds" in m.samples and "jobs_scheduler_leader" in m.samples
    assert sum(m.value("jobs_scheduler_leader") for m in schedulers) <= 1

    off = spawn("jobs-worker", JOBS_PROBE_PORT="-1")
    assert off.wait_for("service_ready")["probe_port"] is None


@pytest.mark.parametrize("command", ["jobs-worker", "jobs-scheduler"])
def test_probe_port_in_use_stops_the_process_with_one_line(spawn: Any, command: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        service = spawn(command, wait=False, JOBS_PROBE_PORT=str(port), JOBS_PROBE_HOST="127.0.0.1")
        assert service.wait(15) == 2
    assert any(f"127.0.0.1:{port} (JOBS_PROBE_PORT)" in line for line in service.raw), service.raw
    assert not any("Traceback" in line for line in service.raw)


@pytest.mark.timeout(60)
async def test_blocked_event_loop_fails_liveness(spawn: Any, api: ApiClient, redis: Any, prefix: str) -> None:
    worker = spawn("jobs-worker", JOBS_PROBE_MAX_LAG="0.5")
    port = int(worker.wait_for("service_ready")["probe_port"])
    await probe_is(port, "/livez", 200)
    made = await api.schedule({"type": "block-loop", "payload": {"seconds": 3}})
    body = await probe_is(port, "/livez", 503, timeout=5)  # answered at once, while the loop is stuck
    assert body["alive"] is False and body["lagS"] >= 0.5
    assert (await probe(port, "/readyz"))[0] == 503
    assert (await scrape(port)).value("jobs_worker_event_loop_lag_seconds") >= 0.5
    await wait_state(redis, prefix, made["jobId"], {"completed"})
    await probe_is(port, "/livez", 200)
    await probe_is(port, "/readyz", 200)


@pytest.mark.timeout(60)
async def test_sigterm_makes_the_worker_unready_while_it_drains(
    spawn: Any, api: ApiClient, redis: Any, prefix: str
) -> None:
    worker = spawn("jobs-worker")
    port = int(worker.wait_for("service_ready")["probe_port"])
    key = f"{prefix}:drain"
    made = await api.schedule({"type": "sleep", "payload": {"ms": 1500, "key": key}})
    await wait_step(redis, key, "start")
    worker.signal(signal.SIGTERM)
    body = await probe_is(port, "/readyz", 503)
    assert body["state"] == "stopping" and body["running"] == 1
    assert (await probe(port, "/livez"))[0] == 200  # draining is not a reason to be killed
    await wait_state(redis, prefix, made["jobId"], {"completed"})
    assert worker.wait(15) == 0


async def test_a_failing_check_answers_503_instead_of_hanging() -> None:
    def broken() -> Verdict:
        raise RuntimeError("state unreadable")

    server = ProbeServer("127.0.0.1", 0, CollectorRegistry(), broken)
    port = server.start()
    assert port is not None
    try:
        status, body = await probe(port, "/livez")
        assert status == 503 and body == {"alive": False, "ready": False, "error": "RuntimeError"}
        assert (await scrape(port)).samples == {}
    finally:
        server.stop()
