"""A self-managed instance's user statistics: GitLab's admin breakdown of its users, as the
instance reports it in a sync or usage report. The service never sees the user list; it only
checks that the breakdown is consistent before keeping it.

How the parts add up (GitLab's admin "Users statistics" page):

- active = without_group_or_project + every highest-role count + bots
- total = active + blocked + deactivated + pending_approval
- billable <= active <= total, and no count is negative.

Example: 3 without a group or project, 2 guests, 40 developers, 5 maintainers, 1 owner and
4 bots make 55 active users; with 6 blocked, 2 deactivated and 1 pending approval, 64 in
total; 51 of the active users may be billable (the bots and the guests on Ultimate are not).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields

from billing.errors import ErrorCode, InvalidInputError

MAX_COUNT = 10_000_000
ROLES = ("guest", "planner", "reporter", "developer", "maintainer", "owner", "minimal_access")


@dataclass(frozen=True)
class UsersByRole:
    """Active human users by their highest role anywhere on the instance."""

    guest: int = 0
    planner: int = 0
    reporter: int = 0
    developer: int = 0
    maintainer: int = 0
    owner: int = 0
    minimal_access: int = 0

    def total(self) -> int:
        return sum(getattr(self, role) for role in ROLES)


@dataclass(frozen=True)
class UserStatistics:
    total: int
    active: int
    billable: int
    blocked: int
    deactivated: int
    bots: int
    pending_approval: int
    without_group_or_project: int
    by_role: UsersByRole

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


COUNTS = tuple(f.name for f in fields(UserStatistics) if f.name != "by_role")


def _refuse(message: str, field: str) -> InvalidInputError:
    return InvalidInputError(ErrorCode.INVALID_VALUE, message, field)


def read_user_statistics(
    data: object, *, billable_users: int, field: str, name: Mapping[str, str] | None = None
) -> UserStatistics:
    """The statistics in `data` (a mapping of the report's own keys), checked.

    `field` is how the caller names the statistics (`report.user_statistics` in a file,
    `userStatistics` in GraphQL); `name` maps a key (`pending_approval`) to the caller's
    spelling (`pendingApproval`), so every refusal names the field as the sender wrote it.
    Counts must be whole numbers (not booleans) from 0 to 10,000,000, and `billable` the
    report's own billable count (`billable_users`). A role left out counts 0.
    """
    spell = name or {}

    def where(*path: str) -> str:
        return ".".join((field, *(spell.get(part, part) for part in path)))

    def count(source: Mapping[str, object], *path: str) -> int:
        value = source.get(path[-1], 0 if path[0] == "by_role" else None)
        if not isinstance(value, int) or isinstance(value, bool):
            raise _refuse("Must be a whole number.", where(*path))
        if not 0 <= value <= MAX_COUNT:
            raise _refuse(f"Must be from 0 to {MAX_COUNT:,}.", where(*path))
        return value

    if not isinstance(data, Mapping):
        raise _refuse("Must be an object of user counts.", field)
    roles = data.get("by_role", {})
    if not isinstance(roles, Mapping):
        raise _refuse("Must be an object of counts by highest role.", where("by_role"))
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise _refuse(f"Not a role: {unknown[0]}.", where("by_role", str(unknown[0])))
    statistics = UserStatistics(
        **{key: count(data, key) for key in COUNTS},
        by_role=UsersByRole(**{role: count(roles, "by_role", role) for role in ROLES}),
    )
    check_user_statistics(statistics, where)
    if statistics.billable != billable_users:
        raise _refuse(
            f"Billable users ({statistics.billable}) must equal the report's billable users "
            f"({billable_users}).",
            where("billable"),
        )
    return statistics


def check_user_statistics(statistics: UserStatistics, named: Callable[[str], str]) -> None:
    """Refuse statistics whose parts do not add up (see the module's rules); `named` spells
    the refused key as the sender wrote it."""
    s = statistics
    active = s.without_group_or_project + s.by_role.total() + s.bots
    if s.active != active:
        raise _refuse(
            f"Active users ({s.active}) must equal users without a group or project, by "
            f"highest role and bots ({active}).",
            named("active"),
        )
    total = s.active + s.blocked + s.deactivated + s.pending_approval
    if s.total != total:
        raise _refuse(
            f"Total users ({s.total}) must equal active, blocked, deactivated and pending "
            f"approval users ({total}).",
            named("total"),
        )
    if s.billable > s.active:
        raise _refuse(
            f"Billable users ({s.billable}) cannot exceed active users ({s.active}).",
            named("billable"),
        )


def user_statistics_of(stored: Mapping[str, object]) -> UserStatistics:
    """Statistics kept as `as_dict()` (already checked when they were reported)."""
    roles = stored["by_role"]
    assert isinstance(roles, Mapping)
    counts = {key: stored[key] for key in COUNTS}
    return UserStatistics(**counts, by_role=UsersByRole(**roles))  # type: ignore[arg-type]
