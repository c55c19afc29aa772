"""A self-managed instance's user statistics (GitLab's admin breakdown), as reported and as
sent in a sync."""

from __future__ import annotations

import datetime
from dataclasses import asdict
from typing import Any

import strawberry

from billing.user_statistics import UserStatistics as Statistics
from billing.user_statistics import read_user_statistics, user_statistics_of
from db import tables


@strawberry.type(description="Active human users by their highest role on the instance.")
class InstanceUsersByRole:
    guest: int = strawberry.field(description="Highest role Guest.")
    planner: int = strawberry.field(description="Highest role Planner.")
    reporter: int = strawberry.field(description="Highest role Reporter.")
    developer: int = strawberry.field(description="Highest role Developer.")
    maintainer: int = strawberry.field(description="Highest role Maintainer.")
    owner: int = strawberry.field(description="Highest role Owner.")
    minimal_access: int = strawberry.field(description="Highest role Minimal Access.")


@strawberry.type(
    description="An instance's users as its admin area counts them. active = withoutGroupOr"
    "Project + byRole + bots; total = active + blocked + deactivated + pendingApproval."
)
class InstanceUserStatistics:
    total: int = strawberry.field(description="Every user account.")
    active: int = strawberry.field(description="Users who can sign in, bots included.")
    billable: int = strawberry.field(description="Active users who take a seat.")
    blocked: int = strawberry.field(description="Blocked users.")
    deactivated: int = strawberry.field(description="Deactivated users.")
    bots: int = strawberry.field(description="Bot users.")
    pending_approval: int = strawberry.field(description="Users awaiting an admin's approval.")
    without_group_or_project: int = strawberry.field(
        description="Active humans who are members of no group or project."
    )
    by_role: InstanceUsersByRole = strawberry.field(description="Active humans by highest role.")
    licensed_seats: int | None = strawberry.field(
        description="Seats the instance's current subscription pays for (null without one)."
    )
    users_over_subscription: int | None = strawberry.field(
        description="max(0, billable - licensedSeats): users above the seats paid for."
    )

    @classmethod
    def of(cls, stored: dict[str, Any], seats: int | None) -> InstanceUserStatistics:
        s = user_statistics_of(stored)
        counts = {k: v for k, v in asdict(s).items() if k != "by_role"}
        return cls(
            **counts,
            by_role=InstanceUsersByRole(**asdict(s.by_role)),
            licensed_seats=seats,
            users_over_subscription=None if seats is None else max(0, s.billable - seats),
        )


@strawberry.type(description="The user statistics of one day's latest report.")
class InstanceUserStatisticsReport:
    day: datetime.date = strawberry.field(description="The day the report counts for.")
    reported_at: datetime.datetime = strawberry.field(description="When the instance counted.")
    statistics: InstanceUserStatistics = strawberry.field(description="What it counted.")

    @classmethod
    def of(cls, row: tables.SyncReport, seats: int | None) -> InstanceUserStatisticsReport:
        assert row.user_statistics is not None
        return cls(
            day=row.day,
            reported_at=row.reported_at,
            statistics=InstanceUserStatistics.of(row.user_statistics, seats),
        )


@strawberry.input(description="Active human users by highest role; a role left out counts 0.")
class InstanceUsersByRoleInput:
    guest: int = strawberry.field(default=0, description="Highest role Guest.")
    planner: int = strawberry.field(default=0, description="Highest role Planner.")
    reporter: int = strawberry.field(default=0, description="Highest role Reporter.")
    developer: int = strawberry.field(default=0, description="Highest role Developer.")
    maintainer: int = strawberry.field(default=0, description="Highest role Maintainer.")
    owner: int = strawberry.field(default=0, description="Highest role Owner.")
    minimal_access: int = strawberry.field(default=0, description="Highest role Minimal Access.")


@strawberry.input(
    description="The instance's admin user statistics. The parts must add up: active = "
    "withoutGroupOrProject + byRole + bots; total = active + blocked + deactivated + "
    "pendingApproval; billable <= active, and billable equals the report's billableUsers."
)
class InstanceUserStatisticsInput:
    total: int = strawberry.field(description="Every user account.")
    active: int = strawberry.field(description="Users who can sign in, bots included.")
    billable: int = strawberry.field(description="Active users who take a seat.")
    blocked: int = strawberry.field(description="Blocked users.")
    deactivated: int = strawberry.field(description="Deactivated users.")
    bots: int = strawberry.field(description="Bot users.")
    pending_approval: int = strawberry.field(description="Users awaiting approval.")
    without_group_or_project: int = strawberry.field(
        description="Active humans who are members of no group or project."
    )
    by_role: InstanceUsersByRoleInput = strawberry.field(
        description="Active humans by highest role."
    )


_CAMEL = {
    "pending_approval": "pendingApproval",
    "without_group_or_project": "withoutGroupOrProject",
    "by_role": "byRole",
    "minimal_access": "minimalAccess",
}


def statistics_input(
    sent: InstanceUserStatisticsInput | None, billable_users: int
) -> Statistics | None:
    """The sent statistics, checked; refusals name the GraphQL field (userStatistics.byRole...)."""
    if sent is None:
        return None
    data = dict(vars(sent), by_role=dict(vars(sent.by_role)))
    return read_user_statistics(
        data, billable_users=billable_users, field="userStatistics", name=_CAMEL
    )
