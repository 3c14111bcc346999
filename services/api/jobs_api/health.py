"""Health endpoints.

``/health``: SPEC.md's JSON, read live from Redis on each call (one snapshot, :mod:`jobs_core.metrics`),
plus the live workers per queue (from worker heartbeats), the scheduler leader, and a verdict:
``healthy``; ``degraded`` (still 200) when a queue has waiting jobs and no live worker serves it, or when
schedules exist and no scheduler replica leads; ``unhealthy`` with 503 when Redis does not answer.
``/livez``: the process answers. ``/readyz``: Redis answered the last background check, run every
JOBS_HEALTH_CHECK_INTERVAL seconds, so probes cost Redis nothing; a Redis outage turns it 503 within one
interval, and the next successful check turns it back, without a restart.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from jobs_api.context import REDIS, SETTINGS, STARTED
from jobs_api.metrics import read_cluster
from jobs_core import __version__
from jobs_core.logging import get_logger
from jobs_core.metrics import ClusterSnapshot
from jobs_core.redis_conn import CONNECTION_ERRORS

log = get_logger("jobs_api.health")
READY = web.AppKey("ready", dict)
# A health check that waits longer than this says "unhealthy": a load balancer must not hang on it.
HEALTH_TIMEOUT_S = 2.0


async def health(request: web.Request) -> web.Response:
    body: dict[str, Any] = {
        "status": "healthy",
        "service": "jobs",
        "version": __version__,
        "uptime": int(time.time() - request.app[STARTED]),
        "queues": [],
        "dependencies": {"redis": {"status": "connected", "latency": None}},
    }
    snap = await read_cluster(request.app, HEALTH_TIMEOUT_S)
    if snap is None:
        body["status"] = "unhealthy"
        body["dependencies"]["redis"] = {"status": "disconnected", "latency": None}
        return web.json_response(body, status=503)
    body["dependencies"]["redis"]["latency"] = round(snap.latency_s * 1000, 2)
    body["queues"] = [
        {
            "name": q.name,
            **{state: q.counts[state] for state in ("waiting", "active", "completed", "failed")},
            "paused": q.paused,
            "workers": q.workers,
        }
        for q in snap.queues
    ]
    body["workers"] = {"live": snap.workers}
    replica = snap.leader.rsplit(":", 1)[0] if snap.leader else None
    body["scheduler"] = {"leader": snap.leader is not None, "replica": replica, "schedules": snap.schedules}
    body["warnings"] = warnings(snap)
    body["status"] = "degraded" if body["warnings"] else "healthy"
    return web.json_response(body)


def warnings(snap: ClusterSnapshot) -> list[str]:
    """Why the cluster is degraded; empty when healthy. A paused queue's backlog is intended."""
    out = [
        f"queue {q.name}: {q.counts['waiting']} waiting jobs and no live worker"
        for q in snap.queues
        if q.counts["waiting"] and not q.paused and not q.workers
    ]
    if snap.schedules and snap.leader is None:
        out.append(f"{snap.schedules} schedules and no scheduler leader: recurring jobs do not fire")
    return out


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
