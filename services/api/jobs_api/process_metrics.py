"""The ``process_*`` series of an api running as several processes (``JOBS_API_PROCESSES`` > 1).

Prometheus scrapes the pod's port, and the kernel hands each scrape to any one of the processes. Each
process's own ``process_cpu_seconds_total`` would then jump between processes from scrape to scrape
(and look like counter resets), so every process reports the whole api instead: the supervisor and all
its serving children, read from ``/proc`` at scrape time. CPU seconds, resident and virtual memory and
open file descriptors are sums; the start time is the supervisor's; ``process_max_fds`` is the limit of
the answering process (all share it). ``jobs_api_processes`` counts the serving processes alive.
prometheus_client's multiprocess mode was not used: it drops the ``process_*`` series altogether, and
the api has no per-process counters of its own (its ``jobs_*`` series come from Redis, the same in
every process).

How it fails: a process that exits between listing and reading is left out of that scrape; without
``/proc`` (not Linux) the series are absent, as with prometheus_client's own collector.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from prometheus_client import ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

SUMMED = (
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_virtual_memory_bytes",
    "process_open_fds",
)


class ApiProcessesCollector(Collector):
    """The ``process_*`` series of the supervisor ``parent_pid`` and its children, as one."""

    def __init__(self, parent_pid: int, proc: str = "/proc") -> None:
        self._parent = parent_pid
        self._proc = proc

    def children(self) -> list[int]:
        """The supervisor's children now (Linux lists them per thread; its main thread has them)."""
        path = Path(self._proc, str(self._parent), "task", str(self._parent), "children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def collect(self) -> Iterable[Metric]:
        children = self.children()
        per_pid = {pid: _families(pid, self._proc) for pid in [self._parent, *children]}
        parent = per_pid[self._parent]
        own = _families("self", self._proc)
        if not parent:  # no /proc, or the supervisor is gone
            return []
        out: list[Metric] = []
        for name, family in parent.items():
            if name in SUMMED:
                total = sum(f[name].samples[0].value for f in per_pid.values() if name in f)
                family.samples[0] = family.samples[0]._replace(value=total)
            out.append(own.get(name, family) if name == "process_max_fds" else family)
        out.append(GaugeMetricFamily("jobs_api_processes", "api processes serving this port", len(children)))
        return out


def _families(pid: int | str, proc: str) -> dict[str, Metric]:
    collector = ProcessCollector(pid=lambda: pid, proc=proc, registry=None)
    families = collector.collect()
    return {f.name + ("_total" if f.type == "counter" else ""): f for f in families}
