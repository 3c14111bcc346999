"""CORS for browsers on the origins of ``JOBS_CORS_ORIGINS`` (aiohttp-cors), so that nChat's web app can
call the API and follow ``/events`` from its own origin.

Each allowed origin is echoed exactly (never ``*``, so a token-bearing response is never readable by
every site); preflights need no credentials; ``Vary: Origin`` keeps shared caches from serving one
origin's answer to another. An origin not in the list gets no CORS headers (the browser then refuses to
hand the answer to the page) and a 403 on preflight.
"""

from __future__ import annotations

import aiohttp_cors
from aiohttp import web

ALLOWED_HEADERS = ("Authorization", "Content-Type", "Last-Event-ID", "X-Request-ID")
EXPOSED_HEADERS = ("X-Request-ID", "Retry-After", "Location")
PREFLIGHT_CACHE_S = 600


async def _vary_on_origin(request: web.Request, response: web.StreamResponse) -> None:
    if "Origin" in request.headers and "Vary" not in response.headers:
        response.headers["Vary"] = "Origin"


def enable_cors(app: web.Application, origins: list[str]) -> None:
    """Adds CORS to every route of ``app``; call once all routes are added. No origins: nothing."""
    if not origins:
        return
    options = aiohttp_cors.ResourceOptions(  # type: ignore[no-untyped-call]
        allow_credentials=False,  # tokens travel in Authorization or ?token=, never in cookies
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        allow_methods=["GET", "POST", "DELETE"],
        max_age=PREFLIGHT_CACHE_S,
    )
    cors = aiohttp_cors.setup(app, defaults=dict.fromkeys(origins, options))
    for route in list(app.router.routes()):
        cors.add(route)
    app.on_response_prepare.append(_vary_on_origin)
