"""`billing jobs ...`: the scheduled work, named by customer and namespace."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from api.cli.common import DATE_OPTION, JSON_OPTION, checked_url, one_line_errors, print_json
from api.cli.common import progress as progress_bar
from api.cli.common import settings as load
from api.clock import SystemClock
from billing.errors import ConflictError
from db.engine import make_engine, make_sessionmaker, rolled_back_session

app = typer.Typer(help="Scheduled work (run it daily; both jobs are safe to run twice).")
T = TypeVar("T")


def _run(url: str, work: Callable[[AsyncSession], Awaitable[T]], *, dry_run: bool) -> T:
    async def run() -> T:
        engine = make_engine(url, pool_size=1)
        try:
            if dry_run:
                async with rolled_back_session(engine) as session:
                    return await work(session)
            async with make_sessionmaker(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _refused(day: date, refused: ConflictError, as_json: bool) -> typer.Exit:
    if as_json:
        refusal = {"code": refused.code.value, "message": refused.message}
        print_json({"day": day, "refused": refusal})
    else:
        typer.echo(f"{day}: REFUSED {refused.message}", err=True)
    return typer.Exit(2)


@app.command("run-daily")
@one_line_errors
def run_daily(
    day: Annotated[date | None, DATE_OPTION] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Do the work in a transaction that is rolled back: say, not write."
        ),
    ] = False,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Reconcile quarters, renew or expire ended terms, refresh licenses, snapshot seats.

    Catches up on missed days. Exit status 1 if something failed, 2 if refused."""
    from api.app import load_license_keys
    from resolvers.jobs import run_daily as job

    loaded = load()
    sign = load_license_keys(loaded).signer
    url = checked_url(loaded)
    day = day or SystemClock().today()
    try:
        with progress_bar(quiet=as_json) as steps:
            report = _run(url, lambda s: job(s, day=day, sign=sign, steps=steps), dry_run=dry_run)
    except ConflictError as refused:
        raise _refused(day, refused, as_json) from None
    if as_json:
        print_json({"day": day, "dryRun": dry_run, "done": report.done, "failed": report.failed})
    else:
        prefix = f"{report.day}: {'would have: ' if dry_run else ''}"
        for line in report.done:
            typer.echo(prefix + line)
        for line in report.failed:
            typer.echo(f"{prefix}FAILED {line}", err=True)
    if report.failed:
        raise typer.Exit(1)


@app.command("snapshot-seats")
@one_line_errors
def snapshot_seats(
    day: Annotated[date | None, DATE_OPTION] = None,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Recount every namespace's seats and record the day's counts (part of run-daily)."""
    from resolvers.jobs import snapshot_seats as job

    url = checked_url(load())
    day = day or SystemClock().today()
    try:
        with progress_bar(quiet=as_json) as steps:
            report = _run(url, lambda s: job(s, day=day, steps=steps), dry_run=False)
    except ConflictError as refused:
        raise _refused(day, refused, as_json) from None
    if as_json:
        print_json(
            {
                "day": report.day,
                "namespacesRecounted": report.namespaces_recounted,
                "snapshotsWritten": report.snapshots_written,
            }
        )
    else:
        typer.echo(
            f"{report.day}: recounted {report.namespaces_recounted} namespaces, "
            f"wrote {report.snapshots_written} snapshots"
        )
