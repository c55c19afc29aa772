"""What every command shares: settings, the database URL, one-line errors, dates, output."""

from __future__ import annotations

import asyncio
import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, ParamSpec, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.auth import InvalidToken
from api.database import DatabaseError, check_migrated, check_reachable, embedded_database_url
from api.graphiql import AssetsError
from api.logs import configure_logging
from api.settings import ConfigError, Settings, load_settings
from db.engine import make_engine
from resolvers.jobs import NO_STEPS, Steps

P = ParamSpec("P")
R = TypeVar("R")

JSON_OPTION = typer.Option("--json", help="Print one JSON document instead of lines.")


def settings() -> Settings:
    loaded = load_settings()
    configure_logging(loaded.log_level, loaded.log_format)
    return loaded


def database_url(loaded: Settings) -> str:
    return loaded.database_url or embedded_database_url(loaded.data_dir)


async def _checked(url: str, *, migrated: bool) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        await check_reachable(engine)
        if migrated:
            await check_migrated(engine)
    finally:
        await engine.dispose()


def checked_url(loaded: Settings, *, migrated: bool = True) -> str:
    """The database URL, once the database answers (and is at the newest migration)."""
    url = database_url(loaded)
    asyncio.run(_checked(url, migrated=migrated))
    return url


def fail(message: str, status: int = 2) -> typer.Exit:
    typer.echo(f"billing: error: {message}", err=True)
    return typer.Exit(status)


def one_line_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Configuration and database problems end the command with one line and status 2."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (ConfigError, DatabaseError, AssetsError, InvalidToken) as error:
            raise fail(str(error)) from None

    return run


def parse_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise typer.BadParameter(
            f"{raw!r} is not a date; expected YYYY-MM-DD, like 2026-12-01"
        ) from None


DATE_OPTION = typer.Option(
    "--date", parser=parse_date, metavar="YYYY-MM-DD", help="The day (today by default)."
)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


class _Bar:
    """A rich progress bar per stage of a job."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: Any = None

    def start(self, what: str, total: int) -> None:
        if self._task is not None:
            self._progress.update(self._task, visible=False)
        self._task = self._progress.add_task(what, total=total)

    def advance(self, count: int = 1) -> None:
        self._progress.advance(self._task, count)


def show_progress(*, quiet: bool = False) -> bool:
    """Bars only for a person watching: stdout is a terminal and no --json."""
    return not quiet and sys.stdout.isatty()


@contextmanager
def progress(*, quiet: bool = False) -> Iterator[Steps]:
    if not show_progress(quiet=quiet):
        yield NO_STEPS
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        yield _Bar(bar)
