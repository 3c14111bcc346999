"""The packaged configuration really runs: the four console scripts started with exactly the environment
compose.yaml gives them (only host, ports and key prefix changed to this machine's), against a local Redis
started with compose's Redis flags and password. Then the contract probes answer, the chart's `helm test`
script passes against them, and SIGTERM ends every service with exit code 0.

No container engine exists here, so this is the closest offline check that the image's commands, the
variables and the probe endpoints fit together."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent
COMMANDS = {
    "api": "jobs-api",
    "worker": "jobs-worker",
    "scheduler": "jobs-scheduler",
    "dashboard": "jobs-dashboard",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return 0


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def compose_model(compose_bin: str, repo: Path) -> dict[str, Any]:
    home = tempfile.gettempdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "DOCKER_CONFIG": os.path.join(home, "jobs-no-docker-config"),
        "JOBS_DASHBOARD_PASSWORD": "smoke-dashboard-pw",
    }
    run = subprocess.run(
        [compose_bin, "-f", str(repo / "compose.yaml"), "config", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def stack(compose_bin, pkg, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """Redis plus one process per service, configured as compose.yaml configures them."""
    model = compose_model(compose_bin, pkg.REPO)
    redis_bin = shutil.which("redis-server") or str(BIN / "redis-server")
    assert Path(redis_bin).exists(), "redis-server is not installed (make install provides one)"
    redis_args = model["services"]["redis"]["command"]
    assert redis_args[0] == "redis-server"
    redis_port = free_port()
    folder = tmp_path_factory.mktemp("smoke-redis")
    redis = subprocess.Popen(
        [
            redis_bin,
            *redis_args[1:],
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder),
            "--save",
            "",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    processes: dict[str, subprocess.Popen[str]] = {}
    ports: dict[str, int] = {}
    logs: dict[str, Any] = {}
    try:
        wait_until(lambda: _redis_pings(redis_port), 10, "redis-server")
        prefix = f"smoke{uuid.uuid4().hex[:8]}"
        for name, command in COMMANDS.items():
            env = {k: v for k, v in model["services"][name]["environment"].items() if v is not None}
            port = free_port()
            env.update(
                {
                    "JOBS_REDIS_HOST": "127.0.0.1",
                    "JOBS_REDIS_PORT": str(redis_port),
                    "JOBS_KEY_PREFIX": prefix,
                }
            )
            port_var = {"api": "JOBS_PORT", "dashboard": "JOBS_DASHBOARD_PORT"}.get(name, "JOBS_PROBE_PORT")
            env[port_var] = str(port)
            ports[name] = port
            logs[name] = open(folder / f"{name}.log", "w+")  # noqa: SIM115 - closed below
            processes[name] = subprocess.Popen(
                [str(BIN / command)],
                env={"PATH": os.environ.get("PATH", ""), **env},
                stdout=logs[name],
                stderr=subprocess.STDOUT,
                text=True,
            )
        # One shared start-up budget: every service listens within about 2 s on an idle machine, much
        # later on a loaded one; the wait ends as soon as all four answer. Then each test asks once.
        deadline = time.monotonic() + 60
        waiting = set(ports)
        while waiting and time.monotonic() < deadline:
            waiting = {
                n
                for n in waiting
                if processes[n].poll() is None and http_status(f"http://127.0.0.1:{ports[n]}/livez") == 0
            }
            time.sleep(0.1)
        yield {"ports": ports, "processes": processes, "logs": logs, "model": model}
    finally:
        for proc in processes.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        for log in logs.values():
            log.close()
        redis.terminate()
        redis.wait(timeout=10)


def _redis_pings(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def log_tail(stack: dict[str, Any], name: str) -> str:
    log = stack["logs"][name]
    log.flush()
    log.seek(0)
    return log.read()[-2000:]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_service_is_live_and_ready_on_its_port(stack, name):
    proc = stack["processes"][name]
    assert proc.poll() is None, f"{name} exited with {proc.returncode}:\n{log_tail(stack, name)}"
    port = stack["ports"][name]
    assert http_status(f"http://127.0.0.1:{port}/livez") == 200, f"{name}: no /livez on port {port}"
    # Ready means Redis answered; the api checks it in the background, so give it a moment.
    wait_until(lambda: http_status(f"http://127.0.0.1:{port}/readyz") == 200, 5, f"{name} /readyz")


@pytest.mark.parametrize("name", ["api", "worker", "scheduler"])
def test_service_serves_metrics(stack, name):
    port = stack["ports"][name]
    assert http_status(f"http://127.0.0.1:{port}/metrics") == 200, f"{name}: no /metrics on port {port}"
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    if name == "api":  # the cluster-wide series that alerts and KEDA read
        for metric in (
            "jobs_waiting",
            "jobs_active",
            "jobs_paused",
            "jobs_workers_live",
            "jobs_scheduler_leader",
        ):
            assert metric in text, metric


def test_the_helm_test_script_passes_against_the_real_services(stack, pkg):
    wait_until(
        lambda: http_status(f"http://127.0.0.1:{stack['ports']['api']}/readyz") == 200, 30, "api ready"
    )
    pod = pkg.one(pkg.render({}), "Pod")
    (container,) = pod["spec"]["containers"]
    queue = next(e["value"] for e in container["env"] if e["name"] == "TEST_QUEUE")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "API_URL": f"http://127.0.0.1:{stack['ports']['api']}",
        "TEST_QUEUE": queue,
        "TEST_TIMEOUT": "30",
    }
    run = subprocess.run(
        [sys.executable, "-c", container["args"][0]],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr + log_tail(stack, "worker")
    assert "reached" in run.stdout


def test_sigterm_ends_every_service_with_exit_zero(stack):
    for proc in stack["processes"].values():
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
    grace = float(stack["model"]["services"]["worker"]["environment"]["JOBS_SHUTDOWN_GRACE"])
    for name, proc in stack["processes"].items():
        try:
            code = proc.wait(timeout=grace + 5)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{name} did not stop on SIGTERM:\n{log_tail(stack, name)}")
        assert code == 0, f"{name} exited {code}:\n{log_tail(stack, name)}"
