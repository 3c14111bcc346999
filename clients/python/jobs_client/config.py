"""What both clients share before a byte is sent: where the API is, the token, time limits, and the
retry policy that decides whether (and how long) to wait before sending a call again.

The base URL and token come from the constructor, else ``JOBS_URL`` and ``JOBS_TOKEN``; a URL that is
not http(s) raises ``ValueError`` at construction, not on the first call. The token is only ever sent
as a header, never logged or put in an error.
"""

from __future__ import annotations

import logging
import os
import random
from dataclasses import dataclass
from typing import Any

import httpx

from jobs_client import __version__
from jobs_client.calls import Call
from jobs_client.errors import retry_after_seconds

DEFAULT_URL = "http://localhost:3105"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# The api writes a comment every 15 s on an open stream: three missed ones mean the connection is dead.
SSE_READ_TIMEOUT = 45.0
log = logging.getLogger("jobs_client")


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of retryable calls after 429, 502/503/504 or a connection error.

    Waits ``backoff · 2^(n-1)`` (at most ``max_backoff``, with jitter) before retry n, or what the
    server's ``Retry-After`` says; a ``Retry-After`` longer than ``max_retry_after`` is not waited for:
    the error is raised at once so the caller decides.
    """

    retries: int = 3
    backoff: float = 0.25
    max_backoff: float = 8.0
    max_retry_after: float = 60.0

    def backoff_delay(self, attempt: int) -> float:
        """Capped exponential back-off with jitter (between half and all of the step)."""
        step = min(self.max_backoff, self.backoff * 2.0 ** max(attempt - 1, 0))
        return step * random.uniform(0.5, 1.0)

    def delay(self, call: Call[Any], attempt: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before sending ``call`` again after try ``attempt`` (1-based) ended with
        ``response`` (None: a connection error), or None when that outcome is final."""
        if not call.retryable or attempt > self.retries:
            return None
        if response is not None:
            if response.status_code not in RETRY_STATUSES:
                return None
            after = retry_after_seconds(response)
            if after is not None:
                return after if after <= self.max_retry_after else None
        return self.backoff_delay(attempt)


NO_RETRIES = RetryPolicy(retries=0)


@dataclass(frozen=True)
class ClientConfig:
    base_url: str
    token: str | None
    timeout: float
    retry: RetryPolicy

    @classmethod
    def resolve(
        cls, base_url: str | None, token: str | None, timeout: float, retry: RetryPolicy | None
    ) -> ClientConfig:
        url = (base_url or os.environ.get("JOBS_URL") or DEFAULT_URL).rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"base URL must start with http:// or https://, got {url!r}")
        token = token if token is not None else os.environ.get("JOBS_TOKEN") or None
        return cls(url, token, timeout, retry or RetryPolicy())

    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": f"nchat-jobs-client/{__version__}", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def client_options(self) -> dict[str, object]:
        """Keyword arguments for the ``httpx.Client`` / ``httpx.AsyncClient`` a client owns."""
        return {"base_url": self.base_url, "headers": self.headers(), "timeout": self.timeout}

    def stream_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout, read=SSE_READ_TIMEOUT)


def log_retry(call: Call[Any], attempt: int, wait: float, why: str) -> None:
    log.warning("%s %s: %s; try %d again in %.2f s", call.method, call.path, why, attempt + 1, wait)


def outcome_text(response: httpx.Response | None, error: Exception | None) -> str:
    if response is not None:
        return f"HTTP {response.status_code}"
    return f"{type(error).__name__}: {error}" if error else "no answer"
