"""Real servers for the built-in job types, started once per session on free ports: PostgreSQL with
nChat's schema subset in a template database (each test gets a fresh copy), an SMTP server, SeaweedFS's
S3 gateway (started on first use) and the notifications-plugin stand-in. The worker and the api run as
processes through ``spawn`` with the built-in processors on.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from support.api import ApiClient
from support.notifications_plugin import NotificationsPlugin
from support.postgres_server import PostgresServer
from support.processes import Service
from support.s3_server import ACCESS_KEY, SECRET_KEY, S3Server
from support.smtp_server import SmtpServer
from support.waiting import wait_state

TEMPLATE = "nchat_template"
BUCKET = "nchat-backups"


def schema_sql() -> str:
    return resources.files("jobs_worker.builtin").joinpath("sql/nchat_schema.sql").read_text()


@pytest.fixture(scope="session")
def pg() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()

    async def load() -> None:
        admin = await asyncpg.connect(server.url())
        await admin.execute(f"CREATE DATABASE {TEMPLATE}")
        await admin.close()
        conn = await asyncpg.connect(server.url(TEMPLATE))
        await conn.execute(schema_sql())
        await conn.close()

    import asyncio

    asyncio.run(load())
    yield server
    server.stop()
    server.remove()


@pytest.fixture
async def nchat_url(pg: PostgresServer) -> str:
    """A fresh database with nChat's schema (a copy of the template), as a URL with its password."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg.url())
    await admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    await admin.close()
    return pg.url(name)


@pytest.fixture
async def db(nchat_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(nchat_url)
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_server: SmtpServer) -> SmtpServer:
    smtp_server.clear()
    return smtp_server


@pytest.fixture(scope="session")
def plugin_server() -> Iterator[NotificationsPlugin]:
    server = NotificationsPlugin()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def plugin(plugin_server: NotificationsPlugin) -> NotificationsPlugin:
    plugin_server.clear()
    return plugin_server


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_env(s3_server: S3Server) -> dict[str, str]:
    """The worker's S3 variables, with a prefix of its own per test."""
    return {
        "JOBS_BACKUP_S3_BUCKET": BUCKET,
        "JOBS_BACKUP_S3_PREFIX": f"t-{uuid.uuid4().hex[:8]}/",
        "JOBS_BACKUP_S3_ENDPOINT": s3_server.endpoint,
        "JOBS_BACKUP_S3_REGION": "us-east-1",
        "JOBS_BACKUP_S3_ACCESS_KEY": ACCESS_KEY,
        "JOBS_BACKUP_S3_SECRET_KEY": SECRET_KEY,
    }


@pytest.fixture
def start_worker(spawn: Callable[..., Service]) -> Callable[..., Service]:
    """A jobs-worker with the built-in processors on (and the test processors, as every test has)."""

    def start(wait: bool = True, **env: str) -> Service:
        return spawn("jobs-worker", wait=wait, **{"JOBS_BUILTIN_PROCESSORS": "true", **env})

    return start


@pytest.fixture
async def bapi(spawn: Callable[..., Service]) -> AsyncIterator[ApiClient]:
    """An api that validates the built-in payloads (JOBS_BUILTIN_PROCESSORS=true)."""
    service = spawn("jobs-api", JOBS_BUILTIN_PROCESSORS="true")
    client = ApiClient(int(service.wait_for("service_ready")["port"]))
    yield client
    await client.close()


@pytest.fixture
def backup_dir(tmp_path: Path) -> Path:
    return tmp_path / "backups"


@dataclass
class Rig:
    """What most built-in tests need: processes to start, the api, Redis, and this test's nChat database."""

    spawn: Callable[..., Service]
    api: ApiClient
    redis: Any
    prefix: str
    db: asyncpg.Connection
    nchat_url: str

    def start_worker(self, wait: bool = True, **env: str) -> Service:
        """A jobs-worker with the built-in processors on (and the test processors, as every test has)."""
        return self.spawn("jobs-worker", wait=wait, **{"JOBS_BUILTIN_PROCESSORS": "true", **env})

    def start_scheduler(self, **env: str) -> Service:
        return self.spawn("jobs-scheduler", **env)

    async def run(self, job: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        """Schedules through POST /schedule, waits for a final state, returns GET /jobs/:id."""
        answer = await self.api.schedule(job)
        await wait_state(
            self.redis, self.prefix, answer["jobId"], ("completed", "failed", "cancelled"), timeout
        )
        return await self.api.job(answer["jobId"])


@pytest.fixture
async def rig(
    spawn: Callable[..., Service], bapi: ApiClient, redis: Any, prefix: str, nchat_url: str
) -> AsyncIterator[Rig]:
    conn = await asyncpg.connect(nchat_url)
    yield Rig(spawn, bapi, redis, prefix, conn, nchat_url)
    await conn.close()
