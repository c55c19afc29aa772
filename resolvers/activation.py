"""Activation: an online instance trades a one-time code of its subscription for its license.
Codes are random (100 bits), kept only as hashes, single-use. Guessing one is hopeless, so
wrong codes are rate-limited (resolvers.rates), never a lockout: wrong codes sent with a
made-up or someone else's instance id cannot keep a real instance with a valid code out."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from billing.errors import ConflictError, ErrorCode, InvalidInputError, LicenseRefusedError
from billing.licenses import LicenseType
from billing.subscriptions import SubscriptionStatus
from db import audit
from db.licenses import latest_license
from db.subscriptions import lock_subscription
from db.tables import ActivationCode, Instance, License
from resolvers.changes import Who, require
from resolvers.context import Context
from resolvers.licenses import refresh_license
from resolvers.rates import admit_client, admit_instance
from resolvers.subscriptions import locked

log = logging.getLogger("billing.activation")


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
    admit_client(context)
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
    license_ = None
    async with context.transaction() as session:
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
        if found is not None:
            found.used_at = context.clock.now()
            license_ = await _bind(session, context, found, request)
    if license_ is None:
        log.info(
            "wrong activation code for instance %r from %s [request %s]",
            request.instance_uid,
            context.client,
            context.request_id,
        )
        # only wrong codes count against the instance id: anyone can name it, and a valid
        # code must never be turned away because others named it
        admit_instance(context, f"activation:{request.instance_uid}")
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
