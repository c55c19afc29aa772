"""CPU of plain fields through `schema.execute`, in process, no database: a page of 100 objects
with 10 plain fields each (strings, an int, a Long, a Date, a DateTime, an enum, a boolean, a
nested object of two), executed by graphql-core's ordinary executor and by
schema.compiled.CompiledExecutionContext. Prints the milliseconds per execution and the cost per
field (the execution less that of `{ __typename }`, over the 1,100 fields). Run: PYTHONPATH=. python bench/plain_fields.py [runs]"""

from __future__ import annotations

import asyncio
import datetime
import enum
import statistics
import sys
import time

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.compiled import CompiledExecutionContext
from schema.scalars import SCALAR_MAP, Long

ROWS = 100
QUERY = """{ page { username name publicEmail seats usage lastActivityOn joinedAt
  role isBot group { path name } } }"""
FIELDS_PER_ROW = 11  # the 9 fields above and the 2 of `group` (the object itself not counted)


@strawberry.enum
class Role(enum.Enum):
    GUEST = "guest"
    DEVELOPER = "developer"


@strawberry.type
class Group:
    path: str
    name: str


@strawberry.type
class Member:
    username: str
    name: str
    public_email: str | None
    seats: int
    usage: Long
    last_activity_on: datetime.date | None
    joined_at: datetime.datetime
    role: Role
    is_bot: bool
    group: Group


GROUP = Group(path="acme/platform", name="Platform")
MEMBERS = [
    Member(
        username=f"user{number}",
        name=f"User {number}",
        public_email=None if number % 3 else f"user{number}@example.com",
        seats=number,
        usage=Long(number * 1_000_000_000),
        last_activity_on=datetime.date(2026, 3, 1 + number % 28),
        joined_at=datetime.datetime(2025, 1, 1, 12, tzinfo=datetime.UTC),
        role=Role.DEVELOPER if number % 2 else Role.GUEST,
        is_bot=number % 10 == 0,
        group=GROUP,
    )
    for number in range(ROWS)
]


@strawberry.type
class Query:
    @strawberry.field
    def page(self) -> list[Member]:
        return MEMBERS


def schema_with(execution_context_class: type) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        execution_context_class=execution_context_class,
    )


async def per_execution(schema: strawberry.Schema, document: str, runs: int) -> float:
    """Median seconds of one execution of the document, over `runs`."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = await schema.execute(document)
        times.append(time.perf_counter() - start)
    assert result.errors is None, result.errors
    return statistics.median(times)


async def main(runs: int) -> None:
    schemas = {
        "graphql-core": schema_with(StrawberryGraphQLCoreExecutionContext),
        "compiled": schema_with(CompiledExecutionContext),
    }
    answers = [(await schema.execute(QUERY)).data for schema in schemas.values()]
    assert answers[0] == answers[1]
    # three interleaved rounds (other work on the machine shifts them alike); best median kept
    page: dict[str, float] = dict.fromkeys(schemas, float("inf"))
    fixed: dict[str, float] = dict.fromkeys(schemas, float("inf"))
    for _ in range(3):
        for name, schema in schemas.items():
            page[name] = min(page[name], await per_execution(schema, QUERY, runs))
            fixed[name] = min(fixed[name], await per_execution(schema, "{ __typename }", runs))
    fields = ROWS * FIELDS_PER_ROW
    print(f"{ROWS} objects x {FIELDS_PER_ROW} plain fields, best of 3 medians of {runs} runs")
    for name in schemas:
        print(
            f"{name:>12}: {page[name] * 1e3:5.2f} ms per execution"
            f" ({fixed[name] * 1e3:.2f} ms of it for {{ __typename }}),"
            f" {(page[name] - fixed[name]) / fields * 1e6:.2f} us per field"
        )
    ordinary, compiled = (page[name] - fixed[name] for name in schemas)
    print(f"{'per field':>12}: {ordinary / compiled:.1f}x less CPU")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
