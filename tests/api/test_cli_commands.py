"""The typer CLI in process (typer's CliRunner): help, version, validation, --json, the daily
job's dry run, migrations, progress only on a terminal."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from click.testing import Result
from sqlalchemy.engine import make_url
from typer.core import TyperArgument, TyperOption
from typer.main import get_command
from typer.testing import CliRunner

from api.auth import principal_from_token
from api.cli import app
from api.settings import Settings, load_settings
from db.engine import head_revision, history
from tests.conftest import JWT_SECRET

runner = CliRunner()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run where no .env is, with only the settings a test gives."""
    import os

    for name in list(os.environ):
        if name.startswith("BILLING_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("BILLING_JWT_SECRET", JWT_SECRET)
    monkeypatch.chdir(tmp_path)
    # its handler would write to CliRunner's stream, closed after each call (the log format
    # of the command line is tested by running `billing` itself, in test_cli.py)
    monkeypatch.setattr("api.cli.common.configure_logging", lambda *_, **__: None)


def billing(*args: str, **env: str) -> Result:
    return runner.invoke(app, list(args), env=env or None)


def row_counts(url: str) -> dict[str, int]:
    async def count() -> dict[str, int]:
        connection = await asyncpg.connect(make_url(url).render_as_string(hide_password=False))
        try:
            tables = await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
            return {
                t["tablename"]: await connection.fetchval(f'SELECT count(*) FROM "{t[0]}"')
                for t in tables
            }
        finally:
            await connection.close()

    return asyncio.run(count())


@pytest.fixture
async def scratch(make_database: Callable[..., Awaitable[str]]) -> str:
    """A migrated database of its own (the CLI commits)."""
    return await make_database()


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    yield " ".join(path) or "billing", command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_every_command_and_option_has_help() -> None:
    missing = []
    for path, command in _commands(get_command(app)):
        if not (command.help or command.short_help):
            missing.append(path)
        for param in command.params:
            if isinstance(param, TyperOption | TyperArgument) and not param.help:
                missing.append(f"{path} {param.name}")
    assert missing == []


def test_the_help_names_the_commands_and_where_settings_are_listed() -> None:
    result = billing("--help")
    assert result.exit_code == 0
    for command in ("serve", "db", "jobs", "token", "license", "settings", "demo-data"):
        assert f"  {command} " in result.output
    assert "`billing settings` lists" in result.output
    serve = billing("serve", "--help").output
    for option in ("--host", "--port", "--workers N"):
        assert option in serve


def test_settings_lists_every_setting_with_default_and_meaning() -> None:
    result = billing("settings", "--json")
    assert result.exit_code == 0
    listed = {row["name"]: row for row in json.loads(result.stdout)}
    assert len(listed) == len(Settings.model_fields)
    assert listed["BILLING_POOL_SIZE"]["default"] == "20"
    assert listed["DATABASE_URL"]["default"] == "unset"
    assert all(row["meaning"] for row in listed.values())
    table = billing("settings").output
    assert "BILLING_GZIP_MIN_BYTES" in table
    assert "gzipped" in table


def test_version() -> None:
    from importlib.metadata import version

    result = billing("--version")
    assert (result.exit_code, result.output) == (0, f"billing {version('seat-billing')}\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("token", "--role", "admin", "--ttl-hours", "-1"), "'--ttl-hours'"),
        (("token", "--role", "admin", "--ttl-hours", "0"), "'--ttl-hours'"),
        (("token", "--role", "boss"), "'boss' is not one of"),
        (("token", "--role", "customer"), "--customer-id is required for, and only for"),
        (("token", "--role", "customer", "--customer-id", "acme"), "neither a number nor"),
        (("jobs", "run-daily", "--date", "2026-02-30"), "expected YYYY-MM-DD, like 2026-12-01"),
        (("jobs", "snapshot-seats", "--date", "tomorrow"), "expected YYYY-MM-DD"),
        (("license", "verify", "x.jwt", "--date", "1.12.2026"), "expected YYYY-MM-DD"),
        (("serve", "--port", "70000"), "'--port'"),
        (("serve", "--workers", "0"), "'--workers'"),
        (("db", "downgrade", "nope"), "'nope' is no revision; `billing db history` lists"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_status_2(
    args: tuple[str, ...], message: str
) -> None:
    result = billing(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "fromisoformat" not in result.output
    assert "Traceback" not in result.output


def test_token_json_is_a_token_that_verifies() -> None:
    result = billing("token", "--role", "customer", "--customer-id", "3", "--json")
    assert result.exit_code == 0, result.output
    minted = json.loads(result.stdout)
    claims = (minted["role"], minted["customerId"], minted["subject"])
    assert claims == ("customer", 3, "dev-customer")
    principal = principal_from_token(load_settings(), minted["token"])
    assert principal.customer_id == 3
    expires = datetime.fromisoformat(minted["expiresAt"])
    assert timedelta(hours=11) < expires - datetime.now(UTC) <= timedelta(hours=12)


def test_db_current_history_and_downgrade_on_a_scratch_database(scratch: str) -> None:
    head = head_revision()
    current = billing("db", "current", "--json", DATABASE_URL=scratch)
    assert current.exit_code == 0, current.output
    assert json.loads(current.stdout) == {"revision": head, "head": head, "isHead": True}

    listed = json.loads(billing("db", "history", "--json").stdout)
    assert listed[0]["revision"] == head
    assert [row["revision"] for row in listed] == [row[0] for row in history()]
    assert listed[-1]["downRevision"] is None
    previous = listed[0]["downRevision"]

    down = billing("db", "downgrade", previous, DATABASE_URL=scratch)
    assert (down.exit_code, down.output) == (0, f"database downgraded to {previous}\n")
    behind = billing("db", "current", DATABASE_URL=scratch)
    assert behind.output == f"{previous} (behind: head is {head})\n"
    assert billing("db", "upgrade", DATABASE_URL=scratch).exit_code == 0
    assert billing("db", "current", DATABASE_URL=scratch).output == f"{head} (head)\n"


def test_run_daily_dry_run_says_what_the_run_does_and_writes_nothing(scratch: str) -> None:
    """The demo bought its subscriptions today; 550 days on every term has ended."""
    assert billing("demo-data", DATABASE_URL=scratch).exit_code == 0
    later = (datetime.now(UTC).date() + timedelta(days=550)).isoformat()
    before = row_counts(scratch)

    dry = billing("jobs", "run-daily", "--date", later, "--dry-run", "--json", DATABASE_URL=scratch)

    assert dry.exit_code == 1  # no signing key: the instance cannot be licensed
    planned = json.loads(dry.stdout)
    assert planned["dryRun"] is True
    assert row_counts(scratch) == before
    assert any(line.startswith("Acme Corp / acme: ") for line in planned["done"])
    assert any(line.startswith("Initech / instance ") for line in planned["failed"]) or any(
        "no signing key" in line for line in planned["failed"]
    )

    real = billing("jobs", "run-daily", "--date", later, "--json", DATABASE_URL=scratch)
    assert real.exit_code == 1
    done = json.loads(real.stdout)
    assert (done["done"], done["failed"]) == (planned["done"], planned["failed"])
    assert row_counts(scratch) != before


def test_run_daily_lines_name_customer_and_namespace(scratch: str) -> None:
    assert billing("demo-data", DATABASE_URL=scratch).exit_code == 0
    later = (datetime.now(UTC).date() + timedelta(days=550)).isoformat()
    result = billing("jobs", "run-daily", "--date", later, "--dry-run", DATABASE_URL=scratch)
    lines = result.stdout.splitlines()
    assert f"{later}: would have: Acme Corp / acme: subscription " in "\n".join(lines)
    assert all(line.startswith(f"{later}: would have: ") for line in lines)


def test_progress_bars_only_on_a_terminal(scratch: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.cli import common
    from resolvers.jobs import NO_STEPS

    with common.progress() as steps:  # CliRunner's and pytest's stdout are no terminal
        assert steps is NO_STEPS
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    with common.progress() as steps:
        assert steps is not NO_STEPS
    with common.progress(quiet=True) as steps:  # --json
        assert steps is NO_STEPS

    result = billing("jobs", "snapshot-seats", "--date", "2026-03-15", DATABASE_URL=scratch)
    assert result.output == "2026-03-15: recounted 0 namespaces, wrote 0 snapshots\n"
