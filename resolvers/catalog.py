"""Catalog use cases: plans and add-ons with their prices, and quotes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from billing.charges import Item
from billing.errors import ErrorCode, InvalidInputError, NotFoundError, PriceNotFoundError
from billing.money import Money, currency_exponent
from billing.quotes import AddOnRequest, Quote, price_purchase, validate_purchase
from billing.subscriptions import FREE_PLAN
from billing.terms import BillingPeriod
from db.catalog import P, add_ons_by_code, all_add_ons, all_plans, plan_by_code, prices_in_force
from db.tables import AddOn, AddOnPrice, Plan, Price, Subscription, SubscriptionAddOn
from resolvers.context import Context
from resolvers.loaders import PricesKey, required
from resolvers.rates import admit_client


async def list_plans(context: Context) -> list[Plan]:
    async with context.db() as session:
        return await all_plans(session)


async def list_add_ons(context: Context) -> list[AddOn]:
    async with context.db() as session:
        return await all_add_ons(session)


@dataclass(frozen=True)
class QuoteCommand:
    plan_code: str
    seats: int
    billing_period: BillingPeriod
    currency: str
    add_ons: Sequence[AddOnRequest] = field(default_factory=tuple)
    start_date: date | None = None


async def quote_purchase(context: Context, command: QuoteCommand) -> Quote:
    """What buying `command` would cost on its start date (today by default). Writes nothing."""
    admit_client(context)
    currency_exponent(command.currency)
    today = context.clock.today()
    start = command.start_date or today
    validate_purchase(seats=command.seats, add_ons=command.add_ons, start_date=start, today=today)
    async with context.db() as session:
        order = await price_order(
            session,
            plan_code=command.plan_code,
            seats=command.seats,
            add_ons=command.add_ons,
            currency=command.currency,
            billing_period=command.billing_period,
            on=start,
            price_field="currency",
        )
    return order.quote(start, command.billing_period)


@dataclass(frozen=True)
class PricedOrder:
    """A plan's seats and add-ons with the catalog prices in force on the day."""

    plan: Plan
    price: Price
    seat: Item
    add_ons: list[tuple[AddOn, AddOnPrice, Item]]

    def quote(self, start: date, billing_period: BillingPeriod) -> Quote:
        return price_purchase(
            plan=self.seat,
            add_ons=[item for _, _, item in self.add_ons],
            start_date=start,
            billing_period=billing_period,
        )


async def price_order(
    session: AsyncSession,
    *,
    plan_code: str,
    seats: int,
    add_ons: Sequence[AddOnRequest],
    currency: str,
    billing_period: BillingPeriod,
    on: date,
    price_field: str,
) -> PricedOrder:
    """Look up the plan and add-ons by code and their prices on `on`; PLAN_NOT_FOUND,
    ADD_ON_NOT_FOUND (field ``addOns.<i>.code``) or PRICE_NOT_FOUND (`price_field` for the
    plan) when the catalog cannot sell them."""
    plan = await plan_by_code(session, plan_code)
    if plan is None:
        raise NotFoundError(ErrorCode.PLAN_NOT_FOUND, f"There is no plan {plan_code!r}.", "plan")
    if plan.code == FREE_PLAN:
        raise InvalidInputError(
            ErrorCode.PLAN_NOT_SOLD,
            f"{plan.name} is not bought: what has no paid subscription is on {plan.name}.",
            "plan",
        )
    price = await price_in_force(
        session,
        Price,
        plan,
        currency=currency,
        billing_period=billing_period,
        on=on,
        field=price_field,
    )
    found = await add_ons_by_code(session, [a.code for a in add_ons])
    priced = []
    for index, request in enumerate(add_ons):
        field = f"addOns.{index}.code"
        add_on = found.get(request.code)
        if add_on is None:
            raise NotFoundError(
                ErrorCode.ADD_ON_NOT_FOUND, f"There is no add-on {request.code!r}.", field
            )
        unit = await price_in_force(
            session,
            AddOnPrice,
            add_on,
            currency=currency,
            billing_period=billing_period,
            on=on,
            field=field,
        )
        item = Item(add_on.name, request.quantity, Money(unit.unit_amount, currency))
        priced.append((add_on, unit, item))
    seat = Item(plan.name, seats, Money(price.unit_amount, currency))
    return PricedOrder(plan, price, seat, priced)


async def price_in_force(
    session: AsyncSession,
    model: type[P],
    owner: Plan | AddOn,
    *,
    currency: str,
    billing_period: BillingPeriod,
    on: date,
    field: str,
) -> P:
    """The catalog price of one unit of `owner` in force on `on`, or PRICE_NOT_FOUND."""
    assert owner.id is not None
    [prices] = await prices_in_force(
        session, model, [owner.id], on=on, currency=currency, billing_period=billing_period.value
    )
    if not prices:
        raise PriceNotFoundError(
            ErrorCode.PRICE_NOT_FOUND,
            f"{owner.name} has no {billing_period.value} price in {currency} on {on.isoformat()}.",
            field,
        )
    return prices[0]


async def get_plans(context: Context, plan_ids: list[int]) -> list[Plan | None]:
    return await context.loaders.plan_by_id.load_many(plan_ids)


async def get_prices(context: Context, price_ids: list[int]) -> list[Price | None]:
    return await context.loaders.price_by_id.load_many(price_ids)


async def get_add_ons(context: Context, add_on_ids: list[int]) -> list[AddOn | None]:
    return await context.loaders.add_on_by_id.load_many(add_on_ids)


async def get_add_on_prices(context: Context, price_ids: list[int]) -> list[AddOnPrice | None]:
    return await context.loaders.add_on_price_by_id.load_many(price_ids)


async def subscription_plan(context: Context, subscription: Subscription) -> Plan:
    return await required(context.loaders.plan_by_id, subscription.plan_id)


async def subscription_price(context: Context, subscription: Subscription) -> Price:
    return await required(context.loaders.price_by_id, subscription.price_id)


async def plan_prices(
    context: Context, plan_id: int, *, on: date | None, currency: str | None
) -> list[Price]:
    """The plan's prices in force on `on` (today by default), optionally in one currency."""
    key = PricesKey(plan_id, on or context.clock.today(), currency)
    return await context.loaders.prices_by_plan.load(key)


async def add_on_prices(
    context: Context, add_on_id: int, *, on: date | None, currency: str | None
) -> list[AddOnPrice]:
    key = PricesKey(add_on_id, on or context.clock.today(), currency)
    return await context.loaders.prices_by_add_on.load(key)


async def get_plan(context: Context, plan_id: int | None) -> Plan | None:
    return await context.loaders.plan_by_id.load(plan_id) if plan_id is not None else None


async def get_price(context: Context, price_id: int) -> Price | None:
    return await context.loaders.price_by_id.load(price_id)


async def subscription_add_ons(context: Context, subscription_id: int) -> list[SubscriptionAddOn]:
    return await context.loaders.add_ons_by_subscription.load(subscription_id)


async def add_on_of(context: Context, row: SubscriptionAddOn) -> AddOn:
    return await required(context.loaders.add_on_by_id, row.add_on_id)
