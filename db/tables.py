"""Tables of the billing database. Tables are singular; API shapes live in `schema/`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from billing.charges import ChargeKind
from billing.licenses import LicenseType
from billing.seats import (
    AccessLevel,
    MembershipState,
    MembershipType,
    SourceKind,
    UserState,
    UserType,
)
from billing.subscriptions import InvoiceStatus, SubscriptionStatus
from billing.terms import BillingPeriod
from billing.usage import Metric

PLAN_CODES = ("free", "premium", "ultimate")
BILLING_PERIODS = tuple(BillingPeriod)
SUBSCRIPTION_STATUSES = tuple(SubscriptionStatus)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


def _id() -> Any:
    return Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))


def _created_at() -> Any:
    return Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def _fk(target: str, *, nullable: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey(target), nullable=nullable, index=True),
    )


class Customer(SQLModel, table=True):
    __tablename__ = "customer"
    __table_args__ = (CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),)

    id: int | None = _id()
    name: str = Field(sa_column=Column(String(255), nullable=False))
    billing_email: str = Field(sa_column=Column(String(320), nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    created_at: datetime | None = _created_at()


class Plan(SQLModel, table=True):
    __tablename__ = "plan"
    __table_args__ = (CheckConstraint(_in("code", PLAN_CODES), name="code_known"),)

    id: int | None = _id()
    code: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    name: str = Field(sa_column=Column(String(100), nullable=False))
    excludes_guests: bool = Field(default=False, nullable=False)
    position: int = Field(sa_column=Column(Integer, nullable=False))


class Price(SQLModel, table=True):
    """One seat of a plan for one billing period, in one currency, from `valid_from` on."""

    __tablename__ = "price"
    __table_args__ = (
        UniqueConstraint("plan_id", "currency", "billing_period", "valid_from"),
        CheckConstraint(_in("billing_period", BILLING_PERIODS), name="billing_period_known"),
        CheckConstraint("unit_amount >= 0", name="unit_amount_not_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
    )

    id: int | None = _id()
    plan_id: int | None = _fk("plan.id")
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    billing_period: str = Field(sa_column=Column(String(16), nullable=False))
    unit_amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    valid_from: date = Field(nullable=False)

    @classmethod
    def owner_column(cls) -> Any:
        return cls.plan_id


class AddOn(SQLModel, table=True):
    __tablename__ = "add_on"

    id: int | None = _id()
    code: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    name: str = Field(sa_column=Column(String(100), nullable=False))
    description: str = Field(sa_column=Column(String(1000), nullable=False, server_default=""))
    position: int = Field(sa_column=Column(Integer, nullable=False))


class AddOnPrice(SQLModel, table=True):
    """One unit of an add-on for one billing period, in one currency, from `valid_from` on."""

    __tablename__ = "add_on_price"
    __table_args__ = (
        UniqueConstraint("add_on_id", "currency", "billing_period", "valid_from"),
        CheckConstraint(_in("billing_period", BILLING_PERIODS), name="billing_period_known"),
        CheckConstraint("unit_amount >= 0", name="unit_amount_not_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
    )

    id: int | None = _id()
    add_on_id: int | None = _fk("add_on.id")
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    billing_period: str = Field(sa_column=Column(String(16), nullable=False))
    unit_amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    valid_from: date = Field(nullable=False)

    @classmethod
    def owner_column(cls) -> Any:
        return cls.add_on_id


class Namespace(SQLModel, table=True):
    """A GitLab.com top-level group."""

    __tablename__ = "namespace"

    id: int | None = _id()
    path: str = Field(sa_column=Column(String(255), nullable=False, unique=True))
    name: str = Field(sa_column=Column(String(255), nullable=False))
    customer_id: int | None = _fk("customer.id", nullable=True)
    seats_in_use: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    created_at: datetime | None = _created_at()


class Instance(SQLModel, table=True):
    """A self-managed GitLab installation."""

    __tablename__ = "instance"

    id: int | None = _id()
    instance_uid: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    hostname: str = Field(sa_column=Column(String(255), nullable=False))
    customer_id: int | None = _fk("customer.id")
    # what the instance last reported (license syncs); null until it has
    seats_in_use: int | None = Field(default=None, nullable=True)
    max_historical_users: int | None = Field(default=None, nullable=True)
    version: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    last_sync_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    created_at: datetime | None = _created_at()
    # the latest report's user statistics (billing.user_statistics); null until one has them
    user_statistics: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSONB(none_as_null=True), nullable=True)
    )


class Subscription(SQLModel, table=True):
    __tablename__ = "subscription"
    __table_args__ = (
        CheckConstraint(
            "(namespace_id IS NULL) <> (instance_id IS NULL)", name="namespace_xor_instance"
        ),
        CheckConstraint(_in("status", SUBSCRIPTION_STATUSES), name="status_known"),
        CheckConstraint("seats >= 0", name="seats_not_negative"),
        CheckConstraint("end_date > start_date", name="term_not_empty"),
        CheckConstraint(_in("license_type", tuple(LicenseType)), name="license_type_known"),
        CheckConstraint("anchor_day BETWEEN 1 AND 31", name="anchor_day_of_month"),
        Index(
            "subscription_one_active_per_namespace",
            "namespace_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
        Index(
            "subscription_one_active_per_instance",
            "instance_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: int | None = _id()
    customer_id: int | None = _fk("customer.id")
    namespace_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("namespace.id"), nullable=True)
    )
    instance_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("instance.id"), nullable=True)
    )
    plan_id: int | None = _fk("plan.id")
    price_id: int | None = _fk("price.id")
    seats: int = Field(sa_column=Column(Integer, nullable=False))
    start_date: date = Field(nullable=False)
    end_date: date = Field(nullable=False)
    status: str = Field(sa_column=Column(String(16), nullable=False, server_default="active"))
    auto_renew: bool = Field(default=True, nullable=False)
    trial: bool = Field(default=False, nullable=False)
    max_seats_used: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    # Quarterly reconciliation (annual terms only), and how many quarters of the term have
    # been reconciled; a quarter's peak comes from the daily seat snapshots.
    quarterly_reconciliation: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default="false")
    )
    quarters_reconciled: int = Field(
        default=0, sa_column=Column(SmallInteger, nullable=False, server_default="0")
    )
    cancelled_on: date | None = Field(default=None, nullable=True)
    # The day an upgrade took effect: the term's peak and its quarter's reconciliation count
    # from that day under the new plan's rule (the days before were settled at the upgrade).
    plan_changed_on: date | None = Field(default=None, nullable=True)
    # A downgrade waits for the renewal; a renewal bought before the end date waits there too.
    pending_plan_id: int | None = _fk("plan.id", nullable=True)
    renewal_seats: int | None = Field(default=None, nullable=True)
    renewal_price_id: int | None = _fk("price.id", nullable=True)
    # self-managed instances: how their licenses are delivered (by sync, or as a file)
    license_type: str = Field(
        default=LicenseType.ONLINE.value,
        sa_column=Column(String(8), nullable=False, server_default=LicenseType.ONLINE.value),
    )
    # The day of the month its terms end on: its first term's start day, kept when a short
    # month clamps an end (2026-01-31 -> 02-28 -> 03-31). Null for rows made before it was
    # recorded: the current start date's day, recorded at the next renewal.
    anchor_day: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    created_at: datetime | None = _created_at()


USER_STATES = tuple(UserState)
USER_TYPES = tuple(UserType)
MEMBERSHIP_STATES = tuple(MembershipState)
SOURCE_KINDS = tuple(SourceKind)
MEMBERSHIP_TYPES = tuple(MembershipType)
ACCESS_LEVELS = ", ".join(str(int(level)) for level in AccessLevel)


def _updated_at() -> Any:
    return Field(
        default=None,
        sa_column=Column(
            DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
        ),
    )


class GitlabUser(SQLModel, table=True):
    """A GitLab.com user, as GitLab.com last pushed it."""

    __tablename__ = "gitlab_user"
    __table_args__ = (
        CheckConstraint(_in("state", USER_STATES), name="state_known"),
        CheckConstraint(_in("user_type", USER_TYPES), name="user_type_known"),
        # checked at commit, so one batch may swap two users' usernames
        UniqueConstraint(
            "username", name="gitlab_user_username_key", deferrable=True, initially="DEFERRED"
        ),
    )

    id: int | None = _id()
    gitlab_id: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    username: str = Field(sa_column=Column(String(255), nullable=False))
    name: str = Field(sa_column=Column(String(255), nullable=False))
    public_email: str | None = Field(default=None, sa_column=Column(String(320), nullable=True))
    state: str = Field(sa_column=Column(String(32), nullable=False))
    user_type: str = Field(sa_column=Column(String(32), nullable=False))
    last_activity_on: date | None = Field(default=None, nullable=True)
    last_sign_in_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    updated_at: datetime | None = _updated_at()


class Source(SQLModel, table=True):
    """A group or project in the hierarchy of a top-level namespace (the top-level group itself
    included); memberships and group shares attach to sources."""

    __tablename__ = "source"
    __table_args__ = (
        UniqueConstraint("kind", "gitlab_id"),
        CheckConstraint(_in("kind", SOURCE_KINDS), name="kind_known"),
        Index("source_by_parent", "parent_id"),  # a moved or removed group's descendants
    )

    id: int | None = _id()
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    gitlab_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    full_path: str = Field(sa_column=Column(String(1000), nullable=False))
    namespace_id: int | None = _fk("namespace.id")
    parent_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("source.id"), nullable=True)
    )


class Membership(SQLModel, table=True):
    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("source_id", "user_id"),
        CheckConstraint(f"access_level IN ({ACCESS_LEVELS})", name="access_level_known"),
        CheckConstraint(_in("state", MEMBERSHIP_STATES), name="state_known"),
    )

    id: int | None = _id()
    user_id: int | None = _fk("gitlab_user.id")  # indexed: a user's memberships
    source_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("source.id"), nullable=False)
    )
    access_level: int = Field(sa_column=Column(SmallInteger, nullable=False))
    state: str = Field(sa_column=Column(String(16), nullable=False))
    invite_pending: bool = Field(default=False, nullable=False)
    access_request: bool = Field(default=False, nullable=False)
    expires_on: date | None = Field(default=None, nullable=True)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class GroupShare(SQLModel, table=True):
    """A group invited into a group or project, with the highest role the share grants."""

    __tablename__ = "group_share"
    __table_args__ = (
        UniqueConstraint("target_source_id", "shared_group_id"),
        CheckConstraint(f"access_level IN ({ACCESS_LEVELS})", name="access_level_known"),
    )

    id: int | None = _id()
    shared_group_id: int | None = _fk("source.id")
    target_source_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("source.id"), nullable=False)
    )
    access_level: int = Field(sa_column=Column(SmallInteger, nullable=False))
    expires_on: date | None = Field(default=None, nullable=True)


class BillableMember(SQLModel, table=True):
    """Who takes a seat in a namespace now, kept current by ingestion (see db/seats.py), with
    the user fields that lists sort and search by copied in so a page is one index scan."""

    __tablename__ = "billable_member"
    __table_args__ = (
        CheckConstraint(_in("membership_type", MEMBERSHIP_TYPES), name="membership_type_known"),
        Index("billable_member_by_name", "namespace_id", "name", "user_id"),
        Index("billable_member_by_joined", "namespace_id", "joined_at", "user_id"),
        Index("billable_member_by_level", "namespace_id", "access_level", "user_id"),
        Index(
            "billable_member_by_activity",
            "namespace_id",
            text("coalesce(last_activity_on, DATE '0001-01-01')"),
            "user_id",
        ),
        Index("billable_member_user", "user_id"),
    )

    namespace_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("namespace.id"), primary_key=True)
    )
    user_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("gitlab_user.id"), primary_key=True)
    )
    access_level: int = Field(sa_column=Column(SmallInteger, nullable=False))
    membership_type: str = Field(sa_column=Column(String(16), nullable=False))
    joined_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    username: str = Field(sa_column=Column(String(255), nullable=False))
    name: str = Field(sa_column=Column(String(255), nullable=False))
    public_email: str | None = Field(default=None, sa_column=Column(String(320), nullable=True))
    last_activity_on: date | None = Field(default=None, nullable=True)


class SeatSnapshot(SQLModel, table=True):
    """Billable users of a namespace on a day: the day's last count (the daily job's) and its
    highest (raised by every recount that day)."""

    __tablename__ = "seat_snapshot"

    namespace_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("namespace.id"), primary_key=True)
    )
    day: date = Field(primary_key=True)
    billable: int = Field(sa_column=Column(Integer, nullable=False))
    peak: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


class JobRun(SQLModel, table=True):
    """A day the daily job ran for: it does everything due by that day, so a run for an
    earlier day than the latest is refused (it would write that day's snapshots with today's
    counts)."""

    __tablename__ = "job_run"

    day: date = Field(primary_key=True)
    runs: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))


class SubscriptionAddOn(SQLModel, table=True):
    """Units of an add-on a subscription pays for in its current term."""

    __tablename__ = "subscription_add_on"
    __table_args__ = (
        UniqueConstraint("subscription_id", "add_on_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: int | None = _id()
    subscription_id: int | None = _fk("subscription.id")
    add_on_id: int | None = _fk("add_on.id")
    add_on_price_id: int | None = _fk("add_on_price.id")
    quantity: int = Field(sa_column=Column(Integer, nullable=False))


INVOICE_STATUSES = tuple(InvoiceStatus)
CHARGE_KINDS = tuple(ChargeKind)


class InvoiceCounter(SQLModel, table=True):
    """The last invoice number given out per year. Taking a number updates this row in the
    invoice's transaction, so a rolled-back invoice leaves no gap."""

    __tablename__ = "invoice_counter"

    year: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    last_number: int = Field(sa_column=Column(Integer, nullable=False))


