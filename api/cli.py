"""The `billing` command: serve, db upgrade, demo-data, token, export-schema, dev-env."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from api.auth import InvalidToken, mint_token
from api.clock import SystemClock
from api.database import DatabaseError, check_migrated, check_reachable, embedded_database_url
from api.graphiql import AssetsError
from api.logs import configure_logging
from api.settings import ConfigError, Settings, load_settings
from db.engine import make_engine, make_sessionmaker, upgrade
from resolvers.principal import Role

log = logging.getLogger("billing")


def database_url(settings: Settings) -> str:
    return settings.database_url or embedded_database_url(settings.data_dir)


async def _checked(url: str, *, migrated: bool) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        await check_reachable(engine)
        if migrated:
            await check_migrated(engine)
    finally:
        await engine.dispose()


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    url = database_url(settings)
    asyncio.run(_checked(url, migrated=True))
    # each worker builds its app (and its pool) from the environment: the same URL, also
    # that of the embedded PostgreSQL this process started and keeps running
    os.environ["DATABASE_URL"] = url
    print(f"GraphiQL on http://{args.host or settings.host}:{args.port or settings.port}/graphql")
    # uvicorn re-raises SIGTERM after its graceful shutdown; leaving through SystemExit instead
    # runs the atexit hook that stops the embedded PostgreSQL with us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        "api.app:served_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level=settings.log_level.lower(),
        workers=args.workers,
        # h11, not httptools: httptools buffers headers of any size (5 MB were accepted);
        # h11 refuses a request whose headers stay incomplete past this size
        http="h11",
        h11_max_incomplete_event_size=settings.max_header_bytes,
        server_header=False,
        # our own logging (api.logs) in every worker, and our own access line (api.access)
        log_config=None,
        access_log=False,
    )


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> None:
    url = database_url(settings)
    asyncio.run(_checked(url, migrated=False))
    asyncio.run(upgrade(url, args.revision))
    print(f"database upgraded to {args.revision}")


def cmd_demo_data(settings: Settings, args: argparse.Namespace) -> None:
    from db.demo import load_demo_data

    url = database_url(settings)
    asyncio.run(_checked(url, migrated=True))

    async def load() -> None:
        engine = make_engine(url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                await load_demo_data(session, today=SystemClock().today())
        finally:
            await engine.dispose()

    asyncio.run(load())
    print("demo data loaded")


def cmd_jobs_snapshot_seats(settings: Settings, args: argparse.Namespace) -> None:
    from billing.errors import ConflictError
    from resolvers.jobs import snapshot_seats

    url = database_url(settings)
    asyncio.run(_checked(url, migrated=True))
    day = args.date or SystemClock().today()

    async def run() -> None:
        engine = make_engine(url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session:
                report = await snapshot_seats(session, day=day)
        except ConflictError as refused:
            print(f"{day}: REFUSED {refused.message}", file=sys.stderr)
            sys.exit(2)
        finally:
            await engine.dispose()
        print(
            f"{report.day}: recounted {report.namespaces_recounted} namespaces, "
            f"wrote {report.snapshots_written} snapshots"
        )

    asyncio.run(run())


def cmd_jobs_run_daily(settings: Settings, args: argparse.Namespace) -> None:
    from api.app import load_license_keys
    from billing.errors import ConflictError
    from resolvers.jobs import run_daily

    sign = load_license_keys(settings).signer
    url = database_url(settings)
    asyncio.run(_checked(url, migrated=True))
    day = args.date or SystemClock().today()

    async def run() -> int:
        engine = make_engine(url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session:
                report = await run_daily(session, day=day, sign=sign)
        except ConflictError as refused:
            print(f"{day}: REFUSED {refused.message}", file=sys.stderr)
            return 2
        finally:
            await engine.dispose()
        for line in report.done:
            print(f"{report.day}: {line}")
        for line in report.failed:
            print(f"{report.day}: FAILED {line}", file=sys.stderr)
        return 1 if report.failed else 0

    status = asyncio.run(run())
    if status:
        sys.exit(status)


def cmd_keys_generate(settings: Settings, args: argparse.Namespace) -> None:
    from api.licenses import generate_keys

    kid = args.kid or SystemClock().today().isoformat()
    try:
        private, public = generate_keys(Path(args.dir), kid)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    print(f"signing key {private} (keep it secret), public key {public}")
    print(f"BILLING_LICENSE_SIGNING_KEY={private}")
    print(
        "list the public key in BILLING_LICENSE_PUBLIC_KEYS (a JSON list of paths) on every "
        "service that verifies licenses; keep the old ones listed while their licenses are used"
    )


def cmd_dev_env(settings: Settings | None, args: argparse.Namespace) -> None:
    from api.devenv import write_dev_env

    print(write_dev_env(Path(args.env_file), Path(args.keys_dir)))


def cmd_license_verify(settings: Settings, args: argparse.Namespace) -> None:
    from api.app import load_license_keys
    from api.offline_tools import OfflineToolError, public_keys, verify_license_file

    try:
        if args.public_key or args.jwks:
            keys = public_keys(
                [Path(p) for p in args.public_key or []], [Path(p) for p in args.jwks or []]
            )
        else:  # the keys this service is configured with
            keys = load_license_keys(load_settings()).public
        print(verify_license_file(Path(args.file), keys, today=args.date or SystemClock().today()))
    except OfflineToolError as error:
        print(error, file=sys.stderr)
        sys.exit(1)


def cmd_report_validate(settings: Settings, args: argparse.Namespace) -> None:
    from api.offline_tools import OfflineToolError, validate_report_file

    try:
        print(validate_report_file(Path(args.file)))
    except OfflineToolError as error:
        print(error, file=sys.stderr)
        sys.exit(1)


def cmd_token(settings: Settings, args: argparse.Namespace) -> None:
    role = Role(args.role)
    if (role is Role.CUSTOMER) != (args.customer_id is not None):
        raise ConfigError("--customer-id is required for, and only for, --role customer")
    customer_id = None
    if args.customer_id is not None:
        customer_id = _customer_id(args.customer_id)
    print(
        mint_token(
            settings,
            role=role,
            subject=args.subject or f"dev-{role.value}",
            customer_id=customer_id,
            now=SystemClock().now(),
            ttl=timedelta(hours=args.ttl_hours),
        )
    )


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
    raise ConfigError(f"--customer-id: {raw!r} is neither a number nor a Customer global id")


def cmd_export_schema(settings: Settings | None, args: argparse.Namespace) -> None:
    from schema.build import schema_sdl

    text = schema_sdl()
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
        print(f"wrote {args.output}")


def _add_offline_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`license verify` and `report validate`: what an operator runs around the air gap."""
    license_ = commands.add_parser("license", help="licenses")
    license_commands = license_.add_subparsers(dest="license", required=True)
    verify = license_commands.add_parser(
        "verify", help="check a license file offline and print what it grants, or why not"
    )
    verify.add_argument("file", help="the license file (the signed token)")
    verify.add_argument(
        "--public-key",
        action="append",
        help="a <kid>.pub.pem file (repeatable); the configured keys by default",
    )
    verify.add_argument(
        "--jwks",
        action="append",
        help="a JSON Web Key Set file, as licenseSigningKeys publishes it (repeatable)",
    )
    verify.add_argument("--date", type=date.fromisoformat, help="the day (today by default)")
    verify.set_defaults(run=cmd_license_verify, needs_settings=False)

    report = commands.add_parser("report", help="usage reports of offline instances")
    report_commands = report.add_subparsers(dest="report", required=True)
    validate = report_commands.add_parser(
        "validate", help="check a usage report file before carrying it across the air gap"
    )
    validate.add_argument("file", help="the usage report (JSON)")
    validate.set_defaults(run=cmd_report_validate, needs_settings=False)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="billing", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the GraphQL API and GraphiQL")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        choices=range(1, 65),
        metavar="N",
        help="worker processes, each with its own connection pool (default 1)",
    )
    serve.set_defaults(run=cmd_serve)

    database = commands.add_parser("db", help="database maintenance")
    db_commands = database.add_subparsers(dest="db_command", required=True)
    up = db_commands.add_parser("upgrade", help="apply migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(run=cmd_db_upgrade)

    demo = commands.add_parser("demo-data", help="load the demo catalog and customers (idempotent)")
    demo.set_defaults(run=cmd_demo_data)

    jobs = commands.add_parser("jobs", help="scheduled work")
    job_commands = jobs.add_subparsers(dest="job", required=True)
    snapshot = job_commands.add_parser(
        "snapshot-seats", help="recount seats and record the day's billable counts (idempotent)"
    )
    snapshot.add_argument("--date", type=date.fromisoformat, help="the day (today by default)")
    snapshot.set_defaults(run=cmd_jobs_snapshot_seats)

    daily = job_commands.add_parser(
        "run-daily",
        help="reconcile quarters, renew or expire ended terms, snapshot seats (idempotent; "
        "catches up on missed days)",
    )
    daily.add_argument("--date", type=date.fromisoformat, help="the day (today by default)")
    daily.set_defaults(run=cmd_jobs_run_daily)

    keys = commands.add_parser("keys", help="license signing keys")
    key_commands = keys.add_subparsers(dest="keys", required=True)
    generate = key_commands.add_parser("generate", help="write a new Ed25519 key pair")
    generate.add_argument("--dir", default=".data/keys", help="where to write <kid>.pem files")
    generate.add_argument("--kid", help="the key id (today's date by default)")
    generate.set_defaults(run=cmd_keys_generate, needs_settings=False)

    dev_env = commands.add_parser(
        "dev-env", help="write a development .env (JWT secret, license key), mode 600, once"
    )
    dev_env.add_argument("--env-file", default=".env")
    dev_env.add_argument("--keys-dir", default=".data/keys")
    dev_env.set_defaults(run=cmd_dev_env, needs_settings=False)

    _add_offline_commands(commands)

    token = commands.add_parser("token", help="mint a development token with the configured key")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--customer-id", help="database id or global id (customer role only)")
    token.add_argument("--subject", help="the sub claim; dev-<role> by default")
    token.add_argument("--ttl-hours", type=int, default=12)
    token.set_defaults(run=cmd_token)

    export = commands.add_parser("export-schema", help="write the schema as SDL")
    export.add_argument("--output", default="schema.graphql", help="file, or - for stdout")
    export.set_defaults(run=cmd_export_schema, needs_settings=False)
    return root


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    run: Callable[..., None] = args.run
    try:
        settings = load_settings() if getattr(args, "needs_settings", True) else None
        if settings is not None:
            configure_logging(settings.log_level, settings.log_format)
        run(settings, args)
    except (ConfigError, DatabaseError, AssetsError, InvalidToken) as error:
        print(f"billing: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
