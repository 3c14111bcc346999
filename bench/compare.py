"""The closing table of `make bench`: our figures beside BullMQ for Node's from the same run."""

from __future__ import annotations

from typing import Any

Figures = dict[str, float]


def _row(label: str, ours: float, theirs: float | None, fmt: str, better: str) -> str:
    if theirs is None:
        return f"  {label:<44} {ours:>12{fmt}} {'-':>14} {'':>8}"
    ratio = ours / theirs if better == "higher" else theirs / ours
    return f"  {label:<44} {ours:>12{fmt}} {theirs:>14{fmt}} {ratio:>7.2f}x"


def table(ours: dict[str, Figures], peer: dict[str, Any] | None) -> str:
    """Ratios are "how many times better ours is": above 1 means ahead, whichever way the unit points."""
    tp, lat, http_lat = ours["throughput"], ours["latency"], ours["latency_http"]
    p_tp = peer["throughput"] if peer else {}
    p_lat = peer["latency"] if peer else {}
    name = f"BullMQ {peer['version']}" if peer else "BullMQ"
    lines = [
        "\nSide by side (one worker process, concurrency 50; ratio > 1: ours ahead)",
        f"  {'':<44} {'nChat Jobs':>12} {name:>14} {'ratio':>8}",
        _row("throughput, no-op jobs (jobs/s)", tp["jobs_per_s"], p_tp.get("jobs_per_s"), ",.0f", "higher"),
        _row("Redis commands per job", tp["commands"], p_tp.get("redis_commands_per_job"), ".1f", "lower"),
        _row(
            "worker CPU per job (us)", tp["worker_cpu_us"], p_tp.get("worker_cpu_us_per_job"), ".0f", "lower"
        ),
        _row("Redis CPU per job (us)", tp["redis_cpu_us"], p_tp.get("redis_cpu_us_per_job"), ".0f", "lower"),
        _row("enqueue-to-start p50, library (ms)", lat["p50"], p_lat.get("p50_ms"), ".2f", "lower"),
        _row("enqueue-to-start p99, library (ms)", lat["p99"], p_lat.get("p99_ms"), ".2f", "lower"),
        _row(
            "enqueue-to-start p50, ours through HTTP (ms)",
            http_lat["p50"],
            p_lat.get("p50_ms"),
            ".2f",
            "lower",
        ),
        _row(
            "enqueue-to-start p99, ours through HTTP (ms)",
            http_lat["p99"],
            p_lat.get("p99_ms"),
            ".2f",
            "lower",
        ),
    ]
    return "\n".join(lines)
