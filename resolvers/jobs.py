"""Scheduled work, run by `billing jobs ...`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.errors import BillingError, ConflictError, ErrorCode
from billing.subscriptions import SubscriptionStatus
from db.idempotency import purge
from db.ingest import refresh_seat_figures
from db.job_runs import claim_run, latest_run
from db.snapshots import namespaces_with_members, write_snapshots
from db.subscriptions import (
    active_instance_subscriptions,
    due_for_reconciliation,
    ending_by,
    lock_namespace_of,
    lock_subscription,
    owners,
)
from db.tables import Subscription
from resolvers.changes import Who
from resolvers.context import LicenseSigner
from resolvers.licenses import needs_license, refresh_license
from resolvers.renewals import Happened, reconcile_due, roll_over


class Steps(Protocol):
    """Where a job reports its progress (the CLI draws a bar on a terminal)."""

    def start(self, what: str, total: int) -> None: ...
    def advance(self, count: int = 1) -> None: ...


class NoSteps:
    def start(self, what: str, total: int) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass


NO_STEPS = NoSteps()


@dataclass(frozen=True)
class SnapshotReport:
    day: date
    namespaces_recounted: int
    snapshots_written: int


def _refuse_before(latest: date, day: date) -> ConflictError:
    return ConflictError(
        ErrorCode.DAY_BEFORE_LATEST_RUN,
        f"The daily job already ran for {latest.isoformat()}, which did everything due by "
        f"then; it cannot run for the earlier {day.isoformat()} (that day's seat snapshot "
        "would get today's counts). Run it for today, or for a later day.",
        "date",
    )


async def _claim(session: AsyncSession, day: date) -> None:
    latest = await claim_run(session, day)
    if latest is not None:
        await session.rollback()
        raise _refuse_before(latest, day)
    await session.commit()


async def snapshot_seats(
    session: AsyncSession, *, day: date, steps: Steps = NO_STEPS
) -> SnapshotReport:
    """Recount every namespace from scratch (memberships expire with the calendar, which no
    push announces), raise peaks, and record the day's billable counts. Safe to run twice;
    refused (DAY_BEFORE_LATEST_RUN) for a day before the daily job's latest run."""
    latest = await latest_run(session)
    if latest is not None and latest > day:
        await session.rollback()
        raise _refuse_before(latest, day)
    namespaces = await namespaces_with_members(session)
    steps.start("recounting namespaces", len(namespaces))
    for start in range(0, len(namespaces), 50):
        chunk = namespaces[start : start + 50]
        await refresh_seat_figures(session, chunk, today=day)
        steps.advance(len(chunk))
    written = await write_snapshots(session, day)
    await session.commit()
    return SnapshotReport(day, len(namespaces), written)


@dataclass(frozen=True)
class DailyReport:
    day: date
    done: list[str]
    failed: list[str]


JOB_ACTOR = "job:run-daily"
KEEP_IDEMPOTENCY_KEYS = timedelta(days=7)


async def run_daily(  # noqa: PLR0915 (its steps are closures sharing the lists)
    session: AsyncSession,
    *,
    day: date,
    sign: LicenseSigner | None = None,
    steps: Steps = NO_STEPS,
) -> DailyReport:
    """Everything due by `day`: for each subscription, its quarterly reconciliations and the
    end of its term (renewed as bought, renewed automatically, or expired), in date order
    until nothing is due (a run after missed days reconciles the old term, renews, then
    reconciles the new term's quarters that ended too); then the seat snapshot.

    Each subscription is handled in its own transaction with its row locked, and what is
    done moves its state on (quarters reconciled, term dates), so running again for the same
    day does nothing more. A run for a day before the latest run is refused with a
    ConflictError (DAY_BEFORE_LATEST_RUN, field ``date``) before anything is done."""
    await _claim(session, day)
    who = Who(JOB_ACTOR, day)
    midnight = datetime.combine(day, time(), tzinfo=UTC)
    done: list[str] = []
    failed: list[str] = []

    owner: dict[int, str] = {}

    async def each(
        what: str, ids: list[int], step: Callable[[Subscription], Awaitable[list[Happened]]]
    ) -> None:
        owner.update(await owners(session, ids))
        steps.start(what, len(ids))
        for subscription_id in ids:
            steps.advance()
            whose = f"{owner.get(subscription_id, '?')}: "
            try:
                await lock_namespace_of(session, subscription_id)  # before the subscription
                subscription = await lock_subscription(session, subscription_id)
                if subscription is None or subscription.status != SubscriptionStatus.ACTIVE:
                    await session.rollback()
                    continue
                happened = await step(subscription)
                await session.commit()  # numbers the invoices issued
                done.extend(whose + str(event) for event in happened)
            except BillingError as error:
                await session.rollback()
                failed.append(f"{whose}subscription {subscription_id}: {error.message}")
            except DBAPIError as error:  # e.g. a deadlock: the others still get their turn
                await session.rollback()
                failed.append(f"{whose}subscription {subscription_id}: {type(error.orig).__name__}")

    async def catch_up(subscription: Subscription) -> list[Happened]:
        happened = await reconcile_due(session, subscription, who)
        while subscription.status == SubscriptionStatus.ACTIVE and subscription.end_date <= day:
            happened.append(await roll_over(session, subscription, who))
            happened += await reconcile_due(session, subscription, who)
        return happened

    unlicensed: list[int] = []

    async def license(subscription: Subscription) -> list[Happened]:
        """Every instance gets a license for what it has now (also the first one, for
        subscriptions older than licenses, or signed late once a key is configured)."""
        assert subscription.id is not None
        if sign is None:
            if await needs_license(session, subscription):
                unlicensed.append(subscription.id)
            return []
        issued = await refresh_license(session, subscription, sign=sign, now=midnight)
        if issued is None:
            return []
        return [
            Happened(
                f"subscription {subscription.id}: licensed {issued.seats} seats of "
                f"{issued.plan} to {issued.expires_on.isoformat()}"
            )
        ]

    due = set(await due_for_reconciliation(session)) | set(await ending_by(session, day))
    await each("subscriptions due", sorted(due), catch_up)
    await each("instance licenses", await active_instance_subscriptions(session), license)
    if unlicensed:
        failed.append(
            f"{len(unlicensed)} instance subscriptions need a new license, but no signing key "
            "is configured (BILLING_LICENSE_SIGNING_KEY): "
            + ", ".join(f"{i} ({owner.get(i, '?')})" for i in unlicensed)
        )
    cutoff = midnight - KEEP_IDEMPOTENCY_KEYS
    purged = await purge(session, before=cutoff)
    await session.commit()
    snapshot = await snapshot_seats(session, day=day, steps=steps)
    done.append(
        f"recounted {snapshot.namespaces_recounted} namespaces, wrote "
        f"{snapshot.snapshots_written} seat snapshots, forgot {purged} idempotency keys"
    )
    return DailyReport(day, done, failed)
