"""Subscription states."""

from __future__ import annotations

from enum import StrEnum


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"  # in its term, seats usable
    CANCELLED = "cancelled"  # will not renew; usable until the end of its term
    EXPIRED = "expired"  # term over and not renewed
