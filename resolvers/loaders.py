"""The DataLoaders of one request. Batch functions live in `db/`; loaders only name them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from datetime import date
from itertools import groupby
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel
from strawberry.dataloader import DataLoader

from db.batch import Keyset, counts_by_key, rows_by_key, rows_grouped_by_key
from db.catalog import P, prices_in_force
from db.invoices import lines_by_invoice, payments_by_invoice
from db.members import reaching_memberships
from db.subscriptions import add_ons_by_subscription
from db.syncs import user_statistics_history
from db.tables import (
    AddOn,
    AddOnPrice,
    Customer,
    GitlabUser,
    Instance,
    Invoice,
    License,
    Namespace,
    Plan,
    Price,
    Subscription,
    SyncReport,
)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
M = TypeVar("M", bound=SQLModel)

Load = Callable[[AsyncSession, Sequence[K]], Awaitable[Sequence[V]]]


class BatchFactory(Protocol):
    def __call__(self, load: Load[K, V]) -> DataLoader[K, V]: ...


# A batch statement binds one parameter per key (`IN ($1, $2, ...)`) and asyncpg takes at most
# 32,767; one request's fan-out can gather more keys than that (nested pages of 100 x 100 x ...).
MAX_KEYS_PER_STATEMENT = 10_000


def chunked(load: Load[K, V]) -> Load[K, V]:
    """`load` over slices of at most MAX_KEYS_PER_STATEMENT keys, results still in key order."""

    async def load_in_chunks(session: AsyncSession, keys: Sequence[K]) -> Sequence[V]:
        if len(keys) <= MAX_KEYS_PER_STATEMENT:
            return await load(session, keys)
        found: list[V] = []
        for start in range(0, len(keys), MAX_KEYS_PER_STATEMENT):
            found.extend(await load(session, keys[start : start + MAX_KEYS_PER_STATEMENT]))
        return found

    return load_in_chunks


class PricesKey(NamedTuple):
    owner_id: int
    on: date
    currency: str | None


class HistoryKey(NamedTuple):
    """An instance's reports on the days [first, last]."""

    instance_id: int
    first: date
    last: date


class PageKey(NamedTuple):
    """One keyset page of an owner's child list."""

    owner_id: int
    page: Keyset


def _by_id(model: type[M]) -> Load[int, M | None]:
    async def load(session: AsyncSession, ids: Sequence[int]) -> list[M | None]:
        return await rows_by_key(session, model, model.id, ids)  # type: ignore[attr-defined]

    return load


def _grouped(model: type[M], column: Any) -> Load[int, list[M]]:
    async def load(session: AsyncSession, keys: Sequence[int]) -> list[list[M]]:
        return await rows_grouped_by_key(session, model, column, keys, order_by=model.id)  # type: ignore[attr-defined]

    return load


def _pages(model: type[M], column: Any) -> Load[PageKey, list[M]]:
    """Pages of child rows; keys that share cursors, size and direction (every item of one
    list field does) are fetched in one statement."""

    def shape(key: PageKey) -> tuple[int, int, int, bool]:
        after, before, size, backward = key.page
        return (-1 if after is None else after, -1 if before is None else before, size, backward)

    async def load(session: AsyncSession, keys: Sequence[PageKey]) -> list[list[M]]:
        found: dict[PageKey, list[M]] = {}
        for _, group in groupby(sorted(keys, key=shape), key=shape):
            same = list(group)
            pages = await rows_grouped_by_key(
                session,
                model,
                column,
                [key.owner_id for key in same],
                order_by=model.id,  # type: ignore[attr-defined]
                page=same[0].page,
            )
            found.update(zip(same, pages, strict=True))
        return [found[key] for key in keys]

    return load


async def _statistics_history(
    session: AsyncSession, keys: Sequence[HistoryKey]
) -> list[list[SyncReport]]:
    """Keys that share a date range (every item of one list field does): one statement."""

    def shape(key: HistoryKey) -> tuple[date, date]:
        return (key.first, key.last)

    found: dict[HistoryKey, list[SyncReport]] = {}
    for (first, last), group in groupby(sorted(keys, key=shape), key=shape):
        same = list(group)
        rows = await user_statistics_history(session, [k.instance_id for k in same], first, last)
        found.update(zip(same, rows, strict=True))
    return [found[key] for key in keys]


def _counts(model: type[M], column: Any) -> Load[int, int]:
    """How many child rows each owner has: the totalCount of its list, one statement."""

    async def load(session: AsyncSession, keys: Sequence[int]) -> list[int]:
        return await counts_by_key(session, model, column, keys)

    return load


