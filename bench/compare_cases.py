"""The cases of bench/compare.py: the request each server gets, and how its answer becomes
a list of plain dicts so the three answers can be compared before timing.

PostGraphile's schema is generated from the tables, so its queries use aliases to take our
answer's shape; what still differs is normalised here, and only for enum-like fields:
PostGraphile returns `access_level` as the number and text columns as stored (lower case),
where this service returns enum names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from billing.seats import AccessLevel

Rows = list[dict[str, Any]]

SERVERS = ("ours", "postgraphile", "handwritten")


@dataclass(frozen=True)
class Case:
    name: str
    ours: str  # GraphQL for this service
    postgraphile: str  # the equivalent GraphQL for PostGraphile's amber schema
    rows: Callable[[str, dict[str, Any]], Rows]  # (server, answer's data) -> rows


def _enum(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _seat_rows(server: str, data: dict[str, Any]) -> Rows:
    rows = []
    for edge in data["namespace"]["billableMembers"]["edges"]:
        node = dict(edge["node"])
        node["state"] = _enum(node.pop("user")["state"])
        node["membershipType"] = _enum(node["membershipType"])
        if server == "postgraphile":
            node["highestRole"] = AccessLevel(node["highestRole"]).name
        rows.append(node)
    return rows


def _figure_rows(server: str, data: dict[str, Any]) -> Rows:
    return [dict(data["namespace"]["subscription"])]


def _plan_rows(server: str, data: dict[str, Any]) -> Rows:
    plans = data["plans"]
    return list(plans["nodes"] if server == "postgraphile" else plans)


def _money(value: Any) -> Any:
    return value["minorUnits"] if isinstance(value, dict) else int(value)


def _customer_rows(server: str, data: dict[str, Any]) -> Rows:
    """One row per customer, its subscriptions and invoices (with lines) nested as lists."""
    customers = data["allCustomers" if server == "postgraphile" else "customers"]["edges"]
    rows = []
    for edge in customers:
        node = dict(edge["node"])
        node["subscriptions"] = [
            {**e["node"], "status": _enum(e["node"]["status"])}
            for e in node["subscriptions"]["edges"]
        ]
        invoices = []
        for e in node["invoices"]["edges"]:
            invoice = dict(e["node"])
            invoice["status"] = _enum(invoice["status"])
            invoice["total"] = _money(invoice["total"])
            lines = invoice["lines"]
            invoice["lines"] = [
                {**line, "kind": _enum(line["kind"]), "amount": _money(line["amount"])}
                for line in (lines["nodes"] if isinstance(lines, dict) else lines)
            ]
            invoices.append(invoice)
        node["invoices"] = invoices
        rows.append(node)
    return rows


MEMBER_FIELDS = "username name lastActivityOn highestRole membershipType user { state }"
CASES = {
    case.name: case
    for case in [
        Case(
            "seat-page",
            '{ namespace(path: "big") { billableMembers(first: 100) '
            f"{{ edges {{ node {{ {MEMBER_FIELDS} }} }} }} }} }}",
            '{ namespace: namespaceByPath(path: "big") { billableMembers: '
            "billableMembersByNamespaceId(first: 100, orderBy: [JOINED_AT_DESC, USER_ID_DESC]) "
            "{ edges { node { username name lastActivityOn highestRole: accessLevel "
            "membershipType user: gitlabUserByUserId { state } } } } } }",
            _seat_rows,
        ),
        Case(
            "seat-figures",
            '{ namespace(path: "big") { subscription { seatsInUse maxSeatsUsed seatsOwed } } }',
            '{ namespace: namespaceByPath(path: "big") { subscription: currentSubscription '
            "{ seatsInUse maxSeatsUsed: peakSeats seatsOwed } } }",
            _figure_rows,
        ),
        Case(
            "plans",
            '{ plans(currency: "USD") { code name } }',
            "{ plans: allPlans(orderBy: POSITION_ASC) { nodes { code name } } }",
            _plan_rows,
        ),
        Case(
            "customers",
            "{ customers(first: 20) { edges { node { name billingEmail currency "
            "subscriptions { edges { node { seats status startDate endDate } } } "
            "invoices { edges { node { number status issuedOn total { minorUnits } "
            "lines { position kind description quantity amount { minorUnits } } } } } } } } }",
            "{ allCustomers(first: 20, orderBy: PRIMARY_KEY_ASC) { edges { node { name "
            "billingEmail currency subscriptions: billingSubscriptionsByCustomerId(first: 20, "
            "orderBy: PRIMARY_KEY_ASC) { edges { node { seats status startDate endDate } } } "
            "invoices: invoicesByCustomerId(first: 20, orderBy: PRIMARY_KEY_ASC) { edges { node "
            "{ number status issuedOn total lines: invoiceLinesByInvoiceId(orderBy: POSITION_ASC) "
            "{ nodes { position kind description quantity amount } } } } } } } } }",
            _customer_rows,
        ),
    ]
}

# 20 customers with a subscription, 5 invoices and 3 lines each, so the customer page has
# invoices to show (the generator's demo customers have none). Idempotent; bench data only.
CUSTOMER_DATA = """
DO $$ BEGIN
IF NOT EXISTS (SELECT 1 FROM customer WHERE name LIKE 'Bench customer %') THEN
  INSERT INTO customer (name, billing_email, currency)
  SELECT 'Bench customer ' || k, 'billing-' || k || '@bench.example', 'USD'
  FROM generate_series(1, 20) k;
  UPDATE namespace n SET customer_id = c.id FROM customer c
  WHERE c.name = 'Bench customer ' || substr(n.path, 4) AND n.path LIKE 'ns-%';
  INSERT INTO subscription (customer_id, namespace_id, plan_id, price_id, seats, start_date,
                            end_date, status, auto_renew, trial)
  SELECT n.customer_id, n.id, pr.plan_id, pr.id, 10, DATE '2026-01-01', DATE '2027-01-01',
         'active', true, false
  FROM namespace n JOIN customer c ON c.id = n.customer_id, price pr JOIN plan p ON p.id = pr.plan_id
  WHERE c.name LIKE 'Bench customer %' AND p.code = 'premium' AND pr.currency = 'USD'
    AND pr.billing_period = 'annual' AND pr.valid_from = DATE '2023-04-03';
  INSERT INTO invoice (number, year, sequence, customer_id, subscription_id, currency,
                       issued_on, status, total, amount_paid)
  SELECT 'BENCH-' || s.id || '-' || k, 2026, 900000 + s.id * 10 + k, s.customer_id, s.id,
         'USD', DATE '2026-01-01' + k, CASE WHEN k % 2 = 0 THEN 'paid' ELSE 'open' END,
         3 * 29000 * k, CASE WHEN k % 2 = 0 THEN 3 * 29000 * k ELSE 0 END
  FROM subscription s JOIN customer c ON c.id = s.customer_id
  CROSS JOIN generate_series(1, 5) k WHERE c.name LIKE 'Bench customer %';
  INSERT INTO invoice_line (invoice_id, position, kind, description, quantity, unit_amount,
                            amount, period_start, period_end, fraction_numerator,
                            fraction_denominator)
  SELECT i.id, j, 'seats', 'Bench seats ' || j, i.total / 29000 / 3, 29000, i.total / 3,
         DATE '2026-01-01', DATE '2027-01-01', 1, 1
  FROM invoice i CROSS JOIN generate_series(1, 3) j WHERE i.number LIKE 'BENCH-%';
  ANALYZE customer; ANALYZE subscription; ANALYZE invoice; ANALYZE invoice_line;
END IF;
END $$"""
