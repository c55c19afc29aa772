"""An instance's user statistics are checked before they are kept: counts are whole and not
negative, the parts add up, billable <= active, and every refusal names the key as the
sender spelled it."""

from typing import Any

import pytest

from billing.errors import InvalidInputError
from billing.user_statistics import (
    UsersByRole,
    UserStatistics,
    read_user_statistics,
    user_statistics_of,
)


def sent(**change: Any) -> dict[str, Any]:
    """3 without a group or project + 2 guests + 40 developers + 5 maintainers + 1 owner +
    4 bots = 55 active; + 6 blocked + 2 deactivated + 1 pending approval = 64 in total."""
    roles = {"guest": 2, "developer": 40, "maintainer": 5, "owner": 1}
    return {
        "total": 64,
        "active": 55,
        "billable": 49,
        "blocked": 6,
        "deactivated": 2,
        "bots": 4,
        "pending_approval": 1,
        "without_group_or_project": 3,
        "by_role": roles,
        **change,
    }


def test_a_consistent_breakdown_is_kept_whole() -> None:
    statistics = read_user_statistics(sent(), billable_users=49, field="report.user_statistics")
    assert statistics == UserStatistics(
        total=64,
        active=55,
        billable=49,
        blocked=6,
        deactivated=2,
        bots=4,
        pending_approval=1,
        without_group_or_project=3,
        by_role=UsersByRole(guest=2, developer=40, maintainer=5, owner=1),
    )
    assert user_statistics_of(statistics.as_dict()) == statistics


CAMEL = {"pending_approval": "pendingApproval", "by_role": "byRole"}


@pytest.mark.parametrize(
    ("data", "billable_users", "field"),
    [
        (sent(active=56), 49, "report.user_statistics.active"),
        (sent(total=63), 49, "report.user_statistics.total"),
        (sent(billable=56, active=55), 56, "report.user_statistics.billable"),
        (sent(), 50, "report.user_statistics.billable"),  # not the report's own count
        (sent(blocked=-1, total=57), 49, "report.user_statistics.blocked"),
        (sent(bots=1.5), 49, "report.user_statistics.bots"),
        (sent(bots=True), 49, "report.user_statistics.bots"),
        (sent(bots="4"), 49, "report.user_statistics.bots"),
        (sent(total=None), 49, "report.user_statistics.total"),
        (sent(total=10_000_001), 49, "report.user_statistics.total"),
        (sent(by_role={"guest": -2}), 49, "report.user_statistics.by_role.guest"),
        (sent(by_role={"admin": 2}), 49, "report.user_statistics.by_role.admin"),
        (sent(by_role=[1]), 49, "report.user_statistics.by_role"),
        ([1, 2], 49, "report.user_statistics"),
    ],
)
def test_a_wrong_breakdown_is_refused_with_its_key(
    data: Any, billable_users: int, field: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        read_user_statistics(data, billable_users=billable_users, field="report.user_statistics")
    assert refused.value.field == field
    assert "Error" not in refused.value.message


def test_a_refusal_names_the_key_in_the_senders_spelling() -> None:
    with pytest.raises(InvalidInputError) as refused:
        read_user_statistics(
            sent(pending_approval=-1), billable_users=49, field="userStatistics", name=CAMEL
        )
    assert refused.value.field == "userStatistics.pendingApproval"
