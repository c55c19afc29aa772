"""Signed licenses verify offline with only the public keys, and are refused with their own
reason: a changed byte, an expired or not-yet-valid license, an unknown key, a malformed file.
Keys rotate: a license verifies while the key that signed it is listed."""

import base64
import json
import os
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm

from api.app import load_license_keys
from api.licenses import LicenseKeys, LicenseRefused, Refusal, generate_keys, verify_license
from api.settings import ConfigError, load_settings
from billing.licenses import Licensee, LicenseGrant, LicenseType
from tests.api.test_cli import BILLING, billing
from tests.conftest import GraphQL
from tests.helpers import data

GRANT = LicenseGrant(
    licensee=Licensee("Peter Gibbons", "peter@initech.example", "Initech"),
    plan="ultimate",
    seats=120,
    add_ons=(("duo_pro", 20),),
    starts_on=date(2026, 3, 15),
    expires_on=date(2027, 3, 15),
    license_type=LicenseType.OFFLINE,
    subscription_id=4,
    issued_at=datetime(2026, 3, 15, 9, 30, tzinfo=UTC),
)


@pytest.fixture
def keys(tmp_path: Path) -> LicenseKeys:
    private, _ = generate_keys(tmp_path, "2026-a")
    return LicenseKeys.load(private, [])


def test_a_license_verifies_offline_with_only_the_public_key(
    keys: LicenseKeys, tmp_path: Path
) -> None:
    token = keys.sign(GRANT)
    public_only = LicenseKeys.load(None, [tmp_path / "2026-a.pub.pem"]).public
    assert verify_license(token, public_only, today=date(2026, 6, 1)) == GRANT
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": "2026-a", "typ": "JWT"}


def _changed(token: str, part: int) -> str:
    """The token with one byte changed in the header (0), claims (1) or signature (2)."""
    pieces = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(pieces[part] + "=" * (-len(pieces[part]) % 4)))
    if part == 1:  # keep the claims valid JSON: change one digit of the seats
        raw = bytearray(bytes(raw).replace(b'"seats":120', b'"seats":920'))
    else:
        raw[-1] ^= 0x01
    pieces[part] = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    return ".".join(pieces)


@pytest.mark.parametrize(
    ("token_of", "today", "reason"),
    [
        (lambda keys: _changed(keys.sign(GRANT), 1), date(2026, 6, 1), Refusal.BAD_SIGNATURE),
        (lambda keys: _changed(keys.sign(GRANT), 2), date(2026, 6, 1), Refusal.BAD_SIGNATURE),
        (lambda keys: keys.sign(GRANT), date(2027, 3, 15), Refusal.EXPIRED),
        (lambda keys: keys.sign(GRANT), date(2026, 3, 14), Refusal.NOT_YET_VALID),
        (lambda keys: "not a license", date(2026, 6, 1), Refusal.MALFORMED),
        (
            lambda keys: jwt.encode(
                {"plan": "x", "iat": 1}, keys.signing_key, "EdDSA", {"kid": "2026-a"}
            ),
            date(2026, 6, 1),
            Refusal.MALFORMED,
        ),
        (
            lambda keys: jwt.encode(GRANT.claims(), "secret" * 6, "HS256", {"kid": "2026-a"}),
            date(2026, 6, 1),
            Refusal.MALFORMED,
        ),
    ],
)
def test_a_bad_license_is_refused_with_its_own_reason(
    keys: LicenseKeys, token_of: object, today: date, reason: Refusal
) -> None:
    token = token_of(keys)  # type: ignore[operator]
    with pytest.raises(LicenseRefused) as refused:
        verify_license(token, keys.public, today=today)
    assert refused.value.reason is reason


def test_the_last_day_is_valid_and_the_end_date_is_not(keys: LicenseKeys) -> None:
    token = keys.sign(GRANT)
    assert verify_license(token, keys.public, today=date(2027, 3, 14)) == GRANT
    assert verify_license(token, keys.public, today=date(2026, 3, 15)) == GRANT


