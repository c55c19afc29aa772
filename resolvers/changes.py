"""How every billing mutation runs: one transaction that locks what it changes, an optional
idempotency key, previews by rollback, and the audit trail.

A preview runs the very same code as the real call, idempotency key included, and rolls it back
at the end, so what it returns is exactly what the real call would have done on the same date
(a key already used shows the stored outcome, as a retry would), and it writes nothing. What
it shows is read inside its transaction (`previews.seen`) and never primed into the request's
loaders: the rolled-back values are never served as real rows.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Concatenate, ParamSpec

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from billing.charges import Charge
from billing.errors import ConflictError, ErrorCode, InvalidInputError
from db import audit, idempotency
from db.invoices import write_invoice
from db.tables import Invoice, InvoiceLine, Payment, Subscription
from resolvers.context import Context
from resolvers.errors import Forbidden, Unauthenticated
from resolvers.licenses import refresh_license
from resolvers.previews import Seen, lines_of, seen
from resolvers.principal import Permission

MAX_IDEMPOTENCY_KEY = 255

SUBSCRIPTION_FIELDS = (
    "status",
    "trial",
    "plan_id",
    "price_id",
    "seats",
    "start_date",
    "end_date",
    "auto_renew",
    "cancelled_on",
    "quarterly_reconciliation",
    "quarters_reconciled",
    "max_seats_used",
    "pending_plan_id",
    "renewal_seats",
    "renewal_price_id",
)
INVOICE_FIELDS = ("number", "status", "currency", "total", "amount_paid", "issued_on")


@dataclass(frozen=True)
class ChargeAtEnd:
    """What a term that will not renew charges on its end date, as things stand: the seats
    used above those paid (empty when none are owed)."""

    on: date
    charge: Charge


@dataclass(frozen=True)
class Outcome:
    """What a change did: the subscription as it is now, the invoice or payment made, and
    what it leaves to be charged at the term's end (a cancellation)."""

    subscription: Subscription | None
    invoice: Invoice | None = None
    lines: list[InvoiceLine] = field(default_factory=list)
    payment: Payment | None = None
    charge_at_end: ChargeAtEnd | None = None
    preview: bool = False
    replayed: bool = False
    seen: Seen | None = None  # a preview's add-ons and seat figures, read before the rollback

    def reference(self) -> dict[str, int | None]:
        return {
            "subscription": self.subscription.id if self.subscription else None,
            "invoice": self.invoice.id if self.invoice else None,
            "payment": self.payment.id if self.payment else None,
        }


Change = Callable[[AsyncSession], Awaitable[Outcome]]
P = ParamSpec("P")


@dataclass(frozen=True)
class How:
    """How a change is asked for: under an idempotency key, and whether only as a preview."""

    idempotency_key: str | None = None
    preview: bool = False


def change(
    operation: str, permission: Permission | None = None
) -> Callable[
    [Callable[Concatenate[AsyncSession, Context, P], Awaitable[Outcome]]],
    Callable[Concatenate[Context, How, P], Awaitable[Outcome]],
]:
    """Make `use_case(session, context, *args)` a mutation's use case, called as
    `use_case(context, how, *args)`: the caller's permission is checked, then it runs in one
    transaction through `run_change`, its arguments being the request an idempotency key
    stands for."""

    def decorate(
        use_case: Callable[Concatenate[AsyncSession, Context, P], Awaitable[Outcome]],
    ) -> Callable[Concatenate[Context, How, P], Awaitable[Outcome]]:
        @functools.wraps(use_case)
        async def run(context: Context, how: How, /, *args: P.args, **kwargs: P.kwargs) -> Outcome:
            require(context, permission)
            return await run_change(
                context,
                operation=operation,
                request={"args": args, "kwargs": kwargs},
                idempotency_key=how.idempotency_key,
                preview=how.preview,
                change=lambda session: use_case(session, context, *args, **kwargs),
            )

        return run

    return decorate


def state(row: SQLModel, fields: tuple[str, ...]) -> dict[str, Any]:
    """The audit trail's JSON view of a row's fields."""
    values = {name: getattr(row, name) for name in fields}
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


@dataclass(frozen=True)
class Who:
    """Who makes a change and on what day: the caller, or a job."""

    actor: str
    today: date

    @classmethod
    def of(cls, context: Context) -> Who:
        return cls(context.principal.actor, context.clock.today())


