"""Tokens and scopes: who may read what, and how refusals look."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from db.tables import Customer, Namespace, Subscription
from tests.conftest import JWT_SECRET, GraphQL
from tests.helpers import answer, data, error_codes

pytestmark = pytest.mark.usefixtures("demo")

SUBSCRIPTION = "query($id: ID!) { subscription(id: $id) { id seats plan { code } } }"


async def _customer(session: AsyncSession, email: str) -> Customer:
    query = select(Customer).where(Customer.billing_email == email)
    return (await session.execute(query)).scalar_one()


async def _subscription_of(session: AsyncSession, customer: Customer) -> Subscription:
    query = select(Subscription).where(Subscription.customer_id == customer.id)
    return (await session.execute(query.order_by(Subscription.id))).scalars().first()  # type: ignore[return-value]


def gid(kind: str, value: int | None) -> str:
    return relay.to_base64(kind, value)


async def test_a_customer_reads_its_own_subscription(
    gql: GraphQL, session: AsyncSession, token: Callable[..., str]
) -> None:
    acme = await _customer(session, "billing@acme.example")
    subscription = await _subscription_of(session, acme)
    body = await gql(
        SUBSCRIPTION, {"id": gid("Subscription", subscription.id)}, token=token("customer", acme.id)
    )
    assert data(body)["subscription"] == {
        "id": gid("Subscription", subscription.id),
        "seats": 25,
        "plan": {"code": "premium"},
    }


async def test_a_customer_cannot_read_another_customers_subscription_nor_tell_it_exists(
    gql: GraphQL, session: AsyncSession, token: Callable[..., str]
) -> None:
    acme = await _customer(session, "billing@acme.example")
    globex = await _customer(session, "rechnung@globex.example")
    foreign = await _subscription_of(session, globex)
    acme_token = token("customer", acme.id)

    hidden = await gql(SUBSCRIPTION, {"id": gid("Subscription", foreign.id)}, token=acme_token)
    missing = await gql(SUBSCRIPTION, {"id": gid("Subscription", 999999)}, token=acme_token)

    assert hidden["data"] == {"subscription": None}
    assert error_codes(hidden) == ["NOT_FOUND"]
    hidden_id = gid("Subscription", foreign.id)
    assert hidden["errors"][0]["message"] == f"Subscription {hidden_id} not found."
    assert (
        missing["errors"][0]["message"] == f"Subscription {gid('Subscription', 999999)} not found."
    )
    node = await gql(
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": gid("Subscription", foreign.id)},
        token=acme_token,
    )
    assert answer(node) == {"data": {"node": None}}


async def test_a_customer_cannot_read_another_customer(
    gql: GraphQL, session: AsyncSession, token: Callable[..., str]
) -> None:
    acme = await _customer(session, "billing@acme.example")
    globex = await _customer(session, "rechnung@globex.example")
    query = "query($id: ID!) { customer(id: $id) { name } }"
    own = await gql(query, {"id": gid("Customer", acme.id)}, token=token("customer", acme.id))
    other = await gql(query, {"id": gid("Customer", globex.id)}, token=token("customer", acme.id))
    assert data(own)["customer"] == {"name": "Acme Corp"}
    assert error_codes(other) == ["NOT_FOUND"]


async def test_anonymous_callers_get_the_catalog_but_no_accounts(
    gql: GraphQL, session: AsyncSession
) -> None:
    acme = await _customer(session, "billing@acme.example")
    assert data(await gql("{ plans { code } }"))["plans"]
    for query, variables in [
        ("query($id: ID!) { customer(id: $id) { name } }", {"id": gid("Customer", acme.id)}),
        ("query($id: ID!) { customer(id: $id) { name } }", {"id": gid("Customer", 999999)}),
        ("{ customers { edges { node { name } } } }", {}),
        ('{ namespace(path: "acme") { path } }', {}),
    ]:
        body = await gql(query, variables)
        assert body["data"] is None or set(body["data"].values()) == {None}
        assert error_codes(body) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("admin", True), ("analyst", True), ("gitlab", False), ("customer", False)],
)
async def test_only_admins_and_analysts_list_customers(
    gql: GraphQL, token: Callable[..., str], role: str, allowed: bool
) -> None:
    body = await gql(
        "{ customers { edges { node { name } } } }",
        token=token(role, 1 if role == "customer" else None),
    )
    if allowed:
        assert [e["node"]["name"] for e in data(body)["customers"]["edges"]] == [
            "Acme Corp",
            "Globex GmbH",
            "Initech",
        ]
    else:
        assert error_codes(body) == ["FORBIDDEN"]


async def test_gitlab_reads_any_namespace_and_its_subscription_but_not_the_customer(
    gql: GraphQL, token: Callable[..., str]
) -> None:
    body = await gql(
        '{ namespace(path: "globex") { path subscription { seats plan { code } } } }',
        token=token("gitlab"),
    )
    assert data(body)["namespace"] == {
        "path": "globex",
        "subscription": {"seats": 50, "plan": {"code": "ultimate"}},
    }
    body = await gql('{ namespace(path: "globex") { customer { name } } }', token=token("gitlab"))
    assert answer(body) == {"data": {"namespace": {"customer": None}}}


async def test_a_customer_sees_only_its_own_namespaces(
    gql: GraphQL, session: AsyncSession, token: Callable[..., str]
) -> None:
    acme = await _customer(session, "billing@acme.example")
    own = await gql(
        '{ namespace(path: "acme") { name customer { name } } }', token=token("customer", acme.id)
    )
    other = await gql('{ namespace(path: "globex") { name } }', token=token("customer", acme.id))
    assert data(own)["namespace"] == {"name": "Acme", "customer": {"name": "Acme Corp"}}
    assert error_codes(other) == ["NOT_FOUND"]


async def _post(client: AsyncClient, authorization: str) -> Any:
    return await client.post(
        "/graphql", json={"query": "{ viewer { role } }"}, headers={"Authorization": authorization}
    )


def _claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "sub": "x",
        "role": "admin",
        "iss": "billing",
        "aud": "billing-api",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        **overrides,
    }


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (
            lambda: jwt.encode(_claims(exp=datetime.now(UTC) - timedelta(seconds=5)), JWT_SECRET),
            "token has expired",
        ),
        (
            lambda: jwt.encode(_claims(), "another-secret-that-is-also-long-enough-0123456"),
            "signature verification failed",
        ),
        (lambda: jwt.encode(_claims(), None, algorithm="none"), "algorithm 'none' is not accepted"),
        (lambda: jwt.encode(_claims(aud="someone-else"), JWT_SECRET), "Audience doesn't match"),
        (lambda: jwt.encode(_claims(iss="evil"), JWT_SECRET), "Invalid issuer"),
        (
            lambda: jwt.encode({k: v for k, v in _claims().items() if k != "exp"}, JWT_SECRET),
            'Token is missing the "exp" claim',
        ),
        (lambda: jwt.encode(_claims(role="superuser"), JWT_SECRET), "unknown role"),
        (
            lambda: jwt.encode(_claims(role="customer"), JWT_SECRET),
            "customer tokens need an integer customer_id claim",
        ),
        (lambda: "not.a.jwt", "Invalid header"),
        (lambda: jwt.encode(_claims(sub=""), JWT_SECRET), "the sub claim is empty"),
    ],
)
async def test_bad_tokens_are_refused_with_401_and_a_reason(
    client: AsyncClient, make_token: Any, reason: str
) -> None:
    response = await _post(client, f"Bearer {make_token()}")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert reason in error["message"]


async def test_non_bearer_authorization_is_refused(client: AsyncClient) -> None:
    response = await _post(client, "Basic dXNlcjpwYXNz")
    assert response.status_code == 401


async def test_viewer_tells_role_and_permissions(
    gql: GraphQL, session: AsyncSession, token: Callable[..., str]
) -> None:
    acme = await _customer(session, "billing@acme.example")
    query = "{ viewer { authenticated role subject permissions customer { name } } }"
    assert data(await gql(query))["viewer"] == {
        "authenticated": False,
        "role": None,
        "subject": None,
        "permissions": ["READ_CATALOG"],
        "customer": None,
    }
    assert data(await gql(query, token=token("customer", acme.id)))["viewer"] == {
        "authenticated": True,
        "role": "CUSTOMER",
        "subject": "test-customer",
        "permissions": ["MANAGE_OWN_SUBSCRIPTIONS", "READ_CATALOG", "READ_OWN_CUSTOMER"],
        "customer": {"name": "Acme Corp"},
    }
    analyst = data(await gql(query, token=token("analyst")))["viewer"]
    assert analyst["permissions"] == ["READ_ALL_CUSTOMERS", "READ_ALL_NAMESPACES", "READ_CATALOG"]


async def test_introspection_works_for_analysts(gql: GraphQL, token: Callable[..., str]) -> None:
    body = await gql("{ __schema { queryType { name } types { name } } }", token=token("analyst"))
    names = {t["name"] for t in data(body)["__schema"]["types"]}
    assert {"Customer", "Subscription", "Quote", "Money", "UserError"} <= names
    assert data(body)["__schema"]["queryType"] == {"name": "Query"}


async def test_nested_fields_hide_what_another_customer_paid(
    gql: GraphQL, session: AsyncSession, token: Callable[..., str]
) -> None:
    """Namespace `acme-labs` moves from Acme to Globex: Acme's old subscription stays Acme's,
    Globex's new one stays Globex's, whichever way the graph is walked."""
    acme = await _customer(session, "billing@acme.example")
    globex = await _customer(session, "rechnung@globex.example")
    labs = (
        await session.execute(select(Namespace).where(Namespace.path == "acme-labs"))
    ).scalar_one()
    old = (
        await session.execute(select(Subscription).where(Subscription.namespace_id == labs.id))
    ).scalar_one()
    old.status = "expired"
    labs.customer_id = globex.id
    new = Subscription(
        customer_id=globex.id,
        namespace_id=labs.id,
        plan_id=old.plan_id,
        price_id=old.price_id,
        seats=777,
        start_date=old.start_date,
        end_date=old.end_date,
        status="active",
        auto_renew=True,
        trial=False,
    )
    session.add(new)
    await session.commit()
    acme_token, globex_token = token("customer", acme.id), token("customer", globex.id)

    walk = """query($id: ID!) { subscription(id: $id) { seats
        namespace { path subscription { seats } customer { name } } customer { name } } }"""
    through_old = await gql(walk, {"id": gid("Subscription", old.id)}, token=acme_token)
    assert answer(through_old) == {
        "data": {"subscription": {"seats": 5, "namespace": None, "customer": {"name": "Acme Corp"}}}
    }

    through_new = await gql(walk, {"id": gid("Subscription", new.id)}, token=globex_token)
    assert through_new["data"]["subscription"]["namespace"] == {
        "path": "acme-labs",
        "subscription": {"seats": 777},
        "customer": {"name": "Globex GmbH"},
    }

    hidden = await gql(walk, {"id": gid("Subscription", new.id)}, token=acme_token)
    assert error_codes(hidden) == ["NOT_FOUND"]

    by_customer = await gql(
        "query($id: ID!) { customer(id: $id) { subscriptions { edges { node { seats"
        " namespace { path subscription { seats } } } } } } }",
        {"id": gid("Customer", acme.id)},
        token=acme_token,
    )
    seats = [e["node"] for e in data(by_customer)["customer"]["subscriptions"]["edges"]]
    assert {"seats": 5, "namespace": None} in seats
    assert all(
        e["namespace"] is None or e["namespace"]["subscription"] != {"seats": 777} for e in seats
    )


async def test_instances_and_their_subscriptions_stay_with_their_customer(
    gql: GraphQL, session: AsyncSession, token: Callable[..., str]
) -> None:
    initech = await _customer(session, "ap@initech.example")
    acme = await _customer(session, "billing@acme.example")
    sub = (
        await session.execute(select(Subscription).where(Subscription.customer_id == initech.id))
    ).scalar_one()
    walk = (
        "query($id: ID!) { subscription(id: $id) { instance { hostname subscription { seats } } } }"
    )
    own = await gql(walk, {"id": gid("Subscription", sub.id)}, token=token("customer", initech.id))
    assert data(own)["subscription"]["instance"] == {
        "hostname": "gitlab.initech.example",
        "subscription": {"seats": 120},
    }
    other = await gql(walk, {"id": gid("Subscription", sub.id)}, token=token("customer", acme.id))
    assert error_codes(other) == ["NOT_FOUND"]
    gitlab = await gql(walk, {"id": gid("Subscription", sub.id)}, token=token("gitlab"))
    assert error_codes(gitlab) == ["NOT_FOUND"]  # instance subscriptions are not seat data


@pytest.mark.parametrize(
    "raw",
    ["Price:abc", "Price:-1", "Customer:99999999999999999999", "Customer:1.5", "Nope:1", "garbage"],
)
async def test_malformed_global_ids_resolve_to_null_or_bad_input(
    gql: GraphQL, token: Callable[..., str], raw: str
) -> None:
    import base64

    encoded = base64.b64encode(raw.encode()).decode() if ":" in raw else raw
    body = await gql(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [encoded]}, token=token("admin")
    )
    assert "INTERNAL_SERVER_ERROR" not in error_codes(body)
    assert body.get("data") in (None, {"nodes": [None]})
    root = await gql(
        "query($id: ID!) { customer(id: $id) { name } }", {"id": encoded}, token=token("admin")
    )
    assert error_codes(root) == ["BAD_USER_INPUT"]
