"""Aggregates for analysts (and admins), computed in SQL."""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Annotated, Any

import strawberry

from billing.money import Money as DomainMoney
from resolvers import analytics
from schema.base import Info, Money


@strawberry.enum(description="How revenue is grouped.")
class RevenueGroup(Enum):
    MONTH = "month"
    PLAN = "plan"
    CURRENCY = "currency"


@strawberry.enum(description="How subscriptions are grouped.")
class SubscriptionGroup(Enum):
    PLAN = "plan"


@strawberry.type(description="Revenue of one group in one currency (currencies never mix).")
class RevenueRow:
    group: str = strawberry.field(description='The month ("2026-03"), plan code or currency code.')
    invoices: int = strawberry.field(description="Invoices issued (void ones left out).")
    invoiced: Money = strawberry.field(description="Their totals.")
    paid: Money = strawberry.field(description="What was paid of them so far.")


@strawberry.type(description="Active subscriptions of one plan.")
class SubscriptionsRow:
    plan: str = strawberry.field(description="Plan code.")
    subscriptions: int = strawberry.field(description="Active subscriptions.")
    trials: int = strawberry.field(description="Of which trials.")
    seats: int = strawberry.field(description="Seats they pay for.")


@strawberry.type(description="Seats paid against seats in use, for one plan.")
class UtilizationRow:
    plan: str = strawberry.field(description="Plan code.")
    seats_paid: int = strawberry.field(description="Seats of the active subscriptions counted.")
    seats_in_use: int = strawberry.field(description="Billable users of the same subscriptions.")
    utilization: str | None = strawberry.field(
        description='seatsInUse / seatsPaid as an exact decimal, e.g. "0.8750"; null without seats.'
    )


@strawberry.type(description="Renewals and churn in a period.")
class RenewalsSummary:
    renewed: int = strawberry.field(description="Terms renewed (by customers or the job).")
    churned: int = strawberry.field(description="Subscriptions that expired.")
    true_ups: list[Money] = strawberry.field(
        description="True-up charged on invoices issued in the period, per currency."
    )


def _money(amount: int, currency: str) -> Money:
    return Money.of(DomainMoney(int(amount), currency))


_FROM = strawberry.argument(name="from", description="First day (issue or event date).")
_TO = strawberry.argument(description="Last day, included.")


@strawberry.type(description="Read-only aggregates for analysts and admins, computed in SQL.")
class Analytics:
    @strawberry.field(description="Invoiced and paid amounts, grouped, per currency.")
    async def revenue(
        self,
        info: Info,
        from_: Annotated[datetime.date, _FROM],
        to: Annotated[datetime.date, _TO],
        group_by: Annotated[
            RevenueGroup, strawberry.argument(description="MONTH, PLAN or CURRENCY.")
        ],
    ) -> list[RevenueRow]:
        rows = await analytics.revenue(info.context, first=from_, last=to, group_by=group_by.value)
        return [
            RevenueRow(
                group=row["grp"],
                invoices=row["invoices"],
                invoiced=_money(row["invoiced"], row["currency"]),
                paid=_money(row["paid"], row["currency"]),
            )
            for row in rows
        ]

    @strawberry.field(description="Active subscriptions now, per plan.")
    async def active_subscriptions(
        self,
        info: Info,
        group_by: Annotated[
            SubscriptionGroup, strawberry.argument(description="PLAN.")
        ] = SubscriptionGroup.PLAN,
    ) -> list[SubscriptionsRow]:
        return [
            SubscriptionsRow(**row) for row in await analytics.active_subscriptions(info.context)
        ]

    @strawberry.field(description="Seats paid against seats in use now, per plan.")
    async def seat_utilization(self, info: Info) -> list[UtilizationRow]:
        return [_utilization(row) for row in await analytics.seat_utilization(info.context)]

    @strawberry.field(description="Renewed, churned and true-up amounts in a period.")
    async def renewals(
        self,
        info: Info,
        from_: Annotated[datetime.date, _FROM],
        to: Annotated[datetime.date, _TO],
    ) -> RenewalsSummary:
        summary = await analytics.renewals(info.context, first=from_, last=to)
        return RenewalsSummary(
            renewed=summary["renewed"],
            churned=summary["churned"],
            true_ups=[_money(t["amount"], t["currency"]) for t in summary["true_ups"]],
        )


def _utilization(row: dict[str, Any]) -> UtilizationRow:
    paid, used = int(row["paid"]), int(row["in_use"])
    ratio = (
        (Decimal(used) / Decimal(paid)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        if paid
        else None
    )
    return UtilizationRow(
        plan=row["plan"],
        seats_paid=paid,
        seats_in_use=used,
        utilization=str(ratio) if ratio is not None else None,
    )


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(description="Aggregates for analysts and admins.")
    def analytics(self, info: Info) -> Analytics:
        analytics.require_analyst(info.context)
        return Analytics()
