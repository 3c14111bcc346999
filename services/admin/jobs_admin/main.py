"""``jobs-admin check [--repair] [-o text|json] [--ignore GLOB]...``: verify the registry's invariants
(``jobs_core.consistency``) and optionally repair what a crash of Redis itself left behind.

Exit codes (stable; the chaos run and cron jobs rely on them): 0 nothing inconsistent is left, 1
inconsistencies remain (after ``--repair``: what the second pass still found), 2 bad configuration or
usage, 3 Redis unreachable (or full while repairing). Output goes to stdout, JSON with ``-o json``;
nothing else is printed there, so the JSON can be piped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from jobs_admin.settings import AdminSettings
from jobs_core.consistency import KINDS, Checker, Report
from jobs_core.errors import RedisUnavailable
from jobs_core.redis_conn import connect
from jobs_core.settings import load_settings

EXIT_OK, EXIT_INCONSISTENT, EXIT_USAGE, EXIT_REDIS = 0, 1, 2, 3


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="jobs-admin", description="operator commands for nChat Jobs")
    commands = top.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check", help="verify the registry's invariants", description=__doc__.split("\n\n")[0]
    )
    check.add_argument("--repair", action="store_true", help="fix what can be fixed, then check again")
    check.add_argument("-o", "--output", choices=("text", "json"), default="text")
    check.add_argument(
        "--ignore", action="append", default=[], metavar="GLOB", help="keys to leave out (repeatable)"
    )
    check.add_argument("--max-listed", type=int, default=1000, help="findings listed (all are counted)")
    return top


async def check(settings: AdminSettings, args: argparse.Namespace) -> Report:
    redis = connect(settings, retries=3, timeout=30.0)
    try:
        checker = Checker(redis, settings, ignore=args.ignore, max_listed=max(args.max_listed, 0))
        return await checker.run(repair=args.repair)
    finally:
        await redis.aclose()


def as_json(report: Report, settings: AdminSettings, repair: bool) -> str:
    return json.dumps(
        {
            "ok": report.left == 0,
            "prefix": settings.key_prefix,
            "repair": repair,
            "found": report.problems,
            "remaining": report.left,
            "counts": dict(report.counts),
            "scanned": dict(report.scanned),
            "stalled": report.stalled,
            "seconds": round(report.seconds, 3),
            "findings": [f.as_dict(done) for f, done in report.findings.items()],
        },
        indent=2,
    )


def as_text(report: Report, settings: AdminSettings, repair: bool) -> str:
    scanned = report.scanned
    lines = [
        f"jobs-admin check: prefix {settings.key_prefix!r} at {settings.redis_display()}",
        f"scanned {scanned['keys']} keys, {scanned['jobs']} jobs, {scanned['members']} index members"
        f" in {report.seconds:.2f} s; {report.stalled} active jobs await a re-run (lease expired)",
    ]
    if not report.problems:
        return "\n".join([*lines, "consistent: no inconsistency found"])
    head = f"{report.problems} inconsistencies found"
    if repair:
        head += f", {report.problems - report.left} repaired, {report.left} left"
    lines.append(head + ":")
    for kind, n in sorted(report.counts.items()):
        lines.append(f"  {n:>7}  {kind}: {KINDS[kind][0]} (repair: {KINDS[kind][1]})")
    for finding, done in report.findings.items():
        mark = "repaired" if done else ""
        lines.append(
            f"  {finding.kind:<22} {finding.key}  {finding.job_id or finding.detail}  {mark}".rstrip()
        )
    if len(report.findings) < report.problems:
        lines.append(f"  … {report.problems - len(report.findings)} more not listed (--max-listed)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    settings = load_settings(AdminSettings)
    try:
        report = asyncio.run(check(settings, args))
    except RedisUnavailable as err:
        print(f"jobs-admin: {err.message}", file=sys.stderr)
        raise SystemExit(EXIT_REDIS) from None
    render = as_json if args.output == "json" else as_text
    print(render(report, settings, args.repair))
    raise SystemExit(EXIT_OK if report.left == 0 else EXIT_INCONSISTENT)


if __name__ == "__main__":
    main()
