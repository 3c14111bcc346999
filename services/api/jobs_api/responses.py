"""The answers half of the OpenAPI document: the JSON Schema of every success body, the statuses each
operation can really answer, and what this deployment accepts (its queue names, the bulk limit), merged
into :func:`jobs_api.openapi.document` by :func:`complete` for ``GET /openapi.json``.

The fuzz tests (tests/reliability/test_fuzz_api.py) check every answer of a running api against this
document, so a handler that changes a body without changing its schema here fails them.
"""

from __future__ import annotations

import copy
from typing import Any

from jobs_api.settings import ApiSettings
from jobs_core.keys import JOB_STATES

STR: dict[str, Any] = {"type": "string"}
OPT_STR: dict[str, Any] = {"type": ["string", "null"]}
INT: dict[str, Any] = {"type": "integer"}
BOOL: dict[str, Any] = {"type": "boolean"}
NUMBER: dict[str, Any] = {"type": "number"}
TIME: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}
STATE: dict[str, Any] = {"enum": list(JOB_STATES)}
JOB_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"
SCHEDULE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}$"
STATUS_LIST = "^(({0})(,({0}))*)?$".format("|".join(JOB_STATES))  # empty: every state
# Paths that answer without Redis and without the bearer token (app.OPEN_PATHS minus /health).
NO_REDIS = {"/livez", "/readyz", "/openapi.json", "/metrics"}
OPEN = {"/health", "/livez", "/readyz", "/metrics", "/openapi.json"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    """An object with these required properties (and optional ones); more may be added later."""
    return {"type": "object", "required": list(required), "properties": {**required, **(optional or {})}}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "details"],
                "additionalProperties": False,
                "properties": {"code": STR, "message": STR, "details": {}},
            }
        },
    },
    "Scheduled": obj(
        {"jobId": STR, "queueName": STR, "status": STATE, "createdAt": TIME, "runAt": TIME, "existing": BOOL}
    ),
    "ScheduledBulk": obj({"jobs": array(ref("Scheduled"))}),
    "JobSummary": obj(
        {"jobId": STR, "type": STR, "queue": STR, "status": STATE, "priority": OPT_STR, "progress": NUMBER}
        | {"attempts": INT, "createdAt": TIME, "finishedAt": TIME}
    ),
    "JobDetail": {
        "allOf": [
            ref("JobSummary"),
            obj(
                {"payload": {"type": "object"}, "options": {"type": "object"}, "result": {}, "error": OPT_STR}
                | {"stack": OPT_STR, "runAt": TIME, "startedAt": TIME, "completedAt": TIME, "failedAt": TIME}
                | {"cancelledAt": TIME, "maxAttempts": INT, "stalls": INT, "timeout": INT}
                | {"backoff": obj({"type": OPT_STR, "delay": INT}), "dependsOn": array(STR)}
                | {"dependents": array(STR), "scheduleId": OPT_STR, "worker": OPT_STR}
                | {"durationMs": {"type": ["integer", "null"]}, "errors": array({"type": "object"})}
            ),
        ]
    },
    "JobPage": obj({"jobs": array(ref("JobSummary")), "total": INT, "limit": INT, "offset": INT}),
    "Cancelled": obj({"success": BOOL, "jobId": STR, "message": STR, "previousStatus": STATE}),
    "Retried": obj({"success": BOOL, "jobId": STR, "message": STR, "status": STATE}),
    "JobLogs": obj({"jobId": STR, "logs": array({}), "count": INT}),
    "QueueStats": obj(
        {
            "name": STR,
            "counts": obj({s: INT for s in (*JOB_STATES, "paused")}),
            "isPaused": BOOL,
            "processingRate": {"type": "number"},
        }
    ),
    "QueueList": obj({"queues": array(ref("QueueStats"))}),
    "QueuePaused": obj({"success": BOOL, "queue": STR, "isPaused": BOOL, "changed": BOOL}),
    "QueueDrained": obj({"success": BOOL, "queue": STR, "removed": INT}),
    "QueueCleaned": obj(
        {"success": BOOL, "queue": STR, "status": STATE, "removed": array(STR), "count": INT}
    ),
    "Schedule": obj(
        {"scheduleId": STR, "type": STR, "payload": {"type": "object"}, "schedule": STR, "timezone": STR}
        | {"options": {"type": "object"}, "status": {"enum": ["active", "paused"]}, "builtin": BOOL}
        | {"createdAt": TIME, "updatedAt": TIME, "lastRunAt": TIME, "nextRunAt": TIME, "fires": INT}
    ),
    "ScheduleList": obj({"schedules": array(ref("Schedule")), "total": INT}),
    "ScheduleDeleted": obj({"success": BOOL, "scheduleId": STR, "message": STR}),
    "Health": obj(
        {"status": {"enum": ["healthy", "degraded", "unhealthy"]}, "service": STR, "version": STR}
        | {"uptime": INT, "queues": array({"type": "object"}), "dependencies": {"type": "object"}}
    ),
    "Alive": obj({"status": STR}),
    "Ready": obj({"ready": BOOL, "checkedAt": {"type": ["number", "null"]}}),
}

