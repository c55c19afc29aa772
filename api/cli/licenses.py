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
    day: Annotated[date | None, DATE_OPTION] = None,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Check a license offline: what it grants, or exactly why it is refused (status 1)."""
    from api.app import load_license_keys
    from api.licenses import LicenseRefused, read_public_key, verify_license

    try:
        if public_key:
            keys = {_kid_of(p): read_public_key(p) for p in public_key}
        else:
            keys = load_license_keys(load_settings()).public
        token = file.read_text().strip()
    except (OSError, ValueError, TypeError) as error:
        raise ConfigError(str(error)) from None
    today = day or SystemClock().today()
    try:
        grant = verify_license(token, keys, today=today)
    except LicenseRefused as refused:
        if as_json:
            print_json({"valid": False, "day": today, "reason": str(refused)})
        else:
            typer.echo(f"invalid license: {refused}", err=True)
        raise typer.Exit(1) from None
    if as_json:
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
            }
        )
        return
    add_ons = ", ".join(f"{code} x {quantity}" for code, quantity in grant.add_ons) or "none"
    typer.echo(
        f"valid on {today.isoformat()}: {grant.plan} for {grant.seats} seats, "
        f"{grant.starts_on.isoformat()} to {grant.expires_on.isoformat()}, "
        f"{grant.license_type.value}, add-ons: {add_ons}\n"
        f"licensee: {grant.licensee.name} <{grant.licensee.email}>, {grant.licensee.company}; "
        f"subscription {grant.subscription_id}, issued {grant.issued_at.isoformat()}"
    )


def _kid_of(path: Path) -> str:
    return path.name.removesuffix(".pem").removesuffix(".pub")


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
