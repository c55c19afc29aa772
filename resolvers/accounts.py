"""Reads of customers, namespaces, instances and subscriptions, scoped to the caller."""

from __future__ import annotations

from db.accounts import customers_page, namespace_by_path
from db.tables import Customer, Instance, Namespace, Subscription
from resolvers.context import Context
from resolvers.errors import Forbidden, ObjectNotFound, Unauthenticated
from resolvers.loaders import PageKey
from resolvers.principal import Permission


def _require_authenticated(context: Context) -> None:
    if not context.principal.authenticated:
        raise Unauthenticated


async def get_customer(context: Context, customer_id: int) -> Customer:
    _require_authenticated(context)
    customer = await context.loaders.customer_by_id.load(customer_id)
    if customer is None or not context.principal.may_read_customer(customer.id):
        raise ObjectNotFound("Customer", customer_id)
    return customer


async def list_customers(
    context: Context, *, after: int | None, limit: int, search: str | None
) -> list[Customer]:
    _require_authenticated(context)
    if Permission.READ_ALL_CUSTOMERS not in context.principal.permissions:
        raise Forbidden("list customers")
    async with context.db() as session:
        return await customers_page(session, after=after, limit=limit, search=search)


async def get_subscription(context: Context, subscription_id: int) -> Subscription:
    _require_authenticated(context)
    subscription = await context.loaders.subscription_by_id.load(subscription_id)
    if subscription is None or not may_read_subscription(context, subscription):
        raise ObjectNotFound("Subscription", subscription_id)
    return subscription


def may_read_subscription(context: Context, subscription: Subscription) -> bool:
    principal = context.principal
    if principal.may_read_customer(subscription.customer_id):
        return True
    return subscription.namespace_id is not None and principal.may_read_namespace(
        subscription.customer_id
    )


async def get_namespace(context: Context, path: str) -> Namespace:
    _require_authenticated(context)
    async with context.db() as session:
        namespace = await namespace_by_path(session, path)
    if namespace is None or not context.principal.may_read_namespace(namespace.customer_id):
        raise ObjectNotFound("Namespace", repr(path))
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


async def customer_subscriptions(
    context: Context, customer_id: int, *, after: int | None, limit: int
) -> list[Subscription]:
    """A page of a customer's subscriptions; the caller already may read the customer."""
    return await context.loaders.subscription_pages_by_customer.load(
        PageKey(customer_id, after, limit)
    )


async def customer_of(context: Context, customer_id: int | None) -> Customer | None:
    """The owning customer of an object the caller can see, when it may see customers."""
    if customer_id is None:
        return None
    if not context.principal.may_read_customer(customer_id):
        raise Forbidden("read customer details")
    return await context.loaders.customer_by_id.load(customer_id)
