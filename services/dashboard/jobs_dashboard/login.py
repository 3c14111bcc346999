"""Login and logout, and the probes that stay open without a session.

A wrong username or password answers 401 with the form again; past the free failures the client's
address waits (429 with Retry-After) before any further attempt is even checked.
"""

from __future__ import annotations

import secrets

from aiohttp import web

from jobs_core.logging import get_logger
from jobs_core.redis_conn import CONNECTION_ERRORS
from jobs_dashboard.auth import PRE_COOKIE, SESSION_COOKIE
from jobs_dashboard.context import REDIS, SESSIONS, THROTTLE
from jobs_dashboard.middlewares import set_session_cookie
from jobs_dashboard.render import render

log = get_logger("jobs_dashboard")


def _next(value: str | None) -> str:
    return value if value and value.startswith("/") and not value.startswith("//") else "/"


def _form_page(request: web.Request, status: int = 200, error: str | None = None) -> web.Response:
    nonce = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(16)
    context = {
        "page": "login",
        "login_csrf": request.app[SESSIONS].csrf_token(nonce),
        "next": _next(request.query.get("next")),
        "error": error,
    }
    response = render("login.html", request, context, status=status)
    response.set_cookie(PRE_COOKIE, nonce, httponly=True, samesite="Strict", path="/login", max_age=3600)
    return response


async def login_form(request: web.Request) -> web.StreamResponse:
    if not request.app[SESSIONS].enabled:
        raise web.HTTPSeeOther("/")
    return _form_page(request)


async def login(request: web.Request) -> web.StreamResponse:
    sessions, throttle = request.app[SESSIONS], request.app[THROTTLE]
    addr = request.remote or "unknown"
    wait = throttle.wait(addr)
    if wait > 0:
        log.warning("login_throttled", client=addr, wait_s=round(wait, 1))
        response = _form_page(request, 429, f"Too many failed attempts: try again in {int(wait) + 1} s.")
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    form = await request.post()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    if not sessions.enabled or not sessions.credentials_ok(username, password):
        lock = throttle.failed(addr)
        log.warning("login_failed", client=addr, username=username[:64], locked_s=lock)
        return _form_page(request, 401, "Wrong username or password.")
    throttle.succeeded(addr)
    _, cookie = sessions.issue(username)
    log.info("login", client=addr, username=username)
    response = web.HTTPSeeOther(_next(str(form.get("next", ""))))
    set_session_cookie(request, response, cookie)
    response.del_cookie(PRE_COOKIE, path="/login")
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    response = web.HTTPSeeOther("/login" if request.app[SESSIONS].enabled else "/")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


async def livez(request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when Redis answers a PING."""
    try:
        await request.app[REDIS].ping()
    except CONNECTION_ERRORS as err:
        return web.json_response({"status": "unready", "redis": type(err).__name__}, status=503)
    return web.json_response({"status": "ready"})
