"""The "adding users will cost" warning for a self-managed instance."""

from __future__ import annotations

from typing import Annotated, TypeAlias

import strawberry

from billing.errors import BillingError
from billing.instance_preview import InstanceRole as DomainInstanceRole
from billing.instance_preview import UsersChangePreview
from resolvers import instance_preview
from schema.base import Info
from schema.errors import InvalidInput, LicenseRefused, user_error
from schema.invoices import ChargeQuote

strawberry.enum(DomainInstanceRole, description="The highest role of the users to add.")
InstanceRole: TypeAlias = DomainInstanceRole

ADD = strawberry.argument(description="How many users to add (0 to 10,000,000).")
ROLE = strawberry.argument(
    description="Their highest role: Minimal Access never takes a seat, Guest none on Ultimate."
)


@strawberry.type(
    description="What adding users to an instance would do to seats and charges. Asking "
    "writes nothing; an offline instance computes the same from its license."
)
class InstanceUsersChangePreview:
    billable_now: int = strawberry.field(description="Billable users as last reported.")
    new_billable_count: int = strawberry.field(description="Billable users after the change.")
    seats: int = strawberry.field(description="Seats paid for.")
    max_seats_used: int = strawberry.field(description="The term's highest count so far.")
    seats_covered: int = strawberry.field(
        description="max(seats, maxSeatsUsed): billable users up to this many cost nothing more."
    )
    new_seats_owed: int = strawberry.field(description="Seats over seatsCovered: the ones charged.")
    will_incur_charge: bool = strawberry.field(
        description="Whether the owed seats will be charged (then `charge` says how much and when)."
    )
    charge: ChargeQuote | None = strawberry.field(
        description="What the owed seats will be charged and when: at the next quarterly "
        "reconciliation (its fraction of the year), or at the true-up on the renewal date. "
        "Null when nothing will be charged for them in this term."
    )
    buy_now: ChargeQuote | None = strawberry.field(
        description="What buying the owed seats today would cost (subscriptionAddSeats)."
    )

    @classmethod
    def of(cls, preview: UsersChangePreview) -> InstanceUsersChangePreview:
        charge = preview.charge
        due = charge.due if charge else None
        buy_now = charge.buy_now if charge else None
        return cls(
            billable_now=preview.billable_now,
            new_billable_count=preview.billable_after,
            seats=preview.seats,
            max_seats_used=charge.peak if charge else 0,
            seats_covered=charge.covered if charge else 0,
            new_seats_owed=charge.new_seats_owed if charge else 0,
            will_incur_charge=due is not None,
            charge=ChargeQuote.of(due.on, due.line) if due else None,
            buy_now=ChargeQuote.of(buy_now.on, buy_now.line) if buy_now else None,
        )


InstancePreviewUsersChangeResult = Annotated[
    InstanceUsersChangePreview | LicenseRefused | InvalidInput,
    strawberry.union("InstancePreviewUsersChangeResult", description="The preview, or why not."),
]


@strawberry.type
class InstancePreviewQuery:
    @strawberry.field(
        description="An instance asks what adding users would cost: no token, its current "
        "license authenticates it (as in licenseSync). Rate-limited like syncs. Writes nothing."
    )
    async def instance_preview_users_change(
        self,
        info: Info,
        license: Annotated[str, strawberry.argument(description="The instance's license.")],
        add: Annotated[int, ADD],
        role: Annotated[InstanceRole, ROLE],
    ) -> InstancePreviewUsersChangeResult:
        try:
            preview = await instance_preview.preview_by_license(
                info.context, license.strip(), add=add, role=role
            )
        except BillingError as error:
            return user_error(error)  # type: ignore[return-value]
        return InstanceUsersChangePreview.of(preview)
