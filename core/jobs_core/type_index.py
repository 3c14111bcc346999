"""Listing jobs of one type in some states without reading every job of that type.

Two indexes hold the answer: the per-type set (``P:q:{queue}:type:{type}``, score = created ms) and the
per-state sets (score = ms the job entered the state). For each (queue, state) pair this module counts
the intersection in Redis (ZINTERCARD, cost bounded by the smaller set) and walks the *smaller* of the two
sets newest first, in growing chunks, checking the other side with one pipelined read per chunk, until
the page is full or every match is found. A page therefore costs about (offset + limit) matches, not the
size of the type's history. Pages are newest first by the walked set's score.

How it fails: connection errors raise ``RedisUnavailable``. On a Redis older than 7 (no ZINTERCARD) the
count falls back to walking the whole pair, correct but slower.
"""

from __future__ import annotations

import heapq
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from jobs_core.keys import Keys
from jobs_core.redis_conn import unavailable_as_error

FIRST_CHUNK = 200
MAX_CHUNK = 5000


async def _counts(redis: Redis, pairs: list[tuple[str, str]]) -> list[int] | None:
    """|type ∩ state| for each pair of keys, or None when the server lacks ZINTERCARD."""
    pipe = redis.pipeline(transaction=False)
    for type_key, state_key in pairs:
        pipe.zintercard(2, [type_key, state_key])
    try:
        return [int(n) for n in await pipe.execute()]
    except ResponseError:
        return None


async def _sizes(redis: Redis, pairs: list[tuple[str, str]]) -> list[tuple[int, int]]:
    pipe = redis.pipeline(transaction=False)
    for type_key, state_key in pairs:
        pipe.zcard(type_key)
        pipe.zcard(state_key)
    replies = await pipe.execute()
    return [(int(replies[i]), int(replies[i + 1])) for i in range(0, len(replies), 2)]


async def _walk(
    redis: Redis, walked: str, other: str, need: int, expected: int | None
) -> list[tuple[str, float]]:
    """Members of ``walked`` (newest first) that are also in ``other``, up to ``need``."""
    found: list[tuple[str, float]] = []
    start, chunk = 0, FIRST_CHUNK
    goal = need if expected is None else min(need, expected)
    while len(found) < goal:
        page = await redis.zrange(walked, start, start + chunk - 1, desc=True, withscores=True)
        if not page:
            break
        pipe = redis.pipeline(transaction=False)
        for member, _ in page:
            pipe.zscore(other, member)
        scores = await pipe.execute()
        found.extend(pair for pair, score in zip(page, scores, strict=True) if score is not None)
        start, chunk = start + chunk, min(chunk * 2, MAX_CHUNK)
    return found[:goal]


async def page_by_type(
    redis: Redis, keys: Keys, queues: list[str], states: list[str], job_type: str, *, limit: int, offset: int
) -> tuple[list[str], int]:
    """Ids of one page (newest first) and the total number of matches."""
    pairs = [(keys.by_type(q, job_type), keys.state(q, s)) for q in queues for s in states]
    need = offset + limit
    async with unavailable_as_error():
        counts = await _counts(redis, pairs)
        sizes = await _sizes(redis, pairs)
        found: list[list[tuple[str, float]]] = []
        for i, ((type_key, state_key), (n_type, n_state)) in enumerate(zip(pairs, sizes, strict=True)):
            expected = counts[i] if counts is not None else None
            if expected == 0:
                continue
            walked, other = (type_key, state_key) if n_type <= n_state else (state_key, type_key)
            # Without a count, walk everything so that the total is exact.
            wanted = need if expected is not None else max(n_type, n_state)
            found.append(await _walk(redis, walked, other, wanted, expected))
    total = sum(counts) if counts is not None else sum(len(f) for f in found)
    merged: Any = heapq.merge(*found, key=lambda pair: -pair[1])
    ids = [member for member, _ in merged][offset:need]
    return ids, total
