"""GET /jobs pages newest first with a total, both inside one state set and across several."""

from __future__ import annotations

from typing import Any


async def test_pages_of_one_state_and_of_several(api: Any) -> None:
    ids = []
    for i in range(7):  # delayed far ahead: they stay put, scored by due time
        made = await api.schedule({"type": "x", "options": {"queue": "default", "delay": 60_000 + i * 1000}})
        ids.append(made["jobId"])
    newest_first = list(reversed(ids))
    status, page, _ = await api.call("GET", "/jobs?queue=default&status=delayed&limit=3&offset=2")
    assert status == 200 and page["total"] == 7 and page["limit"] == 3 and page["offset"] == 2
    assert [j["jobId"] for j in page["jobs"]] == newest_first[2:5]
    status, page, _ = await api.call("GET", "/jobs?queue=default&status=delayed&limit=5&offset=5")
    assert [j["jobId"] for j in page["jobs"]] == newest_first[5:]
    other = await api.schedule({"type": "x", "options": {"queue": "low-priority", "delay": 120_000}})
    status, page, _ = await api.call("GET", "/jobs?status=delayed,waiting&limit=2&offset=0")
    assert page["total"] == 8 and [j["jobId"] for j in page["jobs"]] == [other["jobId"], newest_first[0]]
    status, page, _ = await api.call("GET", "/jobs?type=x&limit=100")
    assert page["total"] == 8 and {j["jobId"] for j in page["jobs"]} == {*ids, other["jobId"]}
