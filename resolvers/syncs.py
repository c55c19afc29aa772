"""License syncs: an online instance, authenticated by its license, reports its user counts
once a day and gets its current license back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from billing.charges import Term, is_twelve_months, quarter_ends
from billing.errors import (
    ConflictError,
    ErrorCode,
    InvalidInputError,
    LicenseRefusedError,
    NotFoundError,
)
from billing.licenses import LicenseType
from billing.subscriptions import SubscriptionStatus
from db.licenses import latest_license
from db.subscriptions import lock_subscription
from db.syncs import latest_report, license_by_token, record_report
from db.tables import Instance, Subscription, SyncReport
from resolvers.changes import require
from resolvers.context import Context
from resolvers.licenses import refresh_license
from resolvers.principal import Permission
from resolvers.rates import admit_client, admit_instance
from resolvers.report_file import Report, parse_report_file

SYNC_EVERY = timedelta(days=1)
EXPIRED_GRACE = timedelta(days=30)


@dataclass(frozen=True)
class SyncAnswer:
    license: str | None  # none only when no license could be signed yet
    license_changed: bool
    next_sync_at: datetime
    next_reconciliation_on: date | None
    seats: int
    seats_in_use: int
    max_seats_used: int
    changed: bool  # whether the report changed anything (False for a repeat or an older one)


async def license_sync(context: Context, report: Report) -> SyncAnswer:
    """Check the license (signature, dates, issued here, for this instance, subscription
    active), file the report under today (a repeat changes nothing and gets the same answer),
    raise the subscription's peak, and answer with the current license."""
    admit_client(context)
    return await _sync(context, report, LicenseType.ONLINE)


async def _sync(context: Context, report: Report, license_type: LicenseType) -> SyncAnswer:
    _check(report)
    today = context.clock.today()
    if context.verify_license is None:
        raise RuntimeError("no license keys are configured")
    grant = context.verify_license(report.license, None)  # signature; dates below
    # Counted only once the license is genuine, and per license subscription and instance
    # id: naming someone's instance id without its license spends none of its calls.
    admit_instance(context, f"sync:{grant.subscription_id}:{report.instance_uid}")
    if grant.license_type is not license_type:
        raise LicenseRefusedError(
            ErrorCode.LICENSE_FOREIGN,
            f"An {grant.license_type.value} license cannot be used here.",
            "license",
        )
    if today < grant.starts_on:
        raise LicenseRefusedError(
            ErrorCode.LICENSE_NOT_YET_VALID,
            f"not yet valid: valid from {grant.starts_on.isoformat()}",
            "license",
        )
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
        # An expired license still fetches its successor while the subscription runs on (it
        # was renewed), for a grace period; after that, or with nothing newer, it is refused.
        renewed_on = subscription.end_date > grant.expires_on
        if grant.in_force(today) == "expired" and not (
            renewed_on and today < grant.expires_on + EXPIRED_GRACE
        ):
            raise LicenseRefusedError(
                ErrorCode.LICENSE_EXPIRED,
                f"expired: expired on {grant.expires_on.isoformat()}",
                "license",
            )
        online = license_type is LicenseType.ONLINE
        day = today if online else report.reported_at.astimezone(UTC).date()
        field = "reportedAt" if online else "report.reported_at"
        _check_day(day, subscription, today, field)
        return await _accept(
            session, context, subscription, instance, presented=presented.id, report=report, day=day
        )


