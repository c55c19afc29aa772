"""A root lookup that finds nothing answers null and one NOT_FOUND error at its own path; the
other root fields of the request still answer."""

from collections.abc import Callable

import pytest
from strawberry import relay

from tests.conftest import GraphQL

MISSING_AND_PRESENT = """query($missing: ID!) {
  plans { code }
  namespace(path: "no-such-group") { path }
  customer(id: $missing) { name }
  present: namespace(path: "acme") { path }
}"""


@pytest.mark.usefixtures("demo")
async def test_a_missing_lookup_nulls_only_itself(gql: GraphQL, token: Callable[..., str]) -> None:
    body = await gql(
        MISSING_AND_PRESENT, {"missing": relay.to_base64("Customer", 999)}, token=token("admin")
    )
    assert body["data"]["plans"]
    assert body["data"]["present"] == {"path": "acme"}
    assert body["data"]["namespace"] is None
    assert body["data"]["customer"] is None
    errors = [(e["path"], e["extensions"]["code"]) for e in body["errors"]]
    # in the order of the document, whichever lookup failed first
    assert errors == [(["namespace"], "NOT_FOUND"), (["customer"], "NOT_FOUND")]
    swapped = MISSING_AND_PRESENT.replace("customer(id:", "first: customer(id:", 1).replace(
        "  plans { code }", "  swapped: customer(id: $missing) { name }\n  plans { code }", 1
    )
    body = await gql(swapped, {"missing": relay.to_base64("Customer", 999)}, token=token("admin"))
    paths = [e["path"] for e in body["errors"]]
    assert paths == [["swapped"], ["namespace"], ["first"]]


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("field", ["subscription", "invoice", "instance", "customer"])
async def test_each_root_lookup_by_id_is_nullable(
    gql: GraphQL, token: Callable[..., str], field: str
) -> None:
    kind = field.capitalize()
    query = f"query($id: ID!) {{ plans {{ code }} {field}(id: $id) {{ id }} }}"
    body = await gql(query, {"id": relay.to_base64(kind, 999)}, token=token("admin"))
    assert body["data"][field] is None
    assert body["data"]["plans"]
    [error] = body["errors"]
    assert (error["path"], error["extensions"]["code"]) == ([field], "NOT_FOUND")


@pytest.mark.usefixtures("demo")
async def test_a_missing_license_file_nulls_only_itself(
    gql: GraphQL, token: Callable[..., str]
) -> None:
    query = "query($id: ID!) { plans { code } licenseFile(subscriptionId: $id) { filename } }"
    body = await gql(query, {"id": relay.to_base64("Subscription", 999)}, token=token("admin"))
    assert body["data"]["licenseFile"] is None
    assert body["data"]["plans"]
    [error] = body["errors"]
    assert (error["path"], error["extensions"]["code"]) == (["licenseFile"], "NOT_FOUND")
