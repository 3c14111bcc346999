"""The api's /metrics tells the truth for the whole cluster: after a known run through two api processes and
two workers, every scraped value (parsed with the Prometheus client's own parser) equals what happened,
on both api replicas; the workers' own /metrics add up to the same run; every metric name the Grafana
dashboard and the Helm chart's alerts and autoscaler use is really served."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from observability.obs_helpers import Scrape, scrape
from support.api import ApiClient
from support.waiting import wait_all, wait_step

REPO = Path(__file__).resolve().parents[2]
QUEUES = ("default", "high-priority", "low-priority", "scheduled")
RETRY_ONCE = {"retry": {"attempts": 2, "delay": 10, "backoff": "fixed"}}


async def known_run(apis: list[ApiClient], redis: Any, prefix: str) -> None:
    """20 completed, 3 failed after one retry each, 2 delayed, 1 active, 2 held by a paused queue."""
    key = f"{prefix}:trace"
    done = [(await apis[i % 2].schedule({"type": "echo"}))["jobId"] for i in range(20)]
    failed = [
        (await apis[i % 2].schedule({"type": "fail", "options": RETRY_ONCE}))["jobId"] for i in range(3)
    ]
    for _ in range(2):
        await apis[0].schedule({"type": "echo", "options": {"delay": 3_600_000}})
    status, _, _ = await apis[1].call("POST", "/queues/low-priority/pause")
    assert status == 200
    for _ in range(2):
        await apis[1].schedule({"type": "echo", "options": {"queue": "low-priority"}})
    await apis[0].schedule({"type": "sleep", "payload": {"ms": 60_000, "key": key}})
    await wait_all(redis, prefix, done, {"completed"})
    await wait_all(redis, prefix, failed, {"failed"})
    await wait_step(redis, key, "start")


def check_cluster(m: Scrape) -> None:
    d = {"queue": "default"}
    assert m.value("jobs_redis_up") == 1
    assert m.value("jobs_total", **d) == 26
    assert m.value("jobs_total", queue="low-priority") == 2
    assert m.value("jobs_completed_total", **d, type="echo") == 20
    assert m.total("jobs_completed_total", **d) == 20  # _other holds nothing
    assert m.value("jobs_failed_total", **d, type="fail") == 3
    assert m.total("jobs_failed_total", **d) == 3
    assert m.value("jobs_retries_total", **d) == 3
    assert m.value("jobs_cancelled_total", **d) == 0
    assert (m.value("jobs_waiting", **d), m.value("jobs_active", **d), m.value("jobs_delayed", **d)) == (
        0,
        1,
        2,
    )
    assert m.value("jobs_blocked", **d) == 0
    assert m.value("jobs_paused", **d) == 0
    assert m.value("jobs_waiting", queue="low-priority") == 2
    assert m.value("jobs_paused", queue="low-priority") == 2
    for q in QUEUES:
        assert m.value("jobs_workers_live", queue=q) == 2, q
    assert m.value("jobs_scheduler_leader") == 0
    assert m.value("jobs_schedules") == 0
    assert 0 <= m.value("jobs_redis_latency_seconds") < 1
    # Every try was claimed once (20 + 3 × 2 + the running one); run times cover the tries that ended a job.
    assert m.value("jobs_wait_seconds_count", **d) == 27
    assert m.value("jobs_duration_seconds_count", **d) == 23
    assert m.value("jobs_wait_seconds_bucket", **d, le="+Inf") == 27
    assert m.value("jobs_duration_seconds_bucket", **d, le="+Inf") == 23
    assert m.value("jobs_wait_seconds_sum", **d) >= 0
    buckets = [s.value for s in m.samples["jobs_duration_seconds_bucket"] if s.labels["queue"] == "default"]
    assert buckets == sorted(buckets), "buckets must be cumulative"


def check_workers(scrapes: list[Scrape]) -> None:
    def total(name: str, **labels: str) -> float:
        return sum(s.total(name, **labels) for s in scrapes)

    assert total("jobs_worker_jobs_finished_total", outcome="completed", type="echo") == 20
    assert total("jobs_worker_jobs_finished_total", outcome="failed", type="fail") == 3
    assert total("jobs_worker_jobs_finished_total", outcome="retried", type="fail") == 3
    assert total("jobs_worker_claimed_total", queue="default") == 27
    assert total("jobs_worker_job_duration_seconds_count", queue="default") == 26
    assert total("jobs_worker_running_jobs") == 1
    for s in scrapes:
        assert s.value("jobs_worker_concurrency") == 5
        assert 0 <= s.value("jobs_worker_event_loop_lag_seconds") < 1
        assert s.value("jobs_worker_lease_renewals_total") >= 0


@pytest.mark.timeout(90)
async def test_scraped_values_equal_a_known_run(spawn: Any, redis: Any, prefix: str) -> None:
    workers = [spawn("jobs-worker") for _ in range(2)]
    api_ports = [int(spawn("jobs-api").wait_for("service_ready")["port"]) for _ in range(2)]
    apis = [ApiClient(port) for port in api_ports]
    try:
        await known_run(apis, redis, prefix)
        for port in api_ports:  # each replica serves the same cluster-wide values
            check_cluster(await scrape(port))
        check_workers([await scrape(int(w.wait_for("service_ready")["probe_port"])) for w in workers])
    finally:
        for api in apis:
            await api.close()


def names_used_by(text: str) -> set[str]:
    """``jobs_*`` series names in PromQL text, with histogram suffixes taken off."""
    names = set(re.findall(r"\bjobs_[a-z_]+\b", text))
    return {re.sub(r"_(bucket|count|sum)$", "", n) for n in names}


@pytest.mark.timeout(60)
async def test_dashboard_and_chart_use_only_served_metrics(spawn: Any, redis: Any, prefix: str) -> None:
    worker = spawn("jobs-worker")
    scheduler = spawn("jobs-scheduler", JOBS_LEADER_LEASE_MS="2000")
    api = ApiClient(int(spawn("jobs-api").wait_for("service_ready")["port"]))
    try:
        made = await api.schedule({"type": "echo"})
        await wait_all(redis, prefix, [made["jobId"]], {"completed"})
        scheduler.wait_for("leader_elected")
        served: set[str] = set()
        for port in (
            api.base.rsplit(":", 1)[1],
            worker.wait_for("service_ready")["probe_port"],
            scheduler.wait_for("service_ready")["probe_port"],
        ):
            served |= names_used_by(" ".join((await scrape(int(port))).samples))
    finally:
        await api.close()
    dashboard = json.loads((REPO / "monitoring" / "grafana-dashboard.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))
    assert names_used_by(exprs) - served == set()
    chart = REPO / "charts" / "jobs" / "templates"
    used = names_used_by(" ".join(p.read_text() for p in [*chart.rglob("*.yaml"), *chart.rglob("*.tpl")]))
    assert used, "the chart's alerts and autoscaler use the api's metrics"
    assert used - served == set()
