"""`billing report ...`: usage reports of self-managed instances, checked offline.

Commands go on `app` with `@app.command()`; the group appears in `billing --help` as soon as
it has one (an empty group would only print an error)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Usage reports of self-managed instances.")
