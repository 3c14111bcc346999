"""JOBS_API_PROCESSES: several api processes on one port, started, stopped and failing as one service.

Everything runs the real ``jobs-api`` console script against the session's Redis; connections are new
for each request (``force_close``) so that the kernel spreads them over the processes' sockets.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

import aiohttp
import pytest

from support.processes import Service

REQUESTS = 60  # new connections; all on one of two sockets by chance: 2 ** -59


def pids_of(api: Service) -> list[int]:
    started = api.wait_for("api_processes_started")
    for pid in started["pids"]:
        api.wait_for("service_ready", pid=pid)
    return list(started["pids"])


async def spread_requests(port: int, path: str, n: int = REQUESTS) -> list[str]:
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as http:
        bodies = []
        for _ in range(n):
            async with http.post(f"http://127.0.0.1:{port}{path}", json={"type": "noop"}) as answer:
                assert answer.status == 201, await answer.text()
                bodies.append(await answer.text())
        async with http.get(f"http://127.0.0.1:{port}/metrics") as answer:
            bodies.append(await answer.text())
    return bodies


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_two_processes_serve_one_port_and_stop_together(spawn: Callable[..., Service]) -> None:
    api = spawn("jobs-api", JOBS_API_PROCESSES="2")
    pids = pids_of(api)
    assert len(set(pids)) == 2 and api.proc.pid not in pids
    port = int(api.wait_for("service_ready")["port"])
    *_, metrics = await spread_requests(port, "/schedule")
    for pid in pids:  # each process answered some of the requests (its access lines carry its pid)
        api.wait_for("request", pid=pid, path="/schedule", status=201, timeout=5)
    assert "jobs_api_processes 2.0" in metrics.splitlines()
    cpu = [line for line in metrics.splitlines() if line.startswith("process_cpu_seconds_total ")]
    assert len(cpu) == 1 and float(cpu[0].split()[1]) > 0

    assert api.stop() == 0
    for pid in pids:
        api.wait_for("service_stopping", pid=pid)
        assert gone(pid)
    assert api.wait_for("api_processes_stopped")["clean"] is True


async def test_a_child_that_dies_stops_the_api_with_an_error(spawn: Callable[..., Service]) -> None:
    api = spawn("jobs-api", JOBS_API_PROCESSES="2")
    victim, survivor = pids_of(api)
    os.kill(victim, signal.SIGKILL)
    assert api.wait(30) == 1  # non-zero: Kubernetes restarts the container
    exited = api.wait_for("api_process_exited")
    assert (exited["pid"], exited["exit_code"]) == (victim, -signal.SIGKILL)
    api.wait_for("service_stopping", pid=survivor)
    assert gone(survivor)


@pytest.mark.parametrize(("value", "reason"), [("0", "greater than or equal to 1"), ("two", "valid integer")])
def test_a_bad_value_stops_the_api_at_once(spawn: Callable[..., Service], value: str, reason: str) -> None:
    api = spawn("jobs-api", wait=False, JOBS_API_PROCESSES=value)
    assert api.wait(20) == 2
    lines = [line.strip() for line in api.raw if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("invalid configuration: JOBS_API_PROCESSES: "), lines
    assert reason in lines[0], lines


def test_a_port_in_use_is_found_before_any_child_starts(spawn: Callable[..., Service]) -> None:
    first = spawn("jobs-api")
    port = first.wait_for("service_ready")["port"]
    second = spawn("jobs-api", wait=False, JOBS_API_PROCESSES="2", JOBS_PORT=str(port))
    assert second.wait(20) == 2
    assert [line.strip() for line in second.raw if line.strip()] == [
        f"cannot listen on 0.0.0.0:{port}: Address already in use"
    ]
