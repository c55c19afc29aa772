"""Mutations through which GitLab.com pushes users, groups and projects, memberships and
group shares (the `gitlab` role; admins too)."""

from __future__ import annotations

import datetime
from collections.abc import Awaitable
from typing import Annotated, TypeAlias

import strawberry

from billing.errors import BillingError
from billing.seats import SourceKind as DomainSourceKind
from resolvers import seat_data
from schema.base import Info
from schema.errors import InvalidBatch, user_error

strawberry.enum(DomainSourceKind, description="Where a membership is held: a group or a project.")
SourceKind: TypeAlias = DomainSourceKind

_BATCH = strawberry.argument(description="The records, at most 1000.")
_ROLE = "Role: minimal_access, guest, planner, reporter, developer, maintainer or owner."


def _utc(moment: datetime.datetime) -> datetime.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


@strawberry.input(description="A GitLab.com user as it is now.")
class UserInput:
    id: int = strawberry.field(description="GitLab.com user id.")
    username: str = strawberry.field(description="Username, unique on GitLab.com.")
    name: str = strawberry.field(description="Display name.")
    state: str = strawberry.field(
        description="active, blocked, deactivated, banned or pending_approval."
    )
    user_type: str = strawberry.field(
        default="human", description="human, bot, service_account or internal."
    )
    public_email: str | None = strawberry.field(default=None, description="Public email.")
    last_activity_on: datetime.date | None = strawberry.field(
        default=None, description="Last day the user was active."
    )
    last_sign_in_at: datetime.datetime | None = strawberry.field(
        default=None, description="Last sign-in (UTC when no offset is given)."
    )


@strawberry.input(description="A group or project. A group without a parent is top-level.")
class SourceInput:
    kind: SourceKind = strawberry.field(description="GROUP or PROJECT.")
    id: int = strawberry.field(description="GitLab.com group or project id.")
    full_path: str = strawberry.field(description="Full path, e.g. acme/backend/api.")
    name: str = strawberry.field(description="Display name.")
    parent_id: int | None = strawberry.field(
        default=None, description="Id of the parent group; null for a top-level group."
    )


@strawberry.input(description="Which membership: a user in a group or project.")
class MembershipKeyInput:
    user_id: int = strawberry.field(description="GitLab.com user id.")
    source_kind: SourceKind = strawberry.field(description="GROUP or PROJECT.")
    source_id: int = strawberry.field(description="GitLab.com group or project id.")


@strawberry.input(description="A membership as it is now.")
class MembershipInput(MembershipKeyInput):
    role: str = strawberry.field(description=_ROLE)
    created_at: datetime.datetime = strawberry.field(description="When the user joined.")
    state: str = strawberry.field(
        default="active", description="active, or awaiting an owner's approval."
    )
    invite_pending: bool = strawberry.field(
        default=False, description="An invitation not yet accepted."
    )
    access_request: bool = strawberry.field(
        default=False, description="A request for access not yet granted."
    )
    expires_on: datetime.date | None = strawberry.field(
        default=None, description="The day the membership ends, if it does."
    )


@strawberry.input(description="Which group share: a group invited into a group or project.")
class GroupShareKeyInput:
    shared_group_id: int = strawberry.field(description="GitLab.com id of the invited group.")
    target_kind: SourceKind = strawberry.field(description="GROUP or PROJECT invited into.")
    target_id: int = strawberry.field(description="GitLab.com id of the group or project.")


@strawberry.input(description="A group invited into a group or project.")
class GroupShareInput(GroupShareKeyInput):
    role: str = strawberry.field(description="Highest role the share grants. " + _ROLE)
    expires_on: datetime.date | None = strawberry.field(
        default=None, description="The day the share ends, if it does."
    )


@strawberry.input(description="Up to 1000 users, applied together.")
class UsersUpsertInput:
    records: list[UserInput] = strawberry.field(description="The users.")


@strawberry.input(description="Up to 1000 groups and projects, applied together.")
class SourcesUpsertInput:
    records: list[SourceInput] = strawberry.field(description="The groups and projects.")


@strawberry.input(description="Up to 1000 memberships, applied together.")
class MembershipsUpsertInput:
    records: list[MembershipInput] = strawberry.field(description="The memberships.")


