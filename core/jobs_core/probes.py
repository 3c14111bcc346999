"""The probe and metrics HTTP server of the worker and the scheduler, and an event-loop lag monitor.

The server runs in a daemon thread, not on the event loop. A check only reads plain attributes that the
event loop writes (the time of its last tick, the measured lag, ready flags), so a blocked or wedged loop
gets an explicit 503 on ``/livez`` at once, instead of a probe that hangs until Kubernetes' timeout.

Paths: ``/livez`` and ``/readyz`` answer JSON (200 or 503), ``/metrics`` the Prometheus text of the
process registry, anything else 404. Port (``JOBS_PROBE_PORT``): -1 = no server, 0 = any free port (the
bound port goes into the ``service_ready`` log line as ``probe_port``, so several processes start side by
side on one machine), else that port.

How it fails: a port that cannot be bound stops the process at start with one line on stderr (exit 2); a
check that raises answers 503 with the error's type. The server never touches Redis, so probes stay cheap
and answer while Redis is down.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

# The lag monitor sleeps this long and measures how late it wakes: short enough to see a blocked loop
# within a probe period, long enough to cost nothing.
LAG_INTERVAL_S = 0.25


@dataclass(frozen=True)
class Verdict:
    """What the probes report: liveness, readiness and details shown in both JSON bodies."""

    alive: bool
    ready: bool
    details: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {"alive": self.alive, "ready": self.ready, **self.details}


class LoopMonitor:
    """Measures how late the event loop runs a timer (the lag every other task suffers too).

    ``run()`` is a task on the loop; ``lag()`` may be called from any thread. While the loop is blocked
    the task cannot record anything, so ``lag()`` also counts how overdue the next wake-up is right now.
    """

    def __init__(self, interval: float = LAG_INTERVAL_S) -> None:
        self.interval = interval
        self.last_wake = time.monotonic()
        self.last_lag = 0.0

    async def run(self) -> None:
        while True:
            expected = time.monotonic() + self.interval
            await asyncio.sleep(self.interval)
            now = time.monotonic()
            self.last_lag = max(now - expected, 0.0)
            self.last_wake = now

    def lag(self) -> float:
        overdue = time.monotonic() - self.last_wake - self.interval
        return round(max(self.last_lag, overdue, 0.0), 4)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._send(200, generate_latest(self.server.registry), CONTENT_TYPE_LATEST)
            return
        if path not in ("/livez", "/readyz"):
            self._json(404, {"error": "not found", "paths": ["/livez", "/readyz", "/metrics"]})
            return
        try:
            verdict = self.server.check()
        except Exception as err:  # a broken check must answer, not hang or kill the thread
            self._json(503, {"alive": False, "ready": False, "error": type(err).__name__})
            return
        ok = verdict.alive if path == "/livez" else verdict.ready
        self._json(200 if ok else 503, verdict.body())

    def _json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body, default=str).encode(), "application/json")

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Probes arrive every few seconds: one log line each would drown the service's own lines."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    registry: CollectorRegistry
    check: Callable[[], Verdict]


class ProbeServer:
    """``start()`` binds and serves in a daemon thread and returns the bound port (None when off)."""

    def __init__(
        self, host: str, port: int, registry: CollectorRegistry, check: Callable[[], Verdict]
    ) -> None:
        self.host, self.port = host, port
        self.registry = registry
        self.check = check
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> int | None:
        if self.port < 0:
            return None
        try:
            server = _Server((self.host, self.port), _Handler)
        except OSError as err:
            print(
                f"cannot listen on {self.host}:{self.port} (JOBS_PROBE_PORT): {err.strerror}", file=sys.stderr
            )
            raise SystemExit(2) from None
        server.registry, server.check = self.registry, self.check
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.2,), name="probes", daemon=True)
        self._thread.start()
        return int(server.server_address[1])

    def stop(self) -> None:
        """Stops serving (returns within the 0.2 s poll of the serving thread)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
