"""The dashboard's middlewares and response headers, outermost first: errors, then session + CSRF.

* ``error_middleware`` times every answer (``Server-Timing: app;dur=<ms>``), turns core errors into
  an HTML error page with the error's status (JSON for ``/api/`` paths), keeps aiohttp's own HTTP
  exceptions, and logs anything unexpected without ever showing a traceback.
* ``session_middleware`` finds the session (login required when auth is on: pages redirect to
  /login, other requests get 401) and refuses every POST without the session's CSRF token (403).
* ``security_headers`` (on_response_prepare) adds CSP (self only, no inline script), frame denial,
  nosniff and a strict referrer policy to every response, static files and errors included.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from jobs_core.errors import JobsError
from jobs_core.logging import get_logger
from jobs_dashboard.auth import PRE_COOKIE, SESSION_COOKIE, SESSION_TTL_S, Session
from jobs_dashboard.context import SESSIONS
from jobs_dashboard.render import FLASH, SESSION, render

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = get_logger("jobs_dashboard")
FLASH_COOKIE = "jd_flash"
OPEN_PATHS = frozenset({"/livez", "/readyz", "/login"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(HEADERS)
    if response.content_type == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")


def _error_page(request: web.Request, status: int, title: str, message: str) -> web.StreamResponse:
    if request.path.startswith("/api/") or request.path == "/events":
        return web.json_response({"error": {"code": title, "message": message}}, status=status)
    context = {"status": status, "title": title, "message": message}
    return render("error.html", request, context, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    response = await _guarded(request, handler)
    if not response.prepared:  # SSE streams have sent their headers already
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except JobsError as err:
        return _error_page(request, err.status, err.code.replace("_", " "), err.message)
    except web.HTTPException as err:
        if err.status < 400:
            raise  # redirects
        message = f"{request.path} is not a page here" if err.status == 404 else (err.text or err.reason)
        return _error_page(request, err.status, err.reason.lower(), message)
    except Exception:
        log.exception("request_failed", method=request.method, path=request.path)
        return _error_page(request, 500, "internal error", "something went wrong; the log has details")


def _is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith("/static/")


def set_session_cookie(request: web.Request, response: web.StreamResponse, value: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, value, max_age=SESSION_TTL_S, httponly=True, samesite="Strict",
        secure=request.secure, path="/",
    )  # fmt: skip


async def _csrf_given(request: web.Request) -> str | None:
    header = request.headers.get("X-CSRF-Token")
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get("_csrf")
        return value if isinstance(value, str) else None
    return None


async def _check_csrf(request: web.Request, session: Session | None) -> None:
    sessions = request.app[SESSIONS]
    given = await _csrf_given(request)
    if request.path == "/login":
        nonce = request.cookies.get(PRE_COOKIE, "")
    else:
        nonce = session.nonce if session else ""
    if not nonce or not sessions.csrf_ok(nonce, given):
        log.warning("csrf_refused", path=request.path, client=request.remote)
        raise web.HTTPForbidden(text="missing or wrong CSRF token: reload the page and try again")


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    sessions = request.app[SESSIONS]
    session = sessions.read(request.cookies.get(SESSION_COOKIE))
    new_cookie = None
    if session is None and not sessions.enabled and not _is_open(request.path):
        session, new_cookie = sessions.issue("anonymous")
    if session is None and not _is_open(request.path):
        if request.method == "GET" and request.path != "/events":
            raise web.HTTPSeeOther(f"/login?next={request.path_qs}" if request.path != "/" else "/login")
        raise web.HTTPUnauthorized(text="log in first")
    if request.method not in SAFE_METHODS:
        await _check_csrf(request, session)
    request[SESSION] = session
    request[FLASH] = read_flash(request)
    response = await handler(request)
    if new_cookie:
        set_session_cookie(request, response, new_cookie)
    if request[FLASH] and not 300 <= response.status < 400:
        response.del_cookie(FLASH_COOKIE, path="/")  # shown once
    return response


def flash(response: web.StreamResponse, message: str, kind: str = "ok") -> None:
    """A message for the next page (after the redirect that ends every action)."""
    raw = json.dumps({"kind": kind, "text": message}).encode()
    value = base64.urlsafe_b64encode(raw).decode().rstrip("=")  # no quoting needed in the cookie
    response.set_cookie(FLASH_COOKIE, value, max_age=60, httponly=True, samesite="Strict", path="/")


def read_flash(request: web.Request) -> dict[str, str] | None:
    value = request.cookies.get(FLASH_COOKIE)
    if not value:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        return {"kind": str(data["kind"]), "text": str(data["text"])}
    except (ValueError, KeyError, TypeError):
        return None
