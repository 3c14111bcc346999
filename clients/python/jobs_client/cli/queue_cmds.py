"""Operator commands of ``jobs``: health, queues (with ``--watch``), retry-failed, pause, resume, drain,
clean, schedules.

``health`` exits 0 when healthy, 1 when degraded and 2 when unhealthy or unreachable, so it can be a
probe or a CI gate. drain, clean and retry-failed change many jobs at once: they ask first (``--yes``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.live import Live

from jobs_client.cli.base import OutputOption, YesOption, app, client, confirm, duration
from jobs_client.cli.render import Output, Printer, fields, styled, table, when
from jobs_client.errors import ApiError
from jobs_client.models import Health, QueueStats

HEALTH_EXIT = {"healthy": 0, "degraded": 1}
QueueName = Annotated[str, typer.Argument(help="queue name")]


@app.command()
def health(ctx: typer.Context, output: OutputOption = Output.table) -> None:
    """API, Redis, workers and scheduler at a glance (exit 0 healthy, 1 degraded, 2 unhealthy)."""
    out = Printer(output)
    try:
        report = client(ctx).health()
    except ApiError as err:  # unreachable, or an answer that is not a health document
        out.error(err)
        raise typer.Exit(2) from None
    if out.json:
        out.data(report)
    else:
        out.show(_health_view(report))
    raise typer.Exit(HEALTH_EXIT.get(report.status, 2))


def _health_view(report: Health) -> Any:
    redis = report.dependencies.get("redis") or {}
    pairs: list[tuple[str, Any]] = [
        ("status", styled(report.status)),
        ("version", report.version),
        ("redis", f"{redis.get('status', '-')} ({redis.get('latency', '-')} ms)"),
        ("workers", (report.workers or {}).get("live")),
        ("scheduler leader", (report.scheduler or {}).get("replica") or "none"),
    ]
    pairs += [("warning", warning) for warning in report.warnings]
    return fields(pairs)


def _queues_table(queues: list[QueueStats]) -> Any:
    columns = (
        "queue",
        "state",
        "waiting",
        "active",
        "delayed",
        "blocked",
        "completed",
        "failed",
        "cancelled",
    )
    rows = [
        (
            q.name,
            styled("paused" if q.is_paused else "running"),
            *(getattr(q.counts, c) for c in columns[2:]),
        )
        for q in queues
    ]
    rates = {q.name: q.processing_rate for q in queues}
    grid = table((*columns, "done/min"), [(*row, f"{rates[row[0]]:g}") for row in rows])
    grid.caption = f"at {when(datetime.now(UTC))}"
    return grid


@app.command()
def queues(
    ctx: typer.Context,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="refresh until Ctrl-C")] = False,
    interval: Annotated[float, typer.Option(min=0.1, help="seconds between refreshes")] = 2.0,
    output: OutputOption = Output.table,
) -> None:
    """Counts per state of every queue (JSON with --watch: one document per refresh)."""
    out = Printer(output)
    api = client(ctx)
    if not watch:
        stats = api.list_queues()
        return (
            out.data({"queues": [q.to_json() for q in stats]}) if out.json else out.show(_queues_table(stats))
        )
    if out.json:
        while True:
            out.data({"queues": [q.to_json() for q in api.list_queues()]})
            time.sleep(interval)
    with Live(_queues_table(api.list_queues()), console=out.console, auto_refresh=False) as live:
        while True:
            time.sleep(interval)
            live.update(_queues_table(api.list_queues()), refresh=True)


@app.command("retry-failed")
def retry_failed(
    ctx: typer.Context,
    queue: QueueName,
    limit: Annotated[int, typer.Option(min=1, help="at most this many jobs")] = 1000,
    yes: YesOption = False,
    output: OutputOption = Output.table,
) -> None:
    """Run the failed jobs of a queue again (newest first, at most --limit)."""
    out = Printer(output)
    confirm(yes, f"Retry up to {limit} failed jobs of {queue}?", f"retry the failed jobs of {queue}")
    done = client(ctx).retry_failed(queue, limit)
    if out.json:
        return out.data(done)
    out.show(f"retried {len(done.retried)} jobs of {queue}, skipped {len(done.skipped)}")
    for item in done.skipped:
        out.show(f"  skipped {item['jobId']}: {item['reason']}")


@app.command()
def pause(ctx: typer.Context, queue: QueueName, output: OutputOption = Output.table) -> None:
    """Stop workers from starting jobs of a queue (running ones finish)."""
    out = Printer(output)
    done = client(ctx).pause_queue(queue)
    out.data(done) if out.json else out.show(f"{queue}: paused{'' if done.changed else ' (already)'}")


@app.command()
def resume(ctx: typer.Context, queue: QueueName, output: OutputOption = Output.table) -> None:
    """Let workers start jobs of a paused queue again."""
    out = Printer(output)
    done = client(ctx).resume_queue(queue)
    out.data(done) if out.json else out.show(f"{queue}: running{'' if done.changed else ' (already)'}")


@app.command()
def drain(
    ctx: typer.Context,
    queue: QueueName,
    delayed: Annotated[bool, typer.Option("--delayed", help="delayed jobs too")] = False,
    yes: YesOption = False,
    output: OutputOption = Output.table,
) -> None:
    """Delete every waiting (and with --delayed, delayed) job of a queue."""
    out = Printer(output)
    what = "waiting and delayed" if delayed else "waiting"
    confirm(yes, f"Delete every {what} job of {queue}?", f"drain {queue}")
    done = client(ctx).drain_queue(queue, delayed=delayed)
    out.data(done) if out.json else out.show(f"{queue}: removed {done.removed} {what} jobs")


@app.command()
def clean(
    ctx: typer.Context,
    queue: QueueName,
    status: Annotated[str, typer.Option(help="completed, failed or cancelled")] = "completed",
    grace: Annotated[str, typer.Option(help="only jobs finished longer ago: 0, 1h, 7d")] = "0",
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 1000,
    yes: YesOption = False,
    output: OutputOption = Output.table,
) -> None:
    """Delete finished jobs of a queue, oldest first."""
    out = Printer(output)
    grace_s = duration(grace, "--grace") or 0.0
    confirm(yes, f"Delete up to {limit} {status} jobs of {queue} older than {grace}?", f"clean {queue}")
    done = client(ctx).clean_queue(queue, status=status, grace=grace_s, limit=limit)
    out.data(done) if out.json else out.show(f"{queue}: removed {done.count} {status} jobs")


@app.command()
def schedules(ctx: typer.Context, output: OutputOption = Output.table) -> None:
    """Recurring jobs with their next and last run."""
    out = Printer(output)
    found = client(ctx).list_schedules()
    if out.json:
        return out.data({"schedules": [s.to_json() for s in found], "total": len(found)})
    rows = [
        (
            s.schedule_id,
            s.type,
            s.schedule,
            s.timezone,
            styled(s.status),
            when(s.next_run_at, short=True),
            when(s.last_run_at, short=True),
            s.fires,
        )
        for s in found
    ]
    columns = ("id", "type", "cron", "timezone", "status", "next run", "last run", "fires")
    out.show(table(columns, rows))
