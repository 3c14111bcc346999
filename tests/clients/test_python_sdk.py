"""The blocking SDK (``JobsClient``) against a real api and worker: jobs, bulk, queue control,
retry-failed, schedules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jobs_client import AddedJob, JobFailed, JobsClient, JobSpec, NotFound


@pytest.mark.timeout(60)
def test_add_get_list_cancel_retry_and_logs(py_sdk: JobsClient) -> None:
    added = py_sdk.add_job("echo", {"value": {"n": 1}}, job_id="echo-1", priority="high")
    assert isinstance(added, AddedJob)
    assert (added.job_id, added.queue_name, added.existing) == ("echo-1", "high-priority", False)
    assert py_sdk.wait("echo-1", timeout=15) == {"n": 1}

    again = py_sdk.add_job("echo", {"value": 2}, job_id="echo-1")
    assert again.existing and again.status == "completed"
    job = py_sdk.get_job("echo-1")
    assert (job.status, job.result, job.payload, job.attempts) == (
        "completed",
        {"n": 1},
        {"value": {"n": 1}},
        1,
    )
    assert job.is_terminal and job.completed_at is not None and job.priority == "high"

    later = py_sdk.add_job("echo", queue="low-priority", delay=timedelta(minutes=1), attempts=2)
    assert later.status == "delayed" and later.run_at and later.created_at
    assert abs((later.run_at - later.created_at).total_seconds() - 60) < 0.01
    page = py_sdk.list_jobs(queue="low-priority", status=["delayed", "waiting"], type="echo")
    assert [j.job_id for j in page.jobs] == [later.job_id] and page.total == 1
    assert py_sdk.get_job(later.job_id).max_attempts == 2

    assert py_sdk.cancel_job(later.job_id).previous_status == "delayed"
    assert py_sdk.get_job(later.job_id).status == "cancelled"
    assert py_sdk.retry_job(later.job_id).status == "waiting"
    assert py_sdk.wait(later.job_id, timeout=15) == {}  # echo returns its payload

    logged = py_sdk.add_job("logger", {"lines": 2})
    assert py_sdk.wait(logged.job_id, timeout=15) == "logged"
    lines = py_sdk.job_logs(logged.job_id)
    assert [line.message for line in lines.logs] == ["line 0", "line 1"] and lines.count == 2
    assert lines.logs[1].model_extra == {"index": 1}  # the processor's own fields are kept


@pytest.mark.timeout(60)
def test_bulk_pause_drain_resume_clean(py_sdk: JobsClient) -> None:
    paused = py_sdk.pause_queue("default")
    assert (paused.is_paused, paused.changed) == (True, True)
    assert py_sdk.pause_queue("default").changed is False

    added = py_sdk.add_bulk(
        [
            JobSpec("echo", {"value": 1}, job_id="a-1"),
            JobSpec("echo", {"value": 2}, job_id="b-1", depends_on=["a-1"]),
            {"type": "noop", "options": {"jobId": "raw-1"}},  # the API's own JSON works too
        ]
    )
    assert [(j.job_id, j.status) for j in added] == [
        ("a-1", "waiting"),
        ("b-1", "blocked"),
        ("raw-1", "waiting"),
    ]
    stats = py_sdk.get_queue("default")
    assert stats.is_paused and (stats.counts.waiting, stats.counts.blocked, stats.counts.paused) == (2, 1, 2)

    assert py_sdk.drain_queue("default").removed == 2
    with pytest.raises(NotFound):
        py_sdk.get_job("a-1")
    assert py_sdk.get_job("b-1").error == "dependency a-1 removed"
    with pytest.raises(JobFailed, match="dependency a-1 removed"):
        py_sdk.wait("b-1", timeout=5)

    assert py_sdk.resume_queue("default").changed is True
    names = {q.name: q for q in py_sdk.list_queues()}
    assert set(names) >= {"default", "high-priority", "low-priority", "scheduled"}
    assert names["default"].is_paused is False

    done = py_sdk.add_job("noop")
    py_sdk.wait(done.job_id, timeout=15)
    cleaned = py_sdk.clean_queue("default", status="completed", grace=0, limit=10)
    assert done.job_id in cleaned.removed and cleaned.count == len(cleaned.removed)


@pytest.mark.timeout(60)
def test_retry_failed_retries_each_failed_job_and_reports_refusals(py_sdk: JobsClient) -> None:
    failing = [
        py_sdk.add_job("fail-once", {"key": f"retry-failed-{i}"}, queue="low-priority", attempts=1).job_id
        for i in range(3)
    ]
    for job_id in failing:
        with pytest.raises(JobFailed, match="first run fails"):
            py_sdk.wait(job_id, timeout=15)
    # born failed: its dependency already failed, so the API refuses to retry it (409)
    orphan = py_sdk.add_job("echo", queue="low-priority", depends_on=[failing[0]])
    assert orphan.status == "failed"

    first = py_sdk.retry_failed("low-priority", limit=1)  # the limit counts retried jobs, not refused ones
    assert len(first.retried) == 1 and [s["jobId"] for s in first.skipped] == [orphan.job_id]
    assert "dependency" in first.skipped[0]["reason"]
    rest = py_sdk.retry_failed("low-priority", limit=10)
    assert sorted(first.retried + rest.retried) == sorted(failing)
    assert [s["jobId"] for s in rest.skipped] == [orphan.job_id]
    for job_id in failing:
        assert py_sdk.wait(job_id, timeout=15) == "second run works"


@pytest.mark.timeout(60)
def test_schedules_create_update_pause_resume_delete(py_sdk: JobsClient) -> None:
    created = py_sdk.create_schedule(
        "noop", "0 3 * * *", {"k": 1}, timezone="Europe/Paris", schedule_id="nightly", queue="low-priority"
    )
    assert (created.schedule_id, created.result, created.status) == ("nightly", "created", "active")
    assert created.next_run_at is not None and created.options == {"queue": "low-priority"}
    assert (
        py_sdk.create_schedule(
            "noop",
            "0 3 * * *",
            {"k": 1},
            timezone="Europe/Paris",
            schedule_id="nightly",
            queue="low-priority",
        ).result
        == "unchanged"
    )
    updated = py_sdk.create_schedule("noop", "30 4 * * *", schedule_id="nightly")
    assert (updated.result, updated.schedule, updated.timezone) == ("updated", "30 4 * * *", "UTC")

    assert [s.schedule_id for s in py_sdk.list_schedules()] == ["nightly"]
    paused = py_sdk.pause_schedule("nightly")
    assert (paused.status, paused.changed, paused.next_run_at) == ("paused", True, None)
    assert py_sdk.resume_schedule("nightly").status == "active"
    assert py_sdk.get_schedule("nightly").recent_jobs == []

    assert py_sdk.delete_schedule("nightly").success
    with pytest.raises(NotFound):
        py_sdk.get_schedule("nightly")
