"""Exactly once with several real ``jobs-scheduler`` replicas firing a per-second schedule.

The issue asks for 60 s; the default run uses JOBS_TEST_EXACTLY_ONCE_SECONDS=20 to keep ``make test``
short. Set it to 60 for the full run.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from scheduler.sched_helpers import Cluster, assert_every_second_once
from support.processes import Service

SECONDS = float(os.environ.get("JOBS_TEST_EXACTLY_ONCE_SECONDS", "20"))


@pytest.mark.timeout(SECONDS + 90)
async def test_three_replicas_fire_every_second_exactly_once(
    replicas: Callable[..., list[Service]], rclient: Redis, sched_prefix: str
) -> None:
    cluster = Cluster(rclient, sched_prefix)
    services = replicas(3)
    await cluster.every_second()
    await cluster.count_after(1)
    await asyncio.sleep(SECONDS)  # time passing is what this test is about
    times = await cluster.fire_times()
    assert_every_second_once(times)
    assert len(times) >= SECONDS - 1
    leader = await cluster.leader_of(services)
    for service in services:
        fired = [line for line in service.lines if line.get("event") == "schedule_fired"]
        assert bool(fired) == (service is leader), f"{service.name} fired {len(fired)} times"
    info = await cluster.schedules.get("tick")
    assert info is not None and info.state.fires == len(times) and info.state.skipped == 0
    print(
        f"exactly once: {len(times)} consecutive second slots, one job each, over {SECONDS:.0f} s, 3 replicas"
    )
