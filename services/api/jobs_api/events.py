"""``GET /events?queue=&jobId=``: job transitions as Server-Sent Events, read from the per-queue Redis
streams with a blocking XREAD on a connection of the stream client's own (so that a slow SSE client
never holds a connection that handlers need). A comment line every 15 s keeps proxies from closing it.
``Last-Event-ID`` resumes a single-queue stream where the client left it.

Each event's data names the job as ``jobId`` (like every other answer of the API), with ``queue``,
``from``, ``to``, ``at`` (ms), ``attempt``, and ``progress``, ``result`` or ``error`` where the transition
has them: a completed event always carries the result (read from the record when the stream entry
left it out for size), so a client needs no request after a terminal event.

Where each stream stands is read before the ``: connected`` line is sent, so a client that waits for
that line and then schedules a job sees every event of it. Bad input (unknown queue, a malformed
``Last-Event-ID``) and an unreachable Redis are answered before the stream starts (404, 400, 503);
once it runs, a lost client or Redis ends it quietly. On shutdown (``setup`` registers the hook) every
stream ends at once and cleanly, so that clients reconnect elsewhere with ``Last-Event-ID`` and the
process does not wait out its grace period for streams that never end by themselves.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import web
from redis.asyncio import Redis

from jobs_api.context import QUEUES, SETTINGS, STORE
from jobs_api.errors import validated
from jobs_api.schemas import EventsQuery
from jobs_core.errors import InvalidInput
from jobs_core.keys import Keys
from jobs_core.redis_conn import CONNECTION_ERRORS, connect, unavailable_as_error
from jobs_core.views import stored_json

KEEPALIVE_MS = 15_000
STREAM_ID = re.compile(r"^\d{1,20}(-\d{1,20})?$")
STOPPING = web.AppKey("events_stopping", asyncio.Event)
MAX_ID_PART = 2**64 - 1  # Redis refuses larger parts (found by the fuzzer: it answered after the 200)


def valid_stream_id(text: str) -> bool:
    return bool(STREAM_ID.match(text)) and all(int(part) <= MAX_ID_PART for part in text.split("-"))


def setup(app: web.Application) -> None:
    """Ends the open streams when the application shuts down (called by ``create_app``)."""

    async def stop_streams(app: web.Application) -> None:
        app[STOPPING].set()

    app[STOPPING] = asyncio.Event()
    app.on_shutdown.append(stop_streams)


async def _positions(client: Redis, streams: list[str], last: str | None) -> dict[str, str]:
    """The id to read each stream after: ``last`` when resuming, else its newest entry ("0-0" if none).

    Not XREAD's "$": that means "newer than this call" afresh on every call, so a quiet stream would
    lose whatever arrived while the handler was writing another stream's entries.
    """
    if last is not None:
        return dict.fromkeys(streams, last)
    pipe = client.pipeline(transaction=False)
    for stream in streams:
        pipe.xrevrange(stream, count=1)
    newest = await pipe.execute()
    return {s: (entries[0][0] if entries else "0-0") for s, entries in zip(streams, newest, strict=True)}


async def events(request: web.Request) -> web.StreamResponse:
    query = validated(EventsQuery, dict(request.query))
    queues = [request.app[QUEUES].check(query.queue)] if query.queue else request.app[QUEUES].names
    last = request.headers.get("Last-Event-ID") if query.queue else None
    if last is not None and not valid_stream_id(last):
        raise InvalidInput("Last-Event-ID: not a stream id such as 1700000000000-0")
    keys = request.app[STORE].keys
    names = {keys.events(q): q for q in queues}
    client = connect(request.app[SETTINGS], retries=1, timeout=None)
    try:
        async with unavailable_as_error():
            cursors = await _positions(client, list(names), last)
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        await response.write(b": connected\n\n")
        await _relay(
            client, response, cursors, names,
            job_id=query.jobId, keys=keys, stopping=request.app[STOPPING],
        )  # fmt: skip
    finally:
        await client.aclose()
    return response


def event_data(queue: str, fields: dict[str, str]) -> dict[str, Any]:
    """A stream entry as clients see it: ``jobId``, numbers as numbers, the result as JSON."""
    data: dict[str, Any] = {"queue": queue}
    for name, value in fields.items():
        if name == "job":
            if value:  # queue events (pause, resume) concern no job
                data["jobId"] = value
        elif name in ("at", "attempt"):
            data[name] = int(value) if value.isdigit() else value
        elif name == "progress":
            data[name] = _number(value)
        elif name == "result":
            data[name] = stored_json(value)
        else:
            data[name] = value
    return data


def _number(text: str) -> float | int | str:
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else number


async def _add_missing_results(client: Redis, keys: Keys, batch: list[dict[str, Any]]) -> None:
    """Completed events whose stream entry left the (large) result out get it from the job record."""
    missing = [d for d in batch if d.get("to") == "completed" and "result" not in d and "jobId" in d]
    if not missing:
        return
    pipe = client.pipeline(transaction=False)
    for data in missing:
        pipe.hget(keys.job(data["jobId"]), "result")
    for data, result in zip(missing, await pipe.execute(), strict=True):
        data["result"] = stored_json(result)


async def _relay(
    client: Redis,
    response: web.StreamResponse,
    cursors: dict[str, str],
    names: dict[str, str],
    *,
    job_id: str | None,
    keys: Keys,
    stopping: asyncio.Event,
) -> None:
    """Copies stream entries to the client until it goes away, Redis does, or the process stops."""
    stop = asyncio.ensure_future(stopping.wait())
    read: asyncio.Future[Any] = stop  # replaced by the first read
    try:
        while True:
            read = asyncio.ensure_future(client.xread(cursors, block=KEEPALIVE_MS, count=500))  # type: ignore[arg-type]
            await asyncio.wait((read, stop), return_when=asyncio.FIRST_COMPLETED)
            if not read.done():  # shutting down: the read is cancelled below, the client closed after
                return
            replies = read.result()
            if not replies:
                await response.write(b": keep-alive\n\n")
                continue
            batch: list[tuple[str, dict[str, Any]]] = []
            for stream, entries in replies:
                for entry_id, fields in entries:
                    cursors[stream] = entry_id
                    if not job_id or fields.get("job") == job_id:
                        batch.append((entry_id, event_data(names[stream], fields)))
            await _add_missing_results(client, keys, [data for _, data in batch])
            for entry_id, data in batch:
                text = json.dumps(data, separators=(",", ":"))
                await response.write(f"id: {entry_id}\nevent: job\ndata: {text}\n\n".encode())
    except (ConnectionResetError, *CONNECTION_ERRORS):
        pass
    finally:
        read.cancel()
        stop.cancel()
