"""Typed business errors: every BillingError maps to one GraphQL type implementing UserError."""

from __future__ import annotations

from typing import TypeAlias

import strawberry

from billing import errors as domain

strawberry.enum(domain.ErrorCode, description="Stable machine-readable error codes to switch on.")
ErrorCode: TypeAlias = domain.ErrorCode


@strawberry.interface(description="An expected failure the caller can fix.")
class UserError:
    code: ErrorCode = strawberry.field(description="What went wrong, as a stable code.")
    message: str = strawberry.field(description="What went wrong, for people.")
    field: str | None = strawberry.field(
        description='Path of the offending input field, e.g. "seats" or "addOns.0.quantity".'
    )


@strawberry.type(name="InvalidInputError", description="The input is malformed or out of range.")
class InvalidInput(UserError):
    pass


@strawberry.type(name="NotFoundError", description="The input names something that does not exist.")
class NotFound(UserError):
    pass


@strawberry.type(
    name="PriceNotFoundError",
    description="The catalog has no price for that currency, billing period and date.",
)
class PriceNotFound(UserError):
    pass


@strawberry.type(
    name="ConflictError",
    description="The object's current state does not allow this (already renewed, already "
    "paid, an idempotency key used for another request).",
)
class Conflict(UserError):
    pass


@strawberry.type(
    name="LicenseRefusedError",
    description="The license is not accepted: malformed, signed by an unknown key, changed, "
    "expired, not yet valid, not this instance's, or of a subscription no longer active.",
)
class LicenseRefused(UserError):
    pass


@strawberry.type(description="What is wrong with one record of a batch.")
class RecordProblem:
    index: int = strawberry.field(description="Position of the record in the batch, from 0.")
    field: str = strawberry.field(description="The offending field of that record.")
    code: ErrorCode = strawberry.field(description="What is wrong, as a stable code.")
    message: str = strawberry.field(description="What is wrong, for people.")


@strawberry.type(
    name="InvalidBatchError",
    description="A batch was refused whole and nothing was written; every bad record is listed.",
)
class InvalidBatch(UserError):
    problems: list[RecordProblem] = strawberry.field(description="Every bad record.")


ERROR_TYPES: dict[type[domain.BillingError], type[UserError]] = {
    domain.InvalidInputError: InvalidInput,
    domain.NotFoundError: NotFound,
    domain.PriceNotFoundError: PriceNotFound,
    domain.InvalidBatchError: InvalidBatch,
    domain.ConflictError: Conflict,
    domain.LicenseRefusedError: LicenseRefused,
}


def user_error(error: domain.BillingError) -> UserError:
    """The schema type of a domain error (the one mapping; a test covers every subclass)."""
    if isinstance(error, domain.InvalidBatchError):
        return InvalidBatch(
            code=error.code,
            message=error.message,
            field=error.field,
            problems=[
                RecordProblem(index=p.index, field=p.field, code=p.code, message=p.message)
                for p in error.problems
            ],
        )
    return ERROR_TYPES[type(error)](code=error.code, message=error.message, field=error.field)
