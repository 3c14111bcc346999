"""Health endpoints: ``/health`` (SPEC.md's JSON, 503 while Redis is unreachable), ``/livez`` (the
process answers) and ``/readyz`` (Redis answered the last background check, run every
JOBS_HEALTH_CHECK_INTERVAL seconds, so probes cost Redis nothing).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from jobs_api.context import QUEUES, REDIS, SETTINGS, STARTED
from jobs_core import __version__
from jobs_core.errors import JobsError
from jobs_core.logging import get_logger
from jobs_core.redis_conn import CONNECTION_ERRORS

log = get_logger("jobs_api.health")
READY = web.AppKey("ready", dict)


async def ping_ms(request: web.Request) -> float | None:
    """Redis round-trip time in ms, or None when it does not answer within a second."""
    started = time.perf_counter()
    try:
        await asyncio.wait_for(request.app[REDIS].ping(), 1.0)
    except (TimeoutError, *CONNECTION_ERRORS):
        return None
    return round((time.perf_counter() - started) * 1000, 2)


async def health(request: web.Request) -> web.Response:
    latency = await ping_ms(request)
    body: dict[str, Any] = {
        "status": "healthy",
        "service": "jobs",
        "version": __version__,
        "uptime": int(time.time() - request.app[STARTED]),
        "queues": [],
        "dependencies": {"redis": {"status": "connected", "latency": latency}},
    }
    if latency is None:
        body["status"] = "unhealthy"
        body["dependencies"]["redis"] = {"status": "disconnected", "latency": None}
        return web.json_response(body, status=503)
    try:
        stats = await request.app[QUEUES].stats()
    except JobsError:
        body["status"] = "unhealthy"
        return web.json_response(body, status=503)
    body["queues"] = [
        {"name": s["name"], **{k: s["counts"][k] for k in ("waiting", "active", "completed", "failed")}}
        for s in stats
    ]
    return web.json_response(body)


async def livez(request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    state = request.app[READY]
    status = 200 if state.get("ready") else 503
    return web.json_response({"ready": bool(state.get("ready")), "checkedAt": state.get("at")}, status=status)


async def readiness_checker(app: web.Application) -> Any:
    """cleanup_ctx: pings Redis every JOBS_HEALTH_CHECK_INTERVAL seconds for /readyz."""
    app[READY] = {"ready": False, "at": None}
    interval = app[SETTINGS].health_check_interval

    async def loop() -> None:
        while True:
            try:
                await asyncio.wait_for(app[REDIS].ping(), min(interval, 2.0))
                ready = True
            except (TimeoutError, *CONNECTION_ERRORS):
                ready = False
            if ready != app[READY]["ready"]:
                log.info("readiness_changed", ready=ready)
            app[READY] = {"ready": ready, "at": time.time()}
            await asyncio.sleep(interval)

    task = asyncio.get_running_loop().create_task(loop())
    yield
    task.cancel()
