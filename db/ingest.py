"""Set-based writes of the data GitLab.com pushes: one statement per step, whatever the batch
size. Upserts change only rows whose values differ, so re-sending a batch writes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from billing.subscriptions import SubscriptionStatus
from db.seats import refresh_billable_members


async def _run(session: AsyncSession, sql: str, **params: Any) -> list[Any]:
    result = await session.execute(text(sql), params)
    return list(result.all()) if result.returns_rows else []  # type: ignore[attr-defined]


async def existing_usernames(session: AsyncSession, usernames: Sequence[str]) -> dict[str, int]:
    """{username: gitlab id} of the users already holding these usernames."""
    rows = await _run(
        session,
        "SELECT username, gitlab_id FROM gitlab_user WHERE username = ANY(:usernames)",
        usernames=list(usernames),
    )
    return dict(rows)


async def upsert_users(
    session: AsyncSession,
    *,
    gitlab_ids: list[int],
    usernames: list[str],
    names: list[str],
    public_emails: list[str | None],
    states: list[str],
    user_types: list[str],
    last_activity_on: list[date | None],
    last_sign_in_at: list[datetime | None],
) -> int:
    """Insert or update users by GitLab id; returns how many rows changed."""
    rows = await _run(
        session,
        """
        INSERT INTO gitlab_user (gitlab_id, username, name, public_email, state, user_type,
                                 last_activity_on, last_sign_in_at)
        SELECT * FROM unnest(CAST(:gitlab_ids AS bigint[]), CAST(:usernames AS text[]),
                             CAST(:names AS text[]), CAST(:public_emails AS text[]),
                             CAST(:states AS text[]), CAST(:user_types AS text[]),
                             CAST(:last_activity_on AS date[]),
                             CAST(:last_sign_in_at AS timestamptz[]))
        ON CONFLICT (gitlab_id) DO UPDATE SET
            username = excluded.username, name = excluded.name,
            public_email = excluded.public_email, state = excluded.state,
            user_type = excluded.user_type, last_activity_on = excluded.last_activity_on,
            last_sign_in_at = excluded.last_sign_in_at, updated_at = now()
        WHERE (gitlab_user.username, gitlab_user.name, gitlab_user.public_email,
               gitlab_user.state, gitlab_user.user_type, gitlab_user.last_activity_on,
               gitlab_user.last_sign_in_at)
              IS DISTINCT FROM
              (excluded.username, excluded.name, excluded.public_email, excluded.state,
               excluded.user_type, excluded.last_activity_on, excluded.last_sign_in_at)
        RETURNING id
        """,
        gitlab_ids=gitlab_ids,
        usernames=usernames,
        names=names,
        public_emails=public_emails,
        states=states,
        user_types=user_types,
        last_activity_on=last_activity_on,
        last_sign_in_at=last_sign_in_at,
    )
    return len(rows)


async def user_ids(session: AsyncSession, gitlab_ids: Sequence[int]) -> dict[int, int]:
    """{GitLab user id: our id} of the users that exist."""
    rows = await _run(
        session,
        "SELECT gitlab_id, id FROM gitlab_user WHERE gitlab_id = ANY(:gitlab_ids)",
        gitlab_ids=list(gitlab_ids),
    )
    return dict(rows)


async def sources_by_key(
    session: AsyncSession, kinds: Sequence[str], gitlab_ids: Sequence[int]
) -> dict[tuple[str, int], tuple[int, int]]:
    """{(kind, GitLab id): (source id, namespace id)} of the sources that exist."""
    rows = await _run(
        session,
        """
        SELECT s.kind, s.gitlab_id, s.id, s.namespace_id
        FROM source s
        JOIN unnest(CAST(:kinds AS text[]), CAST(:gitlab_ids AS bigint[])) AS k(kind, gitlab_id)
          ON s.kind = k.kind AND s.gitlab_id = k.gitlab_id
        """,
        kinds=list(kinds),
        gitlab_ids=list(gitlab_ids),
    )
    return {(kind, gitlab_id): (source_id, ns) for kind, gitlab_id, source_id, ns in rows}


async def upsert_namespaces(
    session: AsyncSession, *, paths: list[str], names: list[str], source_gitlab_ids: list[int]
) -> dict[str, int]:
    """Top-level groups: rename the namespace of a known top-level group, else insert (or
    adopt an existing namespace row with that path): a subgroup made top-level gets its own
    namespace. Returns {path: namespace id}."""
    await _run(
        session,
        """
        UPDATE namespace n SET path = x.path, name = x.name
        FROM unnest(CAST(:paths AS text[]), CAST(:names AS text[]),
                    CAST(:gitlab_ids AS bigint[])) AS x(path, name, gitlab_id)
        JOIN source s ON s.kind = 'group' AND s.gitlab_id = x.gitlab_id AND s.parent_id IS NULL
        WHERE n.id = s.namespace_id AND (n.path, n.name) IS DISTINCT FROM (x.path, x.name)
        """,
        paths=paths,
        names=names,
        gitlab_ids=source_gitlab_ids,
    )
    rows = await _run(
        session,
        """
        INSERT INTO namespace (path, name)
        SELECT * FROM unnest(CAST(:paths AS text[]), CAST(:names AS text[]))
        ON CONFLICT (path) DO UPDATE SET name = excluded.name
        WHERE namespace.name IS DISTINCT FROM excluded.name
        RETURNING path, id
        """,
        paths=paths,
        names=names,
    )
    found = dict(rows)
    missing = [path for path in paths if path not in found]
    if missing:
        found |= dict(
            await _run(
                session,
                "SELECT path, id FROM namespace WHERE path = ANY(:paths)",
                paths=missing,
            )
        )
    return found


async def upsert_sources(
    session: AsyncSession,
    *,
    kinds: list[str],
    gitlab_ids: list[int],
    full_paths: list[str],
    namespace_ids: list[int],
    parent_gitlab_ids: list[int | None],
) -> tuple[int, list[int]]:
    """Insert or update groups and projects, then point each at its parent group. Returns
    how many changed, and the ids of those whose path or namespace changed (their
    descendants follow: `db.hierarchy.carry_descendants`)."""
    changed = await _run(
        session,
        """
        INSERT INTO source (kind, gitlab_id, full_path, namespace_id)
        SELECT * FROM unnest(CAST(:kinds AS text[]), CAST(:gitlab_ids AS bigint[]),
                             CAST(:full_paths AS text[]), CAST(:namespace_ids AS bigint[]))
        ON CONFLICT (kind, gitlab_id) DO UPDATE SET
            full_path = excluded.full_path, namespace_id = excluded.namespace_id
        WHERE (source.full_path, source.namespace_id)
              IS DISTINCT FROM (excluded.full_path, excluded.namespace_id)
        RETURNING id
        """,
        kinds=kinds,
        gitlab_ids=gitlab_ids,
        full_paths=full_paths,
        namespace_ids=namespace_ids,
    )
    reparented = await _run(
        session,
        """
        UPDATE source s SET parent_id = p.id
        FROM unnest(CAST(:kinds AS text[]), CAST(:gitlab_ids AS bigint[]),
                    CAST(:parents AS bigint[])) AS x(kind, gitlab_id, parent)
        LEFT JOIN source p ON p.kind = 'group' AND p.gitlab_id = x.parent
        WHERE s.kind = x.kind AND s.gitlab_id = x.gitlab_id
          AND s.parent_id IS DISTINCT FROM p.id
        RETURNING s.id
        """,
        kinds=kinds,
        gitlab_ids=gitlab_ids,
        parents=parent_gitlab_ids,
    )
    moved = [row[0] for row in changed]
    return len(set(moved) | {row[0] for row in reparented}), moved


async def upsert_memberships(
    session: AsyncSession,
    *,
    user_ids: list[int],
    source_ids: list[int],
    access_levels: list[int],
    states: list[str],
    invite_pending: list[bool],
    access_request: list[bool],
    expires_on: list[date | None],
    created_at: list[datetime],
) -> int:
    rows = await _run(
        session,
        """
        INSERT INTO membership (user_id, source_id, access_level, state, invite_pending,
                                access_request, expires_on, created_at)
        SELECT * FROM unnest(CAST(:user_ids AS bigint[]), CAST(:source_ids AS bigint[]),
                             CAST(:access_levels AS smallint[]), CAST(:states AS text[]),
                             CAST(:invite_pending AS boolean[]),
                             CAST(:access_request AS boolean[]),
                             CAST(:expires_on AS date[]), CAST(:created_at AS timestamptz[]))
        ON CONFLICT (source_id, user_id) DO UPDATE SET
            access_level = excluded.access_level, state = excluded.state,
            invite_pending = excluded.invite_pending, access_request = excluded.access_request,
            expires_on = excluded.expires_on, created_at = excluded.created_at
        WHERE (membership.access_level, membership.state, membership.invite_pending,
               membership.access_request, membership.expires_on, membership.created_at)
              IS DISTINCT FROM
              (excluded.access_level, excluded.state, excluded.invite_pending,
               excluded.access_request, excluded.expires_on, excluded.created_at)
        RETURNING id
        """,
        user_ids=user_ids,
        source_ids=source_ids,
        access_levels=access_levels,
        states=states,
        invite_pending=invite_pending,
        access_request=access_request,
        expires_on=expires_on,
        created_at=created_at,
    )
    return len(rows)


async def delete_memberships(
    session: AsyncSession, *, user_ids: list[int], source_ids: list[int]
) -> int:
    rows = await _run(
        session,
        """
        DELETE FROM membership m
        USING unnest(CAST(:user_ids AS bigint[]), CAST(:source_ids AS bigint[]))
              AS x(user_id, source_id)
        WHERE m.user_id = x.user_id AND m.source_id = x.source_id
        RETURNING m.id
        """,
        user_ids=user_ids,
        source_ids=source_ids,
    )
    return len(rows)


async def upsert_group_shares(
    session: AsyncSession,
    *,
    shared_group_ids: list[int],
    target_source_ids: list[int],
    access_levels: list[int],
    expires_on: list[date | None],
) -> int:
    rows = await _run(
        session,
        """
        INSERT INTO group_share (shared_group_id, target_source_id, access_level, expires_on)
        SELECT * FROM unnest(CAST(:shared AS bigint[]), CAST(:targets AS bigint[]),
                             CAST(:levels AS smallint[]), CAST(:expires AS date[]))
        ON CONFLICT (target_source_id, shared_group_id) DO UPDATE SET
            access_level = excluded.access_level, expires_on = excluded.expires_on
        WHERE (group_share.access_level, group_share.expires_on)
              IS DISTINCT FROM (excluded.access_level, excluded.expires_on)
        RETURNING id
        """,
        shared=shared_group_ids,
        targets=target_source_ids,
        levels=access_levels,
        expires=expires_on,
    )
    return len(rows)


async def namespaces_reached_from_sources(
    session: AsyncSession, source_ids: Sequence[int]
) -> list[int]:
    """Namespaces whose seats members of these sources can take: the sources' own, and those
    of every group or project these sources are invited into."""
    rows = await _run(
        session,
        """
        SELECT namespace_id FROM source WHERE id = ANY(:ids)
        UNION
        SELECT t.namespace_id FROM group_share gs JOIN source t ON t.id = gs.target_source_id
        WHERE gs.shared_group_id = ANY(:ids)
        """,
        ids=list(source_ids),
    )
    return [row[0] for row in rows]


async def namespaces_reached_by_users(session: AsyncSession, user_ids: Sequence[int]) -> list[int]:
    rows = await _run(
        session,
        "SELECT DISTINCT source_id FROM membership WHERE user_id = ANY(:ids)",
        ids=list(user_ids),
    )
    return await namespaces_reached_from_sources(session, [row[0] for row in rows])


async def refresh_seat_figures(
    session: AsyncSession,
    namespace_ids: Sequence[int],
    *,
    today: date,
    user_ids: Sequence[int] | None = None,
) -> None:
    """Bring the billable members of these namespaces up to date (for `user_ids` only, when
    the change cannot affect anyone else), recount them and raise the active subscriptions'
    peak and the day's peak in `seat_snapshot`. The namespace rows are locked first, in
    id order, so concurrent batches touching a namespace take turns and each counts what the
    other committed: the peak misses nothing and only ever rises. A term that has ended (its
    renewal or expiry waits for the daily job) keeps the peak it had: later growth belongs to
    the next term. A term that has not started yet has no peak of its own: its figure follows
    the count, so on its start date it holds the count the term starts with and only rises
    from there."""
    ids = sorted(set(namespace_ids))
    if not ids:
        return
    await _run(
        session, "SELECT id FROM namespace WHERE id = ANY(:ids) ORDER BY id FOR UPDATE", ids=ids
    )
    changes = await refresh_billable_members(session, ids, today=today, user_ids=user_ids)
    if user_ids is None:  # a full rebuild recounts, mending any drift
        await _run(session, _RECOUNT, ids=ids, active=SubscriptionStatus.ACTIVE.value, today=today)
    else:  # per-user changes move the count by what they added and removed
        await _run(
            session,
            _ADD_DELTAS,
            ids=list(changes.delta),
            deltas=list(changes.delta.values()),
            active=SubscriptionStatus.ACTIVE.value,
            today=today,
        )


_APPLY_COUNTS = """
WITH counted AS ({counted}),
namespaces AS (
    UPDATE namespace n SET seats_in_use = c.seats
    FROM counted c WHERE n.id = c.id AND n.seats_in_use <> c.seats
),
days AS (
    INSERT INTO seat_snapshot (namespace_id, day, billable, peak)
    SELECT id, :today, seats, seats FROM counted
    ON CONFLICT (namespace_id, day) DO UPDATE
    SET billable = excluded.billable, peak = greatest(seat_snapshot.peak, excluded.peak)
)
UPDATE subscription s SET max_seats_used = c.seats
FROM counted c
WHERE s.namespace_id = c.id AND s.status = :active AND s.end_date > :today
  AND (s.max_seats_used < c.seats OR (s.start_date > :today AND s.max_seats_used <> c.seats))
"""
_RECOUNT = _APPLY_COUNTS.replace(
    "{counted}",
    """SELECT n.id, (SELECT count(*) FROM billable_member b WHERE b.namespace_id = n.id) AS seats
       FROM namespace n WHERE n.id = ANY(:ids)""",
)
_ADD_DELTAS = _APPLY_COUNTS.replace(
    "{counted}",
    """SELECT n.id, n.seats_in_use + d.delta AS seats
       FROM namespace n
       JOIN unnest(CAST(:ids AS bigint[]), CAST(:deltas AS int[])) AS d(id, delta)
         ON d.id = n.id""",
)
