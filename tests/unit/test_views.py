"""The JSON view of stored jobs: numbers stay numbers, whatever the record holds."""

from __future__ import annotations

import pytest

from jobs_core.views import job_summary


@pytest.mark.parametrize(
    ("stored", "shown"),
    [("50.5", 50.5), ("12.25", 12.25), ("100", 100), ("0", 0), ("", 0), (None, 0), ("junk", 0)],
)
def test_progress_keeps_its_fraction(stored: str | None, shown: float) -> None:
    record = {"id": "j", "status": "active"}
    if stored is not None:
        record["progress"] = stored
    view = job_summary(record)
    assert view["progress"] == shown and type(view["progress"]) is type(shown)
