"""Helpers of the dashboard tests: settings, logging in, CSRF tokens, and jobs in given states made
through the core's scripts (the same ones the API and the worker use), so route tests need no worker.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

from jobs_core.model import JobRequest, build_spec
from jobs_core.store import JobStore
from jobs_dashboard.settings import DashboardSettings

PASSWORD = "correct horse battery"
CSRF = re.compile(r'(?:name="_csrf" value|data-csrf)="([^"]+)"')


def dashboard_settings(url: str, prefix: str, **extra: Any) -> DashboardSettings:
    values: dict[str, Any] = {
        "redis_url": url,
        "key_prefix": prefix,
        "dashboard_auth_enabled": True,
        "dashboard_username": "admin",
        "dashboard_password": PASSWORD,
        "log_format": "console",
    }
    values.update(extra)
    return DashboardSettings(**values)


async def csrf_of(client: TestClient[Any, Any], path: str) -> str:
    response = await client.get(path)
    match = CSRF.search(await response.text())
    assert match, f"no CSRF token on {path} ({response.status})"
    return match.group(1)


async def log_in(client: TestClient[Any, Any], password: str = PASSWORD) -> Any:
    token = await csrf_of(client, "/login")
    data = {"_csrf": token, "username": "admin", "password": password, "next": "/"}
    return await client.post("/login", data=data, allow_redirects=False)


async def make_jobs(store: JobStore, n: int = 1, **body: Any) -> list[str]:
    body = {"type": "echo", **body}
    specs = [build_spec(JobRequest.model_validate(body), store.settings) for _ in range(n)]
    return [e.job_id for e in await store.enqueue(specs)]


async def claim(store: JobStore, queue: str, n: int) -> list[tuple[str, str]]:
    """Claims n ready jobs as a worker would (claim script); returns (id, token) pairs."""
    raw = await store.run("claim", "test-worker", 30_000, n, 3, queue)
    return [(raw[3 + k * 12], raw[3 + k * 12 + 8]) for k in range(int(raw[2]))]


async def fail_jobs(store: JobStore, queue: str, n: int, error: str = "ValueError: boom") -> list[str]:
    """Makes n jobs that failed for good (enqueue, claim, fail scripts)."""
    await make_jobs(store, n, options={"queue": queue, "retry": {"attempts": 1}})
    pairs = await claim(store, queue, n)
    args = [v for job_id, token in pairs for v in (job_id, token, error, "Traceback: boom", 5)]
    await store.run("fail", 1000, 0, *args)
    return [job_id for job_id, _ in pairs]


async def complete_jobs(store: JobStore, queue: str, n: int) -> list[str]:
    await make_jobs(store, n, options={"queue": queue})
    pairs = await claim(store, queue, n)
    args = [v for job_id, token in pairs for v in (job_id, token, '{"ok":true}', 12)]
    await store.run("complete", 1000, 0, *args)
    return [job_id for job_id, _ in pairs]
