"""DataLoader batches larger than asyncpg's 32,767 parameters are loaded in chunks."""

from collections.abc import Sequence

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.batch import rows_by_key
from db.tables import Customer
from resolvers.loaders import MAX_KEYS_PER_STATEMENT, chunked

pytestmark = pytest.mark.usefixtures("demo")


async def test_more_keys_than_one_statement_binds_come_back_in_key_order(
    session: AsyncSession,
) -> None:
    statements = 0

    async def by_id(session: AsyncSession, keys: Sequence[int]) -> list[Customer | None]:
        nonlocal statements
        statements += 1
        return await rows_by_key(session, Customer, Customer.id, keys)

    known = list((await session.execute(select(Customer.id))).scalars())
    keys = [*range(10**9, 10**9 + 40_000), *known]  # 40,000 unknown ids, then the real ones
    found = await chunked(by_id)(session, keys)
    assert statements == -(-len(keys) // MAX_KEYS_PER_STATEMENT) == 5
    assert found[:40_000] == [None] * 40_000
    assert [c.id for c in found[40_000:] if c is not None] == known
