"""Issue 12 §4 defects, each against real processes: a job's own removeOnComplete / removeOnFail count
wins over the queue default (as in BullMQ: the completing job's own setting trims the set; the default
applies when a job that set none finishes); /metrics serves SPEC.md's ``jobs_latency_ms`` (histogram in
ms) and ``jobs_retry_count`` beside the conventional names; JOBS_LOG_LEVEL is case-insensitive.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from observability.obs_helpers import scrape
from queue_control.qc_helpers import bulk, wait_counter
from support.waiting import wait_state

pytestmark = pytest.mark.timeout(60)
BIN = Path(sys.executable).parent


async def test_own_remove_on_complete_count_beats_the_queue_default(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    spawn("jobs-worker", JOBS_CONCURRENCY="4", JOBS_KEEP_COMPLETED="5")
    own = [{"type": "noop", "options": {"queue": "default", "removeOnComplete": 100}}] * 30
    assert (await bulk(api, own))[0] == 201
    await wait_counter(redis, prefix, "default", "completed", 30)
    assert await redis.zcard(f"{prefix}:q:default:completed") == 30  # not 5
    # A job that sets none brings the queue default back, for the whole set (BullMQ's rule).
    assert (await bulk(api, [{"type": "noop", "options": {"queue": "default"}}]))[0] == 201
    await wait_counter(redis, prefix, "default", "completed", 31)
    assert await redis.zcard(f"{prefix}:q:default:completed") == 5


async def test_own_remove_on_fail_count_beats_the_queue_default(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    spawn("jobs-worker", JOBS_CONCURRENCY="4", JOBS_KEEP_FAILED="2")
    job = {"type": "fail", "options": {"retry": {"attempts": 1}, "removeOnFail": 50}}
    assert (await bulk(api, [job] * 8))[0] == 201
    await wait_counter(redis, prefix, "default", "failed", 8)
    assert await redis.zcard(f"{prefix}:q:default:failed") == 8
    last = await api.schedule({"type": "fail", "options": {"retry": {"attempts": 1}}})
    await wait_state(redis, prefix, last["jobId"], {"failed"})
    assert await redis.zcard(f"{prefix}:q:default:failed") == 2


async def test_metrics_serve_spec_names(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    spawn("jobs-worker")
    ok = await api.schedule({"type": "sleep", "payload": {"ms": 30}})
    retried = await api.schedule(
        {"type": "fail", "payload": {"times": 1}, "options": {"retry": {"attempts": 2, "delay": 0}}}
    )
    await wait_state(redis, prefix, ok["jobId"], {"completed"})
    await wait_state(redis, prefix, retried["jobId"], {"completed"})
    m = await scrape(int(api.base.rsplit(":", 1)[1]))
    d = {"queue": "default"}
    assert m.families["jobs_latency_ms"].type == "histogram"
    assert m.value("jobs_latency_ms_count", **d) == m.value("jobs_duration_seconds_count", **d) == 2
    assert m.value("jobs_latency_ms_bucket", **d, le="25.0") <= m.value(
        "jobs_latency_ms_bucket", **d, le="50.0"
    )
    assert m.value("jobs_latency_ms_bucket", **d, le="50.0") == m.value(
        "jobs_duration_seconds_bucket", **d, le="0.05"
    )
    assert m.value("jobs_latency_ms_sum", **d) == pytest.approx(
        m.value("jobs_duration_seconds_sum", **d) * 1000
    )
    assert m.value("jobs_latency_ms_sum", **d) >= 20  # milliseconds: the 30 ms sleep (timer slack), not 0.03
    assert m.value("jobs_retry_count", **d) == m.value("jobs_retries_total", **d) == 1
    assert "\njobs_retry_count{" in m.text  # the exact name SPEC.md's alerts use, no suffix


def run_api(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [str(BIN / "jobs-api")]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.parametrize("level", ["WARNING", "Warning", "warning", " ERROR "])
def test_log_level_is_case_insensitive(base_env: dict[str, str], level: str) -> None:
    env = {**base_env, "JOBS_LOG_LEVEL": level, "JOBS_ENABLED": "false"}
    done = run_api(env)
    assert done.returncode == 0, done.stderr
    if level.strip().lower() == "error":
        assert done.stdout == ""  # the api_disabled warning is below the level
    else:
        assert '"api_disabled"' in done.stdout and '"level": "warning"' in done.stdout


def test_log_level_still_refuses_nonsense(base_env: dict[str, str]) -> None:
    env = {**base_env, "JOBS_LOG_LEVEL": "loud"}
    done = run_api(env)
    assert done.returncode == 2 and "JOBS_LOG_LEVEL" in done.stderr
