"""The import direction api -> schema -> resolvers -> db -> billing, checked by import-linter."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def test_resolvers_import_strawberry_only_for_the_dataloader() -> None:
    offenders = [
        f"{path.name}: {name}"
        for path in (ROOT / "resolvers").glob("*.py")
        for name in _imports(path)
        if name.startswith("strawberry") and name != "strawberry.dataloader.DataLoader"
    ]
    assert offenders == []


def test_schema_reaches_data_only_through_resolver_functions() -> None:
    """Visibility is decided in resolvers/, so schema fields never use the loaders directly."""
    offenders = [
        f"{path.name}:{node.lineno}"
        for path in (ROOT / "schema").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr in {"loaders", "db", "sessionmaker"}
    ]
    assert offenders == []
