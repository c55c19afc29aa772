"""The `billing` command. One module per group; the command bodies only parse, call one
function of the layers below and print (lines, or JSON with --json)."""

from __future__ import annotations

from importlib.metadata import version
from typing import Annotated

import typer

from api.cli import database, jobs, licenses, reports, server

app = typer.Typer(
    name="billing",
    help="Seat-based subscription billing: the GraphQL API, its database and its daily jobs.\n\n"
    "Configured by environment variables or a .env file: `billing settings` lists every "
    "one with its default and meaning.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)


def _version(shown: bool) -> None:
    if shown:
        typer.echo(f"billing {version('seat-billing')}")
        raise typer.Exit


@app.callback()
def root(
    _: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """The root options."""


app.command()(server.serve)
app.command("demo-data")(server.demo_data)
app.command("dev-env")(server.dev_env)
app.command("export-schema")(server.export_schema)
app.command()(server.token)
app.command("settings")(server.show_settings)
app.add_typer(database.app, name="db")
app.add_typer(jobs.app, name="jobs")
app.add_typer(licenses.app, name="license")
app.add_typer(licenses.keys_app, name="keys")
if reports.app.registered_commands:
    app.add_typer(reports.app, name="report")


def main() -> None:
    app()
