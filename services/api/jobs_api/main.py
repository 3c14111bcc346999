"""``jobs-api``: the HTTP gateway. Reads settings, serves until SIGTERM/SIGINT, exits 0.

A bad setting stops it at once with one line naming the variable; a port already in use likewise.
"""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web

from jobs_api.app import create_app
from jobs_api.settings import ApiSettings
from jobs_core.logging import configure, get_logger
from jobs_core.settings import load_settings


async def serve(settings: ApiSettings) -> None:
    log = get_logger("jobs_api")
    runner = web.AppRunner(create_app(settings), access_log=None, shutdown_timeout=settings.shutdown_grace)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except OSError as err:
        print(f"cannot listen on {settings.host}:{settings.port}: {err.strerror}", file=sys.stderr)
        await runner.cleanup()
        raise SystemExit(2) from None
    log.info("service_ready", port=settings.port, redis=settings.redis_display())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("service_stopping")
    await runner.cleanup()


def main() -> None:
    settings = load_settings(ApiSettings)
    configure("api", settings.log_level, settings.log_format)
    if not settings.enabled:
        get_logger("jobs_api").warning("api_disabled", hint="JOBS_ENABLED=false")
        return
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
