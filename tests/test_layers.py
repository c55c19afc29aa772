"""The import direction api -> schema -> resolvers -> db -> billing, checked by import-linter."""

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


def test_resolvers_import_strawberry_only_for_the_dataloader() -> None:
    offenders = []
    for path in (ROOT / "resolvers").glob("*.py"):
        for line in path.read_text().splitlines():
            if line.startswith(("import strawberry", "from strawberry")) and (
                line != "from strawberry.dataloader import DataLoader"
            ):
                offenders.append(f"{path.name}: {line}")
    assert offenders == []
