"""Subscription states, and the plan nobody pays for."""

from __future__ import annotations

from enum import StrEnum


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"  # in its term, seats usable (a cancelled one too, until its end date)
    EXPIRED = "expired"  # term over and not renewed


class InvoiceStatus(StrEnum):
    OPEN = "open"  # issued, not yet paid in full
    PAID = "paid"
    VOID = "void"  # cancelled by the billing team; nothing is owed


FREE_PLAN = "free"  # what has no paid subscription is on: never bought, never renewed into
