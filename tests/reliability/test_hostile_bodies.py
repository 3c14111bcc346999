"""Issue 12 §4: every body the API reads goes through one guarded parser. Invalid UTF-8, huge integers,
deep nesting, an unknown charset, lone surrogates, NaN and the like answer 400 naming the problem,
never 500, and nothing is stored (the whole key space of the test's prefix stays empty).
"""

from __future__ import annotations

from typing import Any

import pytest

from reliability.hostile import BODY_ROUTES, HOSTILE_BODIES

pytestmark = pytest.mark.timeout(60)


async def test_hostile_bodies_answer_400_naming_the_problem(api: Any, redis: Any, prefix: str) -> None:
    for route in BODY_ROUTES:
        for name, body, content_type, words in HOSTILE_BODIES:
            status, reply, _ = await api.call(
                "POST", route, data=body, headers={"Content-Type": content_type}
            )
            assert status == 400, (route, name, reply)
            assert reply["error"]["code"] == "invalid_input", (route, name, reply)
            assert words in reply["error"]["message"], (route, name, reply)
    assert [k async for k in redis.scan_iter(f"{prefix}:*")] == []


async def test_limits_leave_ordinary_json_alone(api: Any) -> None:
    """What the guards allow: UTF-8 text in any script, escaped pairs, 40-digit integers, 60 levels."""
    payload: dict[str, Any] = {"text": "héllo \U0001f600 \\ud83d\\ude00", "n": 10**39, "f": -1.5e300}
    deep: dict[str, Any] = {"leaf": True}
    for _ in range(60):
        deep = {"d": deep}
    payload["deep"] = deep
    made = await api.schedule({"type": "echo", "payload": payload})
    stored = await api.job(made["jobId"])
    assert stored["payload"] == payload
    raw = b'{"type": "echo", "payload": {"pair": "\\ud83d\\ude00"}}'
    status, reply, _ = await api.call(
        "POST", "/schedule", data=raw, headers={"Content-Type": "application/json"}
    )
    assert status == 201 and (await api.job(reply["jobId"]))["payload"] == {"pair": "\U0001f600"}
    status, _, _ = await api.call(
        "POST",
        "/queues/default/clean",
        data=b"{}",
        headers={"Content-Type": "application/json; charset=UTF-8"},
    )
    assert status == 200
