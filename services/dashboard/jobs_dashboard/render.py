"""Server-side rendering with Jinja2: one environment per app, autoescaped, templates from the package.

``render(name, request, context)`` adds what every page needs (user, CSRF token, flash message) and
answers text/html. A template error is a bug: it propagates to the error middleware (500, logged).
"""

from __future__ import annotations

from typing import Any

import jinja2
from aiohttp import web

from jobs_dashboard.auth import Session
from jobs_dashboard.context import SESSIONS
from jobs_dashboard.filters import install_filters
from jobs_dashboard.settings import DashboardSettings

ENV = web.AppKey("jinja_env", jinja2.Environment)
SESSION: web.RequestKey[Session | None] = web.RequestKey("session")
FLASH: web.RequestKey[dict[str, str] | None] = web.RequestKey("flash")


def setup(app: web.Application, settings: DashboardSettings) -> None:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("jobs_dashboard", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        enable_async=False,
    )
    install_filters(env, settings)
    app[ENV] = env


def render(name: str, request: web.Request, context: dict[str, Any], status: int = 200) -> web.Response:
    session = request.get(SESSION)
    sessions = request.app[SESSIONS]
    base = {
        "user": session.user if session is not None else None,
        "csrf": sessions.csrf_token(session.nonce) if session is not None else "",
        "auth_enabled": sessions.enabled,
        "flash": request.get(FLASH),
    }
    text = request.app[ENV].get_template(name).render({**base, **context})
    return web.Response(text=text, status=status, content_type="text/html")
