"""The scheduler's leader lease: one replica at a time may fire schedules.

A lease is a Redis key set with NX and a TTL (``acquire_leader.lua``); each acquisition also draws a new
epoch from a counter, and (token, epoch) is the fencing pair that ``fire_schedule.lua`` checks, so a
replica that was paused or cut off past its lease cannot write even if it does not know it lost.
The holder renews with a compare-and-extend script and gives the lease up on SIGTERM with a
compare-and-delete, so a standby takes over at its next attempt instead of after the TTL.

How it fails: Redis errors propagate to the caller (the replica's loop decides). Locally the lease counts
as held only until ``SAFETY`` × TTL after the *start* of the last successful acquire or renew, so a replica
whose renewals stall steps down before Redis would let another replica in.
"""

from __future__ import annotations

import os
import socket
import time
import uuid

from redis.asyncio import Redis

from jobs_core.keys import Keys
from jobs_core.scripts import Scripts

LEADER_SCRIPTS = ("acquire_leader", "renew_leader", "release_leader")
# Stop firing at 80 % of the lease: leaves 20 % for clock-rate drift and a late renewal reply.
SAFETY = 0.8


def new_token() -> str:
    """``host:pid:random``: unique per process start, readable in ``GET P:sched:leader``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaderLease:
    """One replica's side of the lease. ``epoch`` is set while it believes it leads."""

    def __init__(self, redis: Redis, keys: Keys, lease_ms: int, token: str | None = None) -> None:
        self.redis = redis
        self.keys = keys
        self.lease_ms = lease_ms
        self.token = token or new_token()
        self.epoch: int | None = None
        self.holder_ttl_ms = 0  # after a failed acquire: how long the current holder's lease still runs
        self._valid_until = 0.0
        self._scripts = Scripts(redis, LEADER_SCRIPTS)

    @property
    def _keys(self) -> list[str]:
        return [self.keys.leader(), self.keys.leader_epoch()]

    def held(self) -> bool:
        """True while this replica leads and its local safety deadline has not passed."""
        return self.epoch is not None and time.monotonic() < self._valid_until

    def remaining(self) -> float:
        """Seconds left before the local deadline (0 when not leading)."""
        return max(self._valid_until - time.monotonic(), 0.0) if self.epoch is not None else 0.0

    async def acquire(self) -> bool:
        """Try once; on success ``epoch`` holds the new fencing epoch."""
        started = time.monotonic()
        code, value = await self._scripts.run("acquire_leader", self._keys, [self.token, self.lease_ms])
        if int(code) != 1:
            self.epoch, self.holder_ttl_ms = None, max(int(value), 0)
            return False
        self.epoch, self.holder_ttl_ms = int(value), 0
        self._valid_until = started + SAFETY * self.lease_ms / 1000
        return True

    async def renew(self) -> bool:
        """Extend the lease; False (and ``epoch`` cleared) when this term lost it."""
        if self.epoch is None:
            return False
        started = time.monotonic()
        ok = await self._scripts.run("renew_leader", self._keys, [self.token, self.lease_ms, self.epoch])
        if int(ok) != 1:
            self.epoch = None
            return False
        self._valid_until = started + SAFETY * self.lease_ms / 1000
        return True

    async def release(self) -> bool:
        """Give the lease up now; True when it was still ours. Local state is cleared either way."""
        epoch, self.epoch = self.epoch, None
        if epoch is None:
            return False
        return int(await self._scripts.run("release_leader", self._keys, [self.token, epoch])) == 1

    def step_down(self) -> None:
        """Forget leadership locally (the deadline passed or Redis is unreachable); Redis lets it expire."""
        self.epoch = None

    async def current_holder(self) -> str | None:
        """The token stored in Redis, whoever holds it (probes, tests)."""
        value = await self.redis.get(self.keys.leader())
        return None if value is None else str(value)
