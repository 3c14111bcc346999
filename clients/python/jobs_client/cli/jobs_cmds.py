"""Job commands of ``jobs``: list, show, add, wait, cancel, retry, events.

``add --wait`` and ``wait`` exit 0 when the job completed, 1 when it failed or was cancelled (the error
printed on one line) and 124 when the wait timed out, as ``timeout(1)`` does.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from jobs_client.cli.base import OutputOption, YesOption, app, client, confirm, duration, moment, payload
from jobs_client.cli.render import Output, Printer, event_line, fields, styled, table, when
from jobs_client.errors import WaitTimeout
from jobs_client.models import AddedJob, Job, JobPage
from jobs_client.sync_client import JobsClient

WAIT_TIMEOUT_EXIT = 124
JobId = Annotated[str, typer.Argument(help="job id")]
WaitTimeoutOption = Annotated[
    str | None, typer.Option("--wait-timeout", help="give up waiting after this long (30s, 5m)")
]


@app.command("list")
def list_jobs(
    ctx: typer.Context,
    queue: Annotated[str | None, typer.Option(help="one queue")] = None,
    status: Annotated[str | None, typer.Option(help="state(s), comma-separated: failed,cancelled")] = None,
    type: Annotated[str | None, typer.Option(help="job type")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    output: OutputOption = Output.table,
) -> None:
    """List jobs, newest first."""
    out = Printer(output)
    page = client(ctx).list_jobs(queue, status, type, limit, offset)
    if out.json:
        return out.data(page)
    out.show(_jobs_table(page))


def _jobs_table(page: JobPage) -> Any:
    rows = [
        (
            j.job_id,
            j.type,
            j.queue,
            styled(j.status),
            f"{j.progress}%",
            j.attempts,
            when(j.created_at, short=True),
        )
        for j in page.jobs
    ]
    first = page.offset + 1 if page.jobs else 0
    title = f"jobs {first}-{page.offset + len(page.jobs)} of {page.total}"
    return table(("id", "type", "queue", "status", "progress", "tries", "created"), rows, title)


@app.command()
def show(
    ctx: typer.Context,
    job_id: JobId,
    logs: Annotated[bool, typer.Option("--logs", help="add the lines its processor logged")] = False,
    output: OutputOption = Output.table,
) -> None:
    """Show one job: state, payload, result, errors, timing, dependencies."""
    out = Printer(output)
    api = client(ctx)
    job = api.get_job(job_id)
    lines = api.job_logs(job_id).logs if logs else None
    if out.json:
        body = job.to_json()
        if lines is not None:
            body["logs"] = [line.to_json() for line in lines]
        return out.data(body)
    out.show(fields(_job_fields(job)))
    for line in lines or []:
        out.show(f"log [try {line.attempt}] {line.message}")


def _job_fields(job: Job) -> list[tuple[str, Any]]:
    return [
        ("id", job.job_id),
        ("type", job.type),
        ("queue", job.queue),
        ("status", styled(job.status)),
        ("priority", job.priority),
        ("progress", f"{job.progress}%"),
        ("tries", f"{job.attempts} of {job.max_attempts}"),
        ("created", job.created_at),
        ("started", job.started_at),
        ("finished", job.finished_at),
        ("payload", job.payload),
        ("result", job.result),
        ("error", job.error),
        ("depends on", job.depends_on or None),
        ("dependents", job.dependents or None),
    ]


@app.command()
def add(
    ctx: typer.Context,
    type: Annotated[str, typer.Argument(help="job type (processor name)")],
    payload_text: Annotated[
        str | None, typer.Option("--payload", "-p", help="JSON object, or @file.json")
    ] = None,
    queue: Annotated[str | None, typer.Option(help="queue [default: by type, then priority]")] = None,
    priority: Annotated[str | None, typer.Option(help="critical, high, normal or low")] = None,
    delay: Annotated[str | None, typer.Option(help="run after this long: 1500ms, 30s, 5m")] = None,
    attempts: Annotated[int | None, typer.Option(min=1, help="total tries")] = None,
    job_id: Annotated[str | None, typer.Option("--job-id", help="your id: adding it twice adds once")] = None,
    run_at: Annotated[str | None, typer.Option("--run-at", help="ISO time to run at")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="wait for the result")] = False,
    wait_timeout: WaitTimeoutOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Add a job."""
    out = Printer(output)
    options: dict[str, Any] = {
        "queue": queue,
        "priority": priority,
        "delay": duration(delay, "--delay"),
        "attempts": attempts,
        "job_id": job_id,
        "run_at": moment(run_at, "--run-at"),
    }
    api = client(ctx)
    added = api.add_job(type, payload(payload_text), **{k: v for k, v in options.items() if v is not None})
    if not wait:
        return out.data(added) if out.json else out.show(_added_line(added))
    if not out.json:
        out.note(_added_line(added))
    _wait_and_print(out, api, added.job_id, duration(wait_timeout, "--wait-timeout"), added)


