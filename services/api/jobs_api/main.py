"""``jobs-api``: the HTTP gateway. Reads settings, serves until SIGTERM/SIGINT, exits 0.

A bad setting stops it at once with one line naming the variable; a port already in use likewise.
"""

from __future__ import annotations

import asyncio

from jobs_api.app import create_app
from jobs_api.settings import ApiSettings
from jobs_core.logging import configure, get_logger
from jobs_core.settings import load_settings
from jobs_core.webapp import serve_until_signal


async def serve(settings: ApiSettings) -> None:
    await serve_until_signal(
        create_app(settings), settings.host, settings.port, logger="jobs_api",
        grace_s=settings.shutdown_grace, redis=settings.redis_display(),
    )  # fmt: skip


def main() -> None:
    settings = load_settings(ApiSettings)
    configure("api", settings.log_level, settings.log_format)
    if not settings.enabled:
        get_logger("jobs_api").warning("api_disabled", hint="JOBS_ENABLED=false")
        return
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
