"""`billing report ...`: usage reports of self-managed instances, checked offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import JSON_OPTION, one_line_errors, print_json

app = typer.Typer(help="Usage reports of self-managed instances.")


@app.command()
@one_line_errors
def validate(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The usage report file (JSON) to check.")
    ],
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Check a usage report before carrying it across the air gap: the same checks as the
    upload (status 1 and the key at fault when it would be refused)."""
    from api.offline_tools import OfflineToolError, validate_report_file

    try:
        text = validate_report_file(file)
    except OfflineToolError as refused:
        if as_json:
            print_json({"valid": False, "reason": str(refused)})
        else:
            typer.echo(str(refused), err=True)
        raise typer.Exit(1) from None
    if as_json:
        print_json({"valid": True, "summary": text})
    else:
        typer.echo(text)
