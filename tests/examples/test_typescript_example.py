"""The TypeScript example (examples/typescript) works from the committed schema: graphql-codegen
generates its typed documents and `tsc --noEmit` accepts the code that uses them. Both run on a
copy in a temporary directory, so the generated files never land in the checkout (they are not
committed: a stale copy could not mislead anyone)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

NODE = shutil.which("node")
EXAMPLE = ROOT / "examples" / "typescript"
BIN = ROOT / "node_modules" / ".bin"


def run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """The example laid out as in the checkout (schema two levels up, node_modules above)."""
    if NODE is None:
        pytest.skip("node is not installed")
    assert (BIN / "graphql-codegen").exists(), "graphql-codegen is not installed: npm ci"
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    shutil.copy(ROOT / "schema.graphql", tmp_path / "schema.graphql")
    copy = tmp_path / "examples" / "typescript"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("gql"))
    return copy


def codegen_and_typecheck(example: Path) -> None:
    run([str(BIN / "graphql-codegen"), "--config", "codegen.ts", "--errors-only"], example)
    assert (example / "src" / "gql" / "graphql.ts").exists()
    run([str(BIN / "tsc"), "--noEmit", "-p", "tsconfig.json"], example)


def test_codegen_output_type_checks_with_the_example(example_copy: Path) -> None:
    codegen_and_typecheck(example_copy)
    generated = (example_copy / "src" / "gql" / "graphql.ts").read_text()
    # the scalars mapped (strictScalars refuses an unmapped one): Long, Date, DateTime
    assert "minorUnits: number" in generated
    assert "validFrom: string" in generated
    assert "lastJoinedAt: string" in generated
    assert ": any" not in generated


def test_a_field_the_schema_lacks_fails_codegen(example_copy: Path) -> None:
    queries = example_copy / "src" / "queries.ts"
    queries.write_text(queries.read_text().replace("excludesGuests", "excludesGhosts"))
    with pytest.raises(AssertionError, match="excludesGhosts"):
        codegen_and_typecheck(example_copy)


def test_code_misusing_a_typed_answer_fails_tsc(example_copy: Path) -> None:
    main = example_copy / "src" / "main.ts"
    main.write_text(main.read_text().replace("edge.node.username", "edge.node.email"))
    with pytest.raises(AssertionError, match="TS2339"):
        codegen_and_typecheck(example_copy)
