"""The operator's tools around the air gap: the license verifier runs with only the standard
library, pyjwt and cryptography; `billing license verify` takes the published JWKS as well
as PEM keys; `billing report validate` checks a usage report before it is carried across.
Every refusal is one line naming the file, key or field, never Python's exception text."""

import json
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import _cffi_backend
import cryptography
import jwt
import pytest

from api.licenses import LicenseKeys
from billing.licenses import Licensee, LicenseGrant, LicenseType
from tests.api.test_cli import billing

ROOT = Path(__file__).resolve().parents[2]
GRANT = LicenseGrant(
    licensee=Licensee("Initech", "it@initech.example", "Initech"),
    plan="premium",
    seats=20,
    add_ons=(),
    starts_on=date(2027, 1, 1),
    expires_on=date(2028, 1, 1),
    license_type=LicenseType.OFFLINE,
    subscription_id=4,
    issued_at=datetime(2026, 12, 1, tzinfo=UTC),
)


def test_the_verifier_needs_only_pyjwt_and_cryptography(tmp_path: Path, license_key: Path) -> None:
    # a fresh interpreter without site-packages (-I -S): only the verifier file, pyjwt and
    # cryptography (with _cffi_backend, which installing it brings) are importable, nothing
    # else of this service
    for package in (jwt, cryptography):
        shutil.copytree(Path(package.__file__).parent, tmp_path / package.__name__)
    shutil.copy(_cffi_backend.__file__, tmp_path)
    shutil.copy(ROOT / "api" / "license_verifier.py", tmp_path / "license_verifier.py")
    keys = LicenseKeys.load(license_key, [])
    (tmp_path / "keys.json").write_text(json.dumps(keys.jwks()))
    (tmp_path / "license").write_text(keys.sign(GRANT))
    program = f"""
import sys
sys.path[:0] = [{str(tmp_path)!r}]
for name in ("billing", "api", "sqlalchemy", "strawberry"):
    try:
        __import__(name)
    except ModuleNotFoundError:
        pass
    else:
        raise SystemExit(name + " is importable")
import license_verifier as v
keys = v.read_jwks(open({str(tmp_path / "keys.json")!r}).read())
claims = v.verified_claims(open({str(tmp_path / "license")!r}).read(), keys)
print(claims["plan"], claims["seats"], claims["expires_on"])
"""
    ran = subprocess.run(
        [sys.executable, "-I", "-S", "-c", program],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "premium 20 2028-01-01"


def test_license_verify_takes_the_published_jwks(tmp_path: Path, license_key: Path) -> None:
    keys = LicenseKeys.load(license_key, [])
    (tmp_path / "keys.json").write_text(json.dumps(keys.jwks()))
    (tmp_path / "initech.gitlab-license").write_text(keys.sign(GRANT) + "\n")
    ok = billing(
        "license", "verify", "initech.gitlab-license", "--jwks", "keys.json",
        "--date", "2027-02-10", cwd=tmp_path,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("valid on 2027-02-10: premium for 20 seats, 2027-01-01 to")

    broken = {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "test", "x": "short"}]}
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    refused = billing(
        "license", "verify", "initech.gitlab-license", "--jwks", "broken.json", cwd=tmp_path
    )
    assert refused.returncode == 2  # a usage error: the keys, not the license, are wrong
    assert refused.stderr.strip() == (
        "billing: error: broken.json: keys[0].x is not a 32-byte base64url key"
    )


REPORT = {
    "license": "eyJ.a.b",
    "instance_id": "8f14e45f-ceea-467f-a9e5-0d1c2b3a4f50",
    "hostname": "gitlab.initech.example",
    "version": "18.6.0",
    "billable_users": 30,
    "max_historical_users": 30,
    "reported_at": "2027-02-11T06:00:00+00:00",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reported_at": None}, "report.reported_at: `reported_at` must be a string."),
        (
            {"user_statistics": {"total": 1}},
            "report.user_statistics.active: Must be a whole number.",
        ),
    ],
)
def test_report_validate_names_the_field(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    report = {k: v for k, v in {**REPORT, **change}.items() if v is not None}
    (tmp_path / "usage.json").write_text(json.dumps(report))
    refused = billing("report", "validate", "usage.json", cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.strip() == f"usage.json: {message}"

    (tmp_path / "usage.json").write_text(json.dumps(REPORT))
    ok = billing("report", "validate", "usage.json", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "a valid usage report of 8f14e45f" in ok.stdout
