"""Queue-control requests naming a queue that does not exist answer 404 with the known queues, change
nothing, and never reach a script. (Bad clean/drain bodies, bulk limits and dependency errors are
tested next to their features.)"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.timeout(30)

UNKNOWN_QUEUE = [
    ("GET", "/queues/nope", None),
    ("POST", "/queues/nope/pause", None),
    ("POST", "/queues/nope/resume", None),
    ("POST", "/queues/nope/drain", {"delayed": True}),
    ("POST", "/queues/nope/clean", {"grace": 0, "status": "failed", "limit": 10}),
    ("GET", "/events?queue=nope", None),
    ("POST", "/schedule", {"type": "x", "options": {"queue": "nope"}}),
]


@pytest.mark.parametrize(("method", "path", "body"), UNKNOWN_QUEUE)
async def test_unknown_queue(api: Any, redis: Any, prefix: str, *, method: str, path: str, body: Any) -> None:
    status, reply, _ = await api.call(method, path, json=body)
    if path == "/schedule":  # a field of the body, not the resource: 400 naming it
        assert status == 400 and reply["error"]["message"].startswith("options.queue")
    else:
        assert status == 404 and reply["error"]["code"] == "not_found"
        assert "'nope'" in reply["error"]["message"] and "default" in reply["error"]["details"]["known"]
    assert not [key async for key in redis.scan_iter(f"{prefix}:*")]


async def test_queue_names_are_case_sensitive_and_not_paths(api: Any) -> None:
    for name in ("Default", "default%20", "..%2Fdefault"):
        assert (await api.call("POST", f"/queues/{name}/pause"))[0] == 404
    assert (await api.call("GET", "/queues/default"))[1]["isPaused"] is False
