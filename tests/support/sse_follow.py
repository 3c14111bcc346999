"""Following one job through the api's ``GET /events`` stream from outside, as a client would.

Open the stream first (``JobStream``), then schedule the job with that ``options.jobId``: the api reads
where each stream stands before it sends ``: connected``, so no transition of the job is missed.
``wait_for`` blocks until the job reaches one of the wanted states; a read that outlasts the deadline
fails the test instead of hanging.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import quote, urlsplit


class JobStream:
    def __init__(self, base_url: str, job_id: str, token: str | None = None, timeout: float = 60) -> None:
        parts = urlsplit(base_url)
        self.job_id = job_id
        self.timeout = timeout
        self.seen: list[dict[str, Any]] = []
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.conn.request("GET", f"/events?jobId={quote(job_id)}", headers=headers)
        self.response = self.conn.getresponse()
        assert self.response.status == 200, f"GET /events: HTTP {self.response.status}"
        first = self.response.readline()
        assert first.startswith(b": connected"), f"GET /events began with {first!r}"

    def wait_for(self, *states: str) -> dict[str, Any]:
        """The first event of this job whose target state is one of ``states``."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                line = self.response.readline()
            except TimeoutError as exc:
                raise AssertionError(f"job {self.job_id}: no {states} within {self.timeout} s") from exc
            if not line:
                raise AssertionError(f"job {self.job_id}: stream ended after {self.seen}")
            if line.startswith(b"data: "):
                event: dict[str, Any] = json.loads(line[len(b"data: ") :])
                self.seen.append(event)
                if event.get("jobId") == self.job_id and event.get("to") in states:
                    return event
        raise AssertionError(f"job {self.job_id}: no {states} within {self.timeout} s; saw {self.seen}")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> JobStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
