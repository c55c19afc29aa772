"""A realistic demo data set: catalog in USD and EUR, a few customers with subscriptions.

Idempotent: every row is looked up by its natural key first, so running it twice adds nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from billing.terms import BillingPeriod, term_end
from db.catalog import prices_in_force
from db.tables import (
    AddOn,
    AddOnPrice,
    Customer,
    GitlabUser,
    Instance,
    Membership,
    Namespace,
    Plan,
    Price,
    Quota,
    Source,
    Subscription,
)

M = TypeVar("M", bound=SQLModel)

TRIAL_LENGTH = timedelta(days=30)

ANNUAL, MONTHLY = BillingPeriod.ANNUAL.value, BillingPeriod.MONTHLY.value
PLANS = [
    # code, name, excludes_guests, position
    ("free", "Free", False, 0),
    ("premium", "Premium", False, 1),
    ("ultimate", "Ultimate", True, 2),
]
PLAN_PRICES = [
    # plan, currency, period, minor units, valid from
    ("free", "USD", ANNUAL, 0, date(2020, 1, 1)),
    ("free", "EUR", ANNUAL, 0, date(2020, 1, 1)),
    ("premium", "USD", ANNUAL, 22800, date(2020, 1, 1)),
    ("premium", "USD", ANNUAL, 34800, date(2023, 4, 3)),
    ("premium", "USD", MONTHLY, 2900, date(2023, 4, 3)),
    ("premium", "EUR", ANNUAL, 33600, date(2023, 4, 3)),
    ("ultimate", "USD", ANNUAL, 118800, date(2020, 1, 1)),
    ("ultimate", "USD", MONTHLY, 9900, date(2020, 1, 1)),
    ("ultimate", "EUR", ANNUAL, 114000, date(2020, 1, 1)),
]
ADD_ONS = [
    ("duo_pro", "GitLab Duo Pro", "AI code suggestions and chat, per seat.", 0),
    (
        "duo_enterprise",
        "GitLab Duo Enterprise",
        "Duo Pro plus AI across the lifecycle, per seat.",
        1,
    ),
    ("storage_10gb", "Storage 10 GB", "10 GB of extra namespace storage, per pack.", 2),
]
ADD_ON_PRICES = [
    ("duo_pro", "USD", ANNUAL, 22800, date(2024, 1, 1)),
    ("duo_pro", "EUR", ANNUAL, 21600, date(2024, 1, 1)),
    ("duo_enterprise", "USD", ANNUAL, 46800, date(2024, 1, 1)),
    ("duo_enterprise", "EUR", ANNUAL, 44400, date(2024, 1, 1)),
    ("storage_10gb", "USD", ANNUAL, 6000, date(2020, 1, 1)),
    ("storage_10gb", "EUR", ANNUAL, 5700, date(2020, 1, 1)),
]
GIB = 1024**3
QUOTAS = [
    # plan or add-on code, metric, included per month (per unit, for add-ons)
    ("free", "compute_minutes", 400),
    ("premium", "compute_minutes", 10_000),
    ("ultimate", "compute_minutes", 50_000),
    ("free", "storage_bytes", 10 * GIB),
    ("premium", "storage_bytes", 50 * GIB),
    ("ultimate", "storage_bytes", 250 * GIB),
    ("free", "transfer_bytes", 10 * GIB),
    ("premium", "transfer_bytes", 100 * GIB),
    ("ultimate", "transfer_bytes", 500 * GIB),
    ("storage_10gb", "storage_bytes", 10 * GIB),
]
CUSTOMERS = [
    ("Acme Corp", "billing@acme.example", "USD"),
    ("Globex GmbH", "rechnung@globex.example", "EUR"),
    ("Initech", "ap@initech.example", "USD"),
]
NAMESPACES = [
    ("acme", "Acme", "billing@acme.example"),
    ("acme-labs", "Acme Labs", "billing@acme.example"),
    ("globex", "Globex", "rechnung@globex.example"),
    ("hobby-project", "Hobby Project", None),
]
INSTANCES = [
    ("8f14e45f-ceea-467f-a9e5-0d1c2b3a4f50", "gitlab.initech.example", "ap@initech.example")
]
SUBSCRIPTIONS = [
    # target (namespace path or instance uid), plan, seats, days since start, trial
    ("acme", "premium", 25, 100, False),
    ("acme-labs", "ultimate", 5, 10, True),
    ("globex", "ultimate", 50, 200, False),
    ("8f14e45f-ceea-467f-a9e5-0d1c2b3a4f50", "ultimate", 120, 30, False),
]


DEMO_USERS = [
    # GitLab id, username, name, state, type
    (1001, "ada", "Ada Lovelace", "active", "human"),
    (1002, "ben", "Ben Guest", "active", "human"),
    (1003, "cora", "Cora Blocked", "blocked", "human"),
    (1004, "renovate-bot", "Renovate", "active", "bot"),
]
DEMO_SOURCES = [
    # kind, GitLab id, full path, parent GitLab id (top-level groups name their namespace)
    ("group", 5001, "globex", None),
    ("group", 5002, "globex/platform", 5001),
    ("project", 6001, "globex/platform/api", 5002),
]
DEMO_MEMBERSHIPS = [
    # user, source kind, source, access level
    (1001, "group", 5001, 40),
    (1002, "project", 6001, 10),
    (1003, "group", 5002, 30),
    (1004, "project", 6001, 40),
]


async def _get_or_create(
    session: AsyncSession, model: type[M], key: dict[str, Any], **values: Any
) -> M:
    query = select(model).filter_by(**key)
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        row = model(**key, **values)
        session.add(row)
        await session.flush()
    return row


async def load_demo_data(session: AsyncSession, *, today: date) -> None:
    """Insert whatever of the demo data set is missing. The caller commits."""
    plans = {
        code: await _get_or_create(
            session,
            Plan,
            {"code": code},
            name=name,
            excludes_guests=excludes_guests,
            position=position,
        )
        for code, name, excludes_guests, position in PLANS
    }
    for code, currency, period, amount, valid_from in PLAN_PRICES:
        await _get_or_create(
            session,
            Price,
            {
                "plan_id": plans[code].id,
                "currency": currency,
                "billing_period": period,
                "valid_from": valid_from,
            },
            unit_amount=amount,
        )
    add_ons = {
        code: await _get_or_create(
            session, AddOn, {"code": code}, name=name, description=description, position=position
        )
        for code, name, description, position in ADD_ONS
    }
    for code, currency, period, amount, valid_from in ADD_ON_PRICES:
        await _get_or_create(
            session,
            AddOnPrice,
            {
                "add_on_id": add_ons[code].id,
                "currency": currency,
                "billing_period": period,
                "valid_from": valid_from,
            },
            unit_amount=amount,
        )
    for code, metric, included in QUOTAS:
        owner = {"plan_id": plans[code].id} if code in plans else {"add_on_id": add_ons[code].id}
        await _get_or_create(session, Quota, {**owner, "metric": metric}, included=included)
    customers = {
        email: await _get_or_create(
            session, Customer, {"billing_email": email}, name=name, currency=currency
        )
        for name, email, currency in CUSTOMERS
    }
    targets: dict[str, tuple[str, Any]] = {}
    for path, name, email in NAMESPACES:
        namespace = await _get_or_create(
            session,
            Namespace,
            {"path": path},
            name=name,
            customer_id=customers[email].id if email else None,
        )
        targets[path] = ("namespace_id", namespace)
    for uid, hostname, email in INSTANCES:
        instance = await _get_or_create(
            session,
            Instance,
            {"instance_uid": uid},
            hostname=hostname,
            customer_id=customers[email].id,
        )
        targets[uid] = ("instance_id", instance)
    for target, plan_code, seats, days_ago, trial in SUBSCRIPTIONS:
        column, owner = targets[target]
        existing = await session.execute(select(Subscription).filter_by(**{column: owner.id}))
        if existing.first() is not None:
            continue
        start = today - timedelta(days=days_ago)
        customer = await session.get(Customer, owner.customer_id)
        plan_id = plans[plan_code].id
        assert customer is not None
        assert plan_id is not None
        [prices] = await prices_in_force(
            session,
            Price,
            [plan_id],
            on=start,
            currency=customer.currency,
            billing_period=ANNUAL,
        )
        session.add(
            Subscription(
                customer_id=customer.id,
                plan_id=plans[plan_code].id,
                price_id=prices[0].id,
                seats=seats,
                start_date=start,
                end_date=start + TRIAL_LENGTH if trial else term_end(start, BillingPeriod.ANNUAL),
                anchor_day=start.day,
                status="active",
                auto_renew=not trial,
                trial=trial,
                **{column: owner.id},
            )
        )
    await session.flush()
    await _load_demo_members(session, today=today)


async def _load_demo_members(session: AsyncSession, *, today: date) -> None:
    """A few members of `globex` (Ultimate, so its guest takes no seat), so the seat API has
    something to show."""
    from db.ingest import refresh_seat_figures

    users = {
        gid: await _get_or_create(
            session,
            GitlabUser,
            {"gitlab_id": gid},
            username=username,
            name=name,
            state=state,
            user_type=user_type,
        )
        for gid, username, name, state, user_type in DEMO_USERS
    }
    sources: dict[int, Source] = {}
    for kind, gid, path, parent in DEMO_SOURCES:
        namespace = (
            await session.execute(select(Namespace).filter_by(path=path.split("/")[0]))
        ).scalar_one()
        sources[gid] = await _get_or_create(
            session,
            Source,
            {"kind": kind, "gitlab_id": gid},
            full_path=path,
            namespace_id=namespace.id,
            parent_id=sources[parent].id if parent else None,
        )
    for user, _, source, level in DEMO_MEMBERSHIPS:
        await _get_or_create(
            session,
            Membership,
            {"user_id": users[user].id, "source_id": sources[source].id},
            access_level=level,
            state="active",
            invite_pending=False,
            access_request=False,
            created_at=datetime.combine(today, time(9), UTC) - timedelta(days=30),
        )
    namespace_ids = {source.namespace_id for source in sources.values()}
    await refresh_seat_figures(session, [i for i in namespace_ids if i is not None], today=today)
