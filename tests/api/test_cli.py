"""The `billing` command as a user runs it: one-line errors, tokens, schema, demo data."""

import os
import stat
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from api.auth import principal_from_token
from api.settings import ConfigError, load_settings
from db.engine import head_revision
from resolvers.principal import Role
from schema.build import schema_sdl
from tests.conftest import JWT_SECRET

BILLING = str(Path(sys.executable).parent / "billing")


def billing(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_")}
    clean.pop("DATABASE_URL", None)
    return subprocess.run(
        [BILLING, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**clean, "BILLING_JWT_SECRET": JWT_SECRET, **env},
        timeout=120,
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "mysql://root@localhost/billing",
            "DATABASE_URL: must be a postgresql:// URL, not mysql://",
        ),
        ("not a url", "DATABASE_URL: is not a URL like postgresql://user@host:5432/dbname"),
        (
            "postgresql://postgres@127.0.0.1:9/billing",
            "cannot reach the database at postgresql://postgres@127.0.0.1:9/billing",
        ),
    ],
)
def test_a_bad_database_url_is_one_line_naming_the_problem(
    tmp_path: Path, url: str, message: str
) -> None:
    result = billing("serve", cwd=tmp_path, DATABASE_URL=url)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"billing: error: {message}")
    assert "Traceback" not in result.stderr


def test_a_missing_signing_key_is_named(tmp_path: Path) -> None:
    result = billing("token", "--role", "admin", cwd=tmp_path, BILLING_JWT_SECRET="")
    assert result.returncode == 2
    assert "BILLING_JWT_SECRET must be set" in result.stderr


async def test_serve_refuses_a_database_whose_schema_is_behind(
    tmp_path: Path, make_database: Callable[..., Awaitable[str]]
) -> None:
    url = await make_database(migrate=False)
    result = billing("serve", cwd=tmp_path, DATABASE_URL=url)
    assert result.returncode == 2
    assert f"needs {head_revision()}: run `billing db upgrade`" in result.stderr


async def test_db_upgrade_then_demo_data_twice_is_idempotent(
    tmp_path: Path, make_database: Callable[..., Awaitable[str]]
) -> None:
    url = await make_database(migrate=False)
    assert billing("db", "upgrade", cwd=tmp_path, DATABASE_URL=url).returncode == 0

    async def counts() -> list[int]:
        connection = await asyncpg.connect(make_url(url).render_as_string(hide_password=False))
        try:
            return [
                await connection.fetchval(f"SELECT count(*) FROM {table}")
                for table in (
                    "plan",
                    "price",
                    "add_on_price",
                    "customer",
                    "namespace",
                    "instance",
                    "subscription",
                )
            ]
        finally:
            await connection.close()

    first = billing("demo-data", cwd=tmp_path, DATABASE_URL=url)
    assert first.returncode == 0, first.stderr
    after_first = await counts()
    assert billing("demo-data", cwd=tmp_path, DATABASE_URL=url).returncode == 0
    assert await counts() == after_first == [3, 9, 6, 3, 4, 1, 4]

    for _ in range(2):
        job = billing(
            "jobs", "snapshot-seats", "--date", "2026-03-15", cwd=tmp_path, DATABASE_URL=url
        )
        assert job.returncode == 0, job.stderr
        assert job.stdout.strip() == "2026-03-15: recounted 1 namespaces, wrote 4 snapshots"

    # a year and a half after the demo's purchases every term has ended: each is renewed
    # (auto-renew) or expired. Without a license key the instance cannot be licensed: the
    # run says so and fails, and a run with a key signs what is missing
    later = (datetime.now(UTC).date() + timedelta(days=550)).isoformat()
    unsigned = billing("jobs", "run-daily", "--date", later, cwd=tmp_path, DATABASE_URL=url)
    assert unsigned.returncode == 1
    lines = unsigned.stdout.strip().splitlines()
    assert all(line.startswith(f"{later}: ") for line in lines)
    assert sum("renewed automatically" in line for line in lines) >= 3, lines
    assert "seat snapshots" in lines[-1]
    assert "no signing key is configured" in unsigned.stderr
    assert billing("keys", "generate", "--kid", "k", cwd=tmp_path).returncode == 0
    key = {"BILLING_LICENSE_SIGNING_KEY": ".data/keys/k.pem"}
    signed = billing("jobs", "run-daily", "--date", later, cwd=tmp_path, DATABASE_URL=url, **key)
    assert signed.returncode == 0, signed.stderr
    [licensed, snapshots] = signed.stdout.strip().splitlines()
    assert ": licensed 120 seats of ultimate to " in licensed
    assert "seat snapshots" in snapshots
    # a second run for that day finds nothing more to do
    again = billing("jobs", "run-daily", "--date", later, cwd=tmp_path, DATABASE_URL=url, **key)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines() == [
        f"{later}: recounted 1 namespaces, wrote 4 seat snapshots, forgot 0 idempotency keys"
    ]
    # a run for an earlier day is refused, with the reason, and does nothing
    earlier = (datetime.now(UTC).date() + timedelta(days=549)).isoformat()
    backwards = billing("jobs", "run-daily", "--date", earlier, cwd=tmp_path, DATABASE_URL=url)
    assert (backwards.returncode, backwards.stdout) == (2, "")
    assert f"{earlier}: REFUSED The daily job already ran for {later}" in backwards.stderr
    snapshot = billing("jobs", "snapshot-seats", "--date", earlier, cwd=tmp_path, DATABASE_URL=url)
    assert (snapshot.returncode, snapshot.stdout) == (2, "")