def _prices(model: type[P]) -> Load[PricesKey, list[P]]:
    def shape(key: PricesKey) -> tuple[date, str]:
        return (key.on, key.currency or "")

    async def load(session: AsyncSession, keys: Sequence[PricesKey]) -> list[list[P]]:
        found: dict[PricesKey, list[P]] = {}
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


def _active_subscription(column: Any) -> Load[int, Subscription | None]:
    """The subscription in force: the active one, else the latest."""

    async def load(session: AsyncSession, keys: Sequence[int]) -> list[Subscription | None]:
        groups = await rows_grouped_by_key(
            session, Subscription, column, keys, order_by=Subscription.id
        )
        return [
            next((s for s in reversed(rows) if s.status == "active"), rows[-1] if rows else None)
            for rows in groups
        ]

    return load


class _Loader(Generic[K, V]):
    """A loader of `Loaders`: its batch function is made once, at import; the DataLoader is
    made on the first use in a request (most requests use a few of them)."""

    def __init__(self, load: Load[K, V]) -> None:
        self.load = chunked(load)
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, loaders: Loaders, owner: type | None = None) -> DataLoader[K, V]:
        loader = loaders.factory(self.load)
        loaders.__dict__[self.name] = loader  # found there from now on, before this
        return loader


class Loaders:
    """Named `<thing>_by_<key>`; created per request so no cache outlives its caller."""

    def __init__(self, factory: BatchFactory) -> None:
        self.factory = factory

    def release(self) -> None:
        """Forget every loader and what it loaded. The request's executor is a reference
        cycle (graphql-core's), freed only by the garbage collector; what it reaches through
        the Context (rows, futures) is freed now instead, by reference counting."""
        for name, loader in list(vars(self).items()):
            if isinstance(loader, DataLoader):
                loader.clear_all()
                loader.batch = None
                del self.__dict__[name]

    customer_by_id = _Loader(_by_id(Customer))
    namespace_by_id = _Loader(_by_id(Namespace))
    instance_by_id = _Loader(_by_id(Instance))
    subscription_by_id = _Loader(_by_id(Subscription))
    plan_by_id = _Loader(_by_id(Plan))
    price_by_id = _Loader(_by_id(Price))
    add_on_by_id = _Loader(_by_id(AddOn))
    add_on_price_by_id = _Loader(_by_id(AddOnPrice))
    prices_by_plan = _Loader(_prices(Price))
    prices_by_add_on = _Loader(_prices(AddOnPrice))
    namespaces_by_customer = _Loader(_grouped(Namespace, Namespace.customer_id))
    instances_by_customer = _Loader(_grouped(Instance, Instance.customer_id))
    subscription_pages_by_customer = _Loader(_pages(Subscription, Subscription.customer_id))
    subscription_count_by_customer = _Loader(_counts(Subscription, Subscription.customer_id))
    active_subscription_by_namespace = _Loader(_active_subscription(Subscription.namespace_id))
    active_subscription_by_instance = _Loader(_active_subscription(Subscription.instance_id))
    user_by_id = _Loader(_by_id(GitlabUser))
    memberships_by_namespace_user = _Loader(reaching_memberships)
    invoice_by_id = _Loader(_by_id(Invoice))
    lines_by_invoice = _Loader(lines_by_invoice)
    payments_by_invoice = _Loader(payments_by_invoice)
    invoice_pages_by_customer = _Loader(_pages(Invoice, Invoice.customer_id))
    invoice_pages_by_subscription = _Loader(_pages(Invoice, Invoice.subscription_id))
    invoice_count_by_customer = _Loader(_counts(Invoice, Invoice.customer_id))
    invoice_count_by_subscription = _Loader(_counts(Invoice, Invoice.subscription_id))
    add_ons_by_subscription = _Loader(add_ons_by_subscription)
    license_pages_by_instance = _Loader(_pages(License, License.instance_id))
    license_count_by_instance = _Loader(_counts(License, License.instance_id))
    license_by_id = _Loader(_by_id(License))
    sync_report_pages_by_instance = _Loader(_pages(SyncReport, SyncReport.instance_id))
    sync_report_count_by_instance = _Loader(_counts(SyncReport, SyncReport.instance_id))
    sync_report_by_id = _Loader(_by_id(SyncReport))
    user_statistics_history_by_instance = _Loader(_statistics_history)


async def required(loader: DataLoader[K, V | None], key: K | None) -> V:
    """The row a non-null foreign key points at; its absence is a broken database, not a user
    error, so it surfaces as an unexpected (masked) error."""
    if key is None:
        raise LookupError("required reference is null")
    row = await loader.load(key)
    if row is None:
        raise LookupError(f"dangling reference to {key!r}")
    return row
