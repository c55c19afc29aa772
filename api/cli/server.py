"""`billing serve`, `demo-data`, `dev-env`, `export-schema`, `keys`, `token`, `settings`."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from api.auth import mint_token
from api.cli.common import JSON_OPTION, checked_url, fail, one_line_errors, print_json, settings
from api.clock import SystemClock
from api.settings import Settings
from resolvers.principal import Role


@one_line_errors
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on [default: BILLING_HOST]")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port to listen on [default: BILLING_PORT]"),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(min=1, max=64, metavar="N", help="Worker processes, each with its own pool."),
    ] = 1,
) -> None:
    """Serve the GraphQL API, GraphiQL, /healthz, /readyz and /metrics."""
    import uvicorn

    loaded = settings()
    url = checked_url(loaded)
    # each worker builds its app (and its pool) from the environment: the same URL, also
    # that of the embedded PostgreSQL this process started and keeps running
    os.environ["DATABASE_URL"] = url
    host, port = host or loaded.host, port or loaded.port
    typer.echo(f"GraphiQL on http://{host}:{port}/graphql")
    # uvicorn re-raises SIGTERM after its graceful shutdown; leaving through SystemExit instead
    # runs the atexit hook that stops the embedded PostgreSQL with us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        "api.app:served_app",
        factory=True,
        host=host,
        port=port,
        log_level=loaded.log_level.lower(),
        workers=workers,
        # h11, not httptools: httptools buffers headers of any size (5 MB were accepted);
        # h11 refuses a request whose headers stay incomplete past this size
        http="h11",
        h11_max_incomplete_event_size=loaded.max_header_bytes,
        server_header=False,
        # our own logging (api.logs) in every worker, and our own access line (api.access)
        log_config=None,
        access_log=False,
    )


@one_line_errors
def demo_data() -> None:
    """Load the demo catalog, customers, namespaces and subscriptions (idempotent)."""
    from rich.console import Console

    from api.cli.common import show_progress
    from db.demo import load_demo_data
    from db.engine import make_engine, make_sessionmaker

    url = checked_url(settings())

    async def load() -> None:
        engine = make_engine(url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                await load_demo_data(session, today=SystemClock().today())
        finally:
            await engine.dispose()

    if show_progress():
        with Console().status("loading demo data"):
            asyncio.run(load())
    else:
        asyncio.run(load())
    typer.echo("demo data loaded")


def dev_env(
    env_file: Annotated[Path, typer.Option(help="The file to write (kept if it exists).")] = Path(
        ".env"
    ),
    keys_dir: Annotated[Path, typer.Option(help="Where the license signing key pair goes.")] = Path(
        ".data/keys"
    ),
) -> None:
    """Write a development .env (JWT secret, license key), mode 600, once."""
    from api.devenv import write_dev_env

    typer.echo(write_dev_env(env_file, keys_dir))


def export_schema(
    output: Annotated[str, typer.Option(help="The file to write, or - for stdout.")] = (
        "schema.graphql"
    ),
) -> None:
    """Write the GraphQL schema as SDL."""
    from schema.build import schema_sdl

    text = schema_sdl()
    if output == "-":
        sys.stdout.write(text)
    else:
        Path(output).write_text(text)
        typer.echo(f"wrote {output}")


@one_line_errors
def token(
    role: Annotated[Role, typer.Option(help="The role the token grants.")],
    customer_id: Annotated[
        str | None,
        typer.Option(help="Database id or Customer global id (for --role customer only)."),
    ] = None,
    subject: Annotated[str | None, typer.Option(help="The sub claim [default: dev-<role>]")] = None,
    ttl_hours: Annotated[
        int, typer.Option(min=1, max=24 * 366, help="Hours until the token expires.")
    ] = 12,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Mint a development token with the configured key."""
    if (role is Role.CUSTOMER) != (customer_id is not None):
        raise fail("--customer-id is required for, and only for, --role customer")
    customer = None if customer_id is None else _customer_id(customer_id)
    now = SystemClock().now()
    ttl = timedelta(hours=ttl_hours)
    subject = subject or f"dev-{role.value}"
    minted = mint_token(
        settings(), role=role, subject=subject, customer_id=customer, now=now, ttl=ttl
    )
    if as_json:
        print_json(
            {
                "token": minted,
                "role": role.value,
                "subject": subject,
                "customerId": customer,
                "expiresAt": (now + ttl).isoformat(),
            }
        )
    else:
        typer.echo(minted)


def _customer_id(raw: str) -> int:
    """A customer's database id, from a number or a global id (Customer:<n> in base64)."""
    if raw.isdigit():
        return int(raw)
    from strawberry import relay

    try:
        kind, value = relay.from_base64(raw)
        if kind == "Customer" and value.isdigit():
            return int(value)
    except ValueError:
        pass
    raise fail(f"--customer-id: {raw!r} is neither a number nor a Customer global id")


def show_settings(as_json: Annotated[bool, JSON_OPTION] = False) -> None:
    """List every setting (environment variable or .env line), its default and meaning."""
    rows = settings_table()
    if as_json:
        print_json([{"name": n, "default": d, "meaning": m} for n, d, m in rows])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("variable", "default", "meaning", box=None)
    for row in rows:
        table.add_row(*row)
    Console(width=None if sys.stdout.isatty() else 160).print(table)


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) of every setting, read from api.settings."""
    rows = []
    for name, field in Settings.model_fields.items():
        variable = "DATABASE_URL" if name == "database_url" else f"BILLING_{name.upper()}"
        default = field.get_default()
        shown = "unset" if default is None else str(default)
        rows.append((variable, shown, field.description or ""))
    return rows
