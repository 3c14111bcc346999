"""Errors of the SDK against real api processes: each status becomes its class with the API's code,
message and details; the token comes from JOBS_TOKEN; idempotent calls ride out a Redis restart (503)
while an add without a job id is never sent twice."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from clients.py_support import FAST, api_url, run_cli
from jobs_client import (
    BadRequest,
    Conflict,
    Forbidden,
    JobsClient,
    NotFound,
    RateLimited,
    RetryPolicy,
    Unauthorized,
    Unavailable,
)
from jobs_client.calls import JobSpec, add_job, get_job
from support.processes import Service
from support.redis_server import RedisServer, free_port


@pytest.mark.timeout(60)
def test_statuses_become_error_classes(py_sdk: JobsClient) -> None:
    with pytest.raises(NotFound) as missing:
        py_sdk.get_job("no-such-job")
    assert (missing.value.status, missing.value.code, missing.value.details) == (
        404,
        "not_found",
        {"jobId": "no-such-job"},
    )
    assert missing.value.request_id  # the api's X-Request-ID, to find its log line

    done = py_sdk.add_job("noop")
    py_sdk.wait(done.job_id, timeout=15)
    with pytest.raises(Conflict) as conflict:
        py_sdk.cancel_job(done.job_id)
    assert (conflict.value.status, conflict.value.code) == (409, "wrong_state")

    with pytest.raises(BadRequest) as bad:
        py_sdk.add_job("echo", priority="urgent", delay=-1)  # type: ignore[arg-type]
    fields = {d["field"] for d in bad.value.details}
    assert fields == {"options.priority", "options.delay"} and bad.value.status == 400
    assert py_sdk.list_jobs(type="echo").total == 0  # nothing stored

    with pytest.raises(NotFound, match=r"queue .nope. not found"):
        py_sdk.get_queue("nope")
    unreachable = JobsClient(f"http://127.0.0.1:{free_port()}", retry=RetryPolicy(retries=1, backoff=0.01))
    with pytest.raises(Unavailable) as down:
        unreachable.get_job("x")
    assert (down.value.status, down.value.code) == (None, "unreachable")


@pytest.mark.timeout(60)
def test_tokens_job_scoped_tokens_and_queue_cap(
    spawn: Callable[..., Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = spawn("jobs-api", JOBS_API_TOKEN="s3cret", JOBS_MAX_JOBS_PER_QUEUE="2")
    spawn("jobs-worker")
    url = api_url(api)
    with pytest.raises(Unauthorized) as refused:
        JobsClient(url, token="not-the-token", retry=FAST).list_jobs()
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")
    assert "not-the-token" not in str(refused.value)

    monkeypatch.setenv("JOBS_TOKEN", "s3cret")
    monkeypatch.setenv("JOBS_URL", url)
    sdk = JobsClient(retry=FAST)  # both from the environment
    added = sdk.add_job("echo", {"value": "for the browser"}, job_id="scoped")
    assert added.access_token and added.access_token_expires_at
    reader = JobsClient(url, token=added.access_token, retry=FAST)  # reads that one job, nothing else
    assert reader.wait("scoped", timeout=15) == "for the browser"
    with pytest.raises(Forbidden) as forbidden:
        reader.list_jobs()
    assert (forbidden.value.status, forbidden.value.code) == (403, "forbidden")
    fresh = sdk.job_token("scoped")
    assert fresh.job_id == "scoped" and JobsClient(url, token=fresh.access_token).get_job("scoped").result

    for _ in range(2):
        sdk.add_job("noop", queue="scheduled", delay=3600)
    with pytest.raises(RateLimited) as full:
        sdk.add_job("noop", queue="scheduled", delay=3600)
    assert (full.value.status, full.value.code, full.value.retry_after) == (429, "queue_full", 5.0)
    assert full.value.details == {"queue": "scheduled"}
    # retryable (a job id), but the server asks for 5 s and the policy waits 1 s at most: raised at once
    impatient = JobsClient(retry=RetryPolicy(retries=3, max_retry_after=1))
    with pytest.raises(RateLimited):
        impatient.add_job("noop", queue="scheduled", job_id="capped")
    assert sdk.get_queue("scheduled").counts.delayed == 2


def test_retry_policy_honours_retry_after_and_retries_only_retryable_calls() -> None:
    policy = RetryPolicy(retries=2, backoff=0.1, max_backoff=0.15, max_retry_after=10)
    full = httpx.Response(429, headers={"Retry-After": "5"})
    with_id, without_id = add_job(JobSpec("noop", job_id="x")), add_job(JobSpec("noop"))
    assert policy.delay(with_id, 1, full) == 5.0
    assert policy.delay(without_id, 1, full) is None
    assert policy.delay(with_id, 3, full) is None  # retries spent
    assert policy.delay(with_id, 1, httpx.Response(400)) is None
    assert policy.delay(with_id, 1, httpx.Response(429, headers={"Retry-After": "60"})) is None
    waits = [policy.delay(get_job("x"), n, None) for n in (1, 2)]  # connection errors: capped back-off
    assert 0.05 <= waits[0] <= 0.1 and 0.075 <= waits[1] <= 0.15


def _count(api: Service, path: str, status: int) -> int:
    return sum(
        1
        for line in api.lines
        if line.get("event") == "request" and (line["path"], line["status"]) == (path, status)
    )


def _restart_after_refusal(api: Service, server: RedisServer, path: str) -> threading.Thread:
    """Starts Redis again once the api has answered ``path`` with a 503: the client is retrying then."""

    def restart() -> None:
        api.wait_for("request", timeout=20, path=path, status=503)
        server.start()

    thread = threading.Thread(target=restart, daemon=True)
    thread.start()
    return thread


@pytest.mark.timeout(90)
def test_idempotent_calls_retry_503_while_redis_restarts(
    tmp_path: Path, spawn: Callable[..., Service]
) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        api = spawn("jobs-api", JOBS_REDIS_URL=server.url)
        sdk = JobsClient(api_url(api), retry=RetryPolicy(retries=10, backoff=0.1, max_backoff=0.5))

        server.stop()
        restarter = _restart_after_refusal(api, server, "/schedule")
        added = sdk.add_job("noop", job_id="during-outage")  # a job id makes the add idempotent
        restarter.join(10)
        assert added.status == "waiting" and _count(api, "/schedule", 503) >= 1

        server.stop()
        assert sdk.health().status == "unhealthy"  # the 503 of /health is its answer, not an error
        probe = run_cli(api_url(api), "health", "-o", "json")
        assert probe.returncode == 2 and json.loads(probe.stdout)["status"] == "unhealthy"
        before = _count(api, "/schedule", 503)
        with pytest.raises(Unavailable) as refused:
            sdk.add_job("noop")  # no job id: a second send could add a second job, so none is made
        assert (refused.value.status, refused.value.code) == (503, "redis_unavailable")
        api.wait_for("request", timeout=10, request_id=refused.value.request_id)  # its last request is logged
        assert _count(api, "/schedule", 503) == before + 1

        restarter = _restart_after_refusal(api, server, "/jobs/during-outage")
        assert sdk.get_job("during-outage").status == "waiting"
        restarter.join(10)
    finally:
        server.stop()
