"""``jobs-dashboard``: the web dashboard. Reads settings, serves until SIGTERM/SIGINT, exits 0.

A bad setting (auth on without a password included) stops it at once with one line naming the
variable; a port already in use likewise. ``JOBS_DASHBOARD_ENABLED=false`` makes it exit 0 at once.
"""

from __future__ import annotations

import asyncio

from jobs_core.logging import configure, get_logger
from jobs_core.settings import load_settings
from jobs_core.webapp import serve_until_signal
from jobs_dashboard.app import create_app
from jobs_dashboard.settings import DashboardSettings

SHUTDOWN_GRACE_S = 5.0


async def serve(settings: DashboardSettings) -> None:
    await serve_until_signal(
        create_app(settings), settings.dashboard_host, settings.dashboard_port, logger="jobs_dashboard",
        grace_s=SHUTDOWN_GRACE_S, auth=settings.dashboard_auth_enabled, redis=settings.redis_display(),
    )  # fmt: skip


def main() -> None:
    settings = load_settings(DashboardSettings)
    configure("dashboard", settings.log_level, settings.log_format)
    if not settings.dashboard_enabled:
        get_logger("jobs_dashboard").warning("dashboard_disabled", hint="JOBS_DASHBOARD_ENABLED=false")
        return
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
