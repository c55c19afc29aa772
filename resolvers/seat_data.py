"""Ingestion of GitLab.com's users, groups and projects, memberships and group shares.

Each call takes up to 1000 records and applies them in one transaction with set-based SQL.
A batch with any bad record is refused whole, naming the index and field of every bad record;
re-sending a batch changes nothing. After the writes, the seat figures of every namespace the
batch can affect are recounted in the same transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from billing.errors import ErrorCode, InvalidBatchError, RecordProblem
from billing.seats import AccessLevel, MembershipState, SourceKind, UserState, UserType
from db import hierarchy, ingest
from resolvers.context import Context
from resolvers.errors import Forbidden, Unauthenticated
from resolvers.principal import Permission

MAX_BATCH = 1000
NAMESPACE_PATH_LENGTH = 255
ROLES = {level.name.lower(): level for level in AccessLevel}
USER_STATES = frozenset(s.value for s in UserState)
USER_TYPES = frozenset(t.value for t in UserType)
MEMBERSHIP_STATES = frozenset(s.value for s in MembershipState)

R = TypeVar("R")


@dataclass(frozen=True)
class UserRecord:
    gitlab_id: int
    username: str
    name: str
    state: str
    user_type: str
    public_email: str | None = None
    last_activity_on: date | None = None
    last_sign_in_at: datetime | None = None


@dataclass(frozen=True)
class SourceRecord:
    """A group or project; a group without a parent is a top-level namespace."""

    kind: SourceKind
    gitlab_id: int
    full_path: str
    name: str
    parent_gitlab_id: int | None = None


@dataclass(frozen=True)
class MembershipKey:
    user_gitlab_id: int
    source_kind: SourceKind
    source_gitlab_id: int


@dataclass(frozen=True)
class MembershipRecord:
    key: MembershipKey
    role: str
    created_at: datetime
    state: str = MembershipState.ACTIVE.value
    invite_pending: bool = False
    access_request: bool = False
    expires_on: date | None = None


@dataclass(frozen=True)
class GroupShareRecord:
    shared_group_gitlab_id: int
    target_kind: SourceKind
    target_gitlab_id: int
    role: str
    expires_on: date | None = None


@dataclass(frozen=True)
class BatchResult:
    received: int
    changed: int
    namespaces_recounted: int


class Problems:
    def __init__(self) -> None:
        self.found: list[RecordProblem] = []

    def add(self, index: int, field: str, code: ErrorCode, message: str) -> None:
        self.found.append(RecordProblem(index, field, code, message))

    def one_of(self, index: int, field: str, value: str, allowed: Collection[str]) -> None:
        if value not in allowed:
            self.add(
                index,
                field,
                ErrorCode.UNKNOWN_VALUE,
                f"{value!r} is not one of {', '.join(sorted(allowed))}.",
            )

    def text(self, index: int, field: str, value: str, limit: int = 255) -> None:
        if not value.strip() or len(value) > limit:
            self.add(index, field, ErrorCode.INVALID_VALUE, f"Must be 1 to {limit} characters.")

    def unique(self, records: Sequence[R], key: Callable[[R], Hashable], field: str) -> None:
        counts = Counter(key(record) for record in records)
        for index, record in enumerate(records):
            if counts[key(record)] > 1:
                self.add(
                    index,
                    field,
                    ErrorCode.DUPLICATE_RECORD,
                    "The same record appears more than once in the batch.",
                )

    def raise_if_any(self) -> None:
        if self.found:
            raise InvalidBatchError(sorted(self.found, key=lambda p: (p.index, p.field)))


def authorize_batch(context: Context, size: int) -> Problems:
    if not context.principal.authenticated:
        raise Unauthenticated
    if Permission.WRITE_SEAT_DATA not in context.principal.permissions:
        raise Forbidden("write seat data")
    problems = Problems()
    if size > MAX_BATCH:
        problems.add(
            MAX_BATCH,
            "records",
            ErrorCode.BATCH_TOO_LARGE,
            f"At most {MAX_BATCH} records per call; got {size}.",
        )
        problems.raise_if_any()
    return problems


async def upsert_users(context: Context, records: Sequence[UserRecord]) -> BatchResult:
    problems = authorize_batch(context, len(records))
    for index, user in enumerate(records):
        problems.text(index, "username", user.username)
        problems.text(index, "name", user.name)
        problems.one_of(index, "state", user.state, USER_STATES)
        problems.one_of(index, "userType", user.user_type, USER_TYPES)
        if user.public_email is not None:
            problems.text(index, "publicEmail", user.public_email, 320)
    problems.unique(records, lambda r: r.gitlab_id, "id")
    problems.unique(records, lambda r: r.username, "username")
    async with context.transaction() as session:
        holders = await ingest.existing_usernames(session, [r.username for r in records])
        # a username held by a user of this batch is free once the batch renames that user
        # (the batch's usernames are unique), so renames may swap usernames
        renamed = {r.gitlab_id for r in records}
        for index, user in enumerate(records):
            holder = holders.get(user.username)
            if holder is not None and holder not in renamed:
                problems.add(
                    index,
                    "username",
                    ErrorCode.USERNAME_TAKEN,
                    f"{user.username!r} belongs to another user.",
                )
        problems.raise_if_any()
        changed = await ingest.upsert_users(
            session,
            gitlab_ids=[r.gitlab_id for r in records],
            usernames=[r.username for r in records],
            names=[r.name for r in records],
            public_emails=[r.public_email for r in records],
            states=[r.state for r in records],
            user_types=[r.user_type for r in records],
            last_activity_on=[r.last_activity_on for r in records],
            last_sign_in_at=[r.last_sign_in_at for r in records],
        )
        ids = list((await ingest.user_ids(session, [r.gitlab_id for r in records])).values())
        namespaces = await ingest.namespaces_reached_by_users(session, ids)
        await ingest.refresh_seat_figures(
            session, namespaces, today=context.clock.today(), user_ids=ids
        )
    return BatchResult(len(records), changed, len(namespaces))


async def upsert_sources(context: Context, records: Sequence[SourceRecord]) -> BatchResult:
    """Groups and projects, parents before or after their children in the batch alike."""
    problems = authorize_batch(context, len(records))
    for index, source in enumerate(records):
        problems.text(index, "fullPath", source.full_path, 1000)
        problems.text(index, "name", source.name)
        if source.parent_gitlab_id is None and source.kind is not SourceKind.GROUP:
            problems.add(
                index, "parentId", ErrorCode.INVALID_VALUE, "A project needs a parent group."
            )
    problems.unique(records, lambda r: (r.kind, r.gitlab_id), "id")
    _top_level_paths(records, problems)
    async with context.transaction() as session:
        before = await ingest.sources_by_key(
            session, [r.kind.value for r in records], [r.gitlab_id for r in records]
        )
        stored = await hierarchy.group_ancestry(
            session, [r.parent_gitlab_id for r in records if r.parent_gitlab_id is not None]
        )
        roots, stored_roots = _find_roots(records, stored, problems)
        problems.raise_if_any()
        top = [r for r in records if r.parent_gitlab_id is None]
        namespace_ids = await ingest.upsert_namespaces(
            session,
            paths=[r.full_path for r in top],
            names=[r.name for r in top],
            source_gitlab_ids=[r.gitlab_id for r in top],
        )
        targets = [
            namespace_ids[roots[i]] if i in roots else stored_roots[i] for i in range(len(records))
        ]
        changed, rewritten = await ingest.upsert_sources(
            session,
            kinds=[r.kind.value for r in records],
            gitlab_ids=[r.gitlab_id for r in records],
            full_paths=[r.full_path for r in records],
            namespace_ids=targets,
            parent_gitlab_ids=[r.parent_gitlab_id for r in records],
        )
        carried = await hierarchy.carry_descendants(
            session,
            kinds=[r.kind.value for r in records],
            gitlab_ids=[r.gitlab_id for r in records],
            changed=rewritten,
        )
        moves = [
            (before[r.kind.value, r.gitlab_id][0], before[r.kind.value, r.gitlab_id][1], target)
            for r, target in zip(records, targets, strict=True)
            if (r.kind.value, r.gitlab_id) in before
        ] + carried
        moved = [(source, old, new) for source, old, new in moves if old != new]
        namespaces = sorted({old for _, old, _ in moved} | {new for _, _, new in moved})
        if moved:
            users = await hierarchy.users_reaching_sources(session, [s for s, _, _ in moved])
            await ingest.refresh_seat_figures(
                session, namespaces, today=context.clock.today(), user_ids=users
            )
    return BatchResult(len(records), changed + len(carried), len(namespaces))


def _find_roots(
    records: Sequence[SourceRecord],
    stored: dict[int, tuple[int | None, int]],
    problems: Problems,
) -> tuple[dict[int, str], dict[int, int]]:
    """Where each record ends up, walking up its parents as they will be once the batch is
    applied (the batch's groups over the stored ones): {index: top-level path} for those
    under a top-level group of the batch, {index: namespace id} for those under a stored one.
    A parent chain that comes back to where it started (moving a group under its own
    subgroup) is a cycle."""
    in_batch = {r.gitlab_id: r for r in records if r.kind is SourceKind.GROUP}
    roots: dict[int, str] = {}
    stored_roots: dict[int, int] = {}
    for index, source in enumerate(records):
        seen = {source.gitlab_id} if source.kind is SourceKind.GROUP else set()
        top_path: str | None = source.full_path
        top_namespace: int | None = None
        parent = source.parent_gitlab_id
        while parent is not None:
            if parent in seen:
                problems.add(
                    index, "parentId", ErrorCode.INVALID_VALUE, "The parents form a cycle."
                )
                break
            seen.add(parent)
            if parent in in_batch:
                top_path, top_namespace = in_batch[parent].full_path, None
                parent = in_batch[parent].parent_gitlab_id
            elif parent in stored:
                top_path, (parent, top_namespace) = None, stored[parent]
            else:
                problems.add(
                    index,
                    "parentId",
                    ErrorCode.UNKNOWN_SOURCE,
                    f"No group {parent} is known or in this batch.",
                )
                break
        else:
            if top_namespace is not None:
                stored_roots[index] = top_namespace
            elif top_path is not None:
                roots[index] = top_path
    return roots, stored_roots


def _top_level_paths(records: Sequence[SourceRecord], problems: Problems) -> None:
    """A top-level group's path is its namespace's (unique, at most 255 characters): two in one
    batch would write one namespace row twice."""
    top = Counter(r.full_path for r in records if r.parent_gitlab_id is None)
    for index, source in enumerate(records):
        if source.parent_gitlab_id is not None:
            continue
        if len(source.full_path) > NAMESPACE_PATH_LENGTH:
            problems.add(
                index,
                "fullPath",
                ErrorCode.INVALID_VALUE,
                f"A top-level group's path is at most {NAMESPACE_PATH_LENGTH} characters.",
            )
        elif top[source.full_path] > 1:
            problems.add(
                index,
                "fullPath",
                ErrorCode.DUPLICATE_RECORD,
                "Another top-level group in the batch has this path.",
            )


async def _resolve_memberships(
    session: AsyncSession, keys: Sequence[MembershipKey], problems: Problems
) -> tuple[dict[int, int], dict[tuple[str, int], tuple[int, int]]]:
    users = await ingest.user_ids(session, [k.user_gitlab_id for k in keys])
    sources = await ingest.sources_by_key(
        session, [k.source_kind.value for k in keys], [k.source_gitlab_id for k in keys]
    )
    for index, key in enumerate(keys):
        if key.user_gitlab_id not in users:
            problems.add(
                index,
                "userId",
                ErrorCode.UNKNOWN_USER,
                f"No user {key.user_gitlab_id}; send it with usersUpsert first.",
            )
        if (key.source_kind.value, key.source_gitlab_id) not in sources:
            problems.add(
                index,
                "sourceId",
                ErrorCode.UNKNOWN_SOURCE,
                f"No {key.source_kind.value} {key.source_gitlab_id}; "
                "send it with sourcesUpsert first.",
            )
    problems.unique(keys, lambda k: k, "sourceId")
    problems.raise_if_any()
    return users, sources


async def upsert_memberships(context: Context, records: Sequence[MembershipRecord]) -> BatchResult:
    problems = authorize_batch(context, len(records))
    for index, record in enumerate(records):
        problems.one_of(index, "role", record.role, ROLES)
        problems.one_of(index, "state", record.state, MEMBERSHIP_STATES)
    async with context.transaction() as session:
        keys = [r.key for r in records]
        users, sources = await _resolve_memberships(session, keys, problems)
        source_ids = [sources[k.source_kind.value, k.source_gitlab_id][0] for k in keys]
        user_ids = [users[k.user_gitlab_id] for k in keys]
        changed = await ingest.upsert_memberships(
            session,
            user_ids=user_ids,
            source_ids=source_ids,
            access_levels=[int(ROLES[r.role]) for r in records],
            states=[r.state for r in records],
            invite_pending=[r.invite_pending for r in records],
            access_request=[r.access_request for r in records],
            expires_on=[r.expires_on for r in records],
            created_at=[r.created_at for r in records],
        )
        namespaces = await ingest.namespaces_reached_from_sources(session, source_ids)
        await ingest.refresh_seat_figures(
            session, namespaces, today=context.clock.today(), user_ids=user_ids
        )
    return BatchResult(len(records), changed, len(namespaces))


async def remove_memberships(context: Context, keys: Sequence[MembershipKey]) -> BatchResult:
    """Remove memberships; ones already gone are fine (a retry removes nothing more)."""
    problems = authorize_batch(context, len(keys))
    async with context.transaction() as session:
        users, sources = await _resolve_memberships(session, keys, problems)
        source_ids = [sources[k.source_kind.value, k.source_gitlab_id][0] for k in keys]
        user_ids = [users[k.user_gitlab_id] for k in keys]
        changed = await ingest.delete_memberships(session, user_ids=user_ids, source_ids=source_ids)
        namespaces = await ingest.namespaces_reached_from_sources(session, source_ids)
        await ingest.refresh_seat_figures(
            session, namespaces, today=context.clock.today(), user_ids=user_ids
        )
    return BatchResult(len(keys), changed, len(namespaces))


ShareKey = tuple[int, SourceKind, int]  # invited group, target kind, target (GitLab ids)


async def resolve_shares(
    session: AsyncSession, keys: Sequence[ShareKey], problems: Problems
) -> tuple[list[int], list[int]]:
    """Our ids of each share's invited group and target; every unknown one, and a group
    invited into itself, is a problem (raised)."""
    groups = await ingest.sources_by_key(session, ["group"] * len(keys), [k[0] for k in keys])
    targets = await ingest.sources_by_key(
        session, [kind.value for _, kind, _ in keys], [k[2] for k in keys]
    )
    for index, (shared, kind, target) in enumerate(keys):
        if ("group", shared) not in groups:
            problems.add(index, "sharedGroupId", ErrorCode.UNKNOWN_SOURCE, f"No group {shared}.")
        if (kind.value, target) not in targets:
            problems.add(index, "targetId", ErrorCode.UNKNOWN_SOURCE, f"No {kind.value} {target}.")
        elif kind is SourceKind.GROUP and target == shared:
            problems.add(
                index, "targetId", ErrorCode.INVALID_VALUE, "A group cannot be invited into itself."
            )
    problems.raise_if_any()
    return (
        [groups["group", shared][0] for shared, _, _ in keys],
        [targets[kind.value, target][0] for _, kind, target in keys],
    )


async def upsert_group_shares(context: Context, records: Sequence[GroupShareRecord]) -> BatchResult:
    problems = authorize_batch(context, len(records))
    for index, record in enumerate(records):
        problems.one_of(index, "role", record.role, ROLES)
    keys = [(r.shared_group_gitlab_id, r.target_kind, r.target_gitlab_id) for r in records]
    problems.unique(keys, lambda k: k, "targetId")
    async with context.transaction() as session:
        shared_ids, target_ids = await resolve_shares(session, keys, problems)
        changed = await ingest.upsert_group_shares(
            session,
            shared_group_ids=shared_ids,
            target_source_ids=target_ids,
            access_levels=[int(ROLES[r.role]) for r in records],
            expires_on=[r.expires_on for r in records],
        )
        namespaces = await ingest.namespaces_reached_from_sources(session, target_ids)
        await ingest.refresh_seat_figures(session, namespaces, today=context.clock.today())
    return BatchResult(len(records), changed, len(namespaces))
