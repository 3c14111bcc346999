"""The dashboard's pages (GET, server-rendered): overview, queue, job, search, schedules, audit.

Every read goes through the core (QueueAdmin, JobStore, Admin, Insights, ScheduleStore). Unknown queues
and jobs raise ``NotFound`` (a 404 page); a bad query value raises ``InvalidInput`` (a 400 page).
Fragments (``/rows``, ``/live``) re-render part of a page when a live event says it changed.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from jobs_core.admin import Page
from jobs_core.errors import InvalidInput, NotFound
from jobs_core.keys import JOB_STATES
from jobs_core.views import job_detail, job_summary
from jobs_dashboard.context import ADMIN, INSIGHTS, QUEUES, SCHEDULES, STORE
from jobs_dashboard.render import render
from jobs_dashboard.timeline import timeline

PER_PAGE = 25
OPENING_STATES = ("active", "waiting", "failed", "delayed", "completed")
TAB_STATES = ("active", "waiting", "delayed", "blocked", "completed", "failed", "cancelled")


def _int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name}: must be a whole number") from None
    return min(max(value, low), high)


async def overview(request: web.Request) -> web.Response:
    admin, insights, queues = request.app[ADMIN], request.app[INSIGHTS], request.app[QUEUES]
    stats, hour, day, workers, leader, memory = await asyncio.gather(
        queues.stats(), insights.hour(queues.names), insights.day(queues.names),
        admin.workers(), admin.leader(), admin.memory(),
    )  # fmt: skip
    totals = {
        "start": next(iter(hour.values()))["start"] if hour else 0,
        "step": 1,
        "completed": [sum(col) for col in zip(*(h["completed"] for h in hour.values()), strict=True)],
        "failed": [sum(col) for col in zip(*(h["failed"] for h in hour.values()), strict=True)],
    }
    context = {
        "page": "overview",
        "queues": stats,
        "hour": hour,
        "workers": workers,
        "leader": leader,
        "memory": memory,
        "charts": {"hour": totals, "day": day, "queues": {q: h for q, h in hour.items()}},
    }
    return render("overview.html", request, context)


async def _listing(
    request: web.Request, queue: str, default_state: str = "waiting"
) -> tuple[str, str | None, Page]:
    state = request.query.get("state") or default_state
    if state not in JOB_STATES:
        raise InvalidInput(f"state: must be one of {', '.join(JOB_STATES)}")
    job_type = (request.query.get("type") or "").strip() or None
    page = _int_query(request, "page", 1, 1, 1_000_000)
    offset = (page - 1) * PER_PAGE
    admin = request.app[ADMIN]
    if job_type:
        listing = await admin.page_of_type(queue, state, job_type, offset, PER_PAGE)
    else:
        listing = await admin.page(queue, state, offset, PER_PAGE)
    return state, job_type, listing


def _rows_context(queue: str, state: str, job_type: str | None, listing: Page) -> dict[str, Any]:
    page = listing.offset // PER_PAGE + 1
    pages = max((listing.total + PER_PAGE - 1) // PER_PAGE, 1)
    return {
        "queue": queue,
        "state": state,
        "job_type": job_type or "",
        "jobs": [{**job_summary(r), "error": r.get("error") or ""} for r in listing.jobs],
        "total": listing.total,
        "page_no": page,
        "pages": pages,
        "first": listing.offset + 1 if listing.jobs else 0,
        "last": listing.offset + len(listing.jobs),
    }


async def queue_page(request: web.Request) -> web.Response:
    queues = request.app[QUEUES]
    queue = queues.check(request.match_info["queue"])
    (stats,) = await queues.stats([queue])
    # Without a chosen tab, open the first one that has jobs: what an operator came to look at.
    default = next((s for s in OPENING_STATES if stats["counts"][s]), "waiting")
    hour, (state, job_type, listing) = await asyncio.gather(
        request.app[INSIGHTS].hour([queue]), _listing(request, queue, default)
    )
    context = {
        "page": "queue",
        "stats": stats,
        "tabs": TAB_STATES,
        "hour": hour[queue],
        "charts": {"hour": hour[queue]},
        **_rows_context(queue, state, job_type, listing),
    }
    return render("queue.html", request, context)


async def queue_rows(request: web.Request) -> web.Response:
    """The table body and pager of a queue page: what the live script swaps in after events."""
    queue = request.app[QUEUES].check(request.match_info["queue"])
    state, job_type, listing = await _listing(request, queue)
    return render("rows.html", request, _rows_context(queue, state, job_type, listing))


async def _job_context(request: web.Request) -> dict[str, Any]:
    job_id = request.match_info["job_id"]
    store = request.app[STORE]
    found, logs, errors = await asyncio.gather(store.get(job_id), store.logs(job_id), store.errors(job_id))
    if found is None:
        raise NotFound(f"job {job_id!r} not found (it may have been removed by retention or clean)")
    record, dependents = found
    job = job_detail(record, dependents)
    return {
        "page": "job",
        "job": job,
        "record": record,
        "logs": logs,
        "errors": errors,
        "timeline": timeline(record, errors),
    }


async def job_page(request: web.Request) -> web.Response:
    return render("job.html", request, await _job_context(request))


async def job_live(request: web.Request) -> web.Response:
    return render("job_live.html", request, await _job_context(request))


async def search(request: web.Request) -> web.StreamResponse:
    """Search by job id: an exact lookup of the job's record (O(1), no scan)."""
    text = (request.query.get("q") or "").strip()
    if not text:
        raise InvalidInput("q: type a job id")
    if await request.app[STORE].get(text) is None:
        raise NotFound(f"no job with id {text!r}")
    raise web.HTTPSeeOther(f"/jobs/{text}")


async def schedules_page(request: web.Request) -> web.Response:
    store = request.app[SCHEDULES]
    infos = await store.list_all()
    recent_ids = [job_id for info in infos for job_id in info.recent_job_ids[:5]]
    records = {r["id"]: job_summary(r) for r in await store.recent_jobs(recent_ids)}
    now = datetime.now(UTC)
    rows = []
    for info in infos:
        next_run = info.next_run_at(now)
        rows.append(
            {
                "info": info,
                "next_run": next_run.isoformat(timespec="seconds").replace("+00:00", "Z")
                if next_run
                else None,
                "recent": [records[j] for j in info.recent_job_ids[:5] if j in records],
            }
        )
    return render("schedules.html", request, {"page": "schedules", "rows": rows})


async def audit_page(request: web.Request) -> web.Response:
    page = _int_query(request, "page", 1, 1, 1000)
    records, total = await request.app[ADMIN].audit_log((page - 1) * 50, 50)
    context = {"page": "audit", "records": records, "total": total, "page_no": page}
    return render("audit.html", request, context)
