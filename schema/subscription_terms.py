"""What a subscription and its preview snapshot both show: its terms as stored, and the
plan and prices they point at."""

from __future__ import annotations

import datetime
from typing import Any, TypeAlias

import strawberry

from billing.subscriptions import SubscriptionStatus as DomainStatus
from db import tables
from resolvers import catalog
from schema.base import Info
from schema.catalog import AddOn, Plan, Price
from schema.licenses import LicenseType

strawberry.enum(DomainStatus, description="Where a subscription is in its life.")
SubscriptionStatus: TypeAlias = DomainStatus


@strawberry.type(description="Units of an add-on on a subscription.")
class SubscriptionAddOn:
    quantity: int = strawberry.field(description="Units paid for.")
    row: strawberry.Private[tables.SubscriptionAddOn]

    @strawberry.field(description="The add-on.")
    async def add_on(self, info: Info) -> AddOn:
        return AddOn.of(await catalog.add_on_of(info.context, self.row))


@strawberry.type(description="A next term bought in advance.")
class ScheduledRenewal:
    seats: int = strawberry.field(description="Seats of the next term.")
    price: Price = strawberry.field(description="The price of one seat (plan and period).")


@strawberry.type(description="A subscription's terms.")
class SubscriptionTerms:
    """The fields `Subscription` and `SubscriptionSnapshot` share (not a GraphQL type of
    its own)."""

    seats: int = strawberry.field(description="Seats paid for in the current term.")
    start_date: datetime.date = strawberry.field(description="First day of the current term.")
    end_date: datetime.date = strawberry.field(
        description="Day after the term's last day (the term is [startDate, endDate))."
    )
    status: SubscriptionStatus = strawberry.field(
        description="Where the subscription is in its life."
    )
    auto_renew: bool = strawberry.field(
        description="Whether it renews itself at the end of the term."
    )
    trial: bool = strawberry.field(description="Whether this is a free trial.")
    cancelled_on: datetime.date | None = strawberry.field(
        description="When it was cancelled; it stays active to endDate, then expires."
    )
    quarterly_reconciliation: bool = strawberry.field(
        description="Whether seats used above those paid are charged each quarter (else at "
        "renewal, as a true-up)."
    )
    quarters_reconciled: int = strawberry.field(
        description="Quarters of the current term reconciled so far (0 to 3)."
    )
    license_type: LicenseType = strawberry.field(
        description="For instances: licenses delivered by sync (ONLINE) or as files (OFFLINE)."
    )
    row: strawberry.Private[tables.Subscription]

    @strawberry.field(description="The plan subscribed to.")
    async def plan(self, info: Info) -> Plan:
        return Plan.of(await catalog.subscription_plan(info.context, self.row))

    @strawberry.field(description="The catalog price pinned for this term (price of one seat).")
    async def price(self, info: Info) -> Price:
        return Price.of(await catalog.subscription_price(info.context, self.row))

    @strawberry.field(description="A lower plan that takes over at the renewal, if one is set.")
    async def pending_plan(self, info: Info) -> Plan | None:
        plan = await catalog.get_plan(info.context, self.row.pending_plan_id)
        return Plan.of(plan) if plan else None

    @strawberry.field(description="The next term when it is already bought: it starts on endDate.")
    async def renewal(self, info: Info) -> ScheduledRenewal | None:
        if self.row.renewal_seats is None or self.row.renewal_price_id is None:
            return None
        price = await catalog.get_price(info.context, self.row.renewal_price_id)
        assert price is not None
        return ScheduledRenewal(seats=self.row.renewal_seats, price=Price.of(price))


def terms_of(row: tables.Subscription) -> dict[str, Any]:
    """The `SubscriptionTerms` fields of a stored subscription."""
    return {
        "seats": row.seats,
        "start_date": row.start_date,
        "end_date": row.end_date,
        "status": SubscriptionStatus(row.status),
        "auto_renew": row.auto_renew,
        "trial": row.trial,
        "cancelled_on": row.cancelled_on,
        "quarterly_reconciliation": row.quarterly_reconciliation,
        "quarters_reconciled": row.quarters_reconciled,
        "license_type": LicenseType(row.license_type),
        "row": row,
    }
