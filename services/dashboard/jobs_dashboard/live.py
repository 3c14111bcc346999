"""``GET /events``: the tab's one Server-Sent Events connection, fed by the process's event hub.

``?queue=`` adds that queue's job events, ``?job=`` that job's; every tab gets the stats messages.
Events arriving within ``COALESCE_S`` go out as one message, so a busy queue costs the browser a few
messages a second, not one per job. A lagging tab gets ``resync`` (reload its data) instead of a
backlog. The stream ends when the tab goes away or the process shuts down.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from jobs_dashboard.context import HUB, QUEUES
from jobs_dashboard.hub import CLOSED, Subscriber

KEEPALIVE_S = 15.0
COALESCE_S = 0.25


def _encode(kind: str, data: Any) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _drain(
    sub: Subscriber, first: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, bool]:
    """Everything waiting in the inbox: job events merged, only the newest stats, and whether closed."""
    events: list[dict[str, Any]] = []
    stats = None
    message: dict[str, Any] | None = first
    while message is not None:
        if message is CLOSED:
            return events, stats, True
        if message["kind"] == "jobs":
            events.extend(message["events"])
        else:
            stats = message
        message = sub.inbox.get_nowait() if not sub.inbox.empty() else None
    return events, stats, False


async def events(request: web.Request) -> web.StreamResponse:
    queue = request.query.get("queue") or None
    if queue is not None:
        request.app[QUEUES].check(queue)
    job = request.query.get("job") or None
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    await response.write(b"retry: 3000\n\n")
    hub = request.app[HUB]
    sub = hub.subscribe(queue, job)
    try:
        while True:
            try:
                first = await asyncio.wait_for(sub.inbox.get(), KEEPALIVE_S)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            await asyncio.sleep(COALESCE_S)
            batch, stats, closed = _drain(sub, first)
            if sub.lagging:
                sub.lagging = False
                await response.write(_encode("resync", {}))
            elif batch:
                await response.write(_encode("jobs", batch))
            if stats is not None:
                await response.write(_encode("stats", stats))
            if closed:
                break
    except (ConnectionResetError, ConnectionError):
        pass
    finally:
        hub.unsubscribe(sub)
    return response
