"""The leader lease scripts against a real Redis: one holder, renew/release only by the holder's term."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from jobs_core.keys import Keys
from jobs_core.leader import LeaderLease


def pair(rclient: Redis, prefix: str, lease_ms: int = 1000) -> tuple[LeaderLease, LeaderLease]:
    keys = Keys(prefix)
    return LeaderLease(rclient, keys, lease_ms, "a:1:x"), LeaderLease(rclient, keys, lease_ms, "b:2:y")


async def acquire_within(lease: LeaderLease, seconds: float) -> bool:
    """Polls until the previous holder's lease runs out (that expiry is what the caller waits for)."""
    for _ in range(int(seconds / 0.05)):
        if await lease.acquire():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_only_one_replica_acquires(rclient: Redis, sched_prefix: str) -> None:
    a, b = pair(rclient, sched_prefix)
    assert await a.acquire()
    assert a.epoch == 1 and a.held()
    assert not await b.acquire()
    assert b.epoch is None and not b.held()
    assert 0 < b.holder_ttl_ms <= 1000
    assert await rclient.get(Keys(sched_prefix).leader()) == "a:1:x"


async def test_renew_extends_and_only_the_holder_renews(rclient: Redis, sched_prefix: str) -> None:
    a, b = pair(rclient, sched_prefix, lease_ms=600)
    assert await a.acquire()
    for _ in range(4):  # 4 × 250 ms outlives the 600 ms lease only because renewals extend it
        await asyncio.sleep(0.25)
        assert await a.renew()
    assert not await b.renew()
    assert await rclient.pttl(Keys(sched_prefix).leader()) > 300


async def test_expired_lease_goes_to_standby_with_new_epoch(rclient: Redis, sched_prefix: str) -> None:
    a, b = pair(rclient, sched_prefix, lease_ms=300)
    assert await a.acquire()
    await asyncio.sleep(0.35)  # the lease expiring is what this test is about
    assert not a.held()  # the local deadline (80 % of the lease) passed before Redis let it go
    assert await b.acquire()
    assert b.epoch == 2
    assert not await a.renew()  # the old term is fenced: it cannot extend the new holder's lease
    assert a.epoch is None


async def test_reacquiring_own_lease_starts_a_new_term(rclient: Redis, sched_prefix: str) -> None:
    a, _ = pair(rclient, sched_prefix)
    assert await a.acquire()
    old_epoch = a.epoch
    assert await a.acquire()
    assert a.epoch == (old_epoch or 0) + 1
    stale = LeaderLease(rclient, Keys(sched_prefix), 1000, a.token)
    stale.epoch = old_epoch
    assert not await stale.renew()  # same token, older epoch: refused
    assert not await stale.release()
    assert await rclient.get(Keys(sched_prefix).leader()) == a.token


async def test_release_is_immediate_and_only_by_holder(rclient: Redis, sched_prefix: str) -> None:
    a, b = pair(rclient, sched_prefix, lease_ms=10_000)
    assert await a.acquire()
    assert not await b.release()  # b does not hold it: nothing happens
    assert await rclient.get(Keys(sched_prefix).leader()) == "a:1:x"
    assert await a.release()
    assert not a.held()
    assert await b.acquire()  # no wait for the 10 s lease
    assert b.epoch == 2
    assert not await a.release()
    assert await rclient.get(Keys(sched_prefix).leader()) == "b:2:y"


async def test_epoch_survives_lease_expiry(rclient: Redis, sched_prefix: str) -> None:
    a, b = pair(rclient, sched_prefix, lease_ms=200)
    epochs = []
    for lease in (a, b, a, b):
        assert await acquire_within(lease, 1.0)
        assert lease.epoch is not None
        epochs.append(lease.epoch)
    assert epochs == [1, 2, 3, 4]
