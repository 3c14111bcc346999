"""A running scheduler applies schedule changes at the next fire, with no restart; built-ins; probes."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

import aiohttp
import pytest
from redis.asyncio import Redis

from jobs_core.schedules import Schedule
from scheduler.sched_helpers import Cluster, assert_every_second_once, wait_until
from support.processes import Service


@pytest.mark.timeout(60)
async def test_pause_resume_update_delete_take_effect_live(
    replicas: Callable[..., list[Service]], rclient: Redis, sched_prefix: str
) -> None:
    cluster = Cluster(rclient, sched_prefix)
    replicas(1)
    await cluster.every_second()
    await cluster.count_after(2)
    await cluster.schedules.set_paused("tick", True)
    await asyncio.sleep(0.3)  # a fire already handed to Redis may still land
    paused_count = len(await cluster.fire_times())
    await asyncio.sleep(2.5)  # nothing may fire while paused
    assert len(await cluster.fire_times()) == paused_count
    await cluster.schedules.set_paused("tick", False)
    resumed = await cluster.count_after(paused_count + 2)
    gap = [b - a for a, b in itertools.pairwise(resumed) if b - a > 1000]
    assert gap and gap[0] >= 3000, "slots that passed while paused are not caught up"
    await cluster.schedules.upsert(Schedule("tick", "tick", "*/2 * * * * *"))
    await asyncio.sleep(0.3)
    updated_from = len(await cluster.fire_times())
    await asyncio.sleep(4.5)  # a few even seconds go by
    after_update = (await cluster.fire_times())[updated_from:]
    assert after_update and all(t % 2000 == 0 for t in after_update), after_update
    await cluster.schedules.delete("tick")
    await asyncio.sleep(0.3)
    deleted_count = len(await cluster.fire_times())
    await asyncio.sleep(2.5)
    assert len(await cluster.fire_times()) == deleted_count


@pytest.mark.timeout(60)
async def test_overlap_skip_does_not_fire_while_the_previous_job_waits(
    replicas: Callable[..., list[Service]], rclient: Redis, sched_prefix: str
) -> None:
    cluster = Cluster(rclient, sched_prefix)
    replicas(1)
    await cluster.every_second(overlap="skip")
    (first,) = await cluster.count_after(1)
    await asyncio.sleep(3)  # no worker runs: the first job keeps waiting, so every later slot is skipped
    assert await cluster.fire_times() == [first]
    info = await cluster.schedules.get("tick")
    assert info is not None and info.state.skipped >= 2
    await cluster.jobs.cancel(f"cron:tick:{first}")  # the previous job is over: firing goes on
    times = await cluster.count_after(2)
    assert times[1] > first


@pytest.mark.timeout(60)
async def test_overlap_allow_fires_while_previous_jobs_wait(
    replicas: Callable[..., list[Service]], rclient: Redis, sched_prefix: str
) -> None:
    cluster = Cluster(rclient, sched_prefix)
    replicas(1)
    await cluster.every_second()  # default: allow
    assert_every_second_once(await cluster.count_after(3))


@pytest.mark.timeout(60)
async def test_builtin_schedules_follow_the_settings(
    replicas: Callable[..., list[Service]], rclient: Redis, sched_prefix: str
) -> None:
    cluster = Cluster(rclient, sched_prefix)
    enabled = {
        "JOBS_CLEANUP_OLD_MESSAGES_ENABLED": "true",
        "JOBS_CLEANUP_OLD_MESSAGES_DAYS": "30",
        "JOBS_GENERATE_ANALYTICS_ENABLED": "true",
        "JOBS_BACKUP_DATABASE_ENABLED": "true",
        "JOBS_BACKUP_DATABASE_SCHEDULE": "0 4 * * SUN",
        "JOBS_SEND_EMAIL_DIGEST_ENABLED": "true",
    }
    (first,) = replicas(1, **enabled)
    infos = {i.schedule.id: i.schedule for i in await cluster.schedules.list_all()}
    assert sorted(infos) == [
        "builtin:backup-database",
        "builtin:cleanup-old-messages",
        "builtin:generate-analytics",
        "builtin:send-email-digest",
    ]
    cleanup = infos["builtin:cleanup-old-messages"]
    assert (cleanup.type, cleanup.schedule) == ("cleanup-expired", "0 2 * * *")
    assert cleanup.payload == {"targetType": "messages", "olderThan": 30}
    assert infos["builtin:backup-database"].schedule == "0 4 * * SUN"
    assert first.stop() == 0
    replicas(1, **{**enabled, "JOBS_BACKUP_DATABASE_ENABLED": "false"})
    remaining = [i.schedule.id for i in await cluster.schedules.list_all()]
    assert "builtin:backup-database" not in remaining and len(remaining) == 3


def test_bad_builtin_schedule_stops_the_process_with_a_clear_line(
    replicas: Callable[..., list[Service]],
) -> None:
    with pytest.raises(TimeoutError) as info:
        replicas(1, JOBS_GENERATE_ANALYTICS_ENABLED="true", JOBS_GENERATE_ANALYTICS_SCHEDULE="0 25 * * *")
    assert "JOBS_GENERATE_ANALYTICS_SCHEDULE" in str(info.value)
    assert "hour field: 25" in str(info.value)


@pytest.mark.timeout(60)
async def test_probes_and_metrics(
    replicas: Callable[..., list[Service]], rclient: Redis, sched_prefix: str
) -> None:
    cluster = Cluster(rclient, sched_prefix)
    services = replicas(2)
    await cluster.every_second()
    await cluster.count_after(2)
    leader = await cluster.leader_of(services)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        for service in services:
            port = service.wait_for("service_ready")["probe_port"]
            base = f"http://127.0.0.1:{port}"
            async with http.get(f"{base}/livez") as response:
                assert response.status == 200
            async with http.get(f"{base}/readyz") as response:
                body = await response.json()
                assert response.status == 200
                assert body["role"] == ("leader" if service is leader else "standby")

            async def fired(base: str = base) -> str | None:
                async with http.get(f"{base}/metrics") as response:
                    text = await response.text()
                return text if 'jobs_scheduler_fires_total{outcome="created"}' in text else None

            if service is leader:
                text = await wait_until(fired, 5, "fires in the leader's metrics")
                assert "jobs_scheduler_leader 1.0" in text
                assert "jobs_scheduler_lease_renewals_total" in text
                assert "jobs_scheduler_fenced_fires_total 0.0" in text
