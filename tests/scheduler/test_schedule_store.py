"""The schedule store and its scripts against a real Redis: validation, upsert, pause, delete, fenced fire."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis

from jobs_core.errors import InvalidInput, LeaderFenced, NotFound, ScheduleStale
from jobs_core.keys import Keys
from jobs_core.leader import LeaderLease
from jobs_core.schedules import Schedule, ScheduleStore, build_fire_spec, schedule_from_request
from jobs_core.settings import CoreSettings
from jobs_core.store import JobStore

MINUTE_MS = 60_000


@pytest.fixture
def settings(sched_prefix: str) -> CoreSettings:
    return CoreSettings(key_prefix=sched_prefix)


@pytest.fixture
def store(rclient: Redis, settings: CoreSettings) -> ScheduleStore:
    return ScheduleStore(rclient, settings)


@pytest.fixture
async def lease(rclient: Redis, sched_prefix: str) -> tuple[str, int]:
    leader = LeaderLease(rclient, Keys(sched_prefix), 60_000)
    assert await leader.acquire()
    assert leader.epoch is not None
    return leader.token, leader.epoch


def request(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "cleanup-expired",
        "payload": {"targetType": "messages", "olderThan": 90},
        "schedule": "0 2 * * *",
    }
    body.update(over)
    return body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (request(schedule="61 * * * *"), "schedule: minute field: 61"),
        (request(schedule="* * *"), "schedule: expected 5 fields"),
        (request(schedule="every day"), "schedule: expected 5 fields"),
        (request(timezone="Mars/Base"), "timezone: unknown time zone 'Mars/Base'"),
        (request(options={"jobId": "x"}), "jobId cannot be used with a schedule"),
        (request(options={"overlap": "never"}), "options.overlap"),
        (request(options={"queue": "nope"}), "options.queue: unknown queue 'nope'"),
        (request(options={"scheduleId": "builtin:x"}), "options.scheduleId"),
        (request(runAt="2026-01-01T00:00:00Z"), "runAt"),
        ({"type": "x", "payload": {}}, "schedule: Field required"),
    ],
)
def test_bad_requests_name_the_field(body: dict[str, Any], message: str, settings: CoreSettings) -> None:
    with pytest.raises(InvalidInput) as info:
        schedule_from_request(body, settings)
    assert message in info.value.message


def test_request_becomes_a_canonical_definition(settings: CoreSettings) -> None:
    body = request(
        schedule=" 0  2 * * * ",
        timezone="Europe/Berlin",
        options={"scheduleId": "nightly", "priority": "low"},
    )
    schedule = schedule_from_request(body, settings)
    assert schedule == Schedule(
        "nightly",
        "cleanup-expired",
        "0 2 * * *",
        "Europe/Berlin",
        {"targetType": "messages", "olderThan": 90},
        {"priority": "low"},
    )
    assert Schedule.from_json(schedule.to_json()) == schedule
    generated = schedule_from_request(request(), settings)
    assert generated.id.startswith("sch-")


async def test_upsert_is_idempotent_and_publishes_changes(store: ScheduleStore, rclient: Redis) -> None:
    pubsub = rclient.pubsub()
    await pubsub.subscribe(store.keys.schedules_channel())
    one = Schedule("s1", "t", "* * * * *")
    assert await store.upsert(one) == ("created", 1)
    assert await store.upsert(one) == ("unchanged", 1)
    assert await store.upsert(Schedule("s1", "t", "*/5 * * * *")) == ("updated", 2)
    assert await store.version() == 2
    messages = []
    async with asyncio.timeout(5):
        while len(messages) < 2:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message:
                messages.append(message["data"])
    assert messages == ["1 upsert s1", "2 upsert s1"]
    await pubsub.aclose()
    info = await store.get("s1")
    assert info is not None
    assert info.schedule.schedule == "*/5 * * * *"
    assert info.state.rev == 2 and info.state.created_ms <= info.state.updated_ms == info.state.not_before_ms


async def test_pause_resume_delete(store: ScheduleStore) -> None:
    await store.upsert(Schedule("s1", "t", "* * * * *"))
    assert await store.set_paused("s1", True)
    assert not await store.set_paused("s1", True)
    info = await store.get("s1")
    assert info is not None and info.state.paused and info.next_run_at() is None
    await store.upsert(Schedule("s1", "t", "*/2 * * * *"))  # re-declaring keeps it paused
    assert (await store.get("s1")).state.paused  # type: ignore[union-attr]
    assert await store.set_paused("s1", False)
    assert (await store.get("s1")).next_run_at() is not None  # type: ignore[union-attr]
    assert [i.schedule.id for i in await store.list_all()] == ["s1"]
    await store.delete("s1")
    assert await store.get("s1") is None
    with pytest.raises(NotFound):
        await store.delete("s1")
    with pytest.raises(NotFound):
        await store.set_paused("s1", True)


async def fire(
    store: ScheduleStore, lease: tuple[str, int], schedule: Schedule, fire_ms: int, rev: int = 1
) -> Any:
    return await store.fire(lease, schedule, rev, fire_ms, build_fire_spec(schedule, store.settings))


async def test_fire_creates_one_job_per_fire_time(store: ScheduleStore, lease: tuple[str, int]) -> None:
    schedule = Schedule(
        "s1",
        "cleanup-expired",
        "* * * * *",
        payload={"targetType": "messages", "olderThan": 90},
        options={"priority": "low"},
    )
    await store.upsert(schedule)
    base = (await store.get("s1")).state.not_before_ms // MINUTE_MS * MINUTE_MS  # type: ignore[union-attr]
    first = await fire(store, lease, schedule, base + MINUTE_MS)
    assert (first.outcome, first.job_id, first.detail) == (
        "created",
        f"cron:s1:{base + MINUTE_MS}",
        "waiting",
    )
    assert (await fire(store, lease, schedule, base + MINUTE_MS)).outcome == "duplicate"
    assert (await fire(store, lease, schedule, base)).outcome == "duplicate"  # not newer than the last
    second = await fire(store, lease, schedule, base + 2 * MINUTE_MS)
    assert second.outcome == "created"
    info = await store.get("s1")
    assert info is not None
    assert info.recent_job_ids == [second.job_id, first.job_id]
    assert info.state.last_run_ms == base + 2 * MINUTE_MS and info.state.fires == 2
    record = await store.redis.hgetall(store.keys.job(first.job_id or ""))
    assert (
        record["scheduleId"] == "s1" and record["queue"] == "low-priority" and record["status"] == "waiting"
    )


async def test_fired_job_matches_an_enqueued_one(
    store: ScheduleStore, lease: tuple[str, int], rclient: Redis
) -> None:
    schedule = Schedule(
        "s1",
        "send-email-digest",
        "* * * * *",
        payload={"frequency": "daily"},
        options={"retry": {"attempts": 5}},
    )
    await store.upsert(schedule)
    fired = await fire(store, lease, schedule, 4_102_444_800_000)
    spec = build_fire_spec(schedule, store.settings)
    (enqueued,) = await JobStore(rclient, store.settings).enqueue([spec])
    a = await rclient.hgetall(store.keys.job(fired.job_id or ""))
    b = await rclient.hgetall(store.keys.job(enqueued.job_id))
    differing = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
    assert differing <= {"id", "createdAt", "readyAt", "scheduleId"}  # identity and clock only
    assert a["maxAttempts"] == "5"


async def test_fire_is_fenced_for_an_old_term(
    store: ScheduleStore, lease: tuple[str, int], rclient: Redis
) -> None:
    schedule = Schedule("s1", "t", "* * * * *")
    await store.upsert(schedule)
    with pytest.raises(LeaderFenced):
        await fire(store, (lease[0], lease[1] - 1), schedule, 4_102_444_800_000)
    with pytest.raises(LeaderFenced):
        await fire(store, ("someone-else", lease[1]), schedule, 4_102_444_800_000)
    await rclient.delete(store.keys.leader())  # the lease expired
    with pytest.raises(LeaderFenced):
        await fire(store, lease, schedule, 4_102_444_800_000)
    assert await rclient.keys(store.keys.job("*")) == []


async def test_fire_refuses_stale_missing_and_paused(store: ScheduleStore, lease: tuple[str, int]) -> None:
    schedule = Schedule("s1", "t", "* * * * *")
    with pytest.raises(NotFound):
        await fire(store, lease, schedule, 4_102_444_800_000)
    await store.upsert(schedule)
    await store.upsert(Schedule("s1", "t", "*/2 * * * *"))
    with pytest.raises(ScheduleStale) as info:
        await fire(store, lease, schedule, 4_102_444_800_000, rev=1)
    assert info.value.details == {"rev": 2}
    await store.set_paused("s1", True)
    assert (await fire(store, lease, schedule, 4_102_444_800_000, rev=2)).outcome == "paused"


async def test_overlap_skip_waits_for_the_previous_job(
    store: ScheduleStore, lease: tuple[str, int], rclient: Redis
) -> None:
    schedule = Schedule("s1", "t", "* * * * *", options={"overlap": "skip"})
    await store.upsert(schedule)
    t0 = 4_102_444_800_000
    first = await fire(store, lease, schedule, t0)
    assert first.outcome == "created"
    skipped = await fire(store, lease, schedule, t0 + MINUTE_MS)
    assert (skipped.outcome, skipped.job_id) == ("overlap", first.job_id)
    await JobStore(rclient, store.settings).cancel(first.job_id or "")
    assert (await fire(store, lease, schedule, t0 + MINUTE_MS)).outcome == "duplicate"  # that slot is spent
    assert (await fire(store, lease, schedule, t0 + 2 * MINUTE_MS)).outcome == "created"
    info = await store.get("s1")
    assert info is not None and info.state.skipped == 1 and info.state.fires == 2


async def test_overlap_allow_fires_while_the_previous_job_waits(
    store: ScheduleStore, lease: tuple[str, int]
) -> None:
    schedule = Schedule("s1", "t", "* * * * *")
    await store.upsert(schedule)
    t0 = 4_102_444_800_000
    outcomes = [(await fire(store, lease, schedule, t0 + i * MINUTE_MS)).outcome for i in range(3)]
    assert outcomes == ["created"] * 3


async def test_full_queue_spends_the_fire_time(
    rclient: Redis, sched_prefix: str, lease: tuple[str, int]
) -> None:
    store = ScheduleStore(rclient, CoreSettings(key_prefix=sched_prefix, max_jobs_per_queue=1))
    schedule = Schedule("s1", "t", "* * * * *")
    await store.upsert(schedule)
    t0 = 4_102_444_800_000
    assert (await fire(store, lease, schedule, t0)).outcome == "created"
    full = await fire(store, lease, schedule, t0 + MINUTE_MS)
    assert (full.outcome, full.job_id) == ("queue_full", "default")
    assert (await store.get("s1")).state.last_fire_ms == t0 + MINUTE_MS  # type: ignore[union-attr]
