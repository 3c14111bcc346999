"""The systems the built-in processors act on, one object per worker process: nChat's PostgreSQL (an
asyncpg pool), an HTTP session for the notifications plugin, the SMTP sender and an S3 client.

Each is created on first use and closed when the worker stops. Asking for a target whose variable is
unset raises :class:`MissingTarget` (an ``UnrecoverableError``: the job fails at once, naming the
variable). Connection failures are not handled here: they surface from the call that needed the target
and are classified in :mod:`jobs_worker.builtin.failures`. :meth:`Targets.scrub` removes every
configured secret from a text, for results, errors and logs.
"""

from __future__ import annotations

import asyncio
import contextlib
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from jobs_worker.builtin.settings import TargetSettings
from jobs_worker.job import UnrecoverableError

# Serialises the owned-schema DDL across workers (an arbitrary constant: "jobs" in ASCII).
SCHEMA_LOCK = 0x6A6F6273
HTTP_TIMEOUT_S = 30


class MissingTarget(UnrecoverableError):
    def __init__(self, variable: str, purpose: str) -> None:
        super().__init__(f"{variable} is not set: {purpose}")
        self.variable = variable


def owned_schema_sql() -> str:
    return resources.files("jobs_worker.builtin").joinpath("sql/owned.sql").read_text()


class Targets:
    def __init__(self, settings: TargetSettings, pool_size: int = 5) -> None:
        self.settings = settings
        self.pool_size = max(1, min(pool_size, 20))
        self._pool: Any = None
        self._schema_ready = False
        self._lock = asyncio.Lock()
        self._http: Any = None
        self._s3: Any = None
        self._s3_exit: contextlib.AsyncExitStack | None = None
        self._secrets = self._collect_secrets()

    # --- secrets ----------------------------------------------------------------------------------------
    def _collect_secrets(self) -> list[str]:
        s = self.settings
        found: list[str] = []
        for url in (s.database_url, s.smtp_url):
            if url is not None:
                password = urlsplit(url.get_secret_value()).password
                if password:
                    found += [password, unquote(password)]
        for key in (s.notifications_api_key, s.backup_s3_secret_key):
            if key is not None and key.get_secret_value():
                found.append(key.get_secret_value())
        # Longest first, so that a secret containing another is masked whole.
        return sorted({x for x in found if len(x) >= 3}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    # --- PostgreSQL -------------------------------------------------------------------------------------
    def require_database(self, purpose: str) -> str:
        if self.settings.database_url is None:
            raise MissingTarget("JOBS_DATABASE_URL", f"{purpose} needs nChat's PostgreSQL")
        return self.settings.database_url.get_secret_value()

    async def database(self, purpose: str) -> Any:
        """The asyncpg pool (connections are opened on demand), with this service's tables in place."""
        dsn = self.require_database(purpose)
        async with self._lock:
            if self._pool is None:
                import asyncpg

                self._pool = await asyncpg.create_pool(
                    dsn,
                    min_size=0,
                    max_size=self.pool_size,
                    timeout=10,
                    server_settings={"application_name": "nchat-jobs-worker"},
                )
            if not self._schema_ready:
                async with self._pool.acquire() as conn, conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK)
                    await conn.execute(owned_schema_sql())
                self._schema_ready = True
        return self._pool

    def pg_dump_connection(self, purpose: str) -> tuple[str, dict[str, str]]:
        """(URL without its password, environment with PGPASSWORD): pg_dump's command line is visible
        to every user of the machine, its environment is not."""
        parts = urlsplit(self.require_database(purpose))
        env = {"PGPASSWORD": unquote(parts.password)} if parts.password else {}
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        user = f"{parts.username}@" if parts.username else ""
        netloc = f"{user}{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(scheme="postgresql", netloc=netloc)), env

    def database_name(self) -> str:
        return urlsplit(self.require_database("backup-database")).path.strip("/") or "postgres"

    # --- notifications plugin ---------------------------------------------------------------------------
    @property
    def has_notifications(self) -> bool:
        return self.settings.notifications_url is not None

    async def http(self) -> Any:
        if self._http is None:
            import aiohttp

            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S))
        return self._http

    def notifications_endpoint(self) -> tuple[str, dict[str, str]]:
        """(URL, headers) of the plugin's send route."""
        base = self.settings.notifications_url
        if base is None:
            raise MissingTarget("JOBS_NOTIFICATIONS_URL", "no notifications plugin is configured")
        headers = {"Content-Type": "application/json"}
        key = self.settings.notifications_api_key
        if key is not None:
            headers["Authorization"] = f"Bearer {key.get_secret_value()}"
        return base + self.settings.notifications_path, headers

    # --- SMTP -------------------------------------------------------------------------------------------
    def mailer(self, purpose: str) -> Any:
        from jobs_worker.builtin.mail import Mailer

        if self.settings.smtp_url is None:
            raise MissingTarget(
                "JOBS_SMTP_URL", f"{purpose} needs JOBS_NOTIFICATIONS_URL or JOBS_SMTP_URL to send email"
            )
        return Mailer(self.settings.smtp_url.get_secret_value(), self.settings.smtp_from)

    # --- backups ----------------------------------------------------------------------------------------
    def backup_dir(self) -> Path:
        if self.settings.backup_dir is None:
            raise MissingTarget("JOBS_BACKUP_DIR", "backup-database with destination 'local' needs a folder")
        return self.settings.backup_dir

    def default_destination(self) -> str:
        return "s3" if self.settings.backup_s3_bucket else "local"

    async def s3(self) -> Any:
        """An aiobotocore S3 client (path-style addressing, which MinIO and SeaweedFS need)."""
        s = self.settings
        if s.backup_s3_bucket is None:
            raise MissingTarget(
                "JOBS_BACKUP_S3_BUCKET", "backup-database with destination 's3' needs a bucket"
            )
        async with self._lock:
            if self._s3 is None:
                from aiobotocore.config import AioConfig
                from aiobotocore.session import get_session

                keys: dict[str, str] = {}
                if s.backup_s3_access_key is not None and s.backup_s3_secret_key is not None:
                    keys["aws_access_key_id"] = s.backup_s3_access_key.get_secret_value()
                    keys["aws_secret_access_key"] = s.backup_s3_secret_key.get_secret_value()
                config = AioConfig(
                    s3={"addressing_style": "path"},
                    retries={"max_attempts": 3, "mode": "standard"},
                    connect_timeout=10,
                    read_timeout=60,
                )
                stack = contextlib.AsyncExitStack()
                self._s3 = await stack.enter_async_context(
                    get_session().create_client(
                        "s3",
                        endpoint_url=s.backup_s3_endpoint,
                        region_name=s.backup_s3_region,
                        config=config,
                        **keys,
                    )
                )
                self._s3_exit = stack
        return self._s3

    # --- shutdown ---------------------------------------------------------------------------------------
    async def close(self) -> None:
        if self._pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pool.close(), 5)
        if self._http is not None:
            await self._http.close()
        if self._s3_exit is not None:
            with contextlib.suppress(Exception):
                await self._s3_exit.aclose()