class Invoice(SQLModel, table=True):
    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("year", "sequence"),
        CheckConstraint(_in("status", INVOICE_STATUSES), name="status_known"),
        CheckConstraint("amount_paid >= 0 AND amount_paid <= greatest(total, 0)", name="paid"),
        Index("invoice_by_customer", "customer_id", "id"),
        Index("invoice_by_subscription", "subscription_id", "id"),
    )

    id: int | None = _id()
    # Numbered as its transaction commits (db/invoices.py); never null once committed.
    number: str | None = Field(
        default=None, sa_column=Column(String(32), nullable=True, unique=True)
    )
    year: int = Field(sa_column=Column(Integer, nullable=False))
    sequence: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    customer_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("customer.id"), nullable=False)
    )
    subscription_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("subscription.id"), nullable=False)
    )
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    issued_on: date = Field(nullable=False)
    status: str = Field(sa_column=Column(String(8), nullable=False))
    total: int = Field(sa_column=Column(BigInteger, nullable=False))
    amount_paid: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )
    created_at: datetime | None = _created_at()


class InvoiceLine(SQLModel, table=True):
    __tablename__ = "invoice_line"
    __table_args__ = (
        UniqueConstraint("invoice_id", "position"),
        CheckConstraint(_in("kind", CHARGE_KINDS), name="kind_known"),
        CheckConstraint("fraction_denominator > 0", name="fraction_denominator_positive"),
    )

    id: int | None = _id()
    invoice_id: int = Field(sa_column=Column(BigInteger, ForeignKey("invoice.id"), nullable=False))
    position: int = Field(sa_column=Column(SmallInteger, nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    description: str = Field(sa_column=Column(String(500), nullable=False))
    quantity: int = Field(sa_column=Column(Integer, nullable=False))
    unit_amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    period_start: date = Field(nullable=False)
    period_end: date = Field(nullable=False)
    fraction_numerator: int = Field(sa_column=Column(Integer, nullable=False))
    fraction_denominator: int = Field(sa_column=Column(Integer, nullable=False))


class Payment(SQLModel, table=True):
    __tablename__ = "payment"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: int | None = _id()
    invoice_id: int | None = _fk("invoice.id")
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    reference: str = Field(sa_column=Column(String(255), nullable=False))
    received_on: date = Field(nullable=False)
    created_at: datetime | None = _created_at()


class IdempotencyKey(SQLModel, table=True):
    """A mutation's first result under a caller's key: a retry gets it back, and does nothing."""

    __tablename__ = "idempotency_key"

    caller: str = Field(sa_column=Column(String(300), primary_key=True))
    key: str = Field(sa_column=Column(String(255), primary_key=True))
    operation: str = Field(sa_column=Column(String(64), nullable=False))
    request_hash: str = Field(sa_column=Column(String(64), nullable=False))
    result: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(
            DateTime(timezone=True), nullable=False, server_default=func.now(), index=True
        ),
    )


class AuditEvent(SQLModel, table=True):
    """Who changed what, when, with the values before and after."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("audit_event_by_subject", "subject_type", "subject_id", "id"),)

    id: int | None = _id()
    actor: str = Field(sa_column=Column(String(300), nullable=False))
    action: str = Field(sa_column=Column(String(64), nullable=False))
    subject_type: str = Field(sa_column=Column(String(32), nullable=False))
    subject_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    occurred_on: date = Field(nullable=False)
    created_at: datetime | None = _created_at()


class License(SQLModel, table=True):
    """A signed license of an instance subscription; a new one follows every change to what
    it grants."""

    __tablename__ = "license"
    __table_args__ = (
        CheckConstraint(_in("license_type", tuple(LicenseType)), name="license_type_known"),
        Index("license_by_instance", "instance_id", "id"),
        Index("license_by_subscription", "subscription_id", "id"),
    )

    id: int | None = _id()
    subscription_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("subscription.id"), nullable=False)
    )
    instance_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("instance.id"), nullable=False)
    )
    kid: str = Field(sa_column=Column(String(64), nullable=False))
    token: str = Field(sa_column=Column(Text, nullable=False))
    license_type: str = Field(sa_column=Column(String(8), nullable=False))
    plan: str = Field(sa_column=Column(String(32), nullable=False))
    seats: int = Field(sa_column=Column(Integer, nullable=False))
    add_ons: list[Any] = Field(sa_column=Column(JSONB, nullable=False))
    starts_on: date = Field(nullable=False)
    expires_on: date = Field(nullable=False)
    issued_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class SyncReport(SQLModel, table=True):
    """What an instance reported for a day: one row per instance and day, holding the latest
    report by `reported_at` and the day's highest count (`peak`) of all its reports."""

    __tablename__ = "sync_report"
    __table_args__ = (
        UniqueConstraint("instance_id", "day"),
        CheckConstraint("billable_users >= 0 AND max_historical_users >= 0", name="counts"),
        CheckConstraint("peak >= billable_users", name="peak_covers_latest"),
    )

    id: int | None = _id()
    instance_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("instance.id"), nullable=False)
    )
    subscription_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("subscription.id"), nullable=False)
    )
    # the license presented; none for a report the billing team entered
    license_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("license.id"), nullable=True)
    )
    day: date = Field(nullable=False)
    hostname: str = Field(sa_column=Column(String(255), nullable=False))
    version: str = Field(sa_column=Column(String(64), nullable=False))
    billable_users: int = Field(sa_column=Column(Integer, nullable=False))
    max_historical_users: int = Field(sa_column=Column(Integer, nullable=False))
    reported_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    received_at: datetime | None = _created_at()
    # the highest billable count of all the day's reports
    peak: int = Field(sa_column=Column(Integer, nullable=False))
    # the latest report's user statistics; null for a report with only the two counts
    user_statistics: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSONB(none_as_null=True), nullable=True)
    )


