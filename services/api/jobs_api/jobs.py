"""Job endpoints: schedule (one or bulk), read, list, cancel, retry, logs (SPEC.md "API Endpoints"),
and minting a job-scoped access token.

Every request is validated whole before anything is stored; a bulk request is stored in one atomic
script call or not at all. When the API wants a token (JOBS_API_TOKEN), each scheduled job's answer
carries an ``accessToken`` that reads that job only (see ``access``), for handing to a browser.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from jobs_api.access import JobTokens
from jobs_api.body import read_json
from jobs_api.context import QUEUES, SETTINGS, STORE, TOKENS
from jobs_api.errors import validated, validated_body
from jobs_api.schemas import BulkRequest, ListQuery
from jobs_core.errors import InvalidInput, NotFound, PayloadTooLarge, WrongState
from jobs_core.model import JobRequest, State, build_spec
from jobs_core.store import Enqueued
from jobs_core.views import iso, job_detail, job_summary


def _scheduled(item: Enqueued, tokens: JobTokens | None) -> dict[str, Any]:
    answer = {
        "jobId": item.job_id,
        "queueName": item.queue,
        "status": item.status,
        "createdAt": iso(item.created_at_ms),
        "runAt": iso(item.run_at_ms) or iso(item.created_at_ms),
        "existing": item.existed,
    }
    if tokens is not None:
        answer.update(_token_fields(tokens, item.job_id))
    return answer


def _token_fields(tokens: JobTokens, job_id: str) -> dict[str, Any]:
    minted = tokens.mint(job_id)
    return {"accessToken": minted.token, "accessTokenExpiresAt": iso(minted.expires_at * 1000)}


def _spec(request: web.Request, body: Any, where: str = "") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput(f"{where or 'body'}: must be a JSON object")
    return build_spec(validated_body(JobRequest, body, where), request.app[SETTINGS], where=where)


async def schedule(request: web.Request) -> web.Response:
    """POST /schedule: one job now, later (options.delay / runAt), or a recurring schedule."""
    body = await read_json(request)
    if isinstance(body, dict) and "schedule" in body:
        from jobs_api.schedules import create_recurring

        return await create_recurring(request, body)
    spec = _spec(request, body)
    [item] = await request.app[STORE].enqueue([spec])
    answer = _scheduled(item, request.app[TOKENS])
    return web.json_response(answer, status=200 if item.existed else 201)


async def schedule_bulk(request: web.Request) -> web.Response:
    """POST /schedule/bulk: up to JOBS_MAX_BULK_JOBS jobs, all stored or none."""
    body = await read_json(request)
    bulk = validated_body(BulkRequest, body)
    limit = request.app[SETTINGS].max_bulk_jobs
    if len(bulk.jobs) > limit:
        raise PayloadTooLarge(f"jobs: at most {limit} jobs per bulk request (JOBS_MAX_BULK_JOBS)")
    specs = [_spec(request, job, f"jobs.{i}") for i, job in enumerate(bulk.jobs)]
    seen: set[str] = set()
    for i, spec in enumerate(specs):
        if spec["id"] in seen:
            raise InvalidInput(f"jobs.{i}.options.jobId: {spec['id']!r} appears twice in this request")
        seen.add(spec["id"])
    items = await request.app[STORE].enqueue(specs)
    created = any(not item.existed for item in items)
    tokens = request.app[TOKENS]
    answer = {"jobs": [_scheduled(i, tokens) for i in items]}
    return web.json_response(answer, status=201 if created else 200)


async def get_job(request: web.Request) -> web.Response:
    job_id = request.match_info["job_id"]
    found = await request.app[STORE].get(job_id)
    if found is None:
        raise NotFound(f"job {job_id!r} not found", {"jobId": job_id})
    record, dependents = found
    view = job_detail(record, dependents)
    view["errors"] = await request.app[STORE].errors(job_id)
    return web.json_response(view)


async def list_jobs(request: web.Request) -> web.Response:
    """GET /jobs?queue=&status=&type=&limit=&offset=: newest first, with the total."""
    query = validated(ListQuery, dict(request.query))
    queues = request.app[QUEUES].names
    if query.queue is not None:
        if query.queue not in queues:
            raise InvalidInput(f"queue: unknown queue {query.queue!r}; known: {', '.join(queues)}")
        queues = [query.queue]
    states = None
    if query.status:
        states = [s.strip() for s in query.status.split(",") if s.strip()]
        bad = [s for s in states if s not in State.__members__]
        if bad or not states:  # "," names no state: refused rather than read as "every state"
            what = f"unknown state {bad[0]!r}" if bad else "names no state"
            raise InvalidInput(f"status: {what}; known: {', '.join(State.__members__)}")
    records, total = await request.app[STORE].list_jobs(queues, states, query.type, query.limit, query.offset)
    return web.json_response(
        {
            "jobs": [job_summary(r) for r in records],
            "total": total,
            "limit": query.limit,
            "offset": query.offset,
        }
    )


async def cancel_job(request: web.Request) -> web.Response:
    job_id = request.match_info["job_id"]
    previous = await request.app[STORE].cancel(job_id)
    return web.json_response(
        {"success": True, "jobId": job_id, "message": "Job cancelled", "previousStatus": previous}
    )


async def retry_job(request: web.Request) -> web.Response:
    job_id = request.match_info["job_id"]
    status = await request.app[STORE].retry(job_id)
    return web.json_response(
        {"success": True, "jobId": job_id, "message": "Job queued for retry", "status": status}
    )


async def job_logs(request: web.Request) -> web.Response:
    job_id = request.match_info["job_id"]
    store = request.app[STORE]
    if await store.get(job_id) is None:
        raise NotFound(f"job {job_id!r} not found", {"jobId": job_id})
    logs = await store.logs(job_id)
    return web.json_response({"jobId": job_id, "logs": logs, "count": len(logs)})


async def mint_token(request: web.Request) -> web.Response:
    """POST /jobs/:id/token: a fresh job-scoped token for an existing job (master token only)."""
    job_id = request.match_info["job_id"]
    tokens = request.app[TOKENS]
    if tokens is None:
        raise WrongState("job tokens need JOBS_API_TOKEN: this API is open and wants no token")
    if await request.app[STORE].get(job_id) is None:
        raise NotFound(f"job {job_id!r} not found", {"jobId": job_id})
    return web.json_response({"jobId": job_id, **_token_fields(tokens, job_id)})