def test_keys_rotate_while_the_old_key_is_listed(tmp_path: Path) -> None:
    old_private, old_public = generate_keys(tmp_path, "old")
    new_private, _ = generate_keys(tmp_path, "new")
    old_license = LicenseKeys.load(old_private, []).sign(GRANT)
    # the service now signs with the new key and still lists the old one
    rotated = LicenseKeys.load(new_private, [old_public])
    new_license = rotated.sign(GRANT)
    for token in (old_license, new_license):
        assert verify_license(token, rotated.public, today=date(2026, 6, 1)) == GRANT
    # once the old key is removed, its licenses are refused
    retired = LicenseKeys.load(new_private, [])
    with pytest.raises(LicenseRefused) as refused:
        verify_license(old_license, retired.public, today=date(2026, 6, 1))
    assert refused.value.reason is Refusal.UNKNOWN_KEY
    assert verify_license(new_license, retired.public, today=date(2026, 6, 1)) == GRANT


def test_a_wrong_key_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a key")
    with pytest.raises(ValueError, match="PEM"):
        LicenseKeys.load(tmp_path / "bad.pem", [])


async def test_the_public_keys_are_published_as_a_jwks(gql: GraphQL) -> None:
    # the test service signs with `test.pem`; anyone may fetch the public half
    [key] = data(await gql("{ licenseSigningKeys }"))["licenseSigningKeys"]["keys"]
    assert (key["kid"], key["kty"], key["crv"], key["use"]) == ("test", "OKP", "Ed25519", "sig")
    assert "d" not in key  # no private part


def test_the_jwks_verifies_what_the_key_signed(keys: LicenseKeys) -> None:
    [jwk] = keys.jwks()["keys"]
    assert (jwk["kty"], jwk["crv"], jwk["kid"], jwk["alg"]) == ("OKP", "Ed25519", "2026-a", "EdDSA")
    public = OKPAlgorithm.from_jwk(json.dumps(jwk))
    assert isinstance(public, Ed25519PublicKey)
    token = keys.sign(GRANT)
    assert verify_license(token, {"2026-a": public}, today=date(2026, 6, 1)) == GRANT


def test_the_cli_generates_keys_and_verifies_a_license_file(tmp_path: Path) -> None:
    made = billing("keys", "generate", "--dir", "keys", "--kid", "k1", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "keys" / "k1.pem").stat().st_mode & 0o077 == 0
    again = billing("keys", "generate", "--dir", "keys", "--kid", "k1", cwd=tmp_path)
    assert again.returncode == 2
    assert "already exists" in again.stderr
    signer = LicenseKeys.load(tmp_path / "keys" / "k1.pem", [])
    (tmp_path / "license.jwt").write_text(signer.sign(GRANT) + "\n")
    ok = billing(
        "license",
        "verify",
        "license.jwt",
        "--public-key",
        "keys/k1.pub.pem",
        "--date",
        "2026-06-01",
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(
        "valid on 2026-06-01: ultimate for 120 seats, 2026-03-15 to 2027-03-15, offline, "
        "add-ons: duo_pro x 20\n"
    )
    expired = billing(
        "license",
        "verify",
        "license.jwt",
        "--public-key",
        "keys/k1.pub.pem",
        "--date",
        "2027-03-15",
        cwd=tmp_path,
    )
    assert expired.returncode == 1
    assert expired.stderr.strip() == "invalid license: expired: expired on 2027-03-15"
    # the configured keys by default: here the signing key's own public half
    configured = billing(
        "license",
        "verify",
        "license.jwt",
        "--date",
        "2026-06-01",
        cwd=tmp_path,
        BILLING_LICENSE_SIGNING_KEY="keys/k1.pem",
    )
    assert configured.returncode == 0, configured.stderr


def test_a_license_verifies_where_the_service_is_not_configured(tmp_path: Path) -> None:
    private, _ = generate_keys(tmp_path, "k2")
    (tmp_path / "license.jwt").write_text(LicenseKeys.load(private, []).sign(GRANT))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_")}
    verified = subprocess.run(
        [
            BILLING,
            "license",
            "verify",
            "license.jwt",
            "--public-key",
            "k2.pub.pem",
            "--date",
            "2026-06-01",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert verified.returncode == 0, verified.stderr


def test_a_password_protected_key_is_a_one_line_start_up_error(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    locked = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    (tmp_path / "locked.pem").write_bytes(locked)
    settings = load_settings(
        _env_file=None, jwt_secret="x" * 40, license_signing_key=tmp_path / "locked.pem"
    )
    with pytest.raises(ConfigError, match="license keys"):
        load_license_keys(settings)
