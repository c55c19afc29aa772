"""Mutations through which GitLab.com removes users, groups and projects, and group shares
(the `gitlab` role; admins too)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import seat_removals
from schema.base import Info
from schema.seat_data import BatchWriteResult, GroupShareKeyInput, SourceKind, apply_batch

_BATCH = strawberry.argument(description="The records, at most 1000.")


@strawberry.input(description="Which user.")
class UserKeyInput:
    id: int = strawberry.field(description="GitLab.com user id.")


@strawberry.input(description="Which group or project.")
class SourceKeyInput:
    kind: SourceKind = strawberry.field(description="GROUP or PROJECT.")
    id: int = strawberry.field(description="GitLab.com group or project id.")


@strawberry.input(description="Up to 1000 users to remove, applied together.")
class UsersRemoveInput:
    records: list[UserKeyInput] = strawberry.field(description="The users to remove.")


@strawberry.input(description="Up to 1000 groups and projects to remove, applied together.")
class SourcesRemoveInput:
    records: list[SourceKeyInput] = strawberry.field(
        description="The groups and projects to remove, each with everything below it."
    )


@strawberry.input(description="Up to 1000 group shares to remove, applied together.")
class GroupSharesRemoveInput:
    records: list[GroupShareKeyInput] = strawberry.field(description="The group shares to remove.")


@strawberry.type
class SeatRemovalMutation:
    @strawberry.mutation(
        description="Remove users: their memberships and seats go, their username is free"
        " again and their name and email are erased; past seat counts stay."
        " Users already gone are skipped."
    )
    async def users_remove(
        self, info: Info, input: Annotated[UsersRemoveInput, _BATCH]
    ) -> BatchWriteResult:
        ids = [r.id for r in input.records]
        return await apply_batch(seat_removals.remove_users(info.context, ids))

    @strawberry.mutation(
        description="Remove groups and projects with their subgroups and projects, their"
        " memberships and the group shares they give or receive; seat figures follow."
        " Sources already gone are skipped."
    )
    async def sources_remove(
        self, info: Info, input: Annotated[SourcesRemoveInput, _BATCH]
    ) -> BatchWriteResult:
        keys = [seat_removals.SourceKey(r.kind, r.id) for r in input.records]
        return await apply_batch(seat_removals.remove_sources(info.context, keys))

    @strawberry.mutation(description="Remove group shares; seat figures follow.")
    async def group_shares_remove(
        self, info: Info, input: Annotated[GroupSharesRemoveInput, _BATCH]
    ) -> BatchWriteResult:
        keys = [(r.shared_group_id, r.target_kind, r.target_id) for r in input.records]
        return await apply_batch(seat_removals.remove_group_shares(info.context, keys))
