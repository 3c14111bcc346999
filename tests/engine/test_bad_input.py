"""Bad input gets a 400 (or 404/413) naming the field and the reason, and stores nothing."""

from __future__ import annotations

from typing import Any

import pytest

BAD = [
    ({"payload": {}}, "type"),
    ({"type": 5}, "type"),
    ({"type": "has space"}, "type"),
    ({"type": "x", "payload": [1, 2]}, "payload"),
    ({"type": "x", "payload": "text"}, "payload"),
    ({"type": "x", "options": {"priority": "urgent"}}, "options.priority"),
    ({"type": "x", "options": {"queue": "nope"}}, "options.queue"),
    ({"type": "x", "options": {"delay": -1}}, "options.delay"),
    ({"type": "x", "options": {"delay": 10**13}}, "options.delay"),
    ({"type": "x", "options": {"delay": "soon"}}, "options.delay"),
    ({"type": "x", "runAt": "tomorrow"}, "runAt"),
    ({"type": "x", "runAt": "2999-01-01T00:00:00Z"}, "runAt"),
    ({"type": "x", "runAt": "2030-01-01T00:00:00Z", "options": {"delay": 5}}, "runAt"),
    ({"type": "x", "options": {"retry": {"attempts": 0}}}, "options.retry.attempts"),
    ({"type": "x", "options": {"retry": {"attempts": 10_000}}}, "options.retry.attempts"),
    ({"type": "x", "options": {"retry": {"backoff": "linear"}}}, "options.retry.backoff"),
    ({"type": "x", "options": {"timeout": 0}}, "options.timeout"),
    ({"type": "x", "options": {"jobId": "bad id with spaces"}}, "options.jobId"),
    ({"type": "x", "options": {"dependsOn": ["missing-job"]}}, "options.dependsOn"),
    ({"type": "x", "options": {"colour": "red"}}, "options.colour"),
    ({"type": "x", "surprise": 1}, "surprise"),
    ([1, 2, 3], "body"),
    ("just a string", "body"),
]


@pytest.mark.parametrize(("body", "field"), BAD)
async def test_bad_schedule_names_field_and_stores_nothing(
    api: Any, redis: Any, prefix: str, body: Any, field: str
) -> None:
    status, reply, _ = await api.call("POST", "/schedule", json=body)
    assert status == 400, reply
    error = reply["error"]
    assert error["code"] == "invalid_input" and field in error["message"], error
    assert not [k async for k in redis.scan_iter(f"{prefix}:job:*")]


async def test_body_not_json_empty_and_too_large(api: Any, redis: Any, prefix: str) -> None:
    status, reply, _ = await api.call("POST", "/schedule", data=b'{"type": ')
    assert status == 400 and "not valid JSON" in reply["error"]["message"]
    status, reply, _ = await api.call("POST", "/schedule", data=b"")
    assert status == 400 and reply["error"]["message"].startswith("body")
    big = {"type": "x", "payload": {"blob": "x" * 2_000_000}}
    status, reply, _ = await api.call("POST", "/schedule", json=big)
    assert status == 413 and reply["error"]["code"] == "payload_too_large"
    assert not [k async for k in redis.scan_iter(f"{prefix}:job:*")]


async def test_unknown_ids_and_queries(api: Any) -> None:
    assert (await api.call("GET", "/jobs/nope"))[0] == 404
    assert (await api.call("GET", "/jobs/nope/logs"))[0] == 404
    assert (await api.call("GET", "/queues/nope"))[0] == 404
    assert (await api.call("POST", "/queues/nope/pause"))[0] == 404
    for query, field in (
        ("limit=0", "limit"),
        ("limit=x", "limit"),
        ("offset=-1", "offset"),
        ("status=sleeping", "status"),
        ("status=%2C", "status"),  # "," names no state (found by the fuzzer: it answered every state)
        ("queue=nope", "queue"),
        ("colour=red", "colour"),
    ):
        status, reply, _ = await api.call("GET", f"/jobs?{query}")
        assert status == 400 and field in reply["error"]["message"], (query, reply)
    assert (await api.call("GET", "/no/such/route"))[0] == 404
    assert (await api.call("PUT", "/schedule"))[0] == 405


