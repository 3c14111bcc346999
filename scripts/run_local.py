"""`make run`: a local Redis (data and AOF under .data/redis, its own port) plus the api, one worker,
the scheduler and the dashboard, all in the foreground with their logs interleaved. Ctrl-C stops all.

For the built-in job types it also starts an embedded PostgreSQL (.data/postgres, port 6391, database
``nchat`` with nChat's schema subset and demo data on first start) and an SMTP sink that stores every mail
as a file under .data/mail/ (port 6392); backups go to .data/backups/, and the example processor module
examples/custom_jobs.py handles SPEC.md's ``"type": "custom"`` test job.

Environment overrides work as in production (JOBS_*); JOBS_REDIS_URL, JOBS_DATABASE_URL or JOBS_SMTP_URL
pointing elsewhere skips the embedded server. The dashboard gets a generated password (printed) unless
JOBS_DASHBOARD_PASSWORD is set.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))  # the same PostgreSQL and SMTP servers the tests start
from ensure_redis import find  # noqa: E402

from support.postgres_server import PostgresServer, pg_bin  # noqa: E402
from support.smtp_server import SmtpServer  # noqa: E402

BIN = Path(sys.executable).parent
REDIS_PORT = os.environ.get("JOBS_LOCAL_REDIS_PORT", "6390")
PG_PORT = int(os.environ.get("JOBS_LOCAL_PG_PORT", "6391"))
SMTP_PORT = int(os.environ.get("JOBS_LOCAL_SMTP_PORT", "6392"))
PG_PASSWORD = "jobs-local-only"  # the server listens on 127.0.0.1 only


def start_redis() -> subprocess.Popen[bytes] | None:
    if os.environ.get("JOBS_REDIS_URL"):
        return None
    binary = find()
    if binary is None:
        raise SystemExit("no redis-server found: run `make install`")
    data = ROOT / ".data" / "redis"
    data.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            REDIS_PORT,
            "--bind",
            "127.0.0.1",
            "--dir",
            str(data),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--maxmemory-policy",
            "noeviction",
            "--save",
            "",
        ],
        start_new_session=True,  # Ctrl-C reaches us, not Redis: it stops last, after the services
    )
    os.environ["JOBS_REDIS_URL"] = f"redis://127.0.0.1:{REDIS_PORT}/0"
    wait_for_port(int(REDIS_PORT))
    return proc


def start_postgres() -> PostgresServer | None:
    """nChat's database for the built-in jobs; schema and demo data are loaded when it is created."""
    if os.environ.get("JOBS_DATABASE_URL"):
        return None
    if pg_bin("initdb") is None:
        print("no PostgreSQL binaries: the built-in jobs that need a database will fail (run `make install`)")
        return None
    server = PostgresServer(DATA / "postgres", port=PG_PORT, password=PG_PASSWORD)
    fresh = not (server.data / "PG_VERSION").exists()
    server.start(fast=False)
    if fresh:
        asyncio.run(load_demo(server))
    os.environ["JOBS_DATABASE_URL"] = server.url("nchat")
    return server


async def load_demo(server: PostgresServer) -> None:
    import asyncpg

    admin = await asyncpg.connect(server.url())
    await admin.execute("CREATE DATABASE nchat")
    await admin.close()
    conn = await asyncpg.connect(server.url("nchat"))
    schema = ROOT / "services/worker/jobs_worker/builtin/sql/nchat_schema.sql"
    await conn.execute(schema.read_text())
    await conn.execute((ROOT / "scripts/demo_data.sql").read_text())
    await conn.close()
    print("postgres: created database nchat with the demo data (users user-123, user-789, alice, bob)")


def start_mail_sink() -> SmtpServer | None:
    if os.environ.get("JOBS_SMTP_URL") or os.environ.get("JOBS_NOTIFICATIONS_URL"):
        return None
    sink = SmtpServer(DATA / "mail", port=SMTP_PORT)
    sink.start()
    os.environ["JOBS_SMTP_URL"] = sink.url
    return sink


def builtin_environment() -> None:
    os.environ.setdefault("JOBS_BACKUP_DIR", str(DATA / "backups"))
    os.environ.setdefault("JOBS_PROCESSOR_MODULES", "custom_jobs")
    paths = [str(ROOT / "examples"), os.environ.get("PYTHONPATH", "")]
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    wheel = pg_bin("pg_dump")
    if wheel and not shutil.which("pg_dump"):  # the pgserver wheel's client tools, for backups
        os.environ["PATH"] = os.pathsep.join([str(Path(wheel).parent), os.environ.get("PATH", "")])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"redis-server did not listen on port {port}")


def pump(name: str, proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(f"{name:<10} {line}")


def main() -> None:
    os.environ.setdefault("JOBS_LOG_FORMAT", "console")
    if not os.environ.get("JOBS_DASHBOARD_PASSWORD"):
        os.environ["JOBS_DASHBOARD_PASSWORD"] = secrets.token_urlsafe(12)
        print(
            f"dashboard: http://localhost:4200  user admin  password {os.environ['JOBS_DASHBOARD_PASSWORD']}"
        )
    redis = start_redis()
    postgres = start_postgres()
    mail = start_mail_sink()
    builtin_environment()
    procs: list[tuple[str, subprocess.Popen[str]]] = []
    for name in ("api", "worker", "scheduler", "dashboard"):
        # Own session: the terminal's Ctrl-C becomes an orderly SIGTERM from us, services before Redis.
        proc = subprocess.Popen(
            [str(BIN / f"jobs-{name}")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        procs.append((name, proc))
        threading.Thread(target=pump, args=(name, proc), daemon=True).start()
    print("api: http://localhost:3105/health   mail: .data/mail/*.eml   (Ctrl-C stops everything)")
    try:
        while all(p.poll() is None for _, p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave servers behind
    stop_services(procs)
    if mail is not None:
        mail.stop()
    if postgres is not None:
        postgres.stop()
    if redis is not None:
        redis.terminate()
        redis.wait(10)


def stop_services(procs: list[tuple[str, subprocess.Popen[str]]]) -> None:
    """SIGTERM to each, then up to 30 s for each to drain and exit."""
    for _, proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for _, proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