def _added_line(added: AddedJob) -> str:
    verb = "exists" if added.existing else "added"
    return f"{verb}: {added.job_id} in {added.queue_name} ({added.status})"


@app.command("wait")
def wait_job(
    ctx: typer.Context,
    job_id: JobId,
    timeout: Annotated[str | None, typer.Option(help="give up after this long (30s, 5m)")] = None,
    output: OutputOption = Output.table,
) -> None:
    """Wait until a job finishes; print its result (exit 1 if it failed, 124 on timeout)."""
    _wait_and_print(Printer(output), client(ctx), job_id, duration(timeout, "--timeout"), None)


def _wait_and_print(
    out: Printer, api: JobsClient, job_id: str, timeout: float | None, added: AddedJob | None
) -> None:
    try:
        result = api.wait(job_id, timeout)
    except WaitTimeout as err:
        out.error(err)
        raise typer.Exit(WAIT_TIMEOUT_EXIT) from None
    if out.json:
        head = added.to_json() if added else {"jobId": job_id}
        return out.data(head | {"status": "completed", "result": result})
    out.show(fields([("completed", job_id), ("result", result)]))


@app.command()
def cancel(
    ctx: typer.Context, job_id: JobId, yes: YesOption = False, output: OutputOption = Output.table
) -> None:
    """Cancel a waiting, delayed, blocked or running job (a running processor is interrupted)."""
    out = Printer(output)
    confirm(yes, f"Cancel job {job_id}?", f"cancel job {job_id}")
    done = client(ctx).cancel_job(job_id)
    out.data(done) if out.json else out.show(f"cancelled {job_id} (was {done.previous_status})")


@app.command()
def retry(ctx: typer.Context, job_id: JobId, output: OutputOption = Output.table) -> None:
    """Run a failed or cancelled job again."""
    out = Printer(output)
    done = client(ctx).retry_job(job_id)
    out.data(done) if out.json else out.show(f"retrying {job_id} (now {done.status})")


@app.command()
def events(
    ctx: typer.Context,
    queue: Annotated[str | None, typer.Option(help="one queue (needed to resume without loss)")] = None,
    job: Annotated[str | None, typer.Option(help="one job id")] = None,
    last_event_id: Annotated[
        str | None, typer.Option("--last-event-id", help="resume after this event id (with --queue)")
    ] = None,
    count: Annotated[int | None, typer.Option(min=1, help="stop after this many events")] = None,
    output: OutputOption = Output.table,
) -> None:
    """Follow job transitions live (Ctrl-C stops); reconnects and resumes by itself."""
    out = Printer(output)
    seen = 0
    with client(ctx).events(queue, job, last_event_id=last_event_id) as stream:
        what = f"queue {queue}" if queue else "all queues"
        out.note(f"following events of {what}{f', job {job}' if job else ''} (Ctrl-C to stop)")
        for event in stream:
            out.data(event) if out.json else out.show(event_line(event))
            seen += 1
            if count is not None and seen >= count:
                return
