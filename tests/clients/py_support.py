"""Helpers of the Python client tests: the api+worker stack, the api's URL, quick retries, and the
``jobs`` console script run as a real subprocess."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

from jobs_client import RetryPolicy
from support.processes import BIN, Service

# Quick retries: the tests never wait out the production back-off.
FAST = RetryPolicy(retries=3, backoff=0.05, max_backoff=0.5)


@dataclass
class Stack:
    api: Service
    worker: Service
    url: str


def api_url(service: Service) -> str:
    return f"http://127.0.0.1:{service.wait_for('service_ready', timeout=20)['port']}"


def run_cli(
    url: str, *args: str, token: str | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """``.venv/bin/jobs ARGS`` with JOBS_URL (and JOBS_TOKEN) in its environment, stdin not a terminal."""
    return subprocess.run(
        [str(BIN / "jobs"), *args],
        env=cli_env(url, token),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def cli_env(url: str, token: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBS_")}
    env.update(JOBS_URL=url, COLUMNS="200")
    if token is not None:
        env["JOBS_TOKEN"] = token
    return env
