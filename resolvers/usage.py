"""Metered usage: GitLab.com records events (the gitlab role, admins); namespaces show their
totals per day or month against what their plan and add-ons include."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from billing.errors import ErrorCode
from billing.usage import Granularity, Metric, overage
from db import usage
from resolvers.context import Context
from resolvers.errors import BadUserInput
from resolvers.seat_data import BatchResult, authorize_batch

METRICS = frozenset(m.value for m in Metric)
MAX_QUANTITY = 2**53 - 1  # the largest whole number a Long carries exactly


@dataclass(frozen=True)
class UsageEventRecord:
    event_id: str
    namespace_path: str
    metric: str
    quantity: int
    occurred_at: datetime


async def record_usage(context: Context, events: Sequence[UsageEventRecord]) -> BatchResult:
    """Up to 1000 events in one statement; an event id seen before is ignored; a batch with
    a bad event (unknown namespace or metric, a negative quantity, an id twice in the batch)
    is refused whole, naming the index and field of each bad one."""
    problems = authorize_batch(context, len(events))
    for index, event in enumerate(events):
        problems.text(index, "eventId", event.event_id)
        problems.one_of(index, "metric", event.metric, METRICS)
        if not 0 <= event.quantity <= MAX_QUANTITY:
            problems.add(
                index, "quantity", ErrorCode.INVALID_VALUE, f"Must be 0 to {MAX_QUANTITY}."
            )
    problems.unique(events, lambda e: e.event_id, "eventId")
    async with context.transaction() as session:
        namespaces = await usage.namespace_ids(session, sorted({e.namespace_path for e in events}))
        for index, event in enumerate(events):
            if event.namespace_path not in namespaces:
                problems.add(
                    index,
                    "namespacePath",
                    ErrorCode.UNKNOWN_VALUE,
                    f"No namespace {event.namespace_path!r}.",
                )
        problems.raise_if_any()
        recorded = await usage.record_events(
            session,
            event_ids=[e.event_id for e in events],
            namespace_ids=[namespaces[e.namespace_path] for e in events],
            metrics=[e.metric for e in events],
            quantities=[e.quantity for e in events],
            occurred_at=[e.occurred_at for e in events],
        )
    return BatchResult(len(events), recorded, 0)


@dataclass(frozen=True)
class UsagePeriod:
    start: date
    quantity: int
    included: int | None  # per month; not given for days
    overage: int | None


@dataclass(frozen=True)
class UsageReport:
    metric: Metric
    granularity: Granularity
    included_per_month: int
    periods: list[UsagePeriod]


# periods (rows) one request may ask for: a leap year of days, ten years of months; the list
# has no pages, so its length is bounded here
MAX_PERIODS = {Granularity.DAY: 366, Granularity.MONTH: 120}


def periods_in(first: date, last: date, granularity: Granularity) -> int:
    """Days, or calendar months, from `first` to `last`, both included."""
    if granularity is Granularity.DAY:
        return (last - first).days + 1
    return (last.year - first.year) * 12 + last.month - first.month + 1


async def namespace_usage(
    context: Context,
    namespace_id: int,
    metric: Metric,
    *,
    first: date,
    last: date,
    granularity: Granularity,
) -> UsageReport:
    """Totals per period with usage in [first, last] (whole UTC days), and for months the
    included quota and the overage."""
    if last < first:
        raise BadUserInput("`to` must be on or after `from`.", "to")
    if periods_in(first, last, granularity) > MAX_PERIODS[granularity]:
        limit = MAX_PERIODS[granularity]
        raise BadUserInput(
            f"At most {limit} {granularity.value}s from `from` to `to`, both included; ask for"
            " a longer range in parts.",
            "to",
        )
    async with context.db() as session:
        totals = await usage.usage_by_period(
            session, namespace_id, metric.value, first=first, last=last, unit=granularity.value
        )
        included = await usage.included_per_month(session, namespace_id, metric.value)
    monthly = granularity is Granularity.MONTH
    return UsageReport(
        metric,
        granularity,
        included,
        [
            UsagePeriod(
                start,
                total,
                included if monthly else None,
                overage(total, included) if monthly else None,
            )
            for start, total in totals
        ],
    )