class ActivationCode(SQLModel, table=True):
    """A one-time code an instance trades for its license (only a hash is kept)."""

    __tablename__ = "activation_code"

    id: int | None = _id()
    subscription_id: int | None = _fk("subscription.id")
    code_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime | None = _created_at()
    used_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


METRICS = tuple(Metric)


class Quota(SQLModel, table=True):
    """What a plan includes per month of a metric, or what one unit of an add-on adds."""

    __tablename__ = "quota"
    __table_args__ = (
        CheckConstraint("(plan_id IS NULL) <> (add_on_id IS NULL)", name="plan_xor_add_on"),
        CheckConstraint(_in("metric", METRICS), name="metric_known"),
        CheckConstraint("included >= 0", name="included_not_negative"),
        UniqueConstraint("plan_id", "add_on_id", "metric"),
    )

    id: int | None = _id()
    plan_id: int | None = _fk("plan.id", nullable=True)
    add_on_id: int | None = _fk("add_on.id", nullable=True)
    metric: str = Field(sa_column=Column(String(32), nullable=False))
    included: int = Field(sa_column=Column(BigInteger, nullable=False))


class UsageEvent(SQLModel, table=True):
    """One metered event GitLab.com reported; its event id makes a resend harmless."""

    __tablename__ = "usage_event"
    __table_args__ = (
        CheckConstraint(_in("metric", METRICS), name="metric_known"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        Index("usage_event_by_namespace", "namespace_id", "metric", "occurred_at"),
    )

    id: int | None = _id()
    event_id: str = Field(sa_column=Column(String(255), nullable=False, unique=True))
    namespace_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("namespace.id"), nullable=False)
    )
    metric: str = Field(sa_column=Column(String(32), nullable=False))
    quantity: int = Field(sa_column=Column(BigInteger, nullable=False))
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
