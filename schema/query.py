"""The root Query: viewer, catalog, accounts, and the Relay node field."""

from __future__ import annotations

from typing import Annotated, TypeAlias, cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from resolvers import accounts, invoices
from resolvers.principal import Permission as DomainPermission
from resolvers.principal import Role as DomainRole
from schema.accounts import Customer, Instance, Namespace, Subscription
from schema.analytics import AnalyticsQuery
from schema.base import (
    MAX_PAGE_SIZE,
    Connection,
    Info,
    keyset,
    keyset_connection,
    node_id,
)
from schema.catalog import CatalogQuery
from schema.input_limits import ListAtMost
from schema.instance_preview import InstancePreviewQuery
from schema.invoices import AuditEvent, Invoice
from schema.licenses import LicenseMutation, LicenseQuery
from schema.seat_data import SeatDataMutation
from schema.seat_removals import SeatRemovalMutation
from schema.subscriptions import SubscriptionMutation
from schema.usage import UsageMutation

MAX_NODES = MAX_PAGE_SIZE  # one page of objects, like any list field

strawberry.enum(DomainRole, description="What kind of caller a token belongs to.")
strawberry.enum(DomainPermission, description="Something a caller may do.")
Role: TypeAlias = DomainRole
Permission: TypeAlias = DomainPermission


_NULL_WHEN_NOT_FOUND = (
    " Null, with a NOT_FOUND error at this path only, when it does not exist or is not"
    " visible to the caller; the other fields of the request still answer."
)
_LAST = strawberry.argument(
    description="Page size counted from the end, 0 to 100; pass instead of `first` to page"
    " backwards."
)


@strawberry.type(description="The caller: who they are and what they may do.")
class Viewer:
    authenticated: bool = strawberry.field(description="Whether a valid token was sent.")
    role: Role | None = strawberry.field(description="The token's role; null when anonymous.")
    subject: str | None = strawberry.field(description="The token's subject (sub claim).")
    permissions: list[Permission] = strawberry.field(description="What the caller may do.")
    customer_id: strawberry.Private[int | None]

    @strawberry.field(description="The caller's own customer, for customer tokens.")
    async def customer(self, info: Info) -> Customer | None:
        if self.customer_id is None:
            return None
        return Customer.of(await accounts.get_customer(info.context, self.customer_id))


@strawberry.type(description="Read the catalog, accounts and subscriptions.")
class Query(CatalogQuery, LicenseQuery, InstancePreviewQuery, AnalyticsQuery):
    node: relay.Node | None = relay.node(
        description="Fetch any object by its global id; null when not found or not visible."
    )
    nodes: list[relay.Node | None] = relay.node(
        description=f"Fetch objects by global ids (at most {MAX_NODES}), in order; null where "
        "not found or not visible.",
        extensions=[ListAtMost("ids", MAX_NODES)],
    )

    @strawberry.field(
        description="The public keys licenses are signed with, as a JSON Web Key Set "
        "(Ed25519, by kid). Public: an instance verifies its license offline with them."
    )
    def license_signing_keys(self, info: Info) -> JSON:
        return cast(JSON, info.context.license_jwks)

    @strawberry.field(description="Who is calling and what they may do. Public.")
    def viewer(self, info: Info) -> Viewer:
        principal = info.context.principal
        return Viewer(
            authenticated=principal.authenticated,
            role=principal.role,
            subject=principal.subject,
            permissions=sorted(principal.permissions),
            customer_id=principal.customer_id,
        )

    @strawberry.field(
        description="One customer by global id. Admins, analysts, and the customer itself."
        + _NULL_WHEN_NOT_FOUND
    )
    async def customer(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Customer id.")],
    ) -> Customer | None:
        return Customer.of(await accounts.get_customer(info.context, node_id("Customer", id)))

    @strawberry.field(description="All customers, oldest first. Admins and analysts.")
    async def customers(
        self,
        info: Info,
        *,
        first: Annotated[
            int | None, strawberry.argument(description="Page size, 0 to 100; 20 by default.")
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="Return customers after this cursor.")
        ] = None,
        last: Annotated[int | None, _LAST] = None,
        before: Annotated[
            str | None, strawberry.argument(description="Return customers before this cursor.")
        ] = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Only customers whose name or billing email contains this (at"
                " most 100 characters)."
            ),
        ] = None,
    ) -> Connection[Customer]:
        page = keyset("Customer", first, after, last, before)
        rows = await accounts.list_customers(info.context, page=page, search=search)
        return keyset_connection(
            rows,
            page,
            Customer.of,
            "Customer",
            lambda: accounts.count_customers_listed(info.context, search=search),
        )

    @strawberry.field(description="One self-managed instance by global id." + _NULL_WHEN_NOT_FOUND)
    async def instance(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Instance id.")],
    ) -> Instance | None:
        return Instance.of(await accounts.get_instance(info.context, node_id("Instance", id)))

    @strawberry.field(description="One subscription by global id." + _NULL_WHEN_NOT_FOUND)
    async def subscription(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Subscription id.")],
    ) -> Subscription | None:
        return Subscription.of(
            await accounts.get_subscription(info.context, node_id("Subscription", id))
        )

    @strawberry.field(
        description="One invoice by global id. Admins, analysts, its customer."
        + _NULL_WHEN_NOT_FOUND
    )
    async def invoice(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Invoice id.")],
    ) -> Invoice | None:
        return Invoice.of(await invoices.get_invoice(info.context, node_id("Invoice", id)))

    @strawberry.field(description="The audit trail, oldest first. Admins.")
    async def audit_events(
        self,
        info: Info,
        *,
        subject: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only events of this subscription or invoice."),
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="Page size, 0 to 100; 20 by default.")
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="Return events after this cursor.")
        ] = None,
        last: Annotated[int | None, _LAST] = None,
        before: Annotated[
            str | None, strawberry.argument(description="Return events before this cursor.")
        ] = None,
    ) -> Connection[AuditEvent]:
        page = keyset("AuditEvent", first, after, last, before)
        of = _subject(subject) if subject is not None else None
        rows = await invoices.audit_events(info.context, subject=of, page=page)
        return keyset_connection(
            rows,
            page,
            AuditEvent.of,
            "AuditEvent",
            lambda: invoices.count_audit_events(info.context, subject=of),
        )

    @strawberry.field(
        description="A GitLab.com top-level group by its path, with its subscription."
        + _NULL_WHEN_NOT_FOUND
    )
    async def namespace(
        self,
        info: Info,
        path: Annotated[str, strawberry.argument(description="Full path, e.g. gitlab-org.")],
    ) -> Namespace | None:
        return Namespace.of(await accounts.get_namespace(info.context, path))


@strawberry.type(description="Change data. Each mutation runs in its own transaction.")
class Mutation(
    SeatDataMutation, SeatRemovalMutation, SubscriptionMutation, LicenseMutation, UsageMutation
):
    pass


def _subject(raw: strawberry.ID) -> tuple[str, int]:
    """A subscription or invoice global id, as the audit trail names it."""
    try:
        kind, _ = relay.from_base64(raw)
    except ValueError:
        kind = "Subscription"
    kind = kind if kind in {"Subscription", "Invoice"} else "Subscription"
    return kind, node_id(kind, raw, "subject")
