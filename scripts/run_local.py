"""`make run`: a local Redis (data and AOF under .data/redis, its own port) plus the api, one worker,
the scheduler and the dashboard, all in the foreground with their logs interleaved. Ctrl-C stops all.

Environment overrides work as in production (JOBS_*); JOBS_REDIS_URL pointing elsewhere skips the
embedded Redis. The dashboard gets a generated password (printed) unless JOBS_DASHBOARD_PASSWORD is set.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from ensure_redis import find  # noqa: E402

BIN = Path(sys.executable).parent
REDIS_PORT = os.environ.get("JOBS_LOCAL_REDIS_PORT", "6390")


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
    print("api: http://localhost:3105/health   (Ctrl-C stops everything)")
    try:
        while all(p.poll() is None for _, p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for _, proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for _, proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    if redis is not None:
        redis.terminate()
        redis.wait(10)


if __name__ == "__main__":
    main()
