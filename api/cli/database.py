"""`billing db ...`: migrations through Alembic's API."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from api.cli.common import JSON_OPTION, checked_url, one_line_errors, print_json, settings
from db import engine as migrations

app = typer.Typer(help="Database migrations (Alembic).")


@app.command()
@one_line_errors
def upgrade(
    revision: Annotated[str, typer.Argument(help="Migrate up to this revision.")] = "head",
) -> None:
    """Apply migrations up to REVISION."""
    url = checked_url(settings(), migrated=False)
    asyncio.run(migrations.upgrade(url, revision))
    typer.echo(f"database upgraded to {revision}")


@app.command()
@one_line_errors
def downgrade(
    revision: Annotated[
        str, typer.Argument(help="Undo migrations down to this revision (or -1 for one step).")
    ],
) -> None:
    """Undo migrations after REVISION (their data is lost: take a backup first)."""
    known = {row[0] for row in migrations.history()} | {"base"}
    if revision not in known and not revision.startswith("-"):
        raise typer.BadParameter(
            f"{revision!r} is no revision; `billing db history` lists them", param_hint="REVISION"
        )
    url = checked_url(settings(), migrated=False)
    asyncio.run(migrations.downgrade(url, revision))
    typer.echo(f"database downgraded to {revision}")


@app.command()
@one_line_errors
def current(as_json: Annotated[bool, JSON_OPTION] = False) -> None:
    """The revision the database is at, and whether it is the newest."""
    url = checked_url(settings(), migrated=False)
    revision = asyncio.run(migrations.revision_of(url))
    head = migrations.head_revision()
    if as_json:
        print_json({"revision": revision, "head": head, "isHead": revision == head})
    else:
        state = "(head)" if revision == head else f"(behind: head is {head})"
        typer.echo(f"{revision or 'none'} {state}")


@app.command()
def history(as_json: Annotated[bool, JSON_OPTION] = False) -> None:
    """Every migration, newest first."""
    rows = migrations.history()
    if as_json:
        print_json([{"revision": r, "downRevision": d, "message": m} for r, d, m in rows])
    else:
        for revision, down, message in rows:
            typer.echo(f"{down or '<base>'} -> {revision}: {message}")