def record(
    session: AsyncSession,
    who: Who,
    action: str,
    row: Subscription | Invoice,
    before: dict[str, Any] | None,
) -> None:
    fields = SUBSCRIPTION_FIELDS if isinstance(row, Subscription) else INVOICE_FIELDS
    assert row.id is not None
    audit.record(
        session,
        actor=who.actor,
        action=action,
        subject=(type(row).__name__, row.id),
        before=before,
        after=state(row, fields),
        on=who.today,
    )


async def issue_invoice(
    session: AsyncSession, who: Who, subscription: Subscription, charge: Charge
) -> Outcome:
    """Write the invoice for `charge`, dated today (numbered, and its issue audited, as the
    transaction commits)."""
    assert subscription.id is not None
    assert subscription.customer_id is not None
    invoice, lines = await write_invoice(
        session,
        charge=charge,
        customer_id=subscription.customer_id,
        subscription_id=subscription.id,
        issued_on=who.today,
        actor=who.actor,
    )
    return Outcome(subscription, invoice, lines)


def require(context: Context, permission: Permission | None = None) -> None:
    """Anonymous callers and roles that may not change billing are refused outright."""
    principal = context.principal
    if not principal.authenticated:
        raise Unauthenticated
    wanted = (
        {permission}
        if permission
        else {Permission.MANAGE_BILLING, Permission.MANAGE_OWN_SUBSCRIPTIONS}
    )
    if not wanted & principal.permissions:
        raise Forbidden("change billing")


async def run_change(
    context: Context,
    *,
    operation: str,
    request: object,
    idempotency_key: str | None,
    preview: bool,
    change: Change,
) -> Outcome:
    """Run `change` in one transaction; with a key, at most once per caller and key."""
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise InvalidInputError(
            ErrorCode.INVALID_VALUE,
            f"An idempotency key is 1 to {MAX_IDEMPOTENCY_KEY} characters.",
            "idempotencyKey",
        )
    use_key = idempotency_key is not None
    caller = context.principal.actor
    async with context.transaction(commit=not preview) as session:
        outcome = None
        if use_key:
            assert idempotency_key is not None
            digest = _digest(request)
            stored = await idempotency.claim(
                session,
                caller=caller,
                key=idempotency_key,
                operation=operation,
                request_hash=digest,
            )
            if stored is not None:
                if (stored.operation, stored.request_hash) != (operation, digest):
                    raise ConflictError(
                        ErrorCode.IDEMPOTENCY_KEY_REUSED,
                        "This idempotency key was used for a different request.",
                        "idempotencyKey",
                    )
                outcome = await _replay(session, stored.result)
        if outcome is None:
            outcome = await change(session)
            subscription = outcome.subscription
            if subscription is not None and subscription.instance_id is not None and not preview:
                await refresh_license(
                    session,
                    subscription,
                    sign=context.sign_license,
                    now=context.clock.now(),
                )
            if use_key and not preview:
                assert idempotency_key is not None
                await idempotency.store(
                    session, caller=caller, key=idempotency_key, result=outcome.reference()
                )
        if preview:
            invoice_id = outcome.invoice.id if outcome.invoice else None
            return replace(
                outcome,
                lines=outcome.lines or await lines_of(session, invoice_id),
                seen=await seen(session, outcome.subscription),
                preview=True,
            )
    loaders = context.loaders
    if outcome.subscription is not None and outcome.subscription.id is not None:
        loaders.subscription_by_id.prime(outcome.subscription.id, outcome.subscription, force=True)
    if outcome.invoice is not None and outcome.invoice.id is not None and outcome.lines:
        loaders.lines_by_invoice.prime(outcome.invoice.id, outcome.lines, force=True)
    return outcome


def _digest(request: object) -> str:
    """A stable hash of a request (dataclass arguments hash by their repr)."""
    text = json.dumps(request, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


async def _replay(session: AsyncSession, reference: dict[str, Any]) -> Outcome:
    def get(model: type[Any], key: str) -> Awaitable[Any]:
        return session.get(model, reference[key]) if reference.get(key) else _none()

    return Outcome(
        subscription=await get(Subscription, "subscription"),
        invoice=await get(Invoice, "invoice"),
        payment=await get(Payment, "payment"),
        replayed=True,
    )


async def _none() -> None:
    return None
