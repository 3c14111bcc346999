"""The dashboard application: ``create_app(settings)`` wires Redis, the core's stores, the event hub,
templates, middlewares and the one routes table.

Resources live in ``cleanup_ctx``: two Redis clients (one for requests, one without socket timeout for
the hub's blocking XREAD) and the hub's tasks. On shutdown the hub ends every open event stream first,
so SIGTERM is not held up by tabs that stay open.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from jobs_core.admin import Admin
from jobs_core.insights import Insights
from jobs_core.queues import QueueAdmin
from jobs_core.redis_conn import connect
from jobs_core.schedules import ScheduleStore
from jobs_core.store import JobStore
from jobs_dashboard import actions, live, login, pages, render
from jobs_dashboard import context as ctx
from jobs_dashboard.auth import Sessions, Throttle
from jobs_dashboard.hub import EventHub
from jobs_dashboard.middlewares import (
    error_middleware,
    security_headers,
    session_middleware,
)
from jobs_dashboard.settings import DashboardSettings

HERE = Path(__file__).parent


async def core_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[ctx.SETTINGS]
    redis = connect(settings)
    app[ctx.REDIS] = redis
    app[ctx.STORE] = store = JobStore(redis, settings)
    app[ctx.QUEUES] = queues = QueueAdmin(store)
    app[ctx.ADMIN] = Admin(store, queues)
    app[ctx.INSIGHTS] = insights = Insights(store)
    app[ctx.SCHEDULES] = ScheduleStore(redis, settings)
    blocking = connect(settings, timeout=None)
    reader_store = JobStore(blocking, settings)
    app[ctx.HUB] = hub = EventHub(Admin(reader_store, QueueAdmin(reader_store)), queues, insights)
    hub.start()
    yield
    await hub.close()
    await blocking.aclose()
    await redis.aclose()


async def close_streams(app: web.Application) -> None:
    """on_shutdown: end the open SSE responses before the server waits for handlers."""
    if ctx.HUB in app:
        await app[ctx.HUB].close()


def routes() -> list[web.AbstractRouteDef]:
    return [
        web.get("/livez", login.livez),
        web.get("/readyz", login.readyz),
        web.get("/login", login.login_form),
        web.post("/login", login.login),
        web.post("/logout", login.logout),
        web.get("/", pages.overview),
        web.get("/search", pages.search),
        web.get("/queues/{queue}", pages.queue_page),
        web.get("/queues/{queue}/rows", pages.queue_rows),
        web.post("/queues/{queue}/pause", actions.pause),
        web.post("/queues/{queue}/resume", actions.resume),
        web.post("/queues/{queue}/drain", actions.drain),
        web.post("/queues/{queue}/clean", actions.clean),
        web.post("/queues/{queue}/retry-failed", actions.retry_failed),
        web.get("/jobs/{job_id}", pages.job_page),
        web.get("/jobs/{job_id}/live", pages.job_live),
        web.post("/jobs/{job_id}/retry", actions.retry),
        web.post("/jobs/{job_id}/cancel", actions.cancel),
        web.post("/jobs/{job_id}/promote", actions.promote),
        web.get("/schedules", pages.schedules_page),
        web.post("/schedules/{schedule_id}/pause", actions.schedule_pause),
        web.post("/schedules/{schedule_id}/resume", actions.schedule_resume),
        web.post("/schedules/{schedule_id}/delete", actions.schedule_delete),
        web.get("/audit", pages.audit_page),
        web.get("/events", live.events),
        web.static("/static", HERE / "static", append_version=True),
    ]


def create_app(settings: DashboardSettings) -> web.Application:
    app = web.Application(middlewares=[error_middleware, session_middleware], client_max_size=64 * 1024)
    app[ctx.SETTINGS] = settings
    app[ctx.SESSIONS] = Sessions(settings)
    app[ctx.THROTTLE] = Throttle()
    render.setup(app, settings)
    app.on_response_prepare.append(security_headers)
    app.on_shutdown.append(close_streams)
    app.cleanup_ctx.append(core_context)
    app.add_routes(routes())
    return app
