"""What an operator runs by hand around the air gap: check a license file with the published
keys (PEM files or the JWKS), and check a usage report before carrying it across. The CLI
only parses arguments and calls these; each returns the text to print or raises
`OfflineToolError` with a one-line message naming the file, key or field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from api.license_verifier import LicenseRefused, read_jwks, read_pem_public_key
from api.licenses import verify_license
from billing.errors import BillingError
from resolvers.report_file import parse_report_file


class OfflineToolError(Exception):
    """A refusal to print as is (exit status 1)."""


def public_keys(pem_files: list[Path], jwks_files: list[Path]) -> dict[str, Ed25519PublicKey]:
    """The keys in `<kid>.pub.pem` files and JWKS files, by kid."""
    keys: dict[str, Ed25519PublicKey] = {}
    try:
        for path in pem_files:
            kid = path.name.removesuffix(".pem").removesuffix(".pub")
            keys[kid] = read_pem_public_key(path.read_bytes(), str(path))
        for path in jwks_files:
            keys.update(read_jwks(path.read_text(), str(path)))
    except OSError as error:
        raise OfflineToolError(f"cannot read {error.filename}: {error.strerror}") from None
    except ValueError as error:
        raise OfflineToolError(str(error)) from None
    return keys


def verify_license_file(file: Path, keys: dict[str, Ed25519PublicKey], *, today: date) -> str:
    """What the license in `file` grants on `today`, or why it is not valid."""
    try:
        token = file.read_text().strip()
    except OSError as error:
        raise OfflineToolError(f"cannot read {file}: {error.strerror}") from None
    try:
        grant = verify_license(token, keys, today=today)
    except LicenseRefused as refused:
        raise OfflineToolError(f"invalid license: {refused}") from None
    add_ons = ", ".join(f"{code} x {quantity}" for code, quantity in grant.add_ons) or "none"
    text = (
        f"valid on {today.isoformat()}: {grant.plan} for {grant.seats} seats, "
        f"{grant.starts_on.isoformat()} to {grant.expires_on.isoformat()}, "
        f"{grant.license_type.value}, add-ons: {add_ons}\n"
        f"licensee: {grant.licensee.name} <{grant.licensee.email}>, {grant.licensee.company}; "
        f"subscription {grant.subscription_id}, issued {grant.issued_at.isoformat()}"
    )
    if grant.seat_terms is not None:
        terms = grant.seat_terms
        text += (
            f"\nseats over {grant.seats}: {terms.seat_price.amount} {terms.seat_price.currency} "
            f"a seat for the term, charged by {terms.reconciliation.value.replace('_', '-')}"
        )
    return text


def validate_report_file(file: Path) -> str:
    """Whether `file` is a usage report the service will accept (the same checks as the
    upload, without the license's signature or dates); the refusal names the key."""
    try:
        text = file.read_text()
    except (OSError, UnicodeDecodeError):
        raise OfflineToolError(f"cannot read {file} as UTF-8 text") from None
    try:
        report = parse_report_file(text)
    except BillingError as error:
        raise OfflineToolError(f"{file}: {error.field}: {error.message}") from None
    statistics = "with user statistics" if report.user_statistics else "without user statistics"
    return (
        f"{file}: a valid usage report of {report.instance_uid}, counted "
        f"{report.reported_at.isoformat()}: {report.billable_users} billable users, "
        f"{report.max_historical_users} at most, {statistics}"
    )
