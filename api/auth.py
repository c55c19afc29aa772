"""Bearer JWT -> Principal, and development tokens."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import jwt

from api.settings import SYMMETRIC, Settings
from resolvers.principal import Principal, Role


class InvalidToken(Exception):
    """The token is expired, forged, malformed or not for this service; the message says which."""


def _verification_key(settings: Settings, algorithm: str) -> Any:
    if algorithm in SYMMETRIC:
        assert settings.jwt_secret is not None
        return settings.jwt_secret.get_secret_value()
    return settings.jwt_public_key


def principal_from_token(settings: Settings, token: str) -> Principal:
    """Verify `token` (allowed algorithms only; exp, iss, aud and sub required) into a Principal."""
    return _verified(settings, token)[0]


class VerifiedTokens:
    """The tokens verified lately, so a client's next requests skip the signature check: a
    token seen before is the same Principal until its `exp` (the time its verification
    checked; `nbf` and `iat`, once passed, stay passed). At most `size` tokens, the oldest
    forgotten first; a token not verified (forged, expired) is never kept."""

    def __init__(self, settings: Settings, size: int = 4096) -> None:
        self.settings = settings
        self.size = size
        self._tokens: dict[str, tuple[Principal, float]] = {}

    def principal(self, token: str) -> Principal:
        known = self._tokens.get(token)
        if known is not None and time.time() < known[1]:
            return known[0]
        self._tokens.pop(token, None)
        principal, expires = _verified(self.settings, token)
        if len(self._tokens) >= self.size:
            del self._tokens[next(iter(self._tokens))]
        self._tokens[token] = (principal, expires)
        return principal


def _verified(settings: Settings, token: str) -> tuple[Principal, float]:
    """The Principal of a verified token and the time (epoch seconds) it expires."""
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
        if algorithm not in settings.jwt_algorithms:
            raise InvalidToken(f"algorithm {algorithm!r} is not accepted")
        claims = jwt.decode(
            token,
            _verification_key(settings, algorithm),
            algorithms=[algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token has expired") from None
    except jwt.InvalidSignatureError:
        raise InvalidToken("signature verification failed") from None
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from None
    if not str(claims["sub"]).strip():
        raise InvalidToken("the sub claim is empty")
    try:
        role = Role(str(claims.get("role")))
    except ValueError:
        raise InvalidToken("unknown role") from None
    customer_id = claims.get("customer_id")
    if role is Role.CUSTOMER:
        if not isinstance(customer_id, int) or isinstance(customer_id, bool):
            raise InvalidToken("customer tokens need an integer customer_id claim")
    else:
        customer_id = None
    principal = Principal(role=role, subject=str(claims["sub"]), customer_id=customer_id)
    return principal, float(claims["exp"])


def mint_token(
    settings: Settings,
    *,
    role: Role,
    subject: str,
    now: datetime,
    customer_id: int | None = None,
    ttl: timedelta = timedelta(hours=12),
) -> str:
    """A token signed with the configured key (the secret, or BILLING_JWT_PRIVATE_KEY)."""
    algorithm = settings.jwt_algorithms[0]
    if algorithm in SYMMETRIC:
        assert settings.jwt_secret is not None
        key: Any = settings.jwt_secret.get_secret_value()
    elif settings.jwt_private_key is not None:
        key = settings.jwt_private_key.get_secret_value()
    else:
        raise InvalidToken("BILLING_JWT_PRIVATE_KEY is needed to sign tokens")
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role.value,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl,
    }
    if customer_id is not None:
        claims["customer_id"] = customer_id
    return jwt.encode(claims, key, algorithm=algorithm)
