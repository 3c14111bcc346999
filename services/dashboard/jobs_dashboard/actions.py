"""The dashboard's actions: every one a POST (CSRF-checked by the session middleware), done through the
core's scripts, recorded in the audit log, and answered with a redirect that carries a flash message.

Destructive actions (drain, clean, retry all failed, delete a schedule) first answer with a confirm page;
only a second POST with ``confirm=yes`` acts. A refused action (wrong state, unknown job) is flashed as
an error on the page it came from; nothing is half done since each change is one script.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from jobs_core.errors import InvalidInput, JobsError
from jobs_core.logging import get_logger
from jobs_core.queues import CLEANABLE
from jobs_dashboard.context import ADMIN, QUEUES, SCHEDULES, STORE
from jobs_dashboard.middlewares import flash
from jobs_dashboard.render import SESSION, render

log = get_logger("jobs_dashboard")
Act = Callable[[web.Request, dict[str, str]], Awaitable[tuple[str, Any]]]
GRACE_CHOICES = {"0": 0, "3600": 3_600_000, "86400": 86_400_000, "604800": 604_800_000}
CLEAN_LIMIT = 100_000


def _back(form: dict[str, str], default: str) -> str:
    """Where to go afterwards: a local path from the form, never another site."""
    target = form.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else default


async def _form(request: web.Request) -> dict[str, str]:
    data = await request.post()
    return {k: v for k, v in data.items() if isinstance(v, str)}


def action(
    name: str, default_back: Callable[[web.Request], str], act: Act, confirm: str | None = None
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Wraps one action: optional confirm step, the act, the audit record, flash and redirect."""

    async def handler(request: web.Request) -> web.StreamResponse:
        form = await _form(request)
        target = request.match_info.get("queue") or request.match_info.get("job_id") or ""
        target = target or request.match_info.get("schedule_id", "")
        back = _back(form, default_back(request))
        if confirm and form.get("confirm") != "yes":
            context = {"title": f"{name} {target}?", "message": confirm, "action": request.path,
                       "fields": {k: v for k, v in form.items() if k not in ("_csrf", "confirm")},
                       "back": back}  # fmt: skip
            return render("confirm.html", request, context)
        session = request[SESSION]
        assert session is not None  # the session middleware let the request in
        response = web.HTTPSeeOther(back)
        try:
            message, detail = await act(request, form)
        except JobsError as err:
            log.info("action_refused", action=name, target=target, user=session.user, reason=err.message)
            flash(response, f"{name} {target}: {err.message}", "error")
            raise response from None
        await request.app[ADMIN].audit(session.user, name, target, detail, request.remote or "")
        log.info("action", action=name, target=target, user=session.user, detail=detail)
        flash(response, message)
        raise response

    return handler


def _queue_back(request: web.Request) -> str:
    return f"/queues/{request.match_info['queue']}"


def _job_back(request: web.Request) -> str:
    return f"/jobs/{request.match_info['job_id']}"


def _schedules_back(request: web.Request) -> str:
    return "/schedules"


async def _pause(request: web.Request, form: dict[str, str]) -> tuple[str, Any]:
    changed = await request.app[QUEUES].pause(request.match_info["queue"])
    return ("Queue paused" if changed else "Queue was already paused"), {"changed": changed}


async def _resume(request: web.Request, form: dict[str, str]) -> tuple[str, Any]:
    changed = await request.app[QUEUES].resume(request.match_info["queue"])
    return ("Queue resumed" if changed else "Queue was not paused"), {"changed": changed}


async def _drain(request: web.Request, form: dict[str, str]) -> tuple[str, Any]:
    delayed = form.get("delayed") == "1"
    removed = await request.app[QUEUES].drain(request.match_info["queue"], include_delayed=delayed)
    return f"Drained: {removed} jobs removed", {"removed": removed, "delayed": delayed}


async def _clean(request: web.Request, form: dict[str, str]) -> tuple[str, Any]:
    state = form.get("state", "completed")
    if state not in CLEANABLE:
        raise InvalidInput(f"state: must be one of {', '.join(CLEANABLE)}")
    grace = GRACE_CHOICES.get(form.get("grace", "0"))
    if grace is None:
        raise InvalidInput("grace: choose one of the offered ages")
    removed = await request.app[QUEUES].clean(request.match_info["queue"], state, grace, CLEAN_LIMIT)
    return f"Cleaned: {len(removed)} {state} jobs removed", {"state": state, "graceMs": grace,
                                                            "removed": len(removed)}  # fmt: skip


async def _retry_failed(request: web.Request, form: dict[str, str]) -> tuple[str, Any]:
    retried, skipped = await request.app[ADMIN].retry_all_failed(request.match_info["queue"])
    note = f" ({skipped} skipped: a dependency failed)" if skipped else ""
    return f"Retried {retried} failed jobs{note}", {"retried": retried, "skipped": skipped}


async def _retry(request: web.Request, form: dict[str, str]) -> tuple[str, Any]:
    state = await request.app[STORE].retry(request.match_info["job_id"])
    return f"Job retried: now {state}", {"state": state}


async def _cancel(request: web.Request, form: dict[str, str]) -> tuple[str, Any]:
    was = await request.app[STORE].cancel(request.match_info["job_id"])
    return f"Job cancelled (it was {was})", {"was": was}


async def _promote(request: web.Request, form: dict[str, str]) -> tuple[str, Any]:
    state = await request.app[ADMIN].promote(request.match_info["job_id"])
    return f"Job runs now: {state}", {"state": state}


async def _schedule_pause(request: web.Request, form: dict[str, str]) -> tuple[str, Any]:
    changed = await request.app[SCHEDULES].set_paused(request.match_info["schedule_id"], True)
    return "Schedule paused", {"changed": changed}


async def _schedule_resume(request: web.Request, form: dict[str, str]) -> tuple[str, Any]:
    changed = await request.app[SCHEDULES].set_paused(request.match_info["schedule_id"], False)
    return "Schedule resumed", {"changed": changed}


async def _schedule_delete(request: web.Request, form: dict[str, str]) -> tuple[str, Any]:
    await request.app[SCHEDULES].delete(request.match_info["schedule_id"])
    return "Schedule deleted", None


pause = action("pause", _queue_back, _pause)
resume = action("resume", _queue_back, _resume)
drain = action(
    "drain", _queue_back, _drain, "Every waiting job of this queue is deleted (running jobs finish)."
)
clean = action(
    "clean", _queue_back, _clean, "Finished jobs of the chosen state and age are deleted for good."
)
retry_failed = action(
    "retry all failed", _queue_back, _retry_failed, "Every failed job of this queue runs again."
)
retry = action("retry", _job_back, _retry)
cancel = action("cancel", _job_back, _cancel)
promote = action("run now", _job_back, _promote)
schedule_pause = action("pause schedule", _schedules_back, _schedule_pause)
schedule_resume = action("resume schedule", _schedules_back, _schedule_resume)
schedule_delete = action("delete schedule", _schedules_back, _schedule_delete,
                         "The schedule stops firing and is removed; jobs it made stay.")  # fmt: skip
