"""The API application: ``create_app(settings)`` wires Redis, the job store, middlewares and routes.

Middlewares, outermost first: ``front_door`` (request id, errors as JSON bodies with honest statuses,
access log), auth (when JOBS_API_TOKEN is set: the master token, or a job-scoped token for reading one
job; health, probes, metrics and the OpenAPI document stay open; see ``access``). CORS
(``JOBS_CORS_ORIGINS``) wraps every route once they are all added.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.typedefs import Middleware
from structlog.contextvars import bind_contextvars, unbind_contextvars

from jobs_api import events, health, jobs, metrics, openapi, queues, responses
from jobs_api.access import OPEN_PATHS, JobTokens, auth_middleware
from jobs_api.context import QUEUES, REDIS, SETTINGS, STARTED, STORE, TOKENS
from jobs_api.cors import enable_cors
from jobs_api.errors import Handler, error_answer
from jobs_api.settings import ApiSettings
from jobs_core.logging import get_logger
from jobs_core.queues import QueueAdmin
from jobs_core.redis_conn import connect
from jobs_core.store import JobStore

ACCESS_LOGGER = "jobs_api.access"  # written in batches (main: jobs_core.log_output)
access_log = get_logger(ACCESS_LOGGER)


@web.middleware
async def front_door(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id, errors and the access log in one middleware: each layer of middleware costs a
    wrapper call per request, and these three always run together."""
    # os.urandom(8).hex(): the same 16 hex characters as uuid4().hex[:16], without building a UUID.
    request_id = request.headers.get("X-Request-ID") or os.urandom(8).hex()
    bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    try:
        response = await handler(request)
    except Exception as err:
        response = error_answer(request, err)
    finally:
        unbind_contextvars("request_id")
    response.headers["X-Request-ID"] = request_id
    path = request.path
    if path not in OPEN_PATHS:
        access_log.info(
            "request",
            method=request.method,
            path=path,
            status=response.status,
            ms=round((time.perf_counter() - started) * 1000, 2),
            request_id=request_id,
        )
    return response


async def redis_context(app: web.Application) -> AsyncIterator[None]:
    redis = connect(app[SETTINGS])
    app[REDIS] = redis
    app[STORE] = JobStore(redis, app[SETTINGS])
    app[QUEUES] = QueueAdmin(app[STORE])
    yield
    await redis.aclose()


async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(responses.complete(openapi.document(), request.app[SETTINGS]))


def routes(metrics_enabled: bool = True) -> list[web.RouteDef]:
    table = [
        *([web.get("/metrics", metrics.metrics)] if metrics_enabled else []),  # JOBS_METRICS_ENABLED
        web.get("/health", health.health),
        web.get("/livez", health.livez),
        web.get("/readyz", health.readyz),
        web.get("/openapi.json", openapi_document),
        web.post("/schedule", jobs.schedule),
        web.post("/schedule/bulk", jobs.schedule_bulk),
        web.get("/jobs", jobs.list_jobs),
        web.get("/jobs/{job_id}", jobs.get_job),
        web.delete("/jobs/{job_id}", jobs.cancel_job),
        web.post("/jobs/{job_id}/retry", jobs.retry_job),
        web.get("/jobs/{job_id}/logs", jobs.job_logs),
        web.post("/jobs/{job_id}/token", jobs.mint_token),
        web.get("/queues", queues.list_queues),
        web.get("/queues/{queue}", queues.get_queue),
        web.post("/queues/{queue}/pause", queues.pause),
        web.post("/queues/{queue}/resume", queues.resume),
        web.post("/queues/{queue}/drain", queues.drain),
        web.post("/queues/{queue}/clean", queues.clean),
        web.get("/events", events.events),
    ]
    try:
        from jobs_api import schedules
    except ImportError:  # the schedules module arrives with the scheduler service
        return table
    return table + list(schedules.routes)


def create_app(settings: ApiSettings) -> web.Application:
    middlewares: list[Middleware] = [front_door]
    tokens = JobTokens.from_settings(settings)
    if settings.master_token is not None and tokens is not None:
        middlewares.append(auth_middleware(settings.master_token, tokens))
    app = web.Application(middlewares=middlewares, client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[TOKENS] = tokens
    app[STARTED] = time.time()
    app.cleanup_ctx.append(redis_context)
    app.cleanup_ctx.append(metrics.cluster_context)
    app.cleanup_ctx.append(health.readiness_checker)
    app.add_routes(routes(settings.metrics_enabled))
    enable_cors(app, settings.cors_origins)
    events.setup(app)  # open SSE streams end at shutdown instead of holding it for the grace period
    return app
