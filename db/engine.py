"""Async engine, sessions and migration state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Connection
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def async_url(url: str | URL) -> URL:
    """The URL with the asyncpg driver, whatever PostgreSQL driver it named."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername="postgresql+asyncpg")


def make_engine(
    url: str | URL,
    *,
    pool_size: int = 10,
    max_overflow: int | None = None,
    idle_in_transaction_timeout_ms: int | None = None,
    statement_timeout_ms: int | None = None,
) -> AsyncEngine:
    """The engine; with `idle_in_transaction_timeout_ms`, PostgreSQL ends any transaction of
    its sessions left idle that long, so a connection the service lost cannot hold locks;
    with `statement_timeout_ms`, it cancels any statement running longer (SQLSTATE 57014),
    a backstop for the server's requests. Jobs and migrations pass neither: they may run long."""
    server_settings = {}
    if idle_in_transaction_timeout_ms:
        server_settings["idle_in_transaction_session_timeout"] = str(idle_in_transaction_timeout_ms)
    if statement_timeout_ms:
        server_settings["statement_timeout"] = str(statement_timeout_ms)
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        # no ping before each use (three round trips a request): a read that meets a dropped
        # connection is run again by the view (api.view), on a fresh one
        pool_pre_ping=False,
        connect_args={"server_settings": server_settings},
        # errors show the statement, never its values (e-mails, hostnames, keys): api.logs
        hide_parameters=True,
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def make_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for reads only, on the same pool, without a transaction: each statement
    commits on its own, so a read skips the BEGIN and ROLLBACK round trips. At PostgreSQL's
    READ COMMITTED every statement sees its own snapshot either way, so reads see the same."""
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
    )


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic compares expression indexes unreliably (PostgreSQL reflects the expression in
    its own words), so autogenerate leaves them to hand-written migrations."""
    if type_ == "index":
        return all(isinstance(e, Column | str) for e in getattr(obj, "expressions", []))
    return True


def alembic_config(url: str | URL | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.attributes["url"] = async_url(url)
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def schema_is_current(engine: AsyncEngine) -> tuple[bool, str | None]:
    """Whether the database is at the newest migration, and the revision it is at."""
    async with engine.connect() as connection:
        revision = await connection.run_sync(current_revision)
    return revision == head_revision(), revision


async def upgrade(engine_url: str | URL, revision: str = "head") -> None:
    """Apply migrations up to `revision` (alembic's env.py runs them on an async connection)."""

    engine = make_engine(engine_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run_upgrade, revision)
    finally:
        await engine.dispose()


def _run_upgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


@asynccontextmanager
async def rolled_back_session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose commits are savepoints inside one transaction that is rolled back at
    the end: what it does is seen inside it and nowhere else (a dry run). Sequences still
    advance, as they do for any rolled-back transaction."""
    async with engine.connect() as connection:
        outer = await connection.begin()
        session = AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            await session.close()
            await outer.rollback()


def _alembic_command(connection: Connection, name: str, *args: object) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, name)(config, *args)


async def downgrade(engine_url: str | URL, revision: str) -> None:
    """Undo migrations down to `revision` (an id, or relative like -1)."""
    engine = make_engine(engine_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_alembic_command, "downgrade", revision)
    finally:
        await engine.dispose()


async def revision_of(engine_url: str | URL) -> str | None:
    """The revision the database is at (None before the first migration)."""
    engine = make_engine(engine_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(current_revision)
    finally:
        await engine.dispose()


def history() -> list[tuple[str, str | None, str]]:
    """Every migration, newest first: (revision, the one before it, its message)."""
    scripts = ScriptDirectory.from_config(alembic_config())
    return [
        (
            s.revision,
            s.down_revision if isinstance(s.down_revision, str) else None,
            " ".join(s.doc.split()),
        )
        for s in scripts.walk_revisions()
    ]
