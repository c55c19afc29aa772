"""Activation: an online instance trades a one-time code of its subscription for its license.
Codes are random (100 bits), kept only as hashes, single-use; an instance that keeps trying
wrong codes is locked out for a while."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from billing.errors import ConflictError, ErrorCode, InvalidInputError, LicenseRefusedError
from billing.licenses import LicenseType
from billing.subscriptions import SubscriptionStatus
from db import audit
from db.licenses import latest_license
from db.subscriptions import lock_subscription
from db.tables import ActivationAttempt, ActivationCode, Instance, License
from resolvers.changes import Who, require
from resolvers.context import Context
from resolvers.licenses import refresh_license
from resolvers.subscriptions import locked

MAX_FAILURES = 5  # per instance id and hour
MAX_FAILURES_ALL = 200  # per hour from everyone: new instance ids do not buy more guesses
LOCKOUT = timedelta(hours=1)


def _digest(code: str) -> str:
    normal = code.replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(normal.encode()).hexdigest()


def _new_code() -> str:
    """20 base32 characters in groups of 4: ``"K7QX-3MDA-..."``."""
    raw = base64.b32encode(secrets.token_bytes(15)).decode()
    return "-".join(raw[i : i + 4] for i in range(0, 20, 4))


async def create_code(context: Context, subscription_id: int) -> str:
    """A new activation code for an online instance subscription (its customer or admins);
    earlier unused codes stop working. Shown once: only its hash is stored."""
    require(context)
    code = _new_code()
    async with context.transaction() as session:
        subscription, _, _ = await locked(session, context, subscription_id)
        if subscription.instance_id is None or subscription.license_type != LicenseType.ONLINE:
            raise ConflictError(
                ErrorCode.NOT_AN_ONLINE_INSTANCE,
                "Activation is for online self-managed instances; offline ones use licenseFile.",
                "subscriptionId",
            )
        await session.execute(
            delete(ActivationCode).where(
                col(ActivationCode.subscription_id) == subscription_id,
                col(ActivationCode.used_at).is_(None),
            )
        )
        session.add(ActivationCode(subscription_id=subscription_id, code_hash=_digest(code)))
        who = Who.of(context)
        audit.record(
            session,
            actor=who.actor,
            action="subscription.activation_code_created",
            subject=("Subscription", subscription_id),
            before=None,
            after=None,
            on=who.today,
        )
    return code


@dataclass(frozen=True)
class Activation:
    code: str
    instance_uid: str
    hostname: str
    version: str


async def activate(context: Context, request: Activation) -> License:
    """The license for the subscription the code belongs to; the instance is bound to it."""
    for field, text, limit in (
        ("instanceId", request.instance_uid, 64),
        ("hostname", request.hostname, 255),
        ("version", request.version, 64),
        ("activationCode", request.code, 64),
    ):
        if not text.strip() or len(text) > limit:
            raise InvalidInputError(
                ErrorCode.INVALID_VALUE, f"Must be 1 to {limit} characters.", field
            )
    now = context.clock.now()
    license_ = None
    async with context.transaction() as session:
        failures = (
            await session.execute(
                select(func.count())
                .select_from(ActivationAttempt)
                .where(
                    col(ActivationAttempt.instance_uid) == request.instance_uid,
                    col(ActivationAttempt.at) > now - LOCKOUT,
                )
            )
        ).scalar_one()
        everyone = (
            await session.execute(
                select(func.count())
                .select_from(ActivationAttempt)
                .where(col(ActivationAttempt.at) > now - LOCKOUT)
            )
        ).scalar_one()
        if failures >= MAX_FAILURES or everyone >= MAX_FAILURES_ALL:
            raise LicenseRefusedError(
                ErrorCode.ACTIVATION_LOCKED,
                f"Too many wrong codes; try again after {LOCKOUT}.",
                "activationCode",
            )
        found = (
            await session.execute(
                select(ActivationCode)
                .where(
                    col(ActivationCode.code_hash) == _digest(request.code),
                    col(ActivationCode.used_at).is_(None),
                )
                .with_for_update()
            )
        ).scalar_one_or_none()
        if found is None:  # counted, and committed, before the refusal below
            session.add(ActivationAttempt(instance_uid=request.instance_uid, at=now))
        else:
            found.used_at = now
            license_ = await _bind(session, context, found, request)
    if license_ is None:
        raise LicenseRefusedError(
            ErrorCode.ACTIVATION_CODE_INVALID,
            "This activation code is unknown or was already used.",
            "activationCode",
        )
    return license_


async def _bind(
    session: AsyncSession, context: Context, found: ActivationCode, request: Activation
) -> License:
    """Bind the activating instance to the code's subscription and return its license."""
    assert found.subscription_id is not None
    subscription = await lock_subscription(session, found.subscription_id)
    if subscription is None or subscription.status != SubscriptionStatus.ACTIVE:
        raise LicenseRefusedError(
            ErrorCode.LICENSE_REVOKED, "The subscription is no longer active.", "activationCode"
        )
    instance = await session.get(Instance, subscription.instance_id)
    assert instance is not None
    if instance.instance_uid != request.instance_uid:
        taken = (
            await session.execute(
                select(Instance).where(col(Instance.instance_uid) == request.instance_uid)
            )
        ).scalar_one_or_none()
        if taken is not None:
            raise LicenseRefusedError(
                ErrorCode.LICENSE_FOREIGN,
                "This instance id belongs to another subscription's instance.",
                "instanceId",
            )
        instance.instance_uid = request.instance_uid
    instance.hostname, instance.version = request.hostname, request.version
    await refresh_license(session, subscription, sign=context.sign_license, now=context.clock.now())
    await session.flush()
    assert subscription.id is not None
    current = await latest_license(session, subscription.id)
    if current is None:
        raise RuntimeError("licenses cannot be signed: no signing key is configured")
    return current
