"""The DataLoaders of one request. Batch functions live in `db/`; loaders only name them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from itertools import groupby
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from db.batch import rows_by_key, rows_grouped_by_key
from db.catalog import prices_in_force
from db.tables import (
    AddOn,
    AddOnPrice,
    Customer,
    Instance,
    Namespace,
    Plan,
    Price,
    Subscription,
)


class PricesKey(NamedTuple):
    owner_id: int
    on: date
    currency: str | None


class PageKey(NamedTuple):
    """One keyset page of an owner's child list: rows after `after`, at most `limit`."""

    owner_id: int
    after: int | None
    limit: int


BatchFactory = Callable[[Callable[[AsyncSession, Sequence[Any]], Any]], DataLoader[Any, Any]]


def _by_id(model: type[Any]) -> Callable[[AsyncSession, Sequence[int]], Any]:
    async def load(session: AsyncSession, ids: Sequence[int]) -> list[Any]:
        return await rows_by_key(session, model, model.id, ids)

    return load


def _grouped(model: type[Any], column: Any) -> Callable[[AsyncSession, Sequence[int]], Any]:
    async def load(session: AsyncSession, keys: Sequence[int]) -> list[list[Any]]:
        return await rows_grouped_by_key(session, model, column, keys, order_by=model.id)

    return load


def _pages(model: type[Any], column: Any) -> Callable[[AsyncSession, Sequence[PageKey]], Any]:
    """Pages of child rows; keys that share a cursor and size (every item of one list field
    does) are fetched in one statement."""

    async def load(session: AsyncSession, keys: Sequence[PageKey]) -> list[list[Any]]:
        found: dict[PageKey, list[Any]] = {}
        shape = lambda key: (-1 if key.after is None else key.after, key.limit)  # noqa: E731
        for _, group in groupby(sorted(keys, key=shape), key=shape):
            same = list(group)
            pages = await rows_grouped_by_key(
                session,
                model,
                column,
                [key.owner_id for key in same],
                order_by=model.id,
                after=same[0].after,
                limit=same[0].limit,
            )
            found.update(zip(same, pages, strict=True))
        return [found[key] for key in keys]

    return load


def _prices(model: type[Price] | type[AddOnPrice]) -> Callable[..., Any]:
    async def load(session: AsyncSession, keys: Sequence[PricesKey]) -> list[list[Any]]:
        found: dict[PricesKey, list[Any]] = {}
        shape = lambda key: (key.on, key.currency or "")  # noqa: E731
        for _, group in groupby(sorted(keys, key=shape), key=shape):
            same = list(group)
            prices = await prices_in_force(
                session,
                model,
                [key.owner_id for key in same],
                on=same[0].on,
                currency=same[0].currency,
            )
            found.update(zip(same, prices, strict=True))
        return [found[key] for key in keys]

    return load


class Loaders:
    """Named `<Thing>By<Key>`; created per request so no cache outlives its caller."""

    def __init__(self, batch: BatchFactory) -> None:
        self.customer_by_id = batch(_by_id(Customer))
        self.namespace_by_id = batch(_by_id(Namespace))
        self.instance_by_id = batch(_by_id(Instance))
        self.subscription_by_id = batch(_by_id(Subscription))
        self.plan_by_id = batch(_by_id(Plan))
        self.price_by_id = batch(_by_id(Price))
        self.add_on_by_id = batch(_by_id(AddOn))
        self.prices_by_plan = batch(_prices(Price))
        self.prices_by_add_on = batch(_prices(AddOnPrice))
        self.namespaces_by_customer = batch(_grouped(Namespace, Namespace.customer_id))
        self.instances_by_customer = batch(_grouped(Instance, Instance.customer_id))
        self.subscription_pages_by_customer = batch(_pages(Subscription, Subscription.customer_id))
        self.active_subscription_by_namespace = batch(
            _active_subscription(Subscription.namespace_id)
        )
        self.active_subscription_by_instance = batch(_active_subscription(Subscription.instance_id))


def _active_subscription(column: Any) -> Callable[[AsyncSession, Sequence[int]], Any]:
    async def load(session: AsyncSession, keys: Sequence[int]) -> list[Any]:
        groups = await rows_grouped_by_key(
            session, Subscription, column, keys, order_by=Subscription.id
        )
        return [
            next((s for s in reversed(rows) if s.status == "active"), rows[-1] if rows else None)
            for rows in groups
        ]

    return load