@strawberry.input(description="Up to 1000 memberships to remove, applied together.")
class MembershipsRemoveInput:
    records: list[MembershipKeyInput] = strawberry.field(description="The memberships to remove.")


@strawberry.input(description="Up to 1000 group shares, applied together.")
class GroupSharesUpsertInput:
    records: list[GroupShareInput] = strawberry.field(description="The group shares.")


@strawberry.type(description="A batch was applied.")
class BatchWriteSuccess:
    received: int = strawberry.field(description="Records in the batch.")
    changed: int = strawberry.field(description="Rows that changed (0 when re-sent).")
    namespaces_recounted: int = strawberry.field(
        description="Namespaces whose seat figures were recounted."
    )

    @classmethod
    def of(cls, result: seat_data.BatchResult) -> BatchWriteSuccess:
        return cls(
            received=result.received,
            changed=result.changed,
            namespaces_recounted=result.namespaces_recounted,
        )


BatchWriteResult = Annotated[
    BatchWriteSuccess | InvalidBatch,
    strawberry.union("BatchWriteResult", description="The batch applied, or why not."),
]


async def apply_batch(call: Awaitable[seat_data.BatchResult]) -> BatchWriteResult:
    try:
        return BatchWriteSuccess.of(await call)
    except BillingError as error:
        return user_error(error)  # type: ignore[return-value]


def _key(record: MembershipKeyInput) -> seat_data.MembershipKey:
    return seat_data.MembershipKey(record.user_id, record.source_kind, record.source_id)


@strawberry.type
class SeatDataMutation:
    @strawberry.mutation(description="Create or update users. The gitlab role and admins.")
    async def users_upsert(
        self, info: Info, input: Annotated[UsersUpsertInput, _BATCH]
    ) -> BatchWriteResult:
        records = [
            seat_data.UserRecord(
                gitlab_id=r.id,
                username=r.username,
                name=r.name,
                state=r.state,
                user_type=r.user_type,
                public_email=r.public_email,
                last_activity_on=r.last_activity_on,
                last_sign_in_at=_utc(r.last_sign_in_at) if r.last_sign_in_at else None,
            )
            for r in input.records
        ]
        return await apply_batch(seat_data.upsert_users(info.context, records))

    @strawberry.mutation(description="Create or update groups and projects.")
    async def sources_upsert(
        self, info: Info, input: Annotated[SourcesUpsertInput, _BATCH]
    ) -> BatchWriteResult:
        records = [
            seat_data.SourceRecord(r.kind, r.id, r.full_path, r.name, r.parent_id)
            for r in input.records
        ]
        return await apply_batch(seat_data.upsert_sources(info.context, records))

    @strawberry.mutation(description="Create or update memberships; seat figures follow.")
    async def memberships_upsert(
        self,
        info: Info,
        input: Annotated[MembershipsUpsertInput, _BATCH],
    ) -> BatchWriteResult:
        records = [
            seat_data.MembershipRecord(
                key=_key(r),
                role=r.role,
                created_at=_utc(r.created_at),
                state=r.state,
                invite_pending=r.invite_pending,
                access_request=r.access_request,
                expires_on=r.expires_on,
            )
            for r in input.records
        ]
        return await apply_batch(seat_data.upsert_memberships(info.context, records))

    @strawberry.mutation(description="Remove memberships; seat figures follow.")
    async def memberships_remove(
        self,
        info: Info,
        input: Annotated[MembershipsRemoveInput, _BATCH],
    ) -> BatchWriteResult:
        keys = [_key(r) for r in input.records]
        return await apply_batch(seat_data.remove_memberships(info.context, keys))

    @strawberry.mutation(description="Create or update group shares; seat figures follow.")
    async def group_shares_upsert(
        self,
        info: Info,
        input: Annotated[GroupSharesUpsertInput, _BATCH],
    ) -> BatchWriteResult:
        records = [
            seat_data.GroupShareRecord(
                r.shared_group_id, r.target_kind, r.target_id, r.role, r.expires_on
            )
            for r in input.records
        ]
        return await apply_batch(seat_data.upsert_group_shares(info.context, records))
