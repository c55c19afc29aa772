"""Shared pieces of the schema: Info, Money, scalars, enums, keyset connections."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeAlias, TypeVar

import strawberry
from strawberry import relay

from billing.money import Money as DomainMoney
from billing.terms import BillingPeriod as DomainBillingPeriod
from db.batch import Keyset
from resolvers.context import Context
from resolvers.errors import BadUserInput, ObjectNotFound
from schema.scalars import Long

Info = strawberry.Info[Context, None]

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

strawberry.enum(
    DomainBillingPeriod, description="How long one term lasts and what one catalog price buys."
)
BillingPeriod: TypeAlias = DomainBillingPeriod


@strawberry.type(description="An exact amount of money in one currency.")
class Money:
    amount: str = strawberry.field(
        description='The amount in major units as a decimal string, e.g. "348.00".'
    )
    currency: str = strawberry.field(description="ISO 4217 currency code, e.g. USD.")
    minor_units: Long = strawberry.field(
        description="The amount in the currency's minor unit (cents for USD): an exact integer."
    )

    @classmethod
    def of(cls, money: DomainMoney) -> Money:
        """The amount as shown. Shown amounts are values nobody changes, so the same amount is
        the same object (a page of invoices repeats a few prices and totals many times)."""
        key = (money.minor_units, money.currency)
        shown = _shown_amounts.get(key)
        if shown is None:
            if len(_shown_amounts) >= _SHOWN_AMOUNTS:
                _shown_amounts.clear()
            shown = _shown_amounts[key] = cls(
                amount=str(money.amount),
                currency=money.currency,
                minor_units=Long(money.minor_units),
            )
        return shown


_SHOWN_AMOUNTS = 4096
_shown_amounts: dict[tuple[int, str], Money] = {}


def page_size(first: int | None) -> int:
    size = DEFAULT_PAGE_SIZE if first is None else first
    if not 0 <= size <= MAX_PAGE_SIZE:
        raise BadUserInput(f"`first` must be between 0 and {MAX_PAGE_SIZE}.")
    return size


def keyset(
    type_name: str,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
) -> Keyset:
    """The page the Relay arguments ask for: `first` items after `after`, or the `last` ones
    before `before`. Cursors are opaque to clients; they are global ids."""
    if first is not None and last is not None:
        raise BadUserInput("Pass `first` or `last`, not both.")
    if last is not None and not 0 <= last <= MAX_PAGE_SIZE:
        raise BadUserInput(f"`last` must be between 0 and {MAX_PAGE_SIZE}.")
    return Keyset(
        after=None if after is None else node_id(type_name, after, "after"),
        before=None if before is None else node_id(type_name, before, "before"),
        size=last if last is not None else page_size(first),
        backward=last is not None,
    )


N = TypeVar("N", bound=relay.Node)
T = TypeVar("T")


@strawberry.type(name="Connection", description="A page of a list, in the list's order.")
class Connection(relay.Connection[relay.NodeType]):
    """Relay's connection with `nodes` (the edges' nodes, for clients that need no cursor per
    item) and `totalCount`, counted only when selected (one statement per list field, batched
    across parents)."""

    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="The items of this page, without their cursors.")
    def nodes(self) -> list[relay.NodeType]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many items there are in all pages.")
    async def total_count(self) -> int:
        return await self.count()


def keyset_connection(
    rows: Sequence[Any],
    page: Keyset,
    node: Callable[[Any], N],
    type_name: str,
    count: Callable[[], Awaitable[int]],
) -> Connection[N]:
    """Build a connection from a page's rows in ascending order, with the one extra row on the
    far side (the end going forward, the start going backward) that tells more lie beyond.

    A cursor given on the near side means the item it names lies before (after) the page;
    backward paging from the end of the list is how `hasPreviousPage` is exact there."""
    beyond = len(rows) > page.size
    shown = (rows[1:] if page.backward else rows[: page.size]) if beyond else rows
    edges = [relay.Edge(node=node(row), cursor=relay.to_base64(type_name, row.id)) for row in shown]
    cursors = [edge.cursor for edge in edges]
    info = relay.PageInfo(
        has_next_page=page.before is not None if page.backward else beyond,
        has_previous_page=beyond if page.backward else page.after is not None,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
    return Connection(edges=edges, page_info=info, count=count)


def page_info(cursors: Sequence[str], has_next_page: bool) -> relay.PageInfo:
    """Where a forward page of billable members ends."""
    return relay.PageInfo(
        has_next_page=has_next_page,
        has_previous_page=False,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )


_DATABASE_ID = re.compile(r"[1-9][0-9]{0,18}")
MAX_DATABASE_ID = 2**63 - 1  # bigint


def database_id(raw: str) -> int | None:
    """The bigint id in the value part of a global id, or None when it cannot be one."""
    if not _DATABASE_ID.fullmatch(raw) or int(raw) > MAX_DATABASE_ID:
        return None
    return int(raw)


def node_id(type_name: str, raw: str, field: str = "id") -> int:
    """The database id inside a global id of `type_name`, or a BAD_USER_INPUT error."""
    try:
        kind, value = relay.from_base64(raw)
    except ValueError:
        kind, value = "", ""
    found = database_id(value) if kind == type_name else None
    if found is None:
        raise BadUserInput(f"`{field}` is not a {type_name} id: {raw!r}.")
    return found


async def resolve_nodes_by_id(
    node_ids: Iterable[str],
    fetch: Callable[[list[int]], Awaitable[Sequence[Any | None]]],
    of: Callable[[Any], N],
) -> list[N | None]:
    """Relay node resolution: ids that cannot exist and rows not found are null alike."""
    ids = [database_id(raw) for raw in node_ids]
    found = iter(await fetch([i for i in ids if i is not None]))
    nodes: list[N | None] = []
    for i in ids:
        row = next(found) if i is not None else None
        nodes.append(of(row) if row is not None else None)
    return nodes


def visible_nodes(
    get: Callable[[int], Awaitable[T]],
) -> Callable[[list[int]], Awaitable[list[T | None]]]:
    """A node fetcher over a root lookup: hidden objects come back as None, like missing ones.
    The lookups run together, so their DataLoader batches them into one statement."""

    async def visible(object_id: int) -> T | None:
        try:
            return await get(object_id)
        except ObjectNotFound:
            return None

    async def fetch(ids: list[int]) -> list[T | None]:
        return list(await asyncio.gather(*(visible(i) for i in ids)))

    return fetch
