"""`billing license ...` and `billing keys ...`: offline licenses and their signing keys."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import DATE_OPTION, JSON_OPTION, one_line_errors, print_json
from api.clock import SystemClock
from api.settings import ConfigError, load_settings

app = typer.Typer(help="Licenses of self-managed instances.")
keys_app = typer.Typer(help="License signing keys.")


@app.command()
@one_line_errors
def verify(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The license file (the signed token).")
    ],
    public_key: Annotated[
        list[Path] | None,
        typer.Option(
            metavar="PATH",
            help="A <kid>.pub.pem file (repeatable) [default: the configured keys]",
        ),
    ] = None,
    jwks: Annotated[
        list[Path] | None,
        typer.Option(
            metavar="FILE",
            help="The published key set (licenseSigningKeys saved as JSON; repeatable)",
        ),
    ] = None,
    day: Annotated[date | None, DATE_OPTION] = None,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Check a license offline: what it grants, or exactly why it is refused (status 1)."""
    from api.app import load_license_keys
    from api.license_verifier import LicenseRefused
    from api.licenses import verify_license
    from api.offline_tools import OfflineToolError, public_keys, verify_license_file

    today = day or SystemClock().today()
    try:
        if public_key or jwks:
            keys = public_keys(public_key or [], jwks or [])
        else:
            keys = load_license_keys(load_settings()).public
        token = file.read_text().strip()
    except (OSError, ValueError, TypeError, OfflineToolError) as error:
        raise ConfigError(str(error)) from None
    if not as_json:
        try:
            typer.echo(verify_license_file(file, keys, today=today))
        except OfflineToolError as refused:
            typer.echo(str(refused), err=True)
            raise typer.Exit(1) from None
        return
    try:
        grant = verify_license(token, keys, today=today)
    except LicenseRefused as refused:
        print_json({"valid": False, "day": today, "reason": str(refused)})
        raise typer.Exit(1) from None
    terms = grant.seat_terms
    print_json(
        {
            "valid": True,
            "day": today,
            "plan": grant.plan,
            "seats": grant.seats,
            "startsOn": grant.starts_on,
            "expiresOn": grant.expires_on,
            "type": grant.license_type.value,
            "addOns": [{"code": c, "quantity": q} for c, q in grant.add_ons],
            "licensee": {
                "name": grant.licensee.name,
                "email": grant.licensee.email,
                "company": grant.licensee.company,
            },
            "subscriptionId": grant.subscription_id,
            "issuedAt": grant.issued_at,
            "seatTerms": None
            if terms is None
            else {
                "seatPrice": str(terms.seat_price.amount),
                "currency": terms.seat_price.currency,
                "reconciliation": terms.reconciliation.value,
            },
        }
    )


@keys_app.command()
@one_line_errors
def generate(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where to write the <kid>.pem files.")
    ] = Path(".data/keys"),
    kid: Annotated[str | None, typer.Option(help="The key id [default: today's date]")] = None,
) -> None:
    """Write a new Ed25519 key pair."""
    from api.licenses import generate_keys

    try:
        private, public = generate_keys(directory, kid or SystemClock().today().isoformat())
    except ValueError as error:
        raise ConfigError(str(error)) from None
    typer.echo(f"signing key {private} (keep it secret), public key {public}")
    typer.echo(f"BILLING_LICENSE_SIGNING_KEY={private}")
    typer.echo(
        "list the public key in BILLING_LICENSE_PUBLIC_KEYS (a JSON list of paths) on every "
        "service that verifies licenses; keep the old ones listed while their licenses are used"
    )
