"""``/metrics`` of the api (when JOBS_METRICS_ENABLED): the cluster-wide series read from Redis at scrape
time (:mod:`jobs_core.metrics`), so every api replica serves the same values however many workers run,
plus the ``process_*`` series of this process (of all the api's processes when JOBS_API_PROCESSES > 1:
:mod:`jobs_api.process_metrics`).

Also builds the cluster reader that ``/health`` shares (``cluster_context``, a cleanup_ctx).

How it fails: when Redis does not answer within ``SCRAPE_TIMEOUT_S`` the scrape still succeeds with
``jobs_redis_up 0`` and the process series only, so Prometheus tells "Redis down" from "api down".
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, ProcessCollector, generate_latest
from redis.exceptions import RedisError

from jobs_api.context import REDIS, SETTINGS, STORE
from jobs_api.process_metrics import ApiProcessesCollector
from jobs_core.errors import JobsError
from jobs_core.logging import get_logger
from jobs_core.metrics import ClusterReader, ClusterSnapshot, render

log = get_logger("jobs_api.metrics")
CLUSTER = web.AppKey("cluster", ClusterReader)
PROCESS = web.AppKey("process_registry", CollectorRegistry)
# Below Prometheus' default scrape timeout (10 s): a slow Redis yields jobs_redis_up 0, not a failed scrape.
SCRAPE_TIMEOUT_S = 5.0


async def cluster_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx (after the Redis one): the reader behind /metrics and /health."""
    app[CLUSTER] = ClusterReader(app[REDIS], app[STORE].keys, app[SETTINGS].queues)
    registry = CollectorRegistry(auto_describe=False)
    if app[SETTINGS].api_processes > 1:  # a child of the supervisor: report the whole api
        registry.register(ApiProcessesCollector(os.getppid()))
    else:
        ProcessCollector(registry=registry)
    app[PROCESS] = registry
    yield


async def read_cluster(app: web.Application, within_s: float) -> ClusterSnapshot | None:
    """A snapshot, or None when Redis is unreachable or slower than ``within_s`` seconds."""
    try:
        return await asyncio.wait_for(app[CLUSTER].read(), within_s)
    except (TimeoutError, JobsError, RedisError) as err:
        log.warning("cluster_read_failed", error=type(err).__name__)
        return None


async def metrics(request: web.Request) -> web.Response:
    snapshot = await read_cluster(request.app, SCRAPE_TIMEOUT_S)
    body = generate_latest(request.app[PROCESS]) + render(snapshot)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