async def _accept(
    session: AsyncSession,
    context: Context,
    subscription: Subscription,
    instance: Instance,
    *,
    presented: int | None,
    report: Report,
    day: date,
) -> SyncAnswer:
    """File the report of the (locked, active) subscription's instance under its day (the
    day's peak is the highest of its reports), take the instance's current figures from its
    latest report by `reportedAt`, raise the term's peak when the day is in the term, and
    answer with the current license."""
    now = context.clock.now()
    assert instance.id is not None
    assert subscription.id is not None
    changed = await record_report(
        session,
        SyncReport(
            instance_id=instance.id,
            subscription_id=subscription.id,
            license_id=presented,
            day=day,
            hostname=report.hostname,
            version=report.version,
            billable_users=report.billable_users,
            max_historical_users=report.max_historical_users,
            reported_at=report.reported_at,
            peak=report.billable_users,
            user_statistics=report.user_statistics.as_dict() if report.user_statistics else None,
        ),
    )
    if changed:
        latest = await latest_report(session, instance.id)
        assert latest is not None
        instance.seats_in_use = latest.billable_users
        instance.max_historical_users = latest.max_historical_users
        instance.hostname, instance.version = latest.hostname, latest.version
        instance.user_statistics = latest.user_statistics
        instance.last_sync_at = now
        if day < subscription.end_date:  # a day past the end belongs to the next term
            subscription.max_seats_used = max(subscription.max_seats_used, report.billable_users)
    await refresh_license(session, subscription, sign=context.sign_license, now=now)
    await session.flush()
    current = await latest_license(session, subscription.id)
    return SyncAnswer(
        license=current.token if current else None,
        license_changed=current is not None and current.id != presented,
        next_sync_at=now + SYNC_EVERY,
        next_reconciliation_on=_next_reconciliation(
            Term(subscription.start_date, subscription.end_date),
            subscription.quarterly_reconciliation,
            subscription.quarters_reconciled,
        ),
        seats=subscription.seats,
        seats_in_use=instance.seats_in_use or 0,
        max_seats_used=subscription.max_seats_used,
        changed=changed,
    )


async def upload_report(context: Context, upload: Upload) -> SyncAnswer:
    """A usage report of an offline instance, handled with the same rules as a sync: its
    exported file (which carries its license, the credential), or counts the billing team
    entered for an instance subscription."""
    admit_client(context)
    if upload.file is not None:
        return await _sync(context, parse_report_file(upload.file), LicenseType.OFFLINE)
    require(context, Permission.MANAGE_BILLING)
    assert upload.subscription_id is not None
    async with context.transaction() as session:
        subscription = await lock_subscription(session, upload.subscription_id)
        if subscription is None or subscription.instance_id is None:
            raise NotFoundError(
                ErrorCode.SUBSCRIPTION_NOT_FOUND,
                "There is no such instance subscription.",
                "subscriptionId",
            )
        if subscription.status != SubscriptionStatus.ACTIVE:
            raise ConflictError(
                ErrorCode.SUBSCRIPTION_NOT_ACTIVE,
                "The subscription is no longer active.",
                "subscriptionId",
            )
        instance = await session.get(Instance, subscription.instance_id)
        assert instance is not None
        report = Report(
            license="",
            instance_uid=instance.instance_uid,
            hostname=instance.hostname,
            version=instance.version or "unknown",
            billable_users=upload.billable_users or 0,
            max_historical_users=upload.max_historical_users or 0,
            reported_at=upload.reported_at or context.clock.now(),
        )
        _check(report)
        day = report.reported_at.astimezone(UTC).date()
        _check_day(day, subscription, context.clock.today(), "reportedAt")
        return await _accept(
            session, context, subscription, instance, presented=None, report=report, day=day
        )


@dataclass(frozen=True)
class Upload:
    """Either `file` (an offline instance's exported report) or the counts for a
    subscription, entered by the billing team."""

    file: str | None = None
    subscription_id: int | None = None
    billable_users: int | None = None
    max_historical_users: int | None = None
    reported_at: datetime | None = None


def _check_day(day: date, subscription: Subscription, today: date, field: str) -> None:
    """A count belongs to the (UTC) day it was taken and to the term containing that day: an
    offline report may come late and is filed under its own day, so it feeds the right
    quarter; a day to come, or one before the running term started, is refused."""
    if day > today:
        raise InvalidInputError(
            ErrorCode.REPORT_IN_FUTURE,
            f"The report counted on {day.isoformat()}, after today ({today.isoformat()}).",
            field,
        )
    if day < subscription.start_date:
        raise InvalidInputError(
            ErrorCode.REPORT_BEFORE_TERM,
            f"The report counted on {day.isoformat()}, before the term that started on "
            f"{subscription.start_date.isoformat()}; a count belongs to its own day's term.",
            field,
        )


def _next_reconciliation(term: Term, quarterly: bool, reconciled: int) -> date:
    """The end of the next quarter to reconcile, or the renewal (true-up) date."""
    if quarterly and reconciled < 3 and is_twelve_months(term):
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
