"""Check a license's signature with the published public keys, offline. Needs only the
standard library, pyjwt and cryptography: an air-gapped instance (or its operator) can copy
this one file and run it with nothing else of this service.

Keys come as PEM files (`<kid>.pub.pem`) or as the JSON Web Key Set the service publishes
(`licenseSigningKeys`, saved to a file). Refusals say why in words, never quoting a
library's exception text.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ALGORITHM = "EdDSA"


class Refusal(StrEnum):
    """Why a license is not accepted."""

    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown key"
    BAD_SIGNATURE = "bad signature"
    EXPIRED = "expired"
    NOT_YET_VALID = "not yet valid"


class LicenseRefused(Exception):
    def __init__(self, reason: Refusal, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


def verified_claims(token: str, public_keys: Mapping[str, Ed25519PublicKey]) -> dict[str, Any]:
    """The claims of a license signed by one of `public_keys` (kid -> key), or
    LicenseRefused: malformed, signed by an unlisted key, or a bad signature. Dates are not
    checked here: a license is valid by calendar date (`starts_on`, `expires_on` claims)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise LicenseRefused(Refusal.MALFORMED, "not a signed license token") from None
    if header.get("alg") != ALGORITHM:
        raise LicenseRefused(Refusal.MALFORMED, "the algorithm is not EdDSA")
    kid = header.get("kid")
    key = public_keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise LicenseRefused(Refusal.UNKNOWN_KEY, f"no public key {kid!r} is listed")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=[ALGORITHM], options={"require": ["iat"], "verify_iat": False}
        )
    except jwt.InvalidSignatureError:
        raise LicenseRefused(Refusal.BAD_SIGNATURE, "the signature does not match") from None
    except jwt.MissingRequiredClaimError:
        raise LicenseRefused(Refusal.MALFORMED, "the iat claim is missing") from None
    except jwt.PyJWTError:
        raise LicenseRefused(Refusal.MALFORMED, "not a signed license token") from None
    return claims


def read_pem_public_key(pem: bytes, name: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM; ValueError naming `name` otherwise."""
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise ValueError(f"{name} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{name} is not an Ed25519 public key")
    return key


def read_jwks(text: str, name: str = "the key set") -> dict[str, Ed25519PublicKey]:
    """The Ed25519 keys of a JSON Web Key Set (`{"keys": [{"kty": "OKP", "crv": "Ed25519",
    "kid": ..., "x": ...}]}`), by kid. The service's `licenseSigningKeys` answer is accepted
    as it comes (the set itself, or wrapped in GraphQL's `data`). ValueError names the key."""
    try:
        document = json.loads(text)
    except ValueError:
        raise ValueError(f"{name} is not JSON") from None
    if isinstance(document, dict) and "data" in document:  # a saved GraphQL answer
        document = (document["data"] or {}).get("licenseSigningKeys")
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValueError(f"{name} has no `keys` list")
    found = {}
    for index, jwk in enumerate(keys):
        where = f"{name}: keys[{index}]"
        if not isinstance(jwk, dict) or (jwk.get("kty"), jwk.get("crv")) != ("OKP", "Ed25519"):
            raise ValueError(f"{where} is not an Ed25519 key (kty OKP, crv Ed25519)")
        kid, x = jwk.get("kid"), jwk.get("x")
        if not isinstance(kid, str) or not kid:
            raise ValueError(f"{where}.kid is missing")
        try:
            raw = base64.urlsafe_b64decode(str(x) + "=" * (-len(str(x)) % 4))
            found[kid] = Ed25519PublicKey.from_public_bytes(raw)
        except ValueError:
            raise ValueError(f"{where}.x is not a 32-byte base64url key") from None
    return found
