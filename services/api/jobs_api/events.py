"""``GET /events?queue=&jobId=``: job transitions as Server-Sent Events, read from the per-queue Redis
streams with a blocking XREAD on a connection of the stream client's own (so that a slow SSE client
never holds a connection that handlers need). A comment line every 15 s keeps proxies from closing it.
``Last-Event-ID`` resumes a single-queue stream where the client left it.
"""

from __future__ import annotations

import json

from aiohttp import web
from pydantic import ValidationError

from jobs_api.context import QUEUES, SETTINGS, STORE
from jobs_api.errors import invalid
from jobs_api.schemas import EventsQuery
from jobs_core.redis_conn import CONNECTION_ERRORS, connect

KEEPALIVE_MS = 15_000


async def events(request: web.Request) -> web.StreamResponse:
    try:
        query = EventsQuery.model_validate(dict(request.query))
    except ValidationError as err:
        raise invalid(err) from None
    queues = [request.app[QUEUES].check(query.queue)] if query.queue else request.app[QUEUES].names
    keys = request.app[STORE].keys
    last = request.headers.get("Last-Event-ID") if query.queue else None
    cursors = {keys.events(q): (last or "$") for q in queues}
    names = {keys.events(q): q for q in queues}
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    await response.write(b": connected\n\n")
    client = connect(request.app[SETTINGS], retries=1, timeout=None)
    try:
        while True:
            replies = await client.xread(cursors, block=KEEPALIVE_MS, count=500)  # type: ignore[arg-type]
            if not replies:
                await response.write(b": keep-alive\n\n")
                continue
            for stream, entries in replies:
                for entry_id, fields in entries:
                    cursors[stream] = entry_id
                    if query.jobId and fields.get("job") != query.jobId:
                        continue
                    data = json.dumps({"queue": names[stream], **fields})
                    await response.write(f"id: {entry_id}\nevent: job\ndata: {data}\n\n".encode())
    except (ConnectionResetError, *CONNECTION_ERRORS):
        pass
    finally:
        await client.aclose()
    return response
