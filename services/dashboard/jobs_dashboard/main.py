"""``jobs-dashboard``: the web dashboard. Reads settings, serves until SIGTERM/SIGINT, exits 0.

A bad setting (auth on without a password included) stops it at once with one line naming the
variable; a port already in use likewise. ``JOBS_DASHBOARD_ENABLED=false`` makes it exit 0 at once.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from aiohttp import web

from jobs_core.logging import configure, get_logger
from jobs_core.settings import load_settings
from jobs_dashboard.app import create_app
from jobs_dashboard.settings import DashboardSettings

SHUTDOWN_GRACE_S = 5.0


async def serve(settings: DashboardSettings) -> None:
    log = get_logger("jobs_dashboard")
    runner = web.AppRunner(create_app(settings), access_log=None, shutdown_timeout=SHUTDOWN_GRACE_S)
    await runner.setup()
    site = web.TCPSite(runner, settings.dashboard_host, settings.dashboard_port)
    try:
        await site.start()
    except OSError as err:
        print(f"cannot listen on {settings.dashboard_host}:{settings.dashboard_port}: {err.strerror}",
              file=sys.stderr)  # fmt: skip
        await runner.cleanup()
        raise SystemExit(2) from None
    log.info("service_ready", port=settings.dashboard_port, auth=settings.dashboard_auth_enabled,
             redis=settings.redis_display())  # fmt: skip
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("service_stopping")
    await runner.cleanup()


def main() -> None:
    settings = load_settings(DashboardSettings)
    configure("dashboard", settings.log_level, settings.log_format)
    if not settings.dashboard_enabled:
        get_logger("jobs_dashboard").warning("dashboard_disabled", hint="JOBS_DASHBOARD_ENABLED=false")
        return
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
