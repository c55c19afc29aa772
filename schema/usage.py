"""Metered usage: recording events, and totals per period."""

from __future__ import annotations

import datetime
from typing import Annotated, TypeAlias

import strawberry

from billing.errors import BillingError
from billing.usage import Granularity as DomainGranularity
from billing.usage import Metric as DomainMetric
from resolvers import usage
from schema.base import Info
from schema.errors import user_error
from schema.scalars import Long
from schema.seat_data import BatchWriteResult, BatchWriteSuccess

strawberry.enum(DomainMetric, description="What is metered.")
strawberry.enum(DomainGranularity, description="How usage is totalled: per day or per month.")
Metric: TypeAlias = DomainMetric
Granularity: TypeAlias = DomainGranularity


@strawberry.input(description="One metered event.")
class UsageEventInput:
    event_id: str = strawberry.field(description="Unique id; an event sent again is ignored.")
    namespace_path: str = strawberry.field(description="The top-level group it is billed to.")
    metric: str = strawberry.field(description="compute_minutes, storage_bytes or transfer_bytes.")
    quantity: Long = strawberry.field(description="How much, in the metric's unit; 0 or more.")
    occurred_at: datetime.datetime = strawberry.field(
        description="When it happened (UTC when no offset is given)."
    )


@strawberry.input(description="Up to 1000 events, recorded together.")
class UsageRecordInput:
    events: list[UsageEventInput] = strawberry.field(description="The events.")


@strawberry.type(description="Usage in one day or month.")
class UsagePeriod:
    start: datetime.date = strawberry.field(description="The period's first day.")
    quantity: Long = strawberry.field(description="Total used in the period.")
    included: Long | None = strawberry.field(
        description="Included per month by the plan and add-ons (months only)."
    )
    overage: Long | None = strawberry.field(
        description="max(0, quantity - included) (months only)."
    )


@strawberry.type(description="A namespace's usage of one metric, totalled per period.")
class UsageReport:
    metric: Metric = strawberry.field(description="What was measured.")
    granularity: Granularity = strawberry.field(description="Per day or per month.")
    included_per_month: Long = strawberry.field(
        description="What the current plan and add-ons include per month."
    )
    periods: list[UsagePeriod] = strawberry.field(description="Periods with usage, in order.")

    @classmethod
    def of(cls, report: usage.UsageReport) -> UsageReport:
        return cls(
            metric=report.metric,
            granularity=report.granularity,
            included_per_month=Long(report.included_per_month),
            periods=[
                UsagePeriod(
                    start=p.start,
                    quantity=Long(p.quantity),
                    included=Long(p.included) if p.included is not None else None,
                    overage=Long(p.overage) if p.overage is not None else None,
                )
                for p in report.periods
            ],
        )


def _utc(moment: datetime.datetime) -> datetime.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


@strawberry.type
class UsageMutation:
    @strawberry.mutation(
        description="Record metered events (the gitlab role, admins). An event id sent before "
        "is ignored; a batch with a bad event is refused whole, naming each bad one."
    )
    async def usage_record(
        self,
        info: Info,
        input: Annotated[UsageRecordInput, strawberry.argument(description="The events.")],
    ) -> BatchWriteResult:
        records = [
            usage.UsageEventRecord(
                e.event_id, e.namespace_path, e.metric, int(e.quantity), _utc(e.occurred_at)
            )
            for e in input.events
        ]
        try:
            return BatchWriteSuccess.of(await usage.record_usage(info.context, records))
        except BillingError as error:
            return user_error(error)  # type: ignore[return-value]
