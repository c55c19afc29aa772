"""Catalog types: plans, add-ons, prices, and quotes."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Annotated, Self

import strawberry
from strawberry import relay

from billing import quotes as domain
from billing.errors import BillingError
from billing.money import Money as DomainMoney
from db import tables
from resolvers import catalog
from schema.base import BillingPeriod, Info, Money, resolve_nodes_by_id
from schema.errors import InvalidInput, NotFound, PriceNotFound, user_error
from schema.invoices import InvoiceLineKind


@strawberry.type
class _PriceFields:
    """Fields shared by plan and add-on prices (not a GraphQL type of its own)."""

    id: relay.NodeID[int]
    currency: str = strawberry.field(description="ISO 4217 currency code.")
    billing_period: BillingPeriod = strawberry.field(description="The period one unit is paid for.")
    valid_from: datetime.date = strawberry.field(
        description="The first day this price applies; it holds until a newer one starts."
    )
    unit_minor_units: strawberry.Private[int]

    @strawberry.field(description="The price of one unit for one billing period.")
    def unit_amount(self) -> Money:
        return Money.of(DomainMoney(self.unit_minor_units, self.currency))

    @classmethod
    def of(cls, row: tables.Price | tables.AddOnPrice) -> Self:
        assert row.id is not None
        return cls(
            id=row.id,
            currency=row.currency,
            billing_period=BillingPeriod(row.billing_period),
            valid_from=row.valid_from,
            unit_minor_units=row.unit_amount,
        )


@strawberry.type(
    description="The price of one seat of a plan for one billing period, from a date on."
)
class Price(_PriceFields, relay.Node):
    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Price | None]:
        return await resolve_nodes_by_id(
            node_ids, lambda ids: catalog.get_prices(info.context, ids), cls.of
        )


@strawberry.type(
    description="The price of one unit of an add-on for one billing period, from a date on."
)
class AddOnPrice(_PriceFields, relay.Node):
    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[AddOnPrice | None]:
        return await resolve_nodes_by_id(
            node_ids, lambda ids: catalog.get_add_on_prices(info.context, ids), cls.of
        )


_PRICES_ON = strawberry.argument(description="The date whose prices to show; today by default.")
_PRICES_CURRENCY = strawberry.argument(
    description="Only prices in this ISO 4217 currency; by default the one the list was asked in."
)


@strawberry.type(description="A subscription plan: free, premium or ultimate.")
class Plan(relay.Node):
    id: relay.NodeID[int]
    code: str = strawberry.field(description="Stable code: free, premium or ultimate.")
    name: str = strawberry.field(description="Display name.")
    excludes_guests: bool = strawberry.field(
        description="Whether members with the Guest role take no seat on this plan."
    )
    position: int = strawberry.field(description="Order in which to show plans, lowest first.")
    default_currency: strawberry.Private[str | None]

    @strawberry.field(description="Prices of one seat in force on a date, per currency and period.")
    async def prices(
        self,
        info: Info,
        currency: Annotated[str | None, _PRICES_CURRENCY] = None,
        on: Annotated[datetime.date | None, _PRICES_ON] = None,
    ) -> list[Price]:
        rows = await catalog.plan_prices(
            info.context, self.id, on=on, currency=currency or self.default_currency
        )
        return [Price.of(row) for row in rows]

    @classmethod
    def of(cls, row: tables.Plan, currency: str | None = None) -> Plan:
        assert row.id is not None
        return cls(
            id=row.id,
            code=row.code,
            name=row.name,
            excludes_guests=row.excludes_guests,
            position=row.position,
            default_currency=currency,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Plan | None]:
        return await resolve_nodes_by_id(
            node_ids, lambda ids: catalog.get_plans(info.context, ids), cls.of
        )


@strawberry.type(description="Something bought on top of a plan, such as GitLab Duo seats.")
class AddOn(relay.Node):
    id: relay.NodeID[int]
    code: str = strawberry.field(description="Stable code used in quotes and purchases.")
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="What the add-on gives.")
    default_currency: strawberry.Private[str | None]

    @strawberry.field(description="Prices of one unit in force on a date, per currency and period.")
    async def prices(
        self,
        info: Info,
        currency: Annotated[str | None, _PRICES_CURRENCY] = None,
        on: Annotated[datetime.date | None, _PRICES_ON] = None,
    ) -> list[AddOnPrice]:
        rows = await catalog.add_on_prices(
            info.context, self.id, on=on, currency=currency or self.default_currency
        )
        return [AddOnPrice.of(row) for row in rows]

    @classmethod
    def of(cls, row: tables.AddOn, currency: str | None = None) -> AddOn:
        assert row.id is not None
        return cls(
            id=row.id,
            code=row.code,
            name=row.name,
            description=row.description,
            default_currency=currency,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[AddOn | None]:
        return await resolve_nodes_by_id(
            node_ids, lambda ids: catalog.get_add_ons(info.context, ids), cls.of
        )


@strawberry.input(description="An add-on to include in a quote or purchase.")
class AddOnQuantityInput:
    code: str = strawberry.field(description="The add-on's code, e.g. duo_pro.")
    quantity: int = strawberry.field(description="How many units (seats) of it, 1 to 100000.")


@strawberry.input(description="What to price: a plan, seats, period, currency and add-ons.")
class QuoteInput:
    plan: str = strawberry.field(description="Plan code: premium or ultimate (Free is not sold).")
    seats: int = strawberry.field(description="Number of seats, 1 to 100000.")
    currency: str = strawberry.field(description="ISO 4217 currency code, e.g. USD.")
    billing_period: BillingPeriod = strawberry.field(
        default=BillingPeriod.ANNUAL, description="Length of the term; annual by default."
    )
    add_ons: list[AddOnQuantityInput] = strawberry.field(
        default_factory=list, description="Add-ons to include, each at most once."
    )
    start_date: datetime.date | None = strawberry.field(
        default=None, description="First day of the term; today by default, never in the past."
    )


@strawberry.type(description="One charge: quantity times unit price over a service period.")
class QuoteLine:
    kind: InvoiceLineKind = strawberry.field(
        description="What the line charges for: PURCHASE or ADD_ON in a quote."
    )
    description: str = strawberry.field(description="What is bought, for people.")
    quantity: int = strawberry.field(description="How many units.")
    unit_price: Money = strawberry.field(description="Price of one unit for the period.")
    amount: Money = strawberry.field(description="quantity x unit price, exact.")
    period_start: datetime.date = strawberry.field(description="First day of the service period.")
    period_end: datetime.date = strawberry.field(
        description="Day after the last day of the service period (exclusive end)."
    )


@strawberry.type(description="What a purchase would cost. Asking for a quote writes nothing.")
class Quote:
    currency: str = strawberry.field(description="ISO 4217 currency code of every amount.")
    billing_period: BillingPeriod = strawberry.field(description="Length of the term.")
    start_date: datetime.date = strawberry.field(description="First day of the term.")
    end_date: datetime.date = strawberry.field(description="Day after the term's last day.")
    lines: list[QuoteLine] = strawberry.field(description="The charges, one per item bought.")
    total: Money = strawberry.field(description="Sum of the lines' amounts.")

    @classmethod
    def of(cls, quote: domain.Quote) -> Quote:
        return cls(
            currency=quote.currency,
            billing_period=BillingPeriod(quote.billing_period),
            start_date=quote.start_date,
            end_date=quote.end_date,
            lines=[
                QuoteLine(
                    kind=line.kind,
                    description=line.description,
                    quantity=line.quantity,
                    unit_price=Money.of(line.unit_price),
                    amount=Money.of(line.amount),
                    period_start=line.period_start,
                    period_end=line.period_end,
                )
                for line in quote.lines
            ],
            total=Money.of(quote.total),
        )


QuoteResult = Annotated[
    Quote | InvalidInput | NotFound | PriceNotFound,
    strawberry.union("QuoteResult", description="A quote, or why it cannot be given."),
]


@strawberry.type
class CatalogQuery:
    @strawberry.field(description="Plans in display order. Public.")
    async def plans(
        self,
        info: Info,
        currency: Annotated[
            str | None, strawberry.argument(description="Show prices in this currency only.")
        ] = None,
    ) -> list[Plan]:
        return [Plan.of(row, currency) for row in await catalog.list_plans(info.context)]

    @strawberry.field(name="addOns", description="Add-ons that can be bought with a plan. Public.")
    async def add_ons(
        self,
        info: Info,
        currency: Annotated[
            str | None, strawberry.argument(description="Show prices in this currency only.")
        ] = None,
    ) -> list[AddOn]:
        return [AddOn.of(row, currency) for row in await catalog.list_add_ons(info.context)]

    @strawberry.field(description="Price a purchase without buying anything. Public.")
    async def quote(
        self,
        info: Info,
        input: Annotated[QuoteInput, strawberry.argument(description="What to price.")],
    ) -> QuoteResult:
        command = catalog.QuoteCommand(
            plan_code=input.plan,
            seats=input.seats,
            billing_period=input.billing_period,
            currency=input.currency,
            add_ons=tuple(domain.AddOnRequest(a.code, a.quantity) for a in input.add_ons),
            start_date=input.start_date,
        )
        try:
            return Quote.of(await catalog.quote_purchase(info.context, command))
        except BillingError as error:
            return user_error(error)  # type: ignore[return-value]
