"""Reads of customers, namespaces, instances and subscriptions, scoped to the caller.

Visibility is decided here and only here, for root fields, nested fields and node lookups
alike. An object the caller may not see looks exactly like one that does not exist: a root
lookup raises ObjectNotFound, a nested field is null.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from billing.seats import SeatFigures, seat_figures
from db.accounts import count_customers, customers_page, namespace_by_path
from db.batch import Keyset
from db.tables import Customer, Instance, License, Namespace, Plan, Subscription, SyncReport
from resolvers.context import Context
from resolvers.errors import BadUserInput, Forbidden, ObjectNotFound, Unauthenticated
from resolvers.limits import search_term
from resolvers.loaders import HistoryKey, PageKey, required
from resolvers.principal import Permission, Principal
from resolvers.renewals import PricedRenewal, upcoming_renewal


def may_read_subscription(principal: Principal, subscription: Subscription) -> bool:
    """The paying customer's readers may; so may readers of every namespace's seat data, for
    namespace subscriptions."""
    if (
        subscription.namespace_id is not None
        and Permission.READ_ALL_NAMESPACES in principal.permissions
    ):
        return True
    return principal.may_read_customer(subscription.customer_id)


def _require_authenticated(context: Context) -> None:
    if not context.principal.authenticated:
        raise Unauthenticated


async def get_customer(context: Context, customer_id: int) -> Customer:
    _require_authenticated(context)
    customer = await context.loaders.customer_by_id.load(customer_id)
    if customer is None or not context.principal.may_read_customer(customer.id):
        raise ObjectNotFound("Customer", customer_id)
    return customer


async def list_customers(context: Context, *, page: Keyset, search: str | None) -> list[Customer]:
    _require_authenticated(context)
    if Permission.READ_ALL_CUSTOMERS not in context.principal.permissions:
        raise Forbidden("list customers")
    search = search_term(search)
    async with context.db() as session:
        return await customers_page(session, page=page, search=search)


async def count_customers_listed(context: Context, *, search: str | None) -> int:
    """How many customers `list_customers` pages through (its caller passed its checks)."""
    async with context.db() as session:
        return await count_customers(session, search=search_term(search))


async def get_subscription(context: Context, subscription_id: int) -> Subscription:
    _require_authenticated(context)
    subscription = await context.loaders.subscription_by_id.load(subscription_id)
    if subscription is None or not may_read_subscription(context.principal, subscription):
        raise ObjectNotFound("Subscription", subscription_id)
    return subscription


async def get_namespace(context: Context, path: str) -> Namespace:
    _require_authenticated(context)
    async with context.db() as session:
        namespace = await namespace_by_path(session, path)
    if namespace is None or not context.principal.may_read_namespace(namespace.customer_id):
        raise ObjectNotFound("Namespace", repr(path))
    if namespace.id is not None:  # nested fields reuse it
        context.loaders.namespace_by_id.prime(namespace.id, namespace)
    return namespace


async def get_namespace_by_id(context: Context, namespace_id: int) -> Namespace:
    _require_authenticated(context)
    namespace = await context.loaders.namespace_by_id.load(namespace_id)
    if namespace is None or not context.principal.may_read_namespace(namespace.customer_id):
        raise ObjectNotFound("Namespace", namespace_id)
    return namespace


async def get_instance(context: Context, instance_id: int) -> Instance:
    _require_authenticated(context)
    instance = await context.loaders.instance_by_id.load(instance_id)
    if instance is None or not context.principal.may_read_customer(instance.customer_id):
        raise ObjectNotFound("Instance", instance_id)
    return instance


# Nested fields: the parent is visible; each returns what of its relatives the caller may see.


async def customer_namespaces(context: Context, customer_id: int) -> list[Namespace]:
    return await context.loaders.namespaces_by_customer.load(customer_id)


async def customer_instances(context: Context, customer_id: int) -> list[Instance]:
    return await context.loaders.instances_by_customer.load(customer_id)


async def customer_subscriptions(
    context: Context, customer_id: int, *, page: Keyset
) -> list[Subscription]:
    """A page of a customer's subscriptions (whoever may read a customer may read them)."""
    return await context.loaders.subscription_pages_by_customer.load(PageKey(customer_id, page))


async def count_customer_subscriptions(context: Context, customer_id: int) -> int:
    return await context.loaders.subscription_count_by_customer.load(customer_id)


async def instance_licenses(context: Context, instance_id: int, *, page: Keyset) -> list[License]:
    """A visible instance's licenses, oldest first, for its customer and admins (a license is
    a credential: analysts see none)."""
    instance = await required(context.loaders.instance_by_id, instance_id)
    if not context.principal.may_manage_customer(instance.customer_id):
        return []
    return await context.loaders.license_pages_by_instance.load(PageKey(instance_id, page))


