"""The one table of a chaos run (plain text, also valid Markdown) and the run's verdict."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from chaos.faults import FaultRecord

KIND_NAMES = {
    "worker_kill": "worker SIGKILL (+ replacement)",
    "worker_term": "worker SIGTERM (scale-down)",
    "leader_kill": "scheduler leader SIGKILL",
    "redis_restart": "Redis restart (SIGTERM)",
    "redis_kill": "Redis SIGKILL, appendfsync always",
    "pause": "queue pause + resume",
}


@dataclass
class Report:
    scenario: str
    seed: int
    figures: dict[str, Any] = field(default_factory=dict)
    faults: list[FaultRecord] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.violations

    def rows(self) -> list[tuple[str, str]]:
        f = self.figures
        cron = f"{f['cron slots']:,} fired, {f['cron missing']} missing, {f['cron fired twice']} fired twice"
        cron += f" ({f['cron fires without a log line']} without a created log line)"
        dup = f"{f['duplicated']} ({f['duplicated in flight']} of them in flight at a kill"
        dup += f"; {f['in flight at kills']} jobs were in flight at kills)"
        rows = [
            ("jobs acknowledged", f"{f['acknowledged']:,} ({f['mix']})"),
            ("cron slots (1 s schedule)", cron),
            ("lost", f"{f['lost']}"),
            ("duplicated side effects", dup),
            ("stuck (not finished at the end)", f"{f['stuck']}"),
            ("registry / metrics disagreements", f"{f['registry violations']}"),
        ]
        for kind, records in _by_kind(self.faults).items():
            times = [r.recovery_s for r in records if r.recovery_s is not None]
            worst = f"max {max(times):.2f} s" if times else "no recovery"
            rows.append((f"recovery: {KIND_NAMES[kind]} ×{len(records)}", worst + _extra(records)))
        speed = f"{f['throughput faults']:,.0f} jobs/s (before the first fault {f['throughput before']:,.0f})"
        everysec = f"{f['everysec lost']} of {f['everysec acknowledged']:,} (Redis down "
        everysec += f"{f['everysec down s']:.1f} s; {f['everysec rerun']} completed jobs ran again)"
        rows += [
            ("throughput during faults", speed),
            ("everysec SIGKILL: acknowledged, then lost", everysec),
            ("wall time", f"{f['wall s']:.0f} s"),
        ]
        return rows

    def table(self) -> str:
        rows = self.rows()
        width = max(len(name) for name, _ in rows)
        lines = [f"chaos run '{self.scenario}', seed {self.seed}", ""]
        lines += [f"| {'figure'.ljust(width)} | value |", f"|{'-' * (width + 2)}|-------|"]
        lines += [f"| {name.ljust(width)} | {value} |" for name, value in rows]
        lines += ["", "PASSED" if self.passed else f"FAILED: {len(self.violations)} violation(s)"]
        lines += [f"  - {v}" for v in self.violations]
        lines += [f"note: {n}" for n in self.notes]
        lines += ["", "faults, in order:"] + [_fault_line(f, self.faults[0].at) for f in self.faults]
        return "\n".join(lines)


def _fault_line(f: FaultRecord, start: float) -> str:
    recovery = "no recovery" if f.recovery_s is None else f"recovered in {f.recovery_s:.2f} s"
    held = f", {len(f.in_flight)} in flight" if f.in_flight else ""
    notes = "".join(f", {k} {v}" for k, v in f.notes.items())
    return f"  +{f.at - start:6.1f} s  {f.kind:<13} {f.target:<28} {recovery}{held}{notes}"


def _by_kind(faults: list[FaultRecord]) -> dict[str, list[FaultRecord]]:
    out: dict[str, list[FaultRecord]] = defaultdict(list)
    for record in faults:
        out[record.kind].append(record)
    return dict(sorted(out.items(), key=lambda item: list(KIND_NAMES).index(item[0])))


def _extra(records: list[FaultRecord]) -> str:
    if records[0].kind == "worker_kill":
        reruns = [float(r.notes["last rerun started after s"]) for r in records if r.notes]
        rerun = f", rerun within {max(reruns):.2f} s" if reruns else ""
        return f"; {sum(len(r.in_flight) for r in records)} jobs held by the killed workers{rerun}"
    if records[0].kind == "leader_kill":
        worst = max(float(r.notes.get("new leader after s", 0)) for r in records)
        return f"; new leader within {worst:.2f} s"
    if records[0].kind.startswith("redis"):
        return f"; down {max(float(r.notes.get('down s', 0)) for r in records):.2f} s"
    return ""
