"""The OpenAPI 3.1 document served at ``/openapi.json``, built from the same pydantic models that
validate requests, so the document cannot drift from what the API accepts.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from jobs_api.schemas import BulkRequest, CleanRequest, DrainRequest, EventsQuery, ListQuery
from jobs_core import __version__
from jobs_core.model import JobRequest
from jobs_core.schedules import RecurringRequest

ERROR = {"$ref": "#/components/schemas/Error"}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _op(
    summary: str, body: type[BaseModel] | None = None, errors: tuple[int, ...] = (400,)
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {"200": {"description": "OK"}}}
    for status in errors:
        op["responses"][str(status)] = {
            "description": "error",
            "content": {"application/json": {"schema": ERROR}},
        }
    if body is not None:
        op["requestBody"] = {"content": {"application/json": {"schema": _ref(body)}}}
    return op


def _query(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    return [{"name": n, "in": "query", "schema": s} for n, s in schema["properties"].items()]


def _paths() -> dict[str, Any]:
    job_id = [{"name": "jobId", "in": "path", "required": True, "schema": {"type": "string"}}]
    queue = [{"name": "queueName", "in": "path", "required": True, "schema": {"type": "string"}}]
    sched = [{"name": "scheduleId", "in": "path", "required": True, "schema": {"type": "string"}}]
    return {
        "/health": {"get": _op("Service health (503 while Redis is unreachable)", errors=(503,))},
        "/schedule": {
            "post": _op(
                "Schedule a job (or a recurring job with `schedule`)", JobRequest, (400, 409, 413, 429)
            )
        },
        "/schedule/bulk": {"post": _op("Schedule many jobs atomically", BulkRequest, (400, 413, 429))},
        "/jobs": {"get": {**_op("List jobs newest first"), "parameters": _query(ListQuery)}},
        "/jobs/{jobId}": {
            "get": {**_op("Job status", errors=(404,)), "parameters": job_id},
            "delete": {**_op("Cancel a job", errors=(404, 409)), "parameters": job_id},
        },
        "/jobs/{jobId}/retry": {
            "post": {**_op("Retry a failed or cancelled job", errors=(404, 409)), "parameters": job_id}
        },
        "/jobs/{jobId}/logs": {
            "get": {**_op("Lines the processor logged", errors=(404,)), "parameters": job_id}
        },
        "/jobs/{jobId}/token": {
            "post": {
                **_op("A job-scoped read token for an existing job (master token only)", errors=(404, 409)),
                "parameters": job_id,
            }
        },
        "/queues": {"get": _op("Stats of every queue")},
        "/queues/{queueName}": {"get": {**_op("Queue stats", errors=(404,)), "parameters": queue}},
        "/queues/{queueName}/pause": {"post": {**_op("Pause a queue", errors=(404,)), "parameters": queue}},
        "/queues/{queueName}/resume": {"post": {**_op("Resume a queue", errors=(404,)), "parameters": queue}},
        "/queues/{queueName}/drain": {
            "post": {**_op("Remove waiting jobs", DrainRequest, (400, 404)), "parameters": queue}
        },
        "/queues/{queueName}/clean": {
            "post": {**_op("Remove old finished jobs", CleanRequest, (400, 404)), "parameters": queue}
        },
        "/schedules": {"get": _op("Every recurring schedule")},
        "/schedules/{scheduleId}": {
            "get": {
                **_op("One schedule with its last and next run and recent jobs", errors=(404,)),
                "parameters": sched,
            },
            "delete": {**_op("Delete a schedule", errors=(404,)), "parameters": sched},
        },
        "/schedules/{scheduleId}/pause": {
            "post": {**_op("Pause a schedule", errors=(404,)), "parameters": sched}
        },
        "/schedules/{scheduleId}/resume": {
            "post": {**_op("Resume a schedule", errors=(404,)), "parameters": sched}
        },
        "/events": {
            "get": {
                **_op("Job transitions as Server-Sent Events", errors=(400, 404)),
                "parameters": _query(EventsQuery),
            }
        },
        "/metrics": {"get": _op("Prometheus metrics", errors=())},
    }


def document() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in (JobRequest, RecurringRequest, BulkRequest, DrainRequest, CleanRequest):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    schemas["Error"] = {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
            }
        },
    }
    paths = _paths()
    paths["/schedule"]["post"]["requestBody"]["content"]["application/json"]["schema"] = {
        "oneOf": [_ref(JobRequest), _ref(RecurringRequest)]
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "nChat Jobs API", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