def test_token_command_mints_a_verifiable_customer_token(tmp_path: Path) -> None:
    from strawberry import relay

    for customer_id in ("42", relay.to_base64("Customer", 42)):
        result = billing("token", "--role", "customer", "--customer-id", customer_id, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        settings = load_settings(_env_file=None, jwt_secret=JWT_SECRET)
        principal = principal_from_token(settings, result.stdout.strip())
        assert (principal.role, principal.customer_id) == (Role.CUSTOMER, 42)
    refused = billing("token", "--role", "customer", cwd=tmp_path)
    assert refused.returncode == 2
    assert "--customer-id is required" in refused.stderr


def test_export_schema_prints_the_sdl(tmp_path: Path) -> None:
    result = billing("export-schema", "--output", "-", cwd=tmp_path)
    assert result.stdout == schema_sdl()
    assert result.stdout.startswith("schema {\n  query: Query\n  mutation: Mutation\n}\n")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"port": 0}, "BILLING_PORT: Input should be greater than or equal to 1"),
        ({"jwt_algorithms": ["HS256", "XX1"]}, "BILLING_JWT_ALGORITHMS: must list algorithms"),
        ({"jwt_algorithms": ["RS256"]}, "BILLING_JWT_PUBLIC_KEY (PEM) must be set"),
        ({"jwt_secret": "short"}, "BILLING_JWT_SECRET must be set (at least 32 characters)"),
        ({"database_url": "postgresql://u@h:5432"}, "DATABASE_URL: names no database"),
    ],
)
def test_settings_errors_name_the_variable(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(_env_file=None, **{"jwt_secret": JWT_SECRET, **overrides})
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_dev_env_writes_the_secret_and_key_owner_readable_only(tmp_path: Path) -> None:
    old = os.umask(0)  # the modes must not rely on the caller's umask
    try:
        made = billing("dev-env", cwd=tmp_path)
    finally:
        os.umask(old)
    assert made.returncode == 0, made.stderr
    env, keys = tmp_path / ".env", tmp_path / ".data" / "keys"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert stat.S_IMODE((keys / "dev.pem").stat().st_mode) == 0o600
    settings = load_settings(_env_file=env)
    assert len(settings.jwt_secret.get_secret_value()) >= 32  # type: ignore[union-attr]
    assert settings.license_signing_key == Path(".data/keys/dev.pem")

    written = env.read_text()
    env.chmod(0o644)  # as the Makefile used to leave it
    again = billing("dev-env", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "readable by its owner only" in again.stdout
    assert (env.read_text(), stat.S_IMODE(env.stat().st_mode)) == (written, 0o600)
