"""The worker's target variables: a malformed one stops the worker at start with one line naming it (and
never its secret); an unset one fails the jobs that need it at once, naming it. Built-ins can be turned
off, and a processor module replaces a built-in type."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from builtin.bi_helpers import DONE, run_job
from jobs_core.settings import load_settings
from jobs_worker.settings import WorkerSettings
from support.api import ApiClient
from support.processes import Service
from support.redis_server import free_port
from support.waiting import wait_all

pytestmark = pytest.mark.timeout(90)
ROOT = Path(__file__).resolve().parents[2]

DB = "JOBS_DATABASE_URL"
X = {"body": "x"}
MALFORMED = [
    ({"JOBS_DATABASE_URL": "mysql://root:topsecret@db:3306/nchat"}, f"{DB}: Value error, must look like"),
    ({"JOBS_DATABASE_URL": "postgresql://u:topsecret@db:99999/nchat"}, f"{DB}: Value error, not a valid"),
    ({"JOBS_DATABASE_URL": "postgresql://u:topsecret@db:5432"}, f"{DB}: Value error, names no database"),
    ({"JOBS_SMTP_URL": "http://u:topsecret@mail:25"}, "JOBS_SMTP_URL: Value error, must look like"),
    ({"JOBS_NOTIFICATIONS_URL": "notifications:3102"}, "JOBS_NOTIFICATIONS_URL: Value error, must look like"),
    ({"JOBS_NOTIFICATIONS_PATH": "api/send"}, "JOBS_NOTIFICATIONS_PATH: Value error, must be a URL path"),
    ({"JOBS_SMTP_FROM": "nobody"}, "JOBS_SMTP_FROM: Value error, must be an address"),
    ({"JOBS_BACKUP_S3_BUCKET": "Bad_Bucket"}, "JOBS_BACKUP_S3_BUCKET: Value error, not a valid bucket name"),
    ({"JOBS_BACKUP_S3_ACCESS_KEY": "AK1"}, "JOBS_BACKUP_S3_ACCESS_KEY and JOBS_BACKUP_S3_SECRET_KEY go"),
    ({"JOBS_BUILTIN_PROCESSORS": "maybe"}, "JOBS_BUILTIN_PROCESSORS: Input should be a valid boolean"),
]  # fmt: skip

MISSING = [
    ("send-notification", {"userId": "u", "channel": "email", "content": X}, "JOBS_SMTP_URL is not set"),
    ("send-notification", {"userId": "u", "channel": "push", "to": {"pushToken": "t"}, "content": X},
     "JOBS_NOTIFICATIONS_URL is not set"),
    ("send-email-digest", {"userId": "u", "frequency": "daily"}, "JOBS_SMTP_URL is not set"),
    ("cleanup-expired", {"targetType": "messages", "olderThan": 90}, "JOBS_DATABASE_URL is not set"),
    ("generate-analytics", {}, "JOBS_DATABASE_URL is not set"),
    ("backup-database", {"retention": 30}, "JOBS_BACKUP_DIR is not set"),
    ("backup-database", {"destination": "s3", "retention": 30}, "JOBS_BACKUP_S3_BUCKET is not set"),
    ("scheduled-message", {"scheduledMessageId": "m", "channelId": "c", "userId": "u", "content": "x"},
     "JOBS_DATABASE_URL is not set"),
]  # fmt: skip


@pytest.mark.parametrize(("env", "expected"), MALFORMED)
def test_a_malformed_target_is_named_in_one_line(
    env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        load_settings(WorkerSettings)  # what jobs-worker's main does first
    assert stopped.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("invalid configuration: "), lines
    assert expected in lines[0] and "topsecret" not in lines[0]


def test_a_malformed_target_stops_the_worker_process(start_worker: Callable[..., Service]) -> None:
    workers = [(start_worker(wait=False, **env), expected) for env, expected in (MALFORMED[0], MALFORMED[-2])]
    for worker, expected in workers:
        assert worker.wait(30) == 2
        lines = [line.strip() for line in worker.raw if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("invalid configuration: "), lines
        assert expected in lines[0], lines
        assert "topsecret" not in lines[0]


async def test_missing_targets_fail_at_once_naming_the_variable(
    start_worker: Callable[..., Service], bapi: ApiClient, redis: Redis, prefix: str
) -> None:
    worker = start_worker()
    retry = {"retry": {"attempts": 3, "delay": 50}}
    jobs = [{"type": t, "payload": p, "options": retry} for t, p, _ in MISSING]
    status, body, _ = await bapi.call("POST", "/schedule/bulk", json={"jobs": jobs})
    assert status == 201, body
    ids = [item["jobId"] for item in body["jobs"]]
    await wait_all(redis, prefix, ids, DONE)
    for job_id, (job_type, _, variable) in zip(ids, MISSING, strict=True):
        view = await bapi.job(job_id)
        assert view["status"] == "failed" and view["attempts"] == 1, (job_type, view)
        assert view["error"].startswith(f"UnrecoverableError: {variable}"), (job_type, view["error"])
    assert {t for t, _, _ in MISSING} <= set(worker.wait_for("service_ready")["processors"])


async def test_builtins_off_and_a_module_replacing_one(
    start_worker: Callable[..., Service], bapi: ApiClient, redis: Redis, prefix: str
) -> None:
    start_worker(JOBS_BUILTIN_PROCESSORS="false", JOBS_WORKER_QUEUES="default")
    path = os.pathsep.join([str(ROOT / "tests"), str(ROOT / "examples")])
    modules = "support.test_processors,support.custom_builtin,custom_jobs"
    replaced = start_worker(
        JOBS_WORKER_QUEUES="low-priority", JOBS_PROCESSOR_MODULES=modules, PYTHONPATH=path
    )
    assert "scheduled-message" in replaced.wait_for("service_ready")["processors"]
    job = {"type": "generate-analytics", "payload": {"date": "2026-02-03"}}
    view = await run_job(bapi, redis, prefix, {**job, "options": {"queue": "default"}})
    assert view["status"] == "failed"
    assert view["error"].startswith("no processor registered for job type 'generate-analytics'")
    view = await run_job(bapi, redis, prefix, {**job, "options": {"queue": "low-priority"}})
    assert view["result"] == {"custom": True, "payload": {"date": "2026-02-03"}}
    # SPEC.md's "Schedule Test Job", handled by the example module of examples/.
    spec_test = {"type": "custom", "payload": {"action": "test", "data": {}}, "options": {"priority": "low"}}
    view = await run_job(bapi, redis, prefix, spec_test)
    assert view["result"] == {"success": True, "action": "test", "dataKeys": []}
    assert view["progress"] == 100


async def test_an_unreachable_database_is_retried_and_its_password_never_shown(
    start_worker: Callable[..., Service], bapi: ApiClient, redis: Redis, prefix: str
) -> None:
    url = f"postgresql://jobs:db-Secr3t-pw@127.0.0.1:{free_port()}/nchat"
    worker = start_worker(JOBS_DATABASE_URL=url)
    job = {"type": "generate-analytics", "payload": {}, "options": {"retry": {"attempts": 2, "delay": 50}}}
    view = await run_job(bapi, redis, prefix, job)
    assert view["status"] == "failed" and view["attempts"] == 2
    assert all(e["error"].startswith("TargetUnavailable: ") for e in view["errors"]), view["errors"]
    assert "db-Secr3t-pw" not in str(view) + "".join(worker.raw)
