"""Live events and job logs: ``GET /events`` streams every transition of a job as Server-Sent Events in
the order it happened (read here with aiohttp, as a browser's EventSource would), and ``GET
/jobs/:id/logs`` returns the lines a processor wrote, capped at the newest 1000. Failures show the
transitions or lines received against those expected.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from queue_control.qc_helpers import events
from support.waiting import wait_state

pytestmark = pytest.mark.timeout(60)
TERMINAL = {"completed", "failed", "cancelled", "removed"}


class Sse:
    """One open ``/events`` response; ``next()`` returns the next event's fields, skipping comments."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self, timeout: float = 10.0) -> dict[str, Any]:
        event: dict[str, Any] = {}
        async with asyncio.timeout(timeout):
            while True:
                line = (await self.response.content.readline()).decode().rstrip("\n")
                if line == "" and event:
                    return event
                if line.startswith("data: "):
                    event["data"] = json.loads(line[6:])
                elif line.startswith(("id: ", "event: ")):
                    name, _, value = line.partition(": ")
                    event[name] = value

    async def until_terminal(self, job_ids: set[str]) -> list[dict[str, Any]]:
        """Events until each of ``job_ids`` reached a final state."""
        seen, pending = [], set(job_ids)
        while pending:
            event = await self.next()
            seen.append(event)
            if event["data"]["to"] in TERMINAL:
                pending.discard(event["data"]["jobId"])
        return seen


async def open_events(api: Any, query: str, headers: dict[str, str] | None = None) -> Sse:
    response = await api.session.get(f"{api.base}/events?{query}", headers=headers)
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    # Every stream position is fixed before this line: from here on nothing is missed.
    assert await response.content.readline() == b": connected\n"
    return Sse(response)


