"""What a subscription's end date will charge: the projected renewal, or a cancelled term's
true-up. Projections have no ids: nothing here is stored until the daily job issues it."""

from __future__ import annotations

import datetime

import strawberry

from billing.charges import Charge, ChargeLine
from billing.money import Money as DomainMoney
from resolvers.accounts import ProjectedRenewal
from resolvers.changes import ChargeAtEnd as DomainChargeAtEnd
from schema.base import BillingPeriod, Money
from schema.catalog import Plan
from schema.invoices import ChargedLine, charged_line_fields


@strawberry.type(description="One line of a charge still to come, with the arithmetic behind it.")
class ProjectedLine(ChargedLine):
    @classmethod
    def of(cls, line: ChargeLine) -> ProjectedLine:
        return cls(**charged_line_fields(line))


def _lines(charge: Charge) -> list[ProjectedLine]:
    return [ProjectedLine.of(line) for line in charge.lines]


@strawberry.type(
    description="What the end date of a term that will not renew charges, as things stand "
    "now: the seats used above those paid (the true-up), at the term's price."
)
class ChargeAtEnd:
    date: datetime.date = strawberry.field(description="The day it is invoiced: the end date.")
    lines: list[ProjectedLine] = strawberry.field(description="Empty when nothing is owed.")
    total: Money = strawberry.field(description="Sum of the lines; 0.00 when nothing is owed.")

    @classmethod
    def of(cls, due: DomainChargeAtEnd) -> ChargeAtEnd:
        return cls(date=due.on, lines=_lines(due.charge), total=Money.of(due.charge.total))


@strawberry.type(
    description="The renewal the daily job will make on the end date, as things stand now, "
    "priced by the same code: the seats paid for raised to the users who take a seat under "
    "the next term's plan (never fewer), at the catalog price in force that day, and the "
    "ending term's true-up."
)
class UpcomingRenewal:
    date: datetime.date = strawberry.field(
        description="The day it renews and is invoiced: the current endDate."
    )
    end_date: datetime.date = strawberry.field(description="Day after the new term's last day.")
    billing_period: BillingPeriod = strawberry.field(description="Length of the new term.")
    plan: Plan = strawberry.field(description="The new term's plan (a pending downgrade applies).")
    seats: int = strawberry.field(description="Seats of the new term.")
    unit_price: Money = strawberry.field(description="Price of one seat for the new term.")
    bought: bool = strawberry.field(
        description="True when the renewal was bought in advance (subscriptionRenew): its "
        "invoice was issued then, and the lines hold only the true-up."
    )
    true_up: Money = strawberry.field(
        description="The ending term's seats owed at its price; 0.00 when none are owed."
    )
    lines: list[ProjectedLine] = strawberry.field(
        description="The invoice of the end date: true-up, renewal, add-ons."
    )
    total: Money = strawberry.field(description="Sum of the lines.")

    @classmethod
    def of(cls, projected: ProjectedRenewal) -> UpcomingRenewal:
        priced = projected.renewal
        price = priced.price
        true_up = priced.true_up.total
        return cls(
            date=projected.on,
            end_date=priced.renewal.lines[0].period_end,
            billing_period=BillingPeriod(price.billing_period),
            plan=Plan.of(projected.plan, price.currency),
            seats=priced.next_term.seats,
            unit_price=Money.of(DomainMoney(price.unit_amount, price.currency)),
            bought=priced.bought,
            true_up=Money.of(true_up),
            lines=_lines(priced.charge),
            total=Money.of(priced.charge.total),
        )
