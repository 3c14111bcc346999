"""Serving an aiohttp application until SIGTERM/SIGINT: the shared shell of the api and the dashboard.

A port already in use stops the process with one line (exit 2) instead of a traceback; the
``service_ready`` log line, which tests and operators wait for, is written once the socket listens.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from typing import Any

from aiohttp import web

from jobs_core.logging import get_logger


async def serve_until_signal(
    app: web.Application,
    host: str,
    port: int,
    *,
    logger: str,
    grace_s: float,
    sock: socket.socket | None = None,
    **ready_fields: Any,
) -> None:
    """Serves on ``host:port``, or on ``sock`` when given (a socket bound and listening already, e.g.
    one of the api's processes sharing a port; ``host`` and ``port`` are then only logged)."""
    log = get_logger(logger)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=grace_s)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port) if sock is None else web.SockSite(runner, sock)
        await site.start()
    except OSError as err:
        print(f"cannot listen on {host}:{port}: {err.strerror}", file=sys.stderr)
        await runner.cleanup()
        raise SystemExit(2) from None
    log.info("service_ready", port=port, **ready_fields)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("service_stopping")
    await runner.cleanup()
