"""Signed licenses: Ed25519 JWTs (`kid` in the header) that an instance verifies offline with
only the published public keys. `verify_license` is the whole check: the signature
(`api.license_verifier`, standard library + pyjwt + cryptography only, for instances to copy)
then the claims and dates (`billing.licenses`).

Keys are PEM files named after their key id: `<kid>.pem` (private, signs) and
`<kid>.pub.pem` (public). Several public keys may be listed at once so keys can rotate: a
license verifies while the key that signed it is listed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm

from api.license_verifier import (
    ALGORITHM,
    LicenseRefused,
    Refusal,
    read_pem_public_key,
    verified_claims,
)
from billing.errors import ErrorCode, LicenseRefusedError
from billing.licenses import LicenseGrant

MAX_KID = 64


_CODES = {
    Refusal.MALFORMED: ErrorCode.LICENSE_MALFORMED,
    Refusal.UNKNOWN_KEY: ErrorCode.LICENSE_UNKNOWN_KEY,
    Refusal.BAD_SIGNATURE: ErrorCode.LICENSE_BAD_SIGNATURE,
    Refusal.EXPIRED: ErrorCode.LICENSE_EXPIRED,
    Refusal.NOT_YET_VALID: ErrorCode.LICENSE_NOT_YET_VALID,
}


def verify_license(
    token: str, public_keys: Mapping[str, Ed25519PublicKey], *, today: date | None
) -> LicenseGrant:
    """The grant of a license valid on `today`, or LicenseRefused saying exactly why not:
    malformed, signed by a key not in `public_keys` (kid -> key), bad signature, expired, or
    not yet valid."""
    claims = verified_claims(token, public_keys)
    try:
        grant = LicenseGrant.from_claims(claims)
    except ValueError as error:
        raise LicenseRefused(Refusal.MALFORMED, str(error)) from None
    problem = grant.in_force(today) if today is not None else None  # None: signature only
    if problem == "expired":
        raise LicenseRefused(Refusal.EXPIRED, f"expired on {grant.expires_on.isoformat()}")
    if problem is not None:
        raise LicenseRefused(Refusal.NOT_YET_VALID, f"valid from {grant.starts_on.isoformat()}")
    return grant


@dataclass(frozen=True)
class LicenseKeys:
    """The signing key (if this process signs) and every public key licenses may carry."""

    signing_kid: str | None = None
    signing_key: Ed25519PrivateKey | None = None
    public: dict[str, Ed25519PublicKey] = field(default_factory=dict)

    @classmethod
    def load(cls, signing_key: Path | None, public_keys: list[Path]) -> LicenseKeys:
        """Read `<kid>.pem` (signing) and `<kid>.pub.pem` files; the signing key's public
        half is always listed. ValueError names a file that is not an Ed25519 key."""
        public = {_kid(path): read_public_key(path) for path in public_keys}
        if signing_key is None:
            return cls(public=public)
        private = serialization.load_pem_private_key(signing_key.read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError(f"{signing_key} is not an Ed25519 private key")
        kid = _kid(signing_key)
        return cls(kid, private, {**public, kid: private.public_key()})

    def sign(self, grant: LicenseGrant) -> str:
        return self.issue(grant)[1]

    def issue(self, grant: LicenseGrant) -> tuple[str, str]:
        """(kid, signed token) of `grant`."""
        if self.signing_key is None or self.signing_kid is None:
            raise RuntimeError("no license signing key is configured")
        token = jwt.encode(
            grant.claims(), self.signing_key, algorithm=ALGORITHM, headers={"kid": self.signing_kid}
        )
        return self.signing_kid, token

    def verifier(self, token: str, today: date | None) -> LicenseGrant:
        """`verify_license` with these keys (dates unchecked when `today` is None), refusals
        as the domain's LicenseRefusedError."""
        try:
            return verify_license(token, self.public, today=today)
        except LicenseRefused as refused:
            raise LicenseRefusedError(_CODES[refused.reason], str(refused), "license") from None

    @property
    def signer(self) -> Callable[[LicenseGrant], tuple[str, str]] | None:
        """What resolvers sign with, or None when this process has no signing key."""
        return self.issue if self.signing_key is not None else None

    def jwks(self) -> dict[str, Any]:
        """The public keys as a JSON Web Key Set (kty OKP, crv Ed25519), sorted by kid."""
        keys = []
        for kid, key in sorted(self.public.items()):
            jwk = json.loads(OKPAlgorithm.to_jwk(key))
            keys.append({**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"})
        return {"keys": keys}


def read_public_key(path: Path) -> Ed25519PublicKey:
    return read_pem_public_key(path.read_bytes(), str(path))


def generate_keys(directory: Path, kid: str) -> tuple[Path, Path]:
    """Write a new pair as `<kid>.pem` (owner-readable only) and `<kid>.pub.pem`."""
    _check_kid(kid)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    private_path, public_path = directory / f"{kid}.pem", directory / f"{kid}.pub.pem"
    if private_path.exists() or public_path.exists():
        raise ValueError(f"a key {kid!r} already exists in {directory}")
    private = Ed25519PrivateKey.generate()
    secret = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # created owner-only, and never over a file that appeared meanwhile
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(secret)
    public_path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_path, public_path


def _kid(path: Path) -> str:
    name = path.name
    for suffix in (".pub.pem", ".pem"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    _check_kid(name, path)
    return name


def _check_kid(kid: str, path: Path | None = None) -> None:
    if not kid or len(kid) > MAX_KID or not kid.replace("-", "").replace("_", "").isalnum():
        where = f"{path}: " if path else ""
        raise ValueError(f"{where}a key id is 1 to {MAX_KID} letters, digits, '-' and '_'")
