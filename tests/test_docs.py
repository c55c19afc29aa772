"""Every GraphQL example in the README and docs/ is valid against the schema."""

import re
from pathlib import Path

import pytest
from graphql import parse, validate

from schema.build import schema

ROOT = Path(__file__).parent.parent
EXAMPLES = [
    (path.relative_to(ROOT), index, block)
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for index, block in enumerate(
        re.findall(r"```graphql\n(.*?)```", path.read_text(), re.DOTALL), start=1
    )
]


def test_there_are_examples_to_check() -> None:
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize(("path", "index", "block"), EXAMPLES, ids=lambda v: str(v)[:30])
def test_example_is_valid(path: Path, index: int, block: str) -> None:
    errors = validate(schema._schema, parse(block))
    assert errors == [], f"{path} example {index}: {errors}"
