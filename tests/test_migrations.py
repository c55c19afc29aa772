"""Migrations match the models, and run down and up again."""

from collections.abc import Awaitable, Callable

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from sqlmodel import SQLModel

import db.tables  # noqa: F401
from db.engine import alembic_config, head_revision, include_object, make_engine, upgrade


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": include_object}
    )
    return list(compare_metadata(context, SQLModel.metadata))


def _downgrade_to_base(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "base")


async def test_migrations_match_the_models_and_round_trip(
    make_database: Callable[..., Awaitable[str]],
) -> None:
    url = await make_database()
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.begin() as connection:
            assert await connection.run_sync(_diff) == []
            await connection.run_sync(_downgrade_to_base)
        await upgrade(url)
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
            revision = await connection.run_sync(
                lambda c: MigrationContext.configure(c).get_current_revision()
            )
        assert revision == head_revision()
    finally:
        await engine.dispose()
