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


ERROR_TYPES: dict[type[domain.BillingError], type[UserError]] = {
    domain.InvalidInputError: InvalidInput,
    domain.NotFoundError: NotFound,
    domain.PriceNotFoundError: PriceNotFound,
}


def user_error(error: domain.BillingError) -> UserError:
    """The schema type of a domain error (the one mapping; a test covers every subclass)."""
    return ERROR_TYPES[type(error)](code=error.code, message=error.message, field=error.field)
