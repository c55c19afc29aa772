"""Licenses of self-managed instances."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Annotated, TypeAlias

import strawberry
from strawberry import relay

from billing.licenses import LicenseType as DomainLicenseType
from db import tables
from resolvers import licenses
from schema.base import Info, node_id, resolve_nodes_by_id, visible_nodes

strawberry.enum(DomainLicenseType, description="How an instance receives its licenses.")
LicenseType: TypeAlias = DomainLicenseType


@strawberry.type(description="A signed license: what it grants, and the token itself.")
class License(relay.Node):
    id: relay.NodeID[int]
    kid: str = strawberry.field(description="Id of the key that signed it (JWT header).")
    license_type: LicenseType = strawberry.field(description="Online (synced) or offline.")
    plan: str = strawberry.field(description="Plan code granted.")
    seats: int = strawberry.field(description="Seats granted.")
    starts_on: datetime.date = strawberry.field(description="First day it is valid.")
    expires_on: datetime.date = strawberry.field(description="The day it stops being valid.")
    issued_at: datetime.datetime = strawberry.field(description="When it was signed (UTC).")
    token: str = strawberry.field(
        description="The license: an Ed25519-signed JWT to apply on the instance."
    )

    @classmethod
    def of(cls, row: tables.License) -> License:
        assert row.id is not None
        return cls(
            id=row.id,
            kid=row.kid,
            license_type=LicenseType(row.license_type),
            plan=row.plan,
            seats=row.seats,
            starts_on=row.starts_on,
            expires_on=row.expires_on,
            issued_at=row.issued_at,
            token=row.token,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[License | None]:
        return await resolve_nodes_by_id(
            node_ids, visible_nodes(lambda i: licenses.get_license(info.context, i)), cls.of
        )


@strawberry.type(description="A license as a file to download and apply offline.")
class LicenseFile:
    filename: str = strawberry.field(description='e.g. "subscription-4-2026-03-15.gitlab-license".')
    content: str = strawberry.field(description="The file's content: the signed license.")
    license: License = strawberry.field(description="What it grants.")


@strawberry.type
class LicenseQuery:
    @strawberry.field(
        description="The current license of an instance subscription, as a file to apply "
        "offline. The customer's people and admins."
    )
    async def license_file(
        self,
        info: Info,
        subscription_id: Annotated[
            strawberry.ID, strawberry.argument(description="The instance subscription.")
        ],
    ) -> LicenseFile:
        row = await licenses.license_file(
            info.context, node_id("Subscription", subscription_id, "subscriptionId")
        )
        return LicenseFile(
            filename=f"subscription-{row.subscription_id}-{row.starts_on.isoformat()}"
            ".gitlab-license",
            content=row.token + "\n",
            license=License.of(row),
        )
