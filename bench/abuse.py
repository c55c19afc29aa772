"""Abuse benchmark (issue 9): each abuse class sent to `billing serve` (one worker, the demo
data, its own database on DATABASE_URL's server), printing the time it takes to be refused
(median of a few tries), the HTTP status and the error code, and the slowest `/healthz`
answer while it ran. Goal: every refusal under 50 ms, and /healthz under 50 ms meanwhile.

    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/abuse.py          # about two minutes; loopback only, stops by itself

Every request has a 10 s timeout. When a class leaves the service unable to answer /readyz
within 2 s (a leaked pool, a validation that never ends), the server is killed and started
again before the next class, and the row says so.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from harness import connect, fresh_demo_database
from sqlalchemy.engine import make_url

from api.auth import mint_token
from api.licenses import generate_keys
from api.settings import load_settings
from resolvers.principal import Role

PORT = int(os.environ.get("ABUSE_PORT", "8766"))
BASE = f"http://127.0.0.1:{PORT}"
URL = f"{BASE}/graphql"
DATABASE = "billing_bench_abuse"
TIMEOUT = 10.0  # per request: the script never hangs
GOAL_MS = 50.0
DATABASE_URL = ""  # the benchmark's database, set in main()
VICTIM = "8f14e45f-ceea-467f-a9e5-0d1c2b3a4f50"  # the demo's instance
# where the attacker and the real instance call from (documentation addresses, RFC 5737)
ATTACKER_ADDRESS = "203.0.113.66"
VICTIM_ADDRESS = "198.51.100.7"

Attempt = Callable[[httpx.AsyncClient], Awaitable["Outcome"]]


@dataclass
class Outcome:
    ms: float
    status: str  # HTTP status, or "timeout" / the transport error
    code: str  # the error code, "-" when the request was not refused


# -- the server ------------------------------------------------------------------------------


class Server:
    """`billing serve` on PORT; killed (not asked) when it must go: a blocked loop never runs
    the SIGTERM handler."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log, self.process = env, log, None
        self.restarts = 0

    async def start(self) -> None:
        billing = os.path.join(os.path.dirname(sys.executable), "billing")
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [billing, "serve", "--host", "127.0.0.1", "--port", str(PORT)],
                env=self.env,
                stdout=log,
                stderr=log,
            )
        async with httpx.AsyncClient(timeout=2) as client:
            for _ in range(150):
                try:
                    if (await client.get(f"{BASE}/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise SystemExit(f"the server did not start; see {self.log}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(3)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            self.process = None

    async def healthy(self) -> bool:
        """Whether /readyz (which uses the database pool) answers within 2 s, waiting up to
        10 s for work left running by the last class to end."""
        async with httpx.AsyncClient(timeout=2) as client:
            for _ in range(5):
                try:
                    if (await client.get(f"{BASE}/readyz")).status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
        return False

    async def restart(self) -> None:
        self.stop()
        self.restarts += 1
        await self.start()


# -- requests --------------------------------------------------------------------------------


def _code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"(not JSON: {response.text[:30]!r})"
    if not isinstance(body, dict):
        return "(JSON, not an object)"
    errors = body.get("errors") or []
    if errors:
        return str((errors[0].get("extensions") or {}).get("code", "(no code)"))
    found = _typed_error(body.get("data"))
    return found or "-"


def _typed_error(value: Any) -> str | None:
    """The code of the first typed error (a `... on UserError { code }` in data)."""
    if isinstance(value, dict):
        if str(value.get("__typename", "")).endswith("Error") and "code" in value:
            return str(value["code"])
        values = list(value.values())
    elif isinstance(value, list):
        values = value
    else:
        return None
    for item in values:
        found = _typed_error(item)
        if found:
            return found
    return None


async def post(
    client: httpx.AsyncClient,
    payload: Any = None,
    *,
    token: str | None = None,
    content: bytes | None = None,
    check: Callable[[httpx.Response], str] = _code,
    client_address: str | None = None,
) -> Outcome:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if client_address:  # the server trusts its loopback proxy: this is who is calling
        headers["X-Forwarded-For"] = client_address
    body = content if content is not None else json.dumps(payload).encode()
    started = time.perf_counter()
    try:
        response = await client.post(URL, content=body, headers=headers, timeout=TIMEOUT)
    except httpx.TimeoutException:
        return Outcome((time.perf_counter() - started) * 1000, "timeout", "-")
    except httpx.TransportError as error:
        return Outcome((time.perf_counter() - started) * 1000, type(error).__name__, "-")
    return Outcome(
        (time.perf_counter() - started) * 1000, str(response.status_code), check(response)
    )


def fresh(query: str) -> dict[str, str]:
    """The query under a new operation name: the parser and validation caches never saw it
    (an attacker varies the document too)."""
    return {"query": f"query T{secrets.token_hex(4)} {query}"}


def gid(kind: str, number: int) -> str:
    return base64.b64encode(f"{kind}:{number}".encode()).decode()


def fragments(levels: int) -> str:
    """F0 spreads F1 twice, ... down to F<levels>: the exponential validation shape."""
    chain = " ".join(
        f"fragment F{i} on Plan {{ code ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    )
    return f"{{ plans {{ ...F0 }} }} {chain} fragment F{levels} on Plan {{ code }}"


def costly(subscription: str) -> str:
    """Within depth, alias and token limits: 100 invoices, each with 10 aliased copies of
    its subscription's 100 invoices and their lines."""
    inner = " ".join(
        f"a{i}: invoices(first: 100) {{ edges {{ node {{ number total {{ minorUnits }} "
        f"lines {{ description quantity amount {{ minorUnits }} }} }} }} }}"
        for i in range(10)
    )
    return (
        f'{{ subscription(id: "{subscription}") {{ invoices(first: 100) {{ edges {{ node {{ '
        f"number subscription {{ {inner} }} }} }} }} }} }}"
    )


ACTIVATE = """mutation($input: LicenseActivateInput!) { licenseActivate(input: $input) {
  __typename ... on UserError { code } ... on LicenseActivateSuccess { license { kid } } } }"""
QUOTE = """query($input: QuoteInput!) { quote(input: $input) {
  __typename ... on UserError { code } ... on Quote { total { minorUnits } } } }"""
PAY = """mutation($input: InvoicePayInput!) { invoicePay(input: $input) {
  __typename ... on UserError { code } ... on InvoiceChangeSuccess { payment { amount { minorUnits } } } } }"""


def activation(code: str, instance: str) -> dict[str, Any]:
    return {
        "query": ACTIVATE,
        "variables": {
            "input": {
                "activationCode": code,
                "instanceId": instance,
                "hostname": "gitlab.example",
                "version": "17.0",
            }
        },
    }


def wrong_code() -> str:
    return "-".join(secrets.token_hex(2).upper() for _ in range(5))


# -- the run ---------------------------------------------------------------------------------


async def probe_health(stop: asyncio.Event) -> float:
    """The slowest /healthz answer (ms) until `stop`; a probe that gets no answer counts as
    its time until the timeout."""
    slowest = 0.0
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        while not stop.is_set():
            started = time.perf_counter()
            with contextlib.suppress(httpx.TransportError):
                await client.get(f"{BASE}/healthz")
            slowest = max(slowest, (time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.02)
    return slowest


def row(
    name: str, outcomes: list[Outcome], health_ms: float, after: str, *, may_run: bool = False
) -> None:
    median = statistics.median(outcome.ms for outcome in outcomes)
    statuses = Counter(outcome.status for outcome in outcomes)
    codes = Counter(outcome.code for outcome in outcomes)
    status = ", ".join(f"{s} x{n}" if len(statuses) > 1 else s for s, n in statuses.items())
    code = ", ".join(f"{c} x{n}" if len(codes) > 1 else c for c, n in codes.most_common(3))
    # refused: an answer below 500 with an error code, not an internal error
    refused = all(
        outcome.status.isdigit() and int(outcome.status) < 500
        and not outcome.code.startswith(("(", "INTERNAL_SERVER_ERROR"))
        and (may_run or not outcome.code.startswith("-"))
        for outcome in outcomes
    )  # fmt: skip
    met = "yes" if median < GOAL_MS and health_ms < GOAL_MS and refused else "no"
    print(
        f"| {name} | {len(outcomes)} | {median:.1f} | {status} | {code} | "
        f"{health_ms:.1f} | {met} | {after} |",
        flush=True,
    )


async def run_class(
    server: Server,
    name: str,
    attempt: Attempt,
    tries: int = 5,
    *,
    concurrent: int = 1,
    note: Callable[[httpx.AsyncClient], Awaitable[str]] | None = None,
    may_run: bool = False,
) -> None:
    """`tries` rounds of `concurrent` attempts each, with the /healthz prober running."""
    stop = asyncio.Event()
    prober = asyncio.create_task(probe_health(stop))
    outcomes: list[Outcome] = []
    limits = httpx.Limits(max_connections=max(concurrent, 10))
    async with httpx.AsyncClient(timeout=TIMEOUT, limits=limits) as client:
        for _ in range(tries):
            outcomes += await asyncio.gather(*(attempt(client) for _ in range(concurrent)))
        after = await note(client) if note else ""
    stop.set()
    health_ms = await prober
    if not await server.healthy():
        await server.restart()
        after = f"{after}; " if after else ""
        after += "service down after it (no /readyz in 2 s): restarted"
    row(name, outcomes, health_ms, after or "ok", may_run=may_run)


async def ids(database_url: str) -> dict[str, int]:
    connection = await connect(database_url)
    try:
        row_ = await connection.fetchrow(
            """SELECT (SELECT id FROM customer WHERE billing_email = 'billing@acme.example') AS acme,
                      (SELECT s.id FROM subscription s JOIN namespace n ON n.id = s.namespace_id
                       WHERE n.path = 'acme') AS acme_subscription,
                      (SELECT s.id FROM subscription s JOIN instance i ON i.id = s.instance_id
                       WHERE i.instance_uid = $1) AS instance_subscription""",
            VICTIM,
        )
        return dict(row_)
    finally:
        await connection.close()


async def main() -> None:
    server_url = make_url(os.environ["DATABASE_URL"])
    database_url = server_url.set(database=DATABASE).render_as_string(hide_password=False)
    global DATABASE_URL
    DATABASE_URL = database_url
    secret = secrets.token_urlsafe(48)
    keys = Path(tempfile.mkdtemp(prefix="abuse-keys-"))
    private, _ = generate_keys(keys, "bench")
    now = datetime.now(UTC)
    await fresh_demo_database(database_url, now.date())
    known = await ids(database_url)
    settings = load_settings(_env_file=None, jwt_secret=secret)

    def mint(role: Role, customer: int | None = None) -> str:
        return mint_token(
            settings, role=role, subject="abuse", customer_id=customer, now=now,
            ttl=timedelta(hours=2),
        )  # fmt: skip

    admin, customer = mint(Role.ADMIN), mint(Role.CUSTOMER, known["acme"])
    acme_subscription = gid("Subscription", known["acme_subscription"])
    log = Path(tempfile.mkdtemp(prefix="abuse-")) / "server.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BILLING_JWT_SECRET": secret,
        "BILLING_LICENSE_SIGNING_KEY": str(private),
        "BILLING_LOG_LEVEL": "WARNING",
        "BILLING_GRAPHIQL": "false",
    }
    server = Server(env, log)
    await server.start()
    try:
        await seed_invoices(admin, acme_subscription)
        await classes(server, admin, customer, acme_subscription, known)
    finally:
        server.stop()
    print(f"\nserver restarts: {server.restarts}; its log: {log}")


async def seed_invoices(admin: str, subscription: str) -> None:
    """100 invoices on acme's subscription (one seat each), for the costly query."""
    add = """mutation($input: SubscriptionAddSeatsInput!) { subscriptionAddSeats(input: $input)
      { __typename } }"""
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        for i in range(100):
            variables = {"input": {"subscriptionId": subscription, "seats": 1,
                                   "idempotencyKey": f"abuse-{i}"}}  # fmt: skip
            await post(client, {"query": add, "variables": variables}, token=admin)


async def victim_activates(admin: str, instance_subscription: str) -> Callable[[Any], Any]:
    """A note: whether the real instance, with a fresh valid code, still activates."""

    async def note(client: httpx.AsyncClient) -> str:
        create = """mutation($id: ID!) { licenseActivationCodeCreate(input: {subscriptionId: $id})
          { __typename ... on LicenseActivationCode { activationCode } ... on UserError { code } } }"""
        response = await client.post(
            URL,
            json={"query": create, "variables": {"id": instance_subscription}},
            headers={"Authorization": f"Bearer {admin}"},
            timeout=TIMEOUT,
        )
        made = (response.json().get("data") or {}).get("licenseActivationCodeCreate") or {}
        if "activationCode" not in made:
            return f"no code for the victim: {made or response.text[:80]}"
        outcome = await post(
            client, activation(made["activationCode"], VICTIM), client_address=VICTIM_ADDRESS
        )
        verdict = "activated" if outcome.code == "-" else f"REFUSED ({outcome.code})"
        return f"then the real instance with a valid code: {verdict}"

    return note


async def classes(
    server: Server, admin: str, customer: str, acme_subscription: str, known: dict[str, int]
) -> None:
    instance_subscription = gid("Subscription", known["instance_subscription"])
    print(__doc__.split("\n\n")[0].replace("\n", " ") + "\n")
    print(
        "| abuse class | requests | median ms to refuse | HTTP | code | /healthz max ms "
        "| goal met | service after |\n| --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    leak = '{ nodes(ids: ["Q3VzdG9tZXI6Mw==", "TGljZW5zZTox"]) { id } }'
    await run_class(
        server, "nodes leak shape, 200 concurrent", lambda c: post(c, {"query": leak}),
        tries=1, concurrent=200,
    )  # fmt: skip
    for levels, tries in ((20, 3), (30, 1)):
        # spreads of one fragment merge as they execute: measured once each, the document is
        # small and runs (goal met when it answers within 50 ms)
        query = fragments(levels)
        await run_class(
            server, f"fragments F0..F{levels} ({len(query)} bytes)",
            lambda c, q=query: post(c, fresh(q)), tries=tries, may_run=True,
        )  # fmt: skip
    query = costly(acme_subscription)
    await run_class(
        server, f"nested invoices(first: 100), customer ({len(query)} bytes)",
        lambda c: post(c, fresh(query), token=customer), tries=3,
    )  # fmt: skip
    copies = "{ " + "plans { code } " * 400 + "}"
    await run_class(server, "400 copies of one field", lambda c: post(c, fresh(copies)))
    await forget_activation_attempts()
    await run_class(
        server, "5 wrong activation codes, the victim's instance id",
        lambda c: post(c, activation(wrong_code(), VICTIM), client_address=ATTACKER_ADDRESS),
        note=await victim_activates(admin, instance_subscription),
    )  # fmt: skip
    await forget_activation_attempts()
    await run_class(
        server, "200 wrong activation codes, random instance ids",
        lambda c: post(c, activation(wrong_code(), str(uuid.uuid4())),
                       client_address=ATTACKER_ADDRESS),
        tries=20, concurrent=10, note=await victim_activates(admin, instance_subscription),
    )  # fmt: skip
    await run_class(
        server, "a customer reads another tenant's user", lambda c: other_user(c, customer)
    )
    many = [gid("Customer", i) for i in range(40_000)]
    await run_class(
        server, "40,000 ids in nodes (> 32,767)",
        lambda c: post(c, {"query": "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                           "variables": {"ids": many}}, token=admin), tries=3,
    )  # fmt: skip
    quote = {"plan": "premium", "seats": 5, "currency": "USD"}
    await run_class(
        server, "NUL byte in a string (quote plan)",
        lambda c: post(c, {"query": QUOTE, "variables": {"input": {**quote, "plan": "pre\x00mium"}}}),
    )  # fmt: skip
    await run_class(
        server, "year 9999 (quote startDate 9999-12-31)",
        lambda c: post(c, {"query": QUOTE, "variables": {"input": {**quote, "startDate": "9999-12-31"}}}),
    )  # fmt: skip
    pay = {"invoiceId": gid("Invoice", 1), "preview": True, "reference": "abuse",
           "amount": {"minorUnits": 1.9, "currency": "USD"}}  # fmt: skip
    await run_class(
        server, "1.9 for a Long (invoicePay preview)",
        lambda c: post(c, {"query": PAY, "variables": {"input": pay}}, token=admin),
    )  # fmt: skip
    malformed = {
        "non-UTF-8 body": b'{"query": "{ plans { code } }\xff\xfe"}',
        "body `null`": b"null",
        "body `42`": b"42",
        "JSON nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
    }
    for label, content in malformed.items():
        await run_class(server, f"malformed: {label}", lambda c, b=content: post(c, content=b))
    big = json.dumps({"query": "{ plans { code } }", "variables": {"x": "a" * 50_000_000}})
    await run_class(server, "50 MB body", lambda c: post(c, content=big.encode()), tries=3)
    two = "query A { plans { code } } query B { plans { name } }"
    await run_class(server, "two operations, no operationName", lambda c: post(c, {"query": two}))
    await forget_activation_attempts()
    await run_class(
        server, "300 licenseActivate from one client (10 at a time)",
        lambda c: post(c, activation(wrong_code(), str(uuid.uuid4()))), tries=30, concurrent=10,
    )  # fmt: skip


async def forget_activation_attempts() -> None:
    """Each activation class starts with no wrong codes counted (the last one's lockouts
    would hide what this one does)."""
    connection = await connect(DATABASE_URL)
    try:
        await connection.execute("DELETE FROM activation_attempt")
    except asyncpg.UndefinedTableError:
        pass  # counted elsewhere now
    finally:
        await connection.close()


async def other_user(client: httpx.AsyncClient, customer: str) -> Outcome:
    """acme's token asks its own namespace for `ada`, a member of globex only: refused means
    no user comes back."""
    query = '{ namespace(path: "acme") { member(username: "ada") { user { name state lastSignInAt } } } }'

    def check(response: httpx.Response) -> str:
        code = _code(response)
        member = ((response.json().get("data") or {}).get("namespace") or {}).get("member")
        if member is not None:
            return f"- (LEAKED: {member['user']['name']})"
        return "null, as for an unknown user" if code == "-" else code

    return await post(client, {"query": query}, token=customer, check=check)


if __name__ == "__main__":
    asyncio.run(main())