JSON_ANSWERS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("/schedule", "post"): {
        "201": {"anyOf": [ref("Scheduled"), ref("Schedule")]},
        "200": {"anyOf": [ref("Scheduled"), ref("Schedule")]},
    },
    ("/schedule/bulk", "post"): {"201": ref("ScheduledBulk"), "200": ref("ScheduledBulk")},
    ("/jobs", "get"): {"200": ref("JobPage")},
    ("/jobs/{jobId}", "get"): {"200": ref("JobDetail")},
    ("/jobs/{jobId}", "delete"): {"200": ref("Cancelled")},
    ("/jobs/{jobId}/retry", "post"): {"200": ref("Retried")},
    ("/jobs/{jobId}/logs", "get"): {"200": ref("JobLogs")},
    ("/queues", "get"): {"200": ref("QueueList")},
    ("/queues/{queueName}", "get"): {"200": ref("QueueStats")},
    ("/queues/{queueName}/pause", "post"): {"200": ref("QueuePaused")},
    ("/queues/{queueName}/resume", "post"): {"200": ref("QueuePaused")},
    ("/queues/{queueName}/drain", "post"): {"200": ref("QueueDrained")},
    ("/queues/{queueName}/clean", "post"): {"200": ref("QueueCleaned")},
    ("/schedules", "get"): {"200": ref("ScheduleList")},
    ("/schedules/{scheduleId}", "get"): {"200": ref("Schedule")},
    ("/schedules/{scheduleId}", "delete"): {"200": ref("ScheduleDeleted")},
    ("/schedules/{scheduleId}/pause", "post"): {"200": ref("Schedule")},
    ("/schedules/{scheduleId}/resume", "post"): {"200": ref("Schedule")},
    ("/health", "get"): {"200": ref("Health"), "503": ref("Health")},
    ("/livez", "get"): {"200": ref("Alive")},
    ("/readyz", "get"): {"200": ref("Ready"), "503": ref("Ready")},
    ("/openapi.json", "get"): {"200": {"type": "object"}},
}
PROBES = {
    "/livez": "Liveness: the process answers",
    "/readyz": "Readiness: Redis answered the last background check (503 otherwise)",
    "/openapi.json": "This document",
}
# The Prometheus exposition is text; the event stream is text/event-stream, whose events docs/api.md
# describes (OpenAPI 3.1 has no schema for a stream of events).
TEXT_ANSWERS: dict[tuple[str, str], dict[str, Any]] = {
    ("/metrics", "get"): {"text/plain": {"schema": STR}},
    ("/events", "get"): {"text/event-stream": {}},
}


def complete(document: dict[str, Any], settings: ApiSettings) -> dict[str, Any]:
    """The served document: answers, statuses and this deployment's limits added to ``document``."""
    doc = copy.deepcopy(document)
    for path, summary in PROBES.items():
        doc["paths"].setdefault(path, {"get": {"summary": summary, "responses": {}}})
    schemas = doc["components"]["schemas"]
    schemas.update(copy.deepcopy(SCHEMAS))
    _requests(schemas, settings)
    token = settings.api_token is not None and bool(settings.api_token.get_secret_value())
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            _answers(path, method, op, token)
            _parameters(op, settings)
    doc["paths"].setdefault("/events", {}).setdefault("get", {})["parameters"] = _events_parameters(settings)
    return doc


def _answers(path: str, method: str, op: dict[str, Any], token: bool) -> None:
    responses = op.setdefault("responses", {})
    for status, schema in JSON_ANSWERS.get((path, method), {}).items():
        responses[status] = {"description": "OK", "content": {"application/json": {"schema": schema}}}
    if (path, method) in TEXT_ANSWERS:
        responses["200"] = {"description": "OK", "content": TEXT_ANSWERS[path, method]}
    errors = [s for s in responses if s.startswith(("4", "5")) and (path, method) != ("/health", "get")]
    extra = [] if path in NO_REDIS else ["503"]
    if token and path not in OPEN:
        extra.append("401")
    if path == "/events":
        extra += ["400", "404"]
    for status in {*errors, *extra}:
        responses[status] = {
            "description": "error",
            "content": {"application/json": {"schema": ref("Error")}},
        }


def _parameters(op: dict[str, Any], settings: ApiSettings) -> None:
    for param in op.get("parameters", []):
        name, where = param["name"], param["in"]
        if name == "queueName" and where == "path":
            param["schema"] = {"type": "string", "enum": list(settings.queues)}
        elif name == "jobId" and where == "path":
            param["schema"] = {"type": "string", "pattern": JOB_ID_PATTERN}
        elif name == "scheduleId" and where == "path":
            param["schema"] = {"type": "string", "pattern": SCHEDULE_ID_PATTERN}
        elif name == "queue" and where == "query":
            param["schema"] = {"type": "string", "enum": list(settings.queues)}
        elif name == "status" and where == "query":
            param["schema"] = {"type": "string", "pattern": STATUS_LIST}


def _requests(schemas: dict[str, Any], settings: ApiSettings) -> None:
    """Request bodies as this deployment validates them: known queues, each bulk entry a JobRequest.
    The bulk limit is stated, not encoded as maxItems: more jobs answer 413, not a validation 400."""
    options = schemas.get("JobOptions", {}).get("properties", {})
    if "queue" in options:
        options["queue"] = {"anyOf": [{"enum": list(settings.queues)}, {"type": "null"}], "default": None}
    bulk = schemas.get("BulkRequest", {}).get("properties", {})
    if "jobs" in bulk:
        limit = f"at most {settings.max_bulk_jobs} jobs (JOBS_MAX_BULK_JOBS), else 413"
        bulk["jobs"] = {**array(ref("JobRequest")), "minItems": 1, "description": limit}


def _events_parameters(settings: ApiSettings) -> list[dict[str, Any]]:
    return [
        {"name": "queue", "in": "query", "schema": {"type": "string", "enum": list(settings.queues)}},
        {"name": "jobId", "in": "query", "schema": {"type": "string", "maxLength": 128}},
        {
            "name": "Last-Event-ID",
            "in": "header",
            "schema": {"type": "string", "pattern": r"^\d{1,20}(-\d{1,20})?$"},
        },
    ]
