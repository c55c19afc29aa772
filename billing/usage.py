"""Metered usage: what is measured, and what is over the included quota."""

from __future__ import annotations

from enum import StrEnum


class Metric(StrEnum):
    COMPUTE_MINUTES = "compute_minutes"
    STORAGE_BYTES = "storage_bytes"
    TRANSFER_BYTES = "transfer_bytes"


class Granularity(StrEnum):
    DAY = "day"
    MONTH = "month"


def overage(used: int, included: int) -> int:
    """What a month used beyond its included quota: ``overage(12_500, 10_000) == 2_500``,
    ``overage(9_000, 10_000) == 0``."""
    return max(0, used - included)
