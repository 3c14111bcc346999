"""An outcome that cannot be written because Redis stays away longer than a lease: the worker gives up on
it with one error line that counts the tries, one warning per try naming the job (no traceback), and
the try runs again once Redis is back (at-least-once). Found by the chaos run: the count was the number
of script arguments (4 per completed try) and every try logged ``job_task_error`` with a traceback."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from support.api import ApiClient
from support.redis_server import RedisServer
from support.waiting import wait_state


async def test_an_unwritable_outcome_is_given_up_and_the_try_runs_again(
    tmp_path: Path, spawn: Any, prefix: str
) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    client = Redis.from_url(server.url, decode_responses=True)
    api_proc = spawn("jobs-api", JOBS_REDIS_URL=server.url)
    api = ApiClient(int(api_proc.wait_for("service_ready")["port"]))
    try:
        worker = spawn("jobs-worker", JOBS_REDIS_URL=server.url, JOBS_LEASE_MS="600")
        made = await api.schedule({"type": "sleep", "payload": {"ms": 400}})
        await wait_state(client, prefix, made["jobId"], {"active"})
        server.stop()  # the try ends while Redis is away; its outcome cannot be written
        lost = await asyncio.to_thread(worker.wait_for, "finish_batch_lost", 15)
        server.start()  # same port, same AOF: the job is still active, its lease long expired
        record = await wait_state(client, prefix, made["jobId"], {"completed"}, timeout=20)
        assert lost["jobs"] == 1
        warning = worker.wait_for("outcome_not_written", 1)
        assert (warning["job_id"], warning["type"], warning["attempt"]) == (made["jobId"], "sleep", 1)
        assert not [line for line in worker.lines if line["event"] == "job_task_error"]
        assert record["claims"] == "2" and record["stalls"] == "1" and record["attempt"] == "1"
    finally:
        await api.close()
        await client.aclose()
        server.stop()
