"""``jobs-api``: the HTTP gateway. Reads settings, serves until SIGTERM/SIGINT, exits 0.

A bad setting stops it at once with one line naming the variable; a port already in use likewise.
With ``JOBS_API_PROCESSES`` > 1 this process supervises that many serving processes on the same port
(:mod:`jobs_api.processes`); each is started as ``python -m jobs_api.main --listen-fd N``, an internal
form that serves on the listening socket the supervisor handed over.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Coroutine
from typing import Any

from structlog.contextvars import bind_contextvars

from jobs_api.app import ACCESS_LOGGER, create_app
from jobs_api.processes import adopt_socket, supervise
from jobs_api.settings import ApiSettings
from jobs_core.logging import configure, get_logger
from jobs_core.settings import load_settings
from jobs_core.webapp import serve_until_signal


async def serve(settings: ApiSettings, sock: socket.socket | None = None) -> None:
    await serve_until_signal(
        create_app(settings), settings.host, settings.port, logger="jobs_api", sock=sock,
        grace_s=settings.shutdown_grace, redis=settings.redis_display(), pid=os.getpid(),
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    settings = load_settings(ApiSettings)
    configure("api", settings.log_level, settings.log_format, batched=frozenset({ACCESS_LOGGER}))
    if args[:1] == ["--listen-fd"] and len(args) == 2:  # a child of the supervisor
        bind_contextvars(pid=os.getpid())  # its lines and its siblings' share one stdout
        run(serve(settings, adopt_socket(int(args[1]))))
        return
    if not settings.enabled:
        get_logger("jobs_api").warning("api_disabled", hint="JOBS_ENABLED=false")
        return
    if settings.api_processes > 1:
        raise SystemExit(supervise(settings))
    run(serve(settings))


def run(main: Coroutine[Any, Any, None]) -> None:
    """uvloop's event loop when installed (the ``fast`` extra, in the image): its C transports and
    scheduler take less CPU per request than asyncio's; else asyncio's."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


if __name__ == "__main__":
    main()