async def test_bulk_with_one_bad_job_stores_nothing(api: Any, redis: Any, prefix: str) -> None:
    jobs = [{"type": "echo"}, {"type": "echo", "options": {"priority": "urgent"}}, {"type": "echo"}]
    status, reply, _ = await api.call("POST", "/schedule/bulk", json={"jobs": jobs})
    assert status == 400 and "jobs.1.options.priority" in reply["error"]["message"]
    status, reply, _ = await api.call("POST", "/schedule/bulk", json={"jobs": [{"type": "a"}] * 1001})
    assert status == 413 and "1000" in reply["error"]["message"]
    assert not [k async for k in redis.scan_iter(f"{prefix}:job:*")]


async def test_bearer_token_required_when_set(spawn: Any) -> None:
    from support.api import ApiClient

    proc = spawn("jobs-api", JOBS_API_TOKEN="s3cret-token")
    port = int(proc.wait_for("service_ready")["port"])
    anonymous, wrong, right = ApiClient(port), ApiClient(port, "nope"), ApiClient(port, "s3cret-token")
    try:
        assert (await anonymous.call("GET", "/jobs"))[0] == 401
        assert (await wrong.call("POST", "/schedule", json={"type": "x"}))[0] == 401
        assert (await right.call("GET", "/jobs"))[0] == 200
        assert (await anonymous.call("GET", "/health"))[0] == 200
        assert (await anonymous.call("GET", "/openapi.json"))[0] == 200
    finally:
        for client in (anonymous, wrong, right):
            await client.close()
    assert not any("s3cret-token" in line for line in proc.raw)


async def test_openapi_document_lists_every_route(api: Any) -> None:
    status, doc, _ = await api.call("GET", "/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.")
    for path in (
        "/schedule",
        "/schedule/bulk",
        "/jobs",
        "/jobs/{jobId}",
        "/jobs/{jobId}/retry",
        "/queues/{queueName}/clean",
        "/events",
        "/health",
    ):
        assert path in doc["paths"], path
    assert "JobRequest" in doc["components"]["schemas"]
    from openapi_spec_validator import validate

    validate(doc)  # raises on any violation of the OpenAPI 3.1 schema


async def test_health_turns_503_while_redis_is_down(tmp_path: Any, spawn: Any) -> None:
    import asyncio

    from support.api import ApiClient
    from support.redis_server import RedisServer

    server = RedisServer(tmp_path / "redis")
    server.start()
    proc = spawn("jobs-api", JOBS_REDIS_URL=server.url, JOBS_HEALTH_CHECK_INTERVAL="1")
    api = ApiClient(int(proc.wait_for("service_ready")["port"]))
    try:
        status, body, _ = await api.call("GET", "/health")
        assert status == 200 and body["status"] == "healthy" and body["service"] == "jobs"
        assert {q["name"] for q in body["queues"]} == {
            "default",
            "high-priority",
            "low-priority",
            "scheduled",
        }
        server.stop()
        status, body, _ = await api.call("GET", "/health")
        assert status == 503 and body["status"] == "unhealthy"
        assert body["dependencies"]["redis"]["status"] == "disconnected"
        proc.wait_for("readiness_changed", ready=False, timeout=5)
        assert (await api.call("GET", "/readyz"))[0] == 503
        assert (await api.call("POST", "/schedule", json={"type": "x"}))[0] == 503
        server.start()
        proc.wait_for("readiness_changed", ready=True, timeout=5)
        assert (await api.call("GET", "/health"))[0] == 200
        await asyncio.sleep(0)
    finally:
        await api.close()
        server.stop()
