"""Error messages name what the caller sent or knows (global ids, invoice numbers, paths,
usernames), never a database id or Python's own text."""

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from strawberry import relay

from resolvers.errors import global_id
from tests.conftest import GraphQL

# Python's wording: built-in exception text, reprs of Python values, tracebacks
PYTHON_TEXT = re.compile(
    r"invalid literal|base 10|Traceback|Error\b|isoformat|object has no|NoneType|unexpected"
    r" keyword|\bint\(\)|\bdatetime\.|Expecting value|line \d+ column \d+|char \d+|month must"
    r"|day is out of range|Invalid isoformat"
)

HISTORY = """query($d: Date!) { namespace(path: "acme") {
  seatUsageHistory(from: $d, to: $d) { seats } } }"""
BAD = [
    ("query { invoice(id: \"SW52b2ljZTo5OTk=\") { id } }", {}, "SW52b2ljZTo5OTk="),
    ("query($id: ID!) { invoice(id: $id) { id } }", {"id": "garbage"}, "garbage"),
    ("query($id: ID!) { customer(id: $id) { id } }", {"id": relay.to_base64("Customer", 999)},
     relay.to_base64("Customer", 999)),
    ("query($id: ID!) { subscription(id: $id) { id } }",
     {"id": relay.to_base64("Subscription", "x1")}, None),
    ("query { namespace(path: \"nowhere\") { path } }", {}, "nowhere"),
    (HISTORY, {"d": "2026-13-01"}, None),
    (HISTORY, {"d": "yesterday"}, None),
    ("query { customers(after: \"Q3VzdG9tZXI6YWJj\") { totalCount } }", {}, None),
]  # fmt: skip


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(("query", "variables", "named"), BAD)
async def test_messages_name_what_the_caller_knows(
    gql: GraphQL, token: Callable[..., str], query: str, variables: dict[str, Any], named: Any
) -> None:
    body = await gql(query, variables, token=token("admin"))
    messages = [e["message"] for e in body.get("errors", [])]
    assert messages
    for message in messages:
        assert not PYTHON_TEXT.search(message), message
        assert "999" not in message, message  # the database id of the missing rows
        if named:
            assert named in message, message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"query": ', "The request body is not valid JSON (line 1, column 11)."),
        (b'{"query": "{ plans { code } }", "variables": {"n": 1' + b"1" * 5000 + b"}}",
         "The request body is not valid JSON: a number is too long."),
        (b'{"query": NaN}', "The request body is not valid JSON: NaN is not JSON."),
    ],
)  # fmt: skip
async def test_a_body_that_is_not_json_is_named_without_python_text(
    client: httpx.AsyncClient, body: bytes, message: str
) -> None:
    answer = await client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert [e["message"] for e in answer.json()["errors"]] == [message]


def test_global_ids_in_messages_are_the_ones_clients_see() -> None:
    assert global_id("Invoice", 999) == relay.to_base64("Invoice", 999)