async def test_sse_delivers_a_jobs_transitions_in_order(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    spawn("jobs-worker")
    sse = await open_events(api, "queue=default&jobId=sse-1")
    try:
        await api.schedule(
            {"type": "sleep", "payload": {"ms": 200, "steps": 2}, "options": {"jobId": "sse-1"}}
        )
        await api.schedule({"type": "echo", "options": {"queue": "default"}})  # filtered out
        got = await sse.until_terminal({"sse-1"})
    finally:
        sse.response.close()
    data = [event["data"] for event in got]
    assert [(d["from"], d["to"]) for d in data] == [
        ("", "waiting"),
        ("waiting", "active"),
        ("active", "active"),
        ("active", "active"),
        ("active", "completed"),
    ]
    assert [d.get("progress") for d in data[2:4]] == [50, 100]
    assert {d["jobId"] for d in data} == {"sse-1"} and {d["queue"] for d in data} == {"default"}
    assert data[0]["type"] == "sleep" and [d["attempt"] for d in data] == [0, 1, 1, 1, 1]
    assert [d["at"] for d in data] == sorted(d["at"] for d in data)
    # The terminal event carries the result: no GET is needed after it.
    assert data[-1]["result"] == {"slept": 0.2} and "result" not in data[0]
    assert {event["event"] for event in got} == {"job"}
    ids = [tuple(map(int, event["id"].split("-"))) for event in got]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


async def test_sse_over_all_queues_with_retries(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    spawn("jobs-worker", JOBS_CONCURRENCY="4")
    sse = await open_events(api, "")
    try:
        jobs = [
            {"type": "fail", "payload": {"times": 1}, "options": {"jobId": "r", "queue": "low-priority"}},
            {"type": "echo", "options": {"jobId": "e", "queue": "high-priority"}},
            {"type": "echo", "options": {"jobId": "s", "queue": "scheduled", "dependsOn": ["e"]}},
        ]
        for job in jobs:
            job["options"]["retry"] = {"attempts": 2, "delay": 0}
        assert (await api.call("POST", "/schedule/bulk", json={"jobs": jobs}))[0] == 201
        got = [event["data"] for event in await sse.until_terminal({"r", "e", "s"})]
    finally:
        sse.response.close()

    def path(job_id: str) -> list[str]:
        return [d["to"] for d in got if d["jobId"] == job_id]

    assert path("r") == ["waiting", "active", "waiting", "active", "completed"]
    assert path("e") == ["waiting", "active", "completed"]
    assert path("s") == ["blocked", "waiting", "active", "completed"]
    retried = next(d for d in got if d["jobId"] == "r" and d["from"] == "active" and d["to"] == "waiting")
    assert retried["error"] == "ValueError: boom" and retried["attempt"] == 1
    assert [d["attempt"] for d in got if d["jobId"] == "r"] == [0, 1, 1, 2, 2]
    assert all(isinstance(d["attempt"], int) and isinstance(d["at"], int) for d in got)


async def test_sse_resumes_after_last_event_id(api: Any, redis: Any, prefix: str) -> None:
    sse = await open_events(api, "queue=default")
    try:
        await api.schedule({"type": "x", "options": {"jobId": "first"}})
        first = await sse.next()
    finally:
        sse.response.close()
    assert first["data"]["jobId"] == "first"
    await api.schedule({"type": "x", "options": {"jobId": "second"}})
    again = await open_events(api, "queue=default", headers={"Last-Event-ID": first["id"]})
    try:
        assert (await again.next())["data"]["jobId"] == "second"
    finally:
        again.response.close()


@pytest.mark.parametrize(
    ("query", "headers", "status", "named"),
    [
        ("queue=nope", {}, 404, "nope"),
        ("queue=default&colour=red", {}, 400, "colour"),
        ("queue=default", {"Last-Event-ID": "yesterday"}, 400, "Last-Event-ID"),
    ],
)
async def test_sse_bad_input(api: Any, query: str, headers: dict[str, str], status: int, named: str) -> None:
    got, reply, _ = await api.call("GET", f"/events?{query}", headers=headers)
    assert got == status and named in reply["error"]["message"]


async def test_logs_are_capped_at_the_newest_1000(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    spawn("jobs-worker")
    made = await api.schedule({"type": "logger", "payload": {"lines": 1005}})
    await wait_state(redis, prefix, made["jobId"], {"completed"}, timeout=30)
    status, body, _ = await api.call("GET", f"/jobs/{made['jobId']}/logs")
    assert status == 200 and body["jobId"] == made["jobId"] and body["count"] == 1000
    assert body["logs"][0]["message"] == "line 5" and body["logs"][-1]["message"] == "line 1004"
    assert body["logs"][-1]["index"] == 1004 and body["logs"][-1]["attempt"] == 1
    assert isinstance(body["logs"][0]["at"], int)


async def test_logs_of_every_try_and_of_a_job_without_any(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    spawn("jobs-worker")
    made = await api.schedule({"type": "log-fail-once", "options": {"retry": {"attempts": 2, "delay": 0}}})
    await wait_state(redis, prefix, made["jobId"], {"completed"})
    body = (await api.call("GET", f"/jobs/{made['jobId']}/logs"))[1]
    assert [(line["attempt"], line["message"]) for line in body["logs"]] == [(1, "try 1"), (2, "try 2")]
    quiet = await api.schedule({"type": "x", "options": {"delay": 60_000}})
    assert (await api.call("GET", f"/jobs/{quiet['jobId']}/logs"))[1] == {
        "jobId": quiet["jobId"],
        "logs": [],
        "count": 0,
    }
    assert (await api.call("GET", "/jobs/ghost/logs"))[0] == 404


async def test_open_streams_end_cleanly_when_the_api_stops(spawn: Any) -> None:
    from support.api import ApiClient

    proc = spawn("jobs-api", JOBS_SHUTDOWN_GRACE="20")
    client = ApiClient(int(proc.wait_for("service_ready")["port"]))
    try:
        sse = await open_events(client, "queue=default")
        started = time.monotonic()
        assert proc.stop(timeout=15) == 0
        assert time.monotonic() - started < 3, "an open stream must not hold the shutdown grace period"
        assert await asyncio.wait_for(sse.response.content.read(), 5) == b"\n"  # a clean end, no error
    finally:
        await client.close()


async def test_a_huge_log_line_is_cut_to_a_bounded_size(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    spawn("jobs-worker")
    made = await api.schedule({"type": "big-log"})
    await wait_state(redis, prefix, made["jobId"], {"completed"})
    big, small = (await api.call("GET", f"/jobs/{made['jobId']}/logs"))[1]["logs"]
    # Cut at 8192 bytes on a character boundary: "x" and 4095 two-byte characters; other fields dropped.
    assert big["message"] == "x" + "é" * 4095 and big["truncated"] is True and "detail" not in big
    assert big["attempt"] == 1 and isinstance(big["at"], int)
    assert small == {"at": small["at"], "attempt": 1, "message": "small", "n": 1}
    assert await redis.memory_usage(f"{prefix}:job:{made['jobId']}:logs") < 20_000


async def test_a_huge_error_is_bounded_in_the_record_and_the_stream(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    spawn("jobs-worker")
    made = await api.schedule({"type": "huge-error"})
    await wait_state(redis, prefix, made["jobId"], {"failed"})
    job = await api.job(made["jobId"])
    assert job["error"] == "UnrecoverableError: " + "é" * 4086  # 8192 bytes
    assert job["errors"][0]["error"] == job["error"]
    [failed] = [e for e in await events(redis, prefix, "default") if e["to"] == "failed"]
    assert len(failed["error"].encode()) <= 2048 and failed["error"].startswith("UnrecoverableError: é")


async def test_a_completed_event_carries_a_large_result_too(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    """A result over the stream's 2 KiB field limit is left out of the entry and read from the record."""
    spawn("jobs-worker")
    big = "r" * 5000
    sse = await open_events(api, "queue=default&jobId=big")
    try:
        await api.schedule({"type": "echo", "payload": {"value": {"text": big}}, "options": {"jobId": "big"}})
        got = await sse.until_terminal({"big"})
    finally:
        sse.response.close()
    assert got[-1]["data"]["to"] == "completed" and got[-1]["data"]["result"] == {"text": big}
    [raw] = [e for e in await events(redis, prefix, "default") if e["to"] == "completed"]
    assert "result" not in raw  # the stream stays bounded in bytes
