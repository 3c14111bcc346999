"""Recurring-job endpoints (SPEC.md "Schedule Recurring Job" and the schedule management of issue 4).

``POST /schedule`` with a ``schedule`` key lands in :func:`create_recurring` (called by the jobs module);
the rest are ``routes``. Definitions live in Redis through :class:`jobs_core.schedules.ScheduleStore`,
and each change is published so the leading scheduler applies it at the next fire, without restarts.

How it fails: bad cron, unknown time zone or bad options → 400 naming the field; unknown schedule id →
404; Redis unreachable → 503 (all through the app's error middleware).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from jobs_api.context import REDIS, SETTINGS
from jobs_core.errors import NotFound
from jobs_core.schedules import ScheduleInfo, ScheduleStore, schedule_from_request, schedule_view
from jobs_core.views import job_summary


def _store(request: web.Request) -> ScheduleStore:
    return ScheduleStore(request.app[REDIS], request.app[SETTINGS])


async def _found(store: ScheduleStore, schedule_id: str) -> ScheduleInfo:
    info = await store.get(schedule_id)
    if info is None:
        raise NotFound(f"schedule {schedule_id!r} not found", {"scheduleId": schedule_id})
    return info


async def create_recurring(request: web.Request, body: dict[str, Any]) -> web.Response:
    """Create (201) or update (200) a schedule; ``options.scheduleId`` makes it idempotent."""
    schedule = schedule_from_request(body, request.app[SETTINGS])
    store = _store(request)
    outcome, _ = await store.upsert(schedule)
    view = schedule_view(await _found(store, schedule.id))
    view["result"] = outcome
    return web.json_response(view, status=201 if outcome == "created" else 200)


async def list_schedules(request: web.Request) -> web.Response:
    views = [schedule_view(info) for info in await _store(request).list_all()]
    return web.json_response({"schedules": views, "total": len(views)})


async def get_schedule(request: web.Request) -> web.Response:
    """One schedule with lastRunAt, nextRunAt and the jobs it created last (newest first)."""
    store = _store(request)
    info = await _found(store, request.match_info["schedule_id"])
    view = schedule_view(info)
    view["recentJobs"] = [job_summary(record) for record in await store.recent_jobs(info.recent_job_ids)]
    return web.json_response(view)


async def delete_schedule(request: web.Request) -> web.Response:
    schedule_id = request.match_info["schedule_id"]
    await _store(request).delete(schedule_id)
    return web.json_response({"success": True, "scheduleId": schedule_id, "message": "Schedule deleted"})


async def _set_paused(request: web.Request, paused: bool) -> web.Response:
    store = _store(request)
    schedule_id = request.match_info["schedule_id"]
    changed = await store.set_paused(schedule_id, paused)
    view = schedule_view(await _found(store, schedule_id))
    view["changed"] = changed
    return web.json_response(view)


async def pause_schedule(request: web.Request) -> web.Response:
    return await _set_paused(request, True)


async def resume_schedule(request: web.Request) -> web.Response:
    return await _set_paused(request, False)


routes: list[web.RouteDef] = [
    web.get("/schedules", list_schedules),
    web.get("/schedules/{schedule_id}", get_schedule),
    web.delete("/schedules/{schedule_id}", delete_schedule),
    web.post("/schedules/{schedule_id}/pause", pause_schedule),
    web.post("/schedules/{schedule_id}/resume", resume_schedule),
]
