"""Customers, namespaces, instances and subscriptions."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Annotated, TypeVar

import strawberry
from strawberry import relay

from billing.errors import BillingError, InvalidInputError
from db import tables
from resolvers import accounts, catalog, instance_preview, member_preview, members
from resolvers import invoices as billing_records
from resolvers import usage as usage_
from resolvers.errors import BadUserInput
from schema.base import (
    Connection,
    Info,
    keyset,
    keyset_connection,
    page_size,
    resolve_nodes_by_id,
    visible_nodes,
)
from schema.errors import user_error
from schema.instance_preview import ADD, ROLE, InstanceRole, InstanceUsersChangePreview
from schema.invoices import Invoice
from schema.licenses import License, SyncReport
from schema.lookahead import selects
from schema.members import (
    BillableMemberConnection,
    BillableMemberSort,
    MemberRole,
    MembersChangePreview,
    MemberSeat,
    PreviewMembersChangeResult,
    SeatUsage,
    User,
    UserStatistics,
    billable_member_connection,
    decode_member_cursor,
    membership_details,
)
from schema.renewals import UpcomingRenewal
from schema.subscription_terms import (
    SubscriptionAddOn,
    SubscriptionTerms,
    terms_of,
)
from schema.usage import Granularity, Metric, UsageReport
from schema.user_statistics import InstanceUserStatistics, InstanceUserStatisticsReport

T = TypeVar("T")

_FIRST = strawberry.argument(description="Page size, 0 to 100; 20 by default.")
_AFTER = strawberry.argument(description="Return items after this cursor (a pageInfo.endCursor).")
_LAST = strawberry.argument(
    description="Page size counted from the end, 0 to 100; pass instead of `first` to page"
    " backwards."
)
_BEFORE = strawberry.argument(
    description="Return items before this cursor (a pageInfo.startCursor)."
)


@strawberry.type(
    description="A paying organisation: the owner of namespaces, instances and subscriptions."
)
class Customer(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Company or person name.")
    billing_email: str = strawberry.field(description="Where invoices are sent.")
    currency: str = strawberry.field(description="ISO 4217 currency the customer is billed in.")

    @strawberry.field(description="GitLab.com top-level groups this customer owns.")
    async def namespaces(self, info: Info) -> list[Namespace]:
        rows = await accounts.customer_namespaces(info.context, self.id)
        return [Namespace.of(row) for row in rows]

    @strawberry.field(description="Self-managed installations this customer owns.")
    async def instances(self, info: Info) -> list[Instance]:
        rows = await accounts.customer_instances(info.context, self.id)
        return [Instance.of(row) for row in rows]

    @strawberry.field(description="The customer's subscriptions, oldest first.")
    async def subscriptions(
        self,
        info: Info,
        first: Annotated[int | None, _FIRST] = None,
        after: Annotated[str | None, _AFTER] = None,
        last: Annotated[int | None, _LAST] = None,
        before: Annotated[str | None, _BEFORE] = None,
    ) -> Connection[Subscription]:
        page = keyset("Subscription", first, after, last, before)
        rows = await accounts.customer_subscriptions(info.context, self.id, page=page)
        return keyset_connection(
            rows,
            page,
            Subscription.of,
            "Subscription",
            lambda: accounts.count_customer_subscriptions(info.context, self.id),
        )

    @strawberry.field(description="The customer's invoices, oldest first.")
    async def invoices(
        self,
        info: Info,
        first: Annotated[int | None, _FIRST] = None,
        after: Annotated[str | None, _AFTER] = None,
        last: Annotated[int | None, _LAST] = None,
        before: Annotated[str | None, _BEFORE] = None,
    ) -> Connection[Invoice]:
        page = keyset("Invoice", first, after, last, before)
        rows = await billing_records.customer_invoices(info.context, self.id, page=page)
        return keyset_connection(
            rows,
            page,
            Invoice.of,
            "Invoice",
            lambda: billing_records.count_customer_invoices(info.context, self.id),
        )

    @classmethod
    def of(cls, row: tables.Customer) -> Customer:
        assert row.id is not None
        return cls(id=row.id, name=row.name, billing_email=row.billing_email, currency=row.currency)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Customer | None]:
        return await resolve_nodes_by_id(
            node_ids, visible_nodes(lambda i: accounts.get_customer(info.context, i)), cls.of
        )


@strawberry.type(description="A GitLab.com top-level group.")
class Namespace(relay.Node):
    id: relay.NodeID[int]
    path: str = strawberry.field(description="Full path, e.g. gitlab-org.")
    name: str = strawberry.field(description="Display name.")
    customer_id: strawberry.Private[int | None]
    row: strawberry.Private[tables.Namespace]

    @strawberry.field(description="The owning customer; null when nobody pays for the group.")
    async def customer(self, info: Info) -> Customer | None:
        row = await accounts.customer_of(info.context, self.customer_id)
        return Customer.of(row) if row else None

    @strawberry.field(description="The current subscription: the active one, else the latest.")
    async def subscription(self, info: Info) -> Subscription | None:
        row = await accounts.namespace_subscription(info.context, self.id)
        return Subscription.of(row) if row else None

    @strawberry.field(description="Members who take a seat, a keyset page at a time.")
    async def billable_members(
        self,
        info: Info,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Only members whose username, name or email has this (at most"
                " 100 characters)."
            ),
        ] = None,
        sort: Annotated[
            BillableMemberSort, strawberry.argument(description="Order; LAST_JOINED by default.")
        ] = BillableMemberSort.LAST_JOINED,
        first: Annotated[int | None, _FIRST] = None,
        after: Annotated[str | None, _AFTER] = None,
    ) -> BillableMemberConnection:
        limit = page_size(first)
        rows = await members.billable_members(
            info.context,
            self.row,
            sort=sort,
            after=decode_member_cursor(sort, after),
            limit=limit + 1,
            search=search,
            with_users=selects(info, "edges", "node", "user"),
        )
        return billable_member_connection(rows, limit, sort, namespace=self.row, search=search)

    @strawberry.field(
        description="Whether this user (by username or GitLab user id: give one) takes a seat"
        " here, and every reason why not. Null for an unknown user and, for customers, for"
        " anyone without a membership here."
    )
    async def member(
        self,
        info: Info,
        username: Annotated[
            str | None, strawberry.argument(description="The user's username.")
        ] = None,
        user_id: Annotated[
            int | None, strawberry.argument(description="The user's GitLab.com user id.")
        ] = None,
    ) -> MemberSeat | None:
        seat = await members.explain_member(
            info.context, self.row, username=username, gitlab_id=user_id
        )
        if seat is None:
            return None
        return MemberSeat(
            user=User.of(seat.user),
            is_billable=seat.decision.billable,
            reasons=list(seat.decision.reasons),
            highest_role=seat.decision.highest_access_level,
            membership_type=seat.decision.membership_type,
            memberships=membership_details(
                seat.memberships,
                excludes_guests=seat.excludes_guests,
                today=info.context.clock.today(),
                user=seat.seat_user,
            ),
        )

    @strawberry.field(
        description="Would adding these people cost money? The new billable count, the seats"
        " that would become owed, what they will be charged and when, and what buying them now"
        " would cost. Writes nothing."
    )
    async def preview_members_change(
        self,
        info: Info,
        role: Annotated[MemberRole, strawberry.argument(description="The role they would get.")],
        add_usernames: Annotated[
            list[str] | None,
            strawberry.argument(
                description="Usernames to add. Unknown ones are refused, except for customers:"
                " any username without a membership here counts as a new user. At most 1000"
                " people, usernames and emails together."
            ),
        ] = None,
        add_emails: Annotated[
            list[str] | None,
            strawberry.argument(
                description="Emails to invite (at most 254 characters each); unknown ones are"
                " new users."
            ),
        ] = None,
    ) -> PreviewMembersChangeResult:
        try:
            preview = await member_preview.preview_members_change(
                info.context,
                self.row,
                usernames=add_usernames or [],
                emails=add_emails or [],
                role=role,
            )
        except BillingError as error:
            return user_error(error)  # type: ignore[return-value]
        return MembersChangePreview.of(preview)

    @strawberry.field(description="Billable users per day, from the daily snapshots.")
    async def seat_usage_history(
        self,
        info: Info,
        from_: Annotated[
            datetime.date, strawberry.argument(name="from", description="First day, inclusive.")
        ],
        to: Annotated[
            datetime.date,
            strawberry.argument(description="Last day, inclusive; at most 366 days in all."),
        ],
    ) -> list[SeatUsage]:
        rows = await members.seat_usage_history(info.context, self.row, first=from_, last=to)
        return [SeatUsage(date=row.day, billable_users=row.billable, peak=row.peak) for row in rows]

    @strawberry.field(
        description="Metered usage of one metric, totalled per day or month in SQL, with what "
        "the plan and add-ons include and the overage (per month)."
    )
    async def usage(
        self,
        info: Info,
        metric: Annotated[Metric, strawberry.argument(description="What to total.")],
        from_: Annotated[
            datetime.date, strawberry.argument(name="from", description="First day (UTC).")
        ],
        to: Annotated[
            datetime.date,
            strawberry.argument(
                description="Last day (UTC); at most 366 days (DAY) or 120 months (MONTH) in all."
            ),
        ],
        granularity: Annotated[
            Granularity, strawberry.argument(description="Per day or per month.")
        ] = Granularity.MONTH,
    ) -> UsageReport:
        report = await usage_.namespace_usage(
            info.context, self.id, metric, first=from_, last=to, granularity=granularity
        )
        return UsageReport.of(report)

    @strawberry.field(description="Totals for the members page.")
    async def user_statistics(self, info: Info) -> UserStatistics:
        stats = await members.user_statistics(info.context, self.row)
        t = stats.totals
        return UserStatistics(
            total_members=t.members,
            active=t.active,
            billable=stats.billable,
            blocked=t.blocked,
            deactivated=t.deactivated,
            banned=t.banned,
            pending_approval=t.pending_approval,
            bots=t.bots,
            guests=t.guests,
            guests_are_free=stats.guests_free,
        )

    @classmethod
    def of(cls, row: tables.Namespace) -> Namespace:
        assert row.id is not None
        return cls(id=row.id, path=row.path, name=row.name, customer_id=row.customer_id, row=row)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Namespace | None]:
        return await resolve_nodes_by_id(
            node_ids, visible_nodes(lambda i: accounts.get_namespace_by_id(info.context, i)), cls.of
        )


@strawberry.type(description="A self-managed GitLab installation.")
class Instance(relay.Node):
    id: relay.NodeID[int]
    instance_id: str = strawberry.field(description="The installation's own unique id.")
    hostname: str = strawberry.field(description="Host name the installation reported.")
    customer_id: strawberry.Private[int]
    row: strawberry.Private[tables.Instance]

    @strawberry.field(description="The owning customer.")
    async def customer(self, info: Info) -> Customer | None:
        row = await accounts.customer_of(info.context, self.customer_id)
        return Customer.of(row) if row else None

    @strawberry.field(description="The current subscription: the active one, else the latest.")
    async def subscription(self, info: Info) -> Subscription | None:
        row = await accounts.instance_subscription(info.context, self.id)
        return Subscription.of(row) if row else None

    @strawberry.field(description="Billable users it last reported; null before any report.")
    def seats_in_use(self) -> int | None:
        return self.row.seats_in_use

    @strawberry.field(description="The most users it ever had at once, as last reported.")
    def max_historical_users(self) -> int | None:
        return self.row.max_historical_users

    @strawberry.field(description="Its GitLab version, as last reported.")
    def version(self) -> str | None:
        return self.row.version

    @strawberry.field(description="When it last synced or had a usage report; null if never.")
    def last_sync_at(self) -> datetime.datetime | None:
        return self.row.last_sync_at

    @strawberry.field(
        description="The user statistics of its latest report, beside the seats its current "
        "subscription pays for; null until a report carries them."
    )
    async def user_statistics(self, info: Info) -> InstanceUserStatistics | None:
        if self.row.user_statistics is None:
            return None
        return InstanceUserStatistics.of(self.row.user_statistics, await self._seats(info))

    @strawberry.field(
        description="Each day's latest user statistics on the days from `from` to `to` "
        "(both included, at most 366 days), by day; days without them are left out."
    )
    async def user_statistics_history(
        self,
        info: Info,
        from_: Annotated[
            datetime.date, strawberry.argument(name="from", description="The first day.")
        ],
        to: Annotated[datetime.date, strawberry.argument(description="The last day.")],
    ) -> list[InstanceUserStatisticsReport]:
        rows = await accounts.instance_user_statistics_history(info.context, self.id, from_, to)
        seats = await self._seats(info) if rows else None
        return [InstanceUserStatisticsReport.of(row, seats) for row in rows]

    @strawberry.field(
        description="What adding users would cost: the customer and admins. Null without an "
        "active subscription. Writes nothing."
    )
    async def preview_users_change(
        self, info: Info, add: Annotated[int, ADD], role: Annotated[InstanceRole, ROLE]
    ) -> InstanceUsersChangePreview | None:
        try:
            preview = await instance_preview.preview_for_instance(
                info.context, self.row, add=add, role=role
            )
        except InvalidInputError as error:
            raise BadUserInput(error.message, error.field) from None
        return InstanceUsersChangePreview.of(preview) if preview else None

    async def _seats(self, info: Info) -> int | None:
        subscription = await accounts.instance_subscription(info.context, self.id)
        return subscription.seats if subscription else None

    @strawberry.field(description="Its syncs and usage reports, oldest first.")
    async def sync_reports(
        self,
        info: Info,
        first: Annotated[int | None, _FIRST] = None,
        after: Annotated[str | None, _AFTER] = None,
        last: Annotated[int | None, _LAST] = None,
        before: Annotated[str | None, _BEFORE] = None,
    ) -> Connection[SyncReport]:
        page = keyset("SyncReport", first, after, last, before)
        rows = await accounts.instance_sync_reports(info.context, self.id, page=page)
        return keyset_connection(
            rows,
            page,
            SyncReport.of,
            "SyncReport",
            lambda: accounts.count_instance_sync_reports(info.context, self.id),
        )

    @strawberry.field(description="Every license signed for it, oldest first.")
    async def licenses(
        self,
        info: Info,
        first: Annotated[int | None, _FIRST] = None,
        after: Annotated[str | None, _AFTER] = None,
        last: Annotated[int | None, _LAST] = None,
        before: Annotated[str | None, _BEFORE] = None,
    ) -> Connection[License]:
        page = keyset("License", first, after, last, before)
        rows = await accounts.instance_licenses(info.context, self.id, page=page)
        return keyset_connection(
            rows,
            page,
            License.of,
            "License",
            lambda: accounts.count_instance_licenses(info.context, self.id),
        )

    @classmethod
    def of(cls, row: tables.Instance) -> Instance:
        assert row.id is not None
        assert row.customer_id is not None
        return cls(
            id=row.id,
            instance_id=row.instance_uid,
            hostname=row.hostname,
            customer_id=row.customer_id,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Instance | None]:
        return await resolve_nodes_by_id(
            node_ids, visible_nodes(lambda i: accounts.get_instance(info.context, i)), cls.of
        )


@strawberry.type(description="A plan bought for a namespace or a self-managed instance.")
class Subscription(SubscriptionTerms, relay.Node):
    id: relay.NodeID[int]

    @strawberry.field(
        description="Billable users now. Null for self-managed instances until they report."
    )
    async def seats_in_use(self, info: Info) -> int | None:
        figures = await accounts.subscription_seat_figures(info.context, self.row)
        return figures.seats_in_use if figures else None

    @strawberry.field(description="The highest seatsInUse since the term started.")
    async def max_seats_used(self, info: Info) -> int | None:
        figures = await accounts.subscription_seat_figures(info.context, self.row)
        return figures.max_seats_used if figures else None

    @strawberry.field(
        description="max(0, maxSeatsUsed - seats) on paid plans: seats to pay for at true-up."
    )
    async def seats_owed(self, info: Info) -> int | None:
        figures = await accounts.subscription_seat_figures(info.context, self.row)
        return figures.seats_owed if figures else None

    @strawberry.field(description="max(0, seats - seatsInUse): seats free to fill.")
    async def seats_remaining(self, info: Info) -> int | None:
        figures = await accounts.subscription_seat_figures(info.context, self.row)
        return figures.seats_remaining if figures else None

    @strawberry.field(description="The paying customer.")
    async def customer(self, info: Info) -> Customer | None:
        row = await accounts.customer_of(info.context, self.row.customer_id)
        return Customer.of(row) if row else None

    @strawberry.field(description="The GitLab.com group it covers, if it is for one.")
    async def namespace(self, info: Info) -> Namespace | None:
        row = await accounts.subscription_namespace(info.context, self.row)
        return Namespace.of(row) if row else None

    @strawberry.field(description="The self-managed instance it covers, if it is for one.")
    async def instance(self, info: Info) -> Instance | None:
        row = await accounts.subscription_instance(info.context, self.row)
        return Instance.of(row) if row else None

    @strawberry.field(description="Its invoices, oldest first; empty for seat-data readers.")
    async def invoices(
        self,
        info: Info,
        first: Annotated[int | None, _FIRST] = None,
        after: Annotated[str | None, _AFTER] = None,
        last: Annotated[int | None, _LAST] = None,
        before: Annotated[str | None, _BEFORE] = None,
    ) -> Connection[Invoice]:
        page = keyset("Invoice", first, after, last, before)
        rows = await billing_records.subscription_invoices(
            info.context,
            self.id,
            self.row.customer_id,
            page=page,
        )
        return keyset_connection(
            rows,
            page,
            Invoice.of,
            "Invoice",
            lambda: billing_records.count_subscription_invoices(
                info.context, self.id, self.row.customer_id
            ),
        )

    @strawberry.field(description="Add-ons paid for in the current term.")
    async def add_ons(self, info: Info) -> list[SubscriptionAddOn]:
        rows = await catalog.subscription_add_ons(info.context, self.id)
        return [SubscriptionAddOn(quantity=row.quantity, row=row) for row in rows]

    @strawberry.field(
        description="How it will renew on endDate as things stand (seats, price, lines, total, "
        "true-up), priced by the code the renewal runs. Null when it will expire instead: "
        "cancelled, auto-renewal off, a trial, or going to Free."
    )
    async def upcoming_renewal(self, info: Info) -> UpcomingRenewal | None:
        projected = await accounts.subscription_upcoming_renewal(info.context, self.row)
        return UpcomingRenewal.of(projected) if projected else None

    @classmethod
    def of(cls, row: tables.Subscription) -> Subscription:
        assert row.id is not None
        return cls(id=row.id, **terms_of(row))

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Subscription | None]:
        return await resolve_nodes_by_id(
            node_ids, visible_nodes(lambda i: accounts.get_subscription(info.context, i)), cls.of
        )
