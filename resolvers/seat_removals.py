"""Removal of GitLab.com's users, groups and projects, and group shares: set-based like the
upserts (up to 1000 records, one transaction, a bad record refuses the batch), recounting
every namespace the removal touches in the same transaction.

Removing what is gone already removes nothing (`changed: 0`), so a retried batch is harmless.
A removed user is deleted, not kept anonymised: see docs/seats.md, "Removing data".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from billing.seats import SourceKind
from db import hierarchy, ingest
from resolvers.context import Context
from resolvers.seat_data import BatchResult, ShareKey, authorize_batch, resolve_shares


@dataclass(frozen=True)
class SourceKey:
    kind: SourceKind
    gitlab_id: int


async def remove_users(context: Context, gitlab_ids: Sequence[int]) -> BatchResult:
    """Delete users with their memberships; their seats go, past days' counts stay."""
    problems = authorize_batch(context, len(gitlab_ids))
    problems.unique(gitlab_ids, lambda i: i, "id")
    problems.raise_if_any()
    async with context.transaction() as session:
        ids = list((await ingest.user_ids(session, gitlab_ids)).values())
        namespaces = await ingest.namespaces_reached_by_users(session, ids)
        await hierarchy.delete_memberships_of_users(session, ids)
        await ingest.refresh_seat_figures(
            session, namespaces, today=context.clock.today(), user_ids=ids
        )
        changed = await hierarchy.delete_users(session, ids)
    return BatchResult(len(gitlab_ids), changed, len(namespaces))


async def remove_sources(context: Context, keys: Sequence[SourceKey]) -> BatchResult:
    """Delete groups and projects with everything below them, their memberships and the
    group shares they give or receive. A top-level group's namespace stays (it holds the
    subscriptions and their history), with no one in it."""
    problems = authorize_batch(context, len(keys))
    problems.unique(keys, lambda k: k, "id")
    problems.raise_if_any()
    async with context.transaction() as session:
        removed = await hierarchy.subtrees(
            session, kinds=[k.kind.value for k in keys], gitlab_ids=[k.gitlab_id for k in keys]
        )
        namespaces = await ingest.namespaces_reached_from_sources(session, removed)
        users = await hierarchy.users_reaching_sources(session, removed)
        changed = await hierarchy.delete_sources(session, removed)
        await ingest.refresh_seat_figures(
            session, namespaces, today=context.clock.today(), user_ids=users
        )
    return BatchResult(len(keys), changed, len(namespaces))


async def remove_group_shares(context: Context, keys: Sequence[ShareKey]) -> BatchResult:
    """Uninvite groups; a share already gone is fine, an unknown group or target is not (as
    for membershipsRemove)."""
    problems = authorize_batch(context, len(keys))
    problems.unique(keys, lambda k: k, "targetId")
    async with context.transaction() as session:
        shared_ids, target_ids = await resolve_shares(session, keys, problems)
        users = await hierarchy.members_of(session, shared_ids)
        changed = await hierarchy.delete_group_shares(
            session, shared_group_ids=shared_ids, target_source_ids=target_ids
        )
        namespaces = await ingest.namespaces_reached_from_sources(session, target_ids)
        await ingest.refresh_seat_figures(
            session, namespaces, today=context.clock.today(), user_ids=users
        )
    return BatchResult(len(keys), changed, len(namespaces))
