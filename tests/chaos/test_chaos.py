"""The short chaos run inside ``make test``: every fault kind once on a few thousand jobs, with the
invariants of the full run (``make chaos``) asserted: nothing acknowledged lost, duplicates only for jobs
in flight at a kill, every cron slot once, nothing stuck, registry and metrics consistent."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.runner import run
from chaos.scenario import SHORT


@pytest.mark.timeout(240)
async def test_short_chaos_run_keeps_every_guarantee(tmp_path: Path) -> None:
    report = await run(SHORT, tmp_path)
    print(report.table())
    assert report.passed, report.table()
    figures = report.figures
    assert figures["lost"] == 0
    assert figures["stuck"] == 0
    assert figures["duplicated"] == figures["duplicated in flight"]
    assert figures["cron missing"] == 0 and figures["cron fired twice"] == 0
    assert {f.kind for f in report.faults} == set(SHORT.fault_kinds())
    assert all(f.recovery_s is not None for f in report.faults), report.table()