async def count_instance_licenses(context: Context, instance_id: int) -> int:
    """How many licenses `instance_licenses` pages through: none for those it shows none."""
    instance = await required(context.loaders.instance_by_id, instance_id)
    if not context.principal.may_manage_customer(instance.customer_id):
        return 0
    return await context.loaders.license_count_by_instance.load(instance_id)


async def instance_sync_reports(
    context: Context, instance_id: int, *, page: Keyset
) -> list[SyncReport]:
    """A visible instance's reports, oldest first."""
    return await context.loaders.sync_report_pages_by_instance.load(PageKey(instance_id, page))


async def count_instance_sync_reports(context: Context, instance_id: int) -> int:
    return await context.loaders.sync_report_count_by_instance.load(instance_id)


MAX_HISTORY_DAYS = 366


async def instance_user_statistics_history(
    context: Context, instance_id: int, first: date, last: date
) -> list[SyncReport]:
    """A visible instance's reports that carry user statistics on the days [first, last]
    (at most MAX_HISTORY_DAYS days), by day."""
    if last < first:
        raise BadUserInput("`to` is before `from`.", "to")
    if (last - first).days >= MAX_HISTORY_DAYS:
        raise BadUserInput(f"`from` to `to` spans at most {MAX_HISTORY_DAYS} days.", "to")
    return await context.loaders.user_statistics_history_by_instance.load(
        HistoryKey(instance_id, first, last)
    )


async def get_sync_report(context: Context, report_id: int) -> SyncReport:
    _require_authenticated(context)
    report: SyncReport | None = await context.loaders.sync_report_by_id.load(report_id)
    if report is None:
        raise ObjectNotFound("SyncReport", report_id)
    instance = await required(context.loaders.instance_by_id, report.instance_id)
    if not context.principal.may_read_customer(instance.customer_id):
        raise ObjectNotFound("SyncReport", report_id)
    return report


async def customer_of(context: Context, customer_id: int | None) -> Customer | None:
    """The owner of a visible object, or null when there is none or the caller may not see
    it (the two are not told apart)."""
    if customer_id is None or not context.principal.may_read_customer(customer_id):
        return None
    return await context.loaders.customer_by_id.load(customer_id)


async def namespace_subscription(context: Context, namespace_id: int) -> Subscription | None:
    """The namespace's current subscription, when the caller may see it (a namespace's new
    owner does not see what a previous owner paid)."""
    row = await context.loaders.active_subscription_by_namespace.load(namespace_id)
    return row if row is not None and may_read_subscription(context.principal, row) else None


async def instance_subscription(context: Context, instance_id: int) -> Subscription | None:
    row = await context.loaders.active_subscription_by_instance.load(instance_id)
    return row if row is not None and may_read_subscription(context.principal, row) else None


async def subscription_namespace(context: Context, subscription: Subscription) -> Namespace | None:
    if subscription.namespace_id is None:
        return None
    namespace = await required(context.loaders.namespace_by_id, subscription.namespace_id)
    return namespace if context.principal.may_read_namespace(namespace.customer_id) else None


async def subscription_instance(context: Context, subscription: Subscription) -> Instance | None:
    if subscription.instance_id is None:
        return None
    instance = await required(context.loaders.instance_by_id, subscription.instance_id)
    return instance if context.principal.may_read_customer(instance.customer_id) else None


async def subscription_seat_figures(
    context: Context, subscription: Subscription
) -> SeatFigures | None:
    """Seat figures of a subscription: a namespace's counted here, an instance's as it last
    reported in a license sync (none until it has)."""
    if subscription.namespace_id is not None:
        namespace = await required(context.loaders.namespace_by_id, subscription.namespace_id)
        in_use: int | None = namespace.seats_in_use
    else:
        instance = await required(context.loaders.instance_by_id, subscription.instance_id)
        in_use = instance.seats_in_use
    if in_use is None:
        return None
    plan = await required(context.loaders.plan_by_id, subscription.plan_id)
    return seat_figures(
        seats=subscription.seats,
        seats_in_use=in_use,
        max_seats_used=subscription.max_seats_used,
        paid=plan.code != "free" and not subscription.trial,
    )


@dataclass(frozen=True)
class ProjectedRenewal:
    """How a subscription will renew at its end date, as things stand today."""

    on: date
    plan: Plan
    renewal: PricedRenewal


async def subscription_upcoming_renewal(
    context: Context, subscription: Subscription
) -> ProjectedRenewal | None:
    """The renewal the daily job would make on the end date, priced by the code it runs
    (`renewals.upcoming_renewal`); None when the subscription will expire instead."""
    async with context.db() as session:
        priced = await upcoming_renewal(session, subscription, context.clock.today())
        if priced is None:
            return None
        plan = await session.get(Plan, priced.price.plan_id)
    assert plan is not None
    return ProjectedRenewal(subscription.end_date, plan, priced)
