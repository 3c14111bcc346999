"""The ``jobs`` console script, run as a real subprocess (``.venv/bin/jobs``) against a real api and worker:
``-o json`` parsed, exit codes, ``--yes`` required off a terminal, one-line errors, the event tail with
resumption, ``queues --watch``."""

from __future__ import annotations

import json
import signal
import subprocess
from typing import Any

import pytest

from clients.py_support import Stack, cli_env, run_cli
from jobs_client import JobFailed, JobsClient
from support.processes import BIN
from support.redis_server import free_port


def ok(stack: Stack, *args: str) -> Any:
    """Runs ``jobs ARGS -o json``, expects exit 0 and one JSON document on stdout."""
    done = run_cli(stack.url, *args, "-o", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def refused(stack: Stack, *args: str, code: int) -> str:
    """Runs ``jobs ARGS``, expects exit ``code`` and exactly one line on stderr; returns it."""
    done = run_cli(stack.url, *args)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr, done.stderr
    return done.stderr.strip()


@pytest.mark.timeout(90)
def test_cli_job_commands(py_stack: Stack, py_sdk: JobsClient) -> None:
    added = ok(py_stack, "add", "echo", "--payload", '{"value": {"x": 1}}', "--job-id", "cli-1", "--wait")
    assert (added["jobId"], added["status"], added["result"]) == ("cli-1", "completed", {"x": 1})

    later = ok(
        py_stack,
        "add",
        "echo",
        "--delay",
        "10m",
        "--queue",
        "low-priority",
        "--priority",
        "low",
        "--attempts",
        "2",
    )
    assert (later["status"], later["queueName"]) == ("delayed", "low-priority")
    job_id = later["jobId"]
    shown = ok(py_stack, "show", job_id)
    assert (shown["maxAttempts"], shown["priority"], shown["payload"]) == (2, "low", {})
    listed = ok(py_stack, "list", "--status", "delayed")
    assert [j["jobId"] for j in listed["jobs"]] == [job_id] and listed["total"] == 1
    table = run_cli(py_stack.url, "list", "--status", "delayed")
    assert table.returncode == 0 and job_id in table.stdout and "delayed" in table.stdout

    assert "refusing to cancel" in refused(py_stack, "cancel", job_id, code=2)
    assert py_sdk.get_job(job_id).status == "delayed"  # nothing was cancelled
    assert ok(py_stack, "cancel", job_id, "--yes")["previousStatus"] == "delayed"
    assert ok(py_stack, "retry", job_id)["status"] == "waiting"
    assert ok(py_stack, "wait", job_id, "--timeout", "15s") == {
        "jobId": job_id,
        "status": "completed",
        "result": {},
    }

    failure = run_cli(
        py_stack.url, "add", "fail", "--payload", '{"message": "cli boom"}', "--attempts", "1", "--wait"
    )
    assert failure.returncode == 1 and "Traceback" not in failure.stderr
    added_line, error_line = failure.stderr.splitlines()  # the id first (for a Ctrl-C), then the one error
    assert added_line.startswith("added: job-") and error_line.endswith("failed: ValueError: cli boom")
    held = py_sdk.add_job("echo", delay=3600).job_id
    assert "did not finish within 0.3 s" in refused(py_stack, "wait", held, "--timeout", "300ms", code=124)

    assert refused(py_stack, "show", "nope", code=1) == "error: job 'nope' not found (404 not_found)"
    as_json = run_cli(py_stack.url, "show", "nope", "-o", "json")
    assert json.loads(as_json.stderr)["error"] == {
        "status": 404,
        "code": "not_found",
        "message": "job 'nope' not found",
        "details": {"jobId": "nope"},
    }
    assert "--payload: not valid JSON" in refused(py_stack, "add", "echo", "--payload", "{oops", code=2)
    assert "options.priority" in refused(py_stack, "add", "echo", "--priority", "urgent", code=1)


@pytest.mark.timeout(90)
def test_cli_queue_commands_and_health(py_stack: Stack, py_sdk: JobsClient) -> None:
    assert run_cli(py_stack.url, "health").returncode == 0
    assert ok(py_stack, "pause", "default")["isPaused"] is True
    py_sdk.add_bulk([{"type": "noop"}, {"type": "noop"}])
    queues = {q["name"]: q for q in ok(py_stack, "queues")["queues"]}
    assert queues["default"]["isPaused"] and queues["default"]["counts"]["waiting"] == 2

    assert "refusing to drain default without --yes" in refused(py_stack, "drain", "default", code=2)
    assert py_sdk.get_queue("default").counts.waiting == 2
    assert ok(py_stack, "drain", "default", "--yes")["removed"] == 2
    assert ok(py_stack, "resume", "default")["changed"] is True

    failed = py_sdk.add_job("fail-once", {"key": "cli-retry"}, attempts=1).job_id
    with pytest.raises(JobFailed, match="first run fails"):
        py_sdk.wait(failed, timeout=15)
    refused(py_stack, "retry-failed", "default", code=2)
    assert ok(py_stack, "retry-failed", "default", "--limit", "5", "--yes")["retried"] == [failed]
    assert py_sdk.wait(failed, timeout=15) == "second run works"
    cleaned = ok(py_stack, "clean", "default", "--status", "completed", "--grace", "0s", "--yes")
    assert failed in cleaned["removed"]

    py_sdk.create_schedule("noop", "0 5 * * *", schedule_id="cli-nightly")
    assert [s["scheduleId"] for s in ok(py_stack, "schedules")["schedules"]] == ["cli-nightly"]
    degraded = run_cli(py_stack.url, "health", "-o", "json")  # a schedule and no scheduler to fire it
    assert degraded.returncode == 1 and json.loads(degraded.stdout)["status"] == "degraded"
    assert run_cli(f"http://127.0.0.1:{free_port()}", "health").returncode == 2  # nothing listens there


def _started(command: list[str], url: str) -> subprocess.Popen[str]:
    """Starts ``jobs COMMAND`` and returns once it said on stderr that it follows the stream."""
    proc = subprocess.Popen(
        [str(BIN / "jobs"), *command], env=cli_env(url), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    assert "following events" in proc.stderr.readline()
    return proc


@pytest.mark.timeout(60)
def test_cli_events_tail_resume_and_watch(py_stack: Stack, py_sdk: JobsClient) -> None:
    tail = _started(["events", "--queue", "default", "--count", "3", "-o", "json"], py_stack.url)
    job_id = py_sdk.add_job("noop").job_id
    out, _ = tail.communicate(timeout=20)
    assert tail.returncode == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert [(e["jobId"], e["from"], e["to"]) for e in events] == [
        (job_id, "", "waiting"),
        (job_id, "waiting", "active"),
        (job_id, "active", "completed"),
    ]
    resumed = run_cli(
        py_stack.url,
        "events",
        "--queue",
        "default",
        "--last-event-id",
        events[0]["id"],
        "--count",
        "2",
        "-o",
        "json",
    )
    assert [json.loads(line)["id"] for line in resumed.stdout.splitlines()] == [e["id"] for e in events[1:]]
    human = run_cli(
        py_stack.url, "events", "--queue", "default", "--last-event-id", events[0]["id"], "--count", "1"
    )
    assert f"{job_id}  waiting → active" in human.stdout

    watch = subprocess.Popen(
        [str(BIN / "jobs"), "queues", "--watch", "--interval", "0.2", "-o", "json"],
        env=cli_env(py_stack.url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert watch.stdout is not None
    first, second = (json.loads(watch.stdout.readline()) for _ in range(2))
    assert first["queues"][0]["name"] == second["queues"][0]["name"] == "default"
    watch.send_signal(signal.SIGINT)
    assert watch.wait(10) == 130 and "Traceback" not in watch.stderr.read()  # type: ignore[union-attr]
