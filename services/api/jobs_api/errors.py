"""The API's error surface: :func:`error_answer` turns every failure into ``{"error": {code, message,
details}}`` with an honest status. Unexpected exceptions are logged with their stack and answered with a
plain 500 that reveals nothing; bad input can never reach that branch, since validation errors, bodies
refused by the guarded parser (:mod:`jobs_api.body`) and oversized bodies are all mapped here first.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from jobs_core.errors import InvalidInput, JobsError, QueueFull
from jobs_core.logging import get_logger

log = get_logger("jobs_api")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)


def error_response(status: int, code: str, message: str, details: Any = None) -> web.Response:
    body = {"error": {"code": code, "message": message, "details": details}}
    return web.json_response(body, status=status)


def field_errors(err: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """pydantic errors as ``[{"field": "options.priority", "message": "..."}]``."""
    out = []
    for item in err.errors(include_url=False):
        path = ".".join(str(p) for p in item["loc"])
        field = f"{prefix}.{path}" if prefix and path else (prefix or path or "body")
        out.append({"field": field, "message": item["msg"]})
    return out


def invalid(err: ValidationError, prefix: str = "") -> InvalidInput:
    details = field_errors(err, prefix)
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
    return InvalidInput(summary, details)


def validated(model: type[M], data: Any, where: str = "") -> M:
    """``model`` built from ``data``, or InvalidInput naming each bad field (prefixed by ``where``)."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise invalid(err, where) from None


def validated_body(model: type[M], data: Any, where: str = "") -> M:
    """Like :func:`validated`, for JSON bodies: with JSON's types, strictly. ``"5"`` is not an integer,
    ``0`` not a boolean, ``false`` not a number and ``0`` not a date, as the OpenAPI document says; query
    strings, whose values are all text, keep :func:`validated`."""
    try:
        return model.model_validate_json(json.dumps(data), strict=True)
    except ValidationError as err:
        raise invalid(err, where) from None


def error_answer(request: web.Request, err: Exception) -> web.Response:
    """The JSON answer for a failure of ``request``; re-raises HTTP exceptions below 400 (redirects).

    Called by the api's one middleware (``jobs_api.app.front_door``) for whatever a handler raised."""
    if isinstance(err, JobsError):
        response = error_response(err.status, err.code, err.message, err.details)
        if isinstance(err, QueueFull):
            response.headers["Retry-After"] = str(err.retry_after_s)
        return response
    if isinstance(err, web.HTTPRequestEntityTooLarge):
        from jobs_api.context import SETTINGS

        limit = request.app[SETTINGS].max_body_bytes
        return error_response(
            413, "payload_too_large", f"body: larger than {limit} bytes (JOBS_MAX_BODY_BYTES)"
        )
    if isinstance(err, web.HTTPException):
        if err.status < 400:
            raise err
        response = error_response(err.status, _code(err.status), err.reason, None)
        if "Allow" in err.headers:  # 405 must name the methods the path takes (RFC 9110)
            response.headers["Allow"] = err.headers["Allow"]
        return response
    # the last resort: log it, reveal nothing
    log.error("unhandled_error", path=request.path, method=request.method, exc_info=err)
    return error_response(500, "internal", "internal error; see the service log", None)


def _code(status: int) -> str:
    return {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(status, "http_error")
