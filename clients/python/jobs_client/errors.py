"""Every error the SDK raises, rooted at :class:`JobsError`.

``ApiError`` carries what the API answered (``{"error": {code, message, details}}``, the status and the
request id); one subclass per status a caller may want to catch. ``error_from_response`` is the only place
that maps an answer to a class, so the sync and async clients raise the same thing for the same answer.
``JobFailed``, ``JobCancelled`` and ``WaitTimeout`` are what ``wait()`` raises about the job itself.
A body that is not the API's error shape (a proxy's HTML page, say) still gives an ``ApiError`` with the
status and the start of the text, never a decoding error.
"""

from __future__ import annotations

from typing import Any

import httpx


class JobsError(Exception):
    """Base class of every error raised by ``jobs_client``."""


class ApiError(JobsError):
    """The API refused a request, or could not be reached (``status`` is None then)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        code: str,
        details: Any = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details = details
        self.request_id = request_id

    def __str__(self) -> str:
        where = f"{self.status} {self.code}" if self.status else self.code
        return f"{self.message} ({where})"

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "code": self.code, "message": self.message, "details": self.details}


class BadRequest(ApiError):
    """400: a field is missing or wrong; ``details`` lists ``{"field", "message"}`` per problem."""


class Unauthorized(ApiError):
    """401: the token is missing or wrong."""


class Forbidden(Unauthorized):
    """403: the token is valid but not for this (a job-scoped token used for another job or a write)."""


class NotFound(ApiError):
    """404: unknown job, queue or schedule."""


class Conflict(ApiError):
    """409: the job is in the wrong state (cancel a finished job, retry one that did not fail)."""


class PayloadTooLarge(ApiError):
    """413: body over JOBS_MAX_BODY_BYTES or a bulk over JOBS_MAX_BULK_JOBS."""


class RateLimited(ApiError):
    """429: the queue is full; ``retry_after`` is the server's advice in seconds (None if it gave none)."""

    def __init__(self, message: str, *, retry_after: float | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Unavailable(ApiError):
    """503 (Redis unreachable behind the API), or the API itself unreachable (``status`` None)."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    503: Unavailable,
}


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (only the delta form: the API never sends a date)."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return dict(body["error"])
    text = response.text.strip().replace("\n", " ")[:200]
    return {"code": "http_error", "message": text or response.reason_phrase or "no message"}


def error_from_response(response: httpx.Response) -> ApiError:
    """The exception for an error answer (status >= 400)."""
    body = _error_body(response)
    kwargs: dict[str, Any] = {
        "status": response.status_code,
        "code": str(body.get("code") or "http_error"),
        "details": body.get("details"),
        "request_id": response.headers.get("X-Request-ID"),
    }
    message = str(body.get("message") or response.reason_phrase or "error")
    if response.status_code == 429:
        return RateLimited(message, retry_after=retry_after_seconds(response), **kwargs)
    cls = _BY_STATUS.get(response.status_code, ApiError)
    if response.status_code >= 500 and cls is ApiError:
        cls = Unavailable if response.status_code in (502, 504) else ApiError
    return cls(message, **kwargs)


def unreachable(base_url: str, error: Exception | None) -> Unavailable:
    """The API could not be reached at all (refused, reset, timed out)."""
    reason = (str(error) or type(error).__name__) if error is not None else "no answer"
    return Unavailable(f"cannot reach the jobs API at {base_url}: {reason}", status=None, code="unreachable")


class JobFailed(JobsError):
    """``wait()``: the job failed for good (no tries left, unrecoverable, or a dependency failed)."""

    def __init__(self, job_id: str, error: str | None) -> None:
        super().__init__(f"job {job_id} failed: {error or 'no error message'}")
        self.job_id = job_id
        self.error = error


class JobCancelled(JobsError):
    """``wait()``: the job was cancelled, or removed by a drain (``status`` says which)."""

    def __init__(self, job_id: str, status: str = "cancelled") -> None:
        super().__init__(f"job {job_id} was {status}")
        self.job_id = job_id
        self.status = status


class WaitTimeout(JobsError, TimeoutError):
    """``wait()``: the job did not finish in time; ``status`` is the last one seen."""

    def __init__(self, job_id: str, timeout: float, status: str | None) -> None:
        super().__init__(f"job {job_id} did not finish within {timeout:g} s (last status: {status})")
        self.job_id = job_id
        self.timeout = timeout
        self.status = status
