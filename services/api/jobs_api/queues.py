"""Queue endpoints: stats of one or all queues, pause, resume, drain, clean (SPEC.md "Queue
Management"). Unknown queue names answer 404; bad bodies 400 naming the field.
"""

from __future__ import annotations

from aiohttp import web

from jobs_api.body import read_json
from jobs_api.context import QUEUES
from jobs_api.errors import validated_body
from jobs_api.schemas import CleanRequest, DrainRequest


async def list_queues(request: web.Request) -> web.Response:
    return web.json_response({"queues": await request.app[QUEUES].stats()})


async def get_queue(request: web.Request) -> web.Response:
    [stats] = await request.app[QUEUES].stats([request.match_info["queue"]])
    return web.json_response(stats)


async def pause(request: web.Request) -> web.Response:
    queue = request.match_info["queue"]
    changed = await request.app[QUEUES].pause(queue)
    return web.json_response({"success": True, "queue": queue, "isPaused": True, "changed": changed})


async def resume(request: web.Request) -> web.Response:
    queue = request.match_info["queue"]
    changed = await request.app[QUEUES].resume(queue)
    return web.json_response({"success": True, "queue": queue, "isPaused": False, "changed": changed})


async def drain(request: web.Request) -> web.Response:
    queue = request.app[QUEUES].check(request.match_info["queue"])
    body = validated_body(DrainRequest, await read_json(request, required=False))
    removed = await request.app[QUEUES].drain(queue, body.delayed)
    return web.json_response({"success": True, "queue": queue, "removed": removed})


async def clean(request: web.Request) -> web.Response:
    queue = request.app[QUEUES].check(request.match_info["queue"])
    body = validated_body(CleanRequest, await read_json(request, required=False))
    ids = await request.app[QUEUES].clean(queue, body.status, body.grace, body.limit)
    return web.json_response(
        {"success": True, "queue": queue, "status": body.status, "removed": ids, "count": len(ids)}
    )
