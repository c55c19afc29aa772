"""Read-only aggregates for analysts and admins."""

from __future__ import annotations

from datetime import date
from typing import Any

from db import analytics
from resolvers.context import Context
from resolvers.errors import BadUserInput, Forbidden, Unauthenticated
from resolvers.principal import Permission, Role

GROUPS = ("month", "plan", "currency")
MAX_DAYS = 3660


def require_analyst(context: Context) -> None:
    if not context.principal.authenticated:
        raise Unauthenticated
    if context.principal.role not in {Role.ANALYST, Role.ADMIN} or (
        Permission.READ_ALL_CUSTOMERS not in context.principal.permissions
    ):
        raise Forbidden("read analytics")


def _range(first: date, last: date) -> None:
    if last < first or (last - first).days > MAX_DAYS:
        raise BadUserInput(
            "`from` must not be after `to`, and a range spans at most ten years.", "to"
        )


async def revenue(context: Context, *, first: date, last: date, group_by: str) -> list[Any]:
    require_analyst(context)
    _range(first, last)
    async with context.db() as session:
        return await analytics.revenue(session, first=first, last=last, group_by=group_by)


async def active_subscriptions(context: Context) -> list[Any]:
    require_analyst(context)
    async with context.db() as session:
        return await analytics.active_subscriptions(session)


async def seat_utilization(context: Context) -> list[Any]:
    require_analyst(context)
    async with context.db() as session:
        return await analytics.seat_utilization(session)


async def renewals(context: Context, *, first: date, last: date) -> dict[str, Any]:
    require_analyst(context)
    _range(first, last)
    async with context.db() as session:
        return await analytics.renewals(session, first=first, last=last)
