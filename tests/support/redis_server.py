"""A private redis-server for the test session: free port, temporary folder, AOF on.

Tests never touch port 6379 or any shared server. ``stop``/``start`` let crash tests restart Redis on the
same port with its AOF, as a production restart would.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_binary() -> str:
    found = shutil.which("redis-server")
    bundled = Path(sys.executable).parent / "redis-server"
    if not found and bundled.exists():
        found = str(bundled)
    if not found:
        raise RuntimeError("redis-server is not on PATH: run `make install` (it installs one)")
    return found


class RedisServer:
    def __init__(self, folder: Path, port: int | None = None, extra_args: list[str] | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.extra_args = list(extra_args or [])  # more redis-server options (TLS, maxmemory, replicaof …)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                redis_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--maxmemory-policy",
                "noeviction",
                "--loglevel",
                "warning",
                *self.extra_args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.answers():
                return
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def answers(self) -> bool:
        """True once the server answers PING (or asks for a password)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith((b"+PONG", b"-NOAUTH"))
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:  # e.g. a replica stuck in a sync: do not hang the session
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
