"""License syncs: an online instance, authenticated by its license, reports its user counts
once a day and gets its current license back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from billing.charges import Term, quarter_ends
from billing.errors import ErrorCode, InvalidInputError, LicenseRefusedError
from billing.subscriptions import SubscriptionStatus
from billing.terms import add_months
from db.licenses import latest_license
from db.subscriptions import lock_subscription
from db.syncs import license_by_token, record_report
from db.tables import Instance, SyncReport
from resolvers.context import Context
from resolvers.licenses import refresh_license

SYNC_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class Report:
    license: str
    instance_uid: str
    hostname: str
    version: str
    billable_users: int
    max_historical_users: int
    reported_at: datetime


@dataclass(frozen=True)
class SyncAnswer:
    license: str
    license_changed: bool
    next_sync_at: datetime
    next_reconciliation_on: date | None
    seats: int
    seats_in_use: int
    max_seats_used: int


async def license_sync(context: Context, report: Report) -> SyncAnswer:
    """Check the license (signature, dates, issued here, for this instance, subscription
    active), keep the day's first report (a repeat the same day changes nothing and gets the
    same answer), raise the subscription's peak, and answer with the current license."""
    _check(report)
    today, now = context.clock.today(), context.clock.now()
    if context.verify_license is None:
        raise RuntimeError("no license keys are configured")
    grant = context.verify_license(report.license, today)
    async with context.transaction() as session:
        subscription = await lock_subscription(session, grant.subscription_id)
        presented = await license_by_token(session, grant.subscription_id, report.license)
        if subscription is None or presented is None:
            raise LicenseRefusedError(
                ErrorCode.LICENSE_FOREIGN, "This license was not issued by this service.", "license"
            )
        instance = await session.get(Instance, subscription.instance_id)
        if instance is None or instance.instance_uid != report.instance_uid:
            raise LicenseRefusedError(
                ErrorCode.LICENSE_FOREIGN, "This license belongs to another instance.", "license"
            )
        if subscription.status != SubscriptionStatus.ACTIVE:
            raise LicenseRefusedError(
                ErrorCode.LICENSE_REVOKED, "The subscription is no longer active.", "license"
            )
        assert instance.id is not None
        assert presented.id is not None
        assert subscription.id is not None
        fresh = await record_report(
            session,
            SyncReport(
                instance_id=instance.id,
                subscription_id=subscription.id,
                license_id=presented.id,
                day=today,
                hostname=report.hostname,
                version=report.version,
                billable_users=report.billable_users,
                max_historical_users=report.max_historical_users,
                reported_at=report.reported_at,
            ),
        )
        if fresh:
            instance.seats_in_use = report.billable_users
            instance.max_historical_users = report.max_historical_users
            instance.hostname, instance.version, instance.last_sync_at = (
                report.hostname,
                report.version,
                now,
            )
            if today < subscription.end_date:
                subscription.max_seats_used = max(
                    subscription.max_seats_used, report.billable_users
                )
        await refresh_license(session, subscription, sign=context.sign_license, now=now)
        await session.flush()
        current = await latest_license(session, subscription.id)
        assert current is not None
        return SyncAnswer(
            license=current.token,
            license_changed=current.id != presented.id,
            next_sync_at=now + SYNC_EVERY,
            next_reconciliation_on=_next_reconciliation(
                Term(subscription.start_date, subscription.end_date),
                subscription.quarterly_reconciliation,
                subscription.quarters_reconciled,
            ),
            seats=subscription.seats,
            seats_in_use=instance.seats_in_use or 0,
            max_seats_used=subscription.max_seats_used,
        )


def _next_reconciliation(term: Term, quarterly: bool, reconciled: int) -> date:
    """The end of the next quarter to reconcile, or the renewal (true-up) date."""
    if quarterly and reconciled < 3 and term.end == add_months(term.start, 12):
        return quarter_ends(term)[reconciled]
    return term.end


def _check(report: Report) -> None:
    for field, value in (
        ("billableUsers", report.billable_users),
        ("maxHistoricalUsers", report.max_historical_users),
    ):
        if value < 0 or value > 10_000_000:
            raise InvalidInputError(ErrorCode.INVALID_VALUE, "A count of users.", field)
    for field, text, limit in (
        ("instanceId", report.instance_uid, 64),
        ("hostname", report.hostname, 255),
        ("version", report.version, 64),
    ):
        if not text.strip() or len(text) > limit:
            raise InvalidInputError(
                ErrorCode.INVALID_VALUE, f"Must be 1 to {limit} characters.", field
            )
