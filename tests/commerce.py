"""GraphQL operations and helpers shared by the buying tests and the scenarios."""

from __future__ import annotations

from typing import Any

from strawberry import relay

INVOICE_PREVIEW_FIELDS = """
  number status currency issuedOn total { minorUnits } amountPaid { minorUnits }
  amountDue { minorUnits }
  lines { position kind description quantity unitPrice { minorUnits } amount { minorUnits }
          periodStart periodEnd fractionNumerator fractionDenominator }
"""
INVOICE_FIELDS = "id " + INVOICE_PREVIEW_FIELDS
SNAPSHOT_FIELDS = """
  seats startDate endDate status autoRenew trial cancelledOn quarterlyReconciliation
  quartersReconciled licenseType maxSeatsUsed seatsInUse seatsOwed seatsRemaining
  plan { code } price { unitAmount { minorUnits } billingPeriod } pendingPlan { code }
  renewal { seats price { unitAmount { minorUnits } billingPeriod } }
  addOns { quantity addOn { code } }
"""
SUBSCRIPTION_FIELDS = "id " + SNAPSHOT_FIELDS
RESULT = f"""
  __typename
  ... on SubscriptionChangeSuccess {{ replayed
        subscription {{ {SUBSCRIPTION_FIELDS} }} invoice {{ {INVOICE_FIELDS} }} }}
  ... on SubscriptionChangePreview {{ replayed
        subscription {{ {SNAPSHOT_FIELDS} }} invoice {{ {INVOICE_PREVIEW_FIELDS} }} }}
  ... on UserError {{ code field message }}
"""


def mutation(name: str, input_type: str) -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {RESULT} }} }}"


PURCHASE = mutation("subscriptionPurchase", "SubscriptionPurchaseInput")
ADD_SEATS = mutation("subscriptionAddSeats", "SubscriptionAddSeatsInput")
CHANGE_PLAN = mutation("subscriptionChangePlan", "SubscriptionChangePlanInput")
RENEW = mutation("subscriptionRenew", "SubscriptionRenewInput")
SET_AUTO_RENEW = mutation("subscriptionSetAutoRenew", "SubscriptionSetAutoRenewInput")
CANCEL = mutation("subscriptionCancel", "SubscriptionCancelInput")
ADD_ON_PURCHASE = mutation("addOnPurchase", "AddOnPurchaseInput")
INVOICE_RESULT = f"""
  __typename
  ... on InvoiceChangeSuccess {{ replayed payment {{ amount {{ minorUnits }} reference }}
                                invoice {{ {INVOICE_FIELDS} }} }}
  ... on InvoiceChangePreview {{ replayed payment {{ amount {{ minorUnits }} reference }}
                                invoice {{ {INVOICE_PREVIEW_FIELDS} }} }}
  ... on UserError {{ code field message }}
"""
PAY = f"mutation($input: InvoicePayInput!) {{ invoicePay(input: $input) {{ {INVOICE_RESULT} }} }}"
VOID = (
    f"mutation($input: InvoiceVoidInput!) {{ invoiceVoid(input: $input) {{ {INVOICE_RESULT} }} }}"
)
NAMESPACE_SUBSCRIPTION = f"""query($path: String!) {{ namespace(path: $path) {{
  subscription {{ {SUBSCRIPTION_FIELDS} }} }} }}"""


def gid(type_name: str, database_id: int) -> str:
    return relay.to_base64(type_name, database_id)


def result(body: dict[str, Any]) -> dict[str, Any]:
    """The one mutation result in a response."""
    assert "errors" not in body, body["errors"]
    [value] = body["data"].values()
    assert isinstance(value, dict)
    return value


def amounts(invoice: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(kind, quantity, amount in minor units) of every line: what scenarios write out."""
    return [
        (line["kind"], line["quantity"], line["amount"]["minorUnits"]) for line in invoice["lines"]
    ]
