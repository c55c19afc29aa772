"""A client's next requests skip the token's signature check, and nothing else changes: the
same Principal until the token's `exp`, a forged or expired token never kept, the cache bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from api import auth
from api.auth import InvalidToken, VerifiedTokens, mint_token
from api.settings import Settings
from resolvers.principal import Role


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens whose signature was checked."""
    seen: list[str] = []
    real = jwt.decode

    def counting(token: str, *args: object, **kwargs: object) -> object:
        seen.append(token)
        return real(token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(auth.jwt, "decode", counting)
    return seen


def _token(settings: Settings, subject: str = "ana", ttl: timedelta = timedelta(hours=1)) -> str:
    now = datetime.now(UTC)
    return mint_token(settings, role=Role.ANALYST, subject=subject, now=now, ttl=ttl)


def test_a_token_seen_before_is_not_verified_again(settings: Settings, decodes: list[str]) -> None:
    tokens = VerifiedTokens(settings)
    token = _token(settings)
    first = tokens.principal(token)
    second = tokens.principal(token)
    assert first == second
    assert (first.role, first.subject) == (Role.ANALYST, "ana")
    assert decodes == [token]


def test_a_kept_token_is_refused_once_it_expires(
    settings: Settings, decodes: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = VerifiedTokens(settings)
    token = _token(settings, ttl=timedelta(minutes=5))
    tokens.principal(token)
    later = datetime.now(UTC) + timedelta(minutes=5, seconds=1)
    monkeypatch.setattr(auth.time, "time", later.timestamp)
    # pyjwt reads its own clock: the token is past its exp for both
    monkeypatch.setattr(
        jwt.api_jwt, "datetime", type("Later", (), {"now": staticmethod(lambda tz=None: later)})
    )
    with pytest.raises(InvalidToken, match="expired"):
        tokens.principal(token)
    assert decodes == [token, token]


def test_forged_and_expired_tokens_are_never_kept(settings: Settings, decodes: list[str]) -> None:
    tokens = VerifiedTokens(settings)
    forged = _token(settings)[:-4] + "AAAA"
    expired = _token(settings, ttl=timedelta(seconds=-1))
    for _ in range(2):
        with pytest.raises(InvalidToken):
            tokens.principal(forged)
        with pytest.raises(InvalidToken, match="expired"):
            tokens.principal(expired)
    assert decodes == [forged, expired, forged, expired]


def test_the_cache_keeps_at_most_its_size_oldest_forgotten_first(
    settings: Settings, decodes: list[str]
) -> None:
    tokens = VerifiedTokens(settings, size=2)
    a, b, c = (_token(settings, subject) for subject in ("a", "b", "c"))
    for token in (a, b, c):
        tokens.principal(token)
    decodes.clear()
    tokens.principal(c)
    tokens.principal(b)
    assert decodes == []
    tokens.principal(a)  # forgotten: verified again
    assert decodes == [a]
