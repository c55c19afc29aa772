"""Domain errors. Every failure a caller can fix carries a stable code and the offending field."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable machine-readable codes; frontends switch on these."""

    INVALID_ID = "INVALID_ID"
    SEATS_BELOW_MINIMUM = "SEATS_BELOW_MINIMUM"
    SEATS_ABOVE_MAXIMUM = "SEATS_ABOVE_MAXIMUM"
    QUANTITY_BELOW_MINIMUM = "QUANTITY_BELOW_MINIMUM"
    QUANTITY_ABOVE_MAXIMUM = "QUANTITY_ABOVE_MAXIMUM"
    DUPLICATE_ADD_ON = "DUPLICATE_ADD_ON"
    START_DATE_IN_PAST = "START_DATE_IN_PAST"
    UNSUPPORTED_CURRENCY = "UNSUPPORTED_CURRENCY"
    PLAN_NOT_FOUND = "PLAN_NOT_FOUND"
    ADD_ON_NOT_FOUND = "ADD_ON_NOT_FOUND"
    PRICE_NOT_FOUND = "PRICE_NOT_FOUND"
    INVALID_BATCH = "INVALID_BATCH"
    BATCH_TOO_LARGE = "BATCH_TOO_LARGE"
    UNKNOWN_VALUE = "UNKNOWN_VALUE"
    INVALID_VALUE = "INVALID_VALUE"
    DUPLICATE_RECORD = "DUPLICATE_RECORD"
    UNKNOWN_USER = "UNKNOWN_USER"
    UNKNOWN_SOURCE = "UNKNOWN_SOURCE"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    CUSTOMER_NOT_FOUND = "CUSTOMER_NOT_FOUND"
    NAMESPACE_NOT_FOUND = "NAMESPACE_NOT_FOUND"
    INSTANCE_NOT_FOUND = "INSTANCE_NOT_FOUND"
    SUBSCRIPTION_NOT_FOUND = "SUBSCRIPTION_NOT_FOUND"
    INVOICE_NOT_FOUND = "INVOICE_NOT_FOUND"
    SEATS_BELOW_BILLABLE = "SEATS_BELOW_BILLABLE"
    SAME_PLAN = "SAME_PLAN"
    SUBSCRIPTION_EXISTS = "SUBSCRIPTION_EXISTS"
    SUBSCRIPTION_NOT_ACTIVE = "SUBSCRIPTION_NOT_ACTIVE"
    ALREADY_CANCELLED = "ALREADY_CANCELLED"
    RENEWAL_SCHEDULED = "RENEWAL_SCHEDULED"
    INVOICE_NOT_OPEN = "INVOICE_NOT_OPEN"
    INVOICE_HAS_PAYMENTS = "INVOICE_HAS_PAYMENTS"
    AMOUNT_ABOVE_BALANCE = "AMOUNT_ABOVE_BALANCE"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    TRIAL_SUBSCRIPTION = "TRIAL_SUBSCRIPTION"
    LICENSE_MALFORMED = "LICENSE_MALFORMED"
    LICENSE_UNKNOWN_KEY = "LICENSE_UNKNOWN_KEY"
    LICENSE_BAD_SIGNATURE = "LICENSE_BAD_SIGNATURE"
    LICENSE_EXPIRED = "LICENSE_EXPIRED"
    LICENSE_NOT_YET_VALID = "LICENSE_NOT_YET_VALID"
    LICENSE_FOREIGN = "LICENSE_FOREIGN"
    LICENSE_REVOKED = "LICENSE_REVOKED"
    ACTIVATION_CODE_INVALID = "ACTIVATION_CODE_INVALID"
    NOT_AN_ONLINE_INSTANCE = "NOT_AN_ONLINE_INSTANCE"
    PLAN_NOT_SOLD = "PLAN_NOT_SOLD"
    DAY_BEFORE_LATEST_RUN = "DAY_BEFORE_LATEST_RUN"
    REPORT_BEFORE_TERM = "REPORT_BEFORE_TERM"
    REPORT_IN_FUTURE = "REPORT_IN_FUTURE"


class BillingError(Exception):
    """Base of every expected business failure.

    `field` is the path of the offending input field as the client sent it (``"seats"``,
    ``"addOns.1.quantity"``), or None when no single field is at fault.
    """

    def __init__(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class InvalidInputError(BillingError):
    """The input is malformed or out of range."""


class NotFoundError(BillingError):
    """The input names something that does not exist (a plan or add-on code)."""


class PriceNotFoundError(BillingError):
    """The catalog has no price for the requested currency, period and date."""


class ConflictError(BillingError):
    """The request is well formed but the object's current state does not allow it (a
    subscription already renewed, an invoice already paid, a reused idempotency key)."""


class LicenseRefusedError(BillingError):
    """A license presented to the service (a sync) is not accepted; the code says why."""


@dataclass(frozen=True, slots=True)
class RecordProblem:
    """What is wrong with one record of a batch: its position, field, and why."""

    index: int
    field: str
    code: ErrorCode
    message: str


class InvalidBatchError(BillingError):
    """A batch was refused whole; `problems` lists every bad record. `field` is the
    argument holding the records (`records` for the batch mutations)."""

    def __init__(self, problems: list[RecordProblem], field: str = "records") -> None:
        noun = "record is" if len(problems) == 1 else "records are"
        super().__init__(
            ErrorCode.INVALID_BATCH,
            f"{len(problems)} {noun} invalid; nothing was written.",
            field,
        )
        self.problems = problems
