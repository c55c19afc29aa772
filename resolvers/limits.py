"""What one GraphQL document may ask for. The defaults are the service's; `BILLING_MAX_*`
settings (api.settings) override them, and docs/limits.md lists them all."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    depth: int = 12  # nested selections, fragments followed
    aliases: int = 30  # aliased fields in one document, fragments counted where they are used
    tokens: int = 5000  # lexical tokens in the document
    cost: int = 50_000  # the query cost analysis' budget (see schema.cost)
    list_items: int = 1000  # items in any one list of arguments or variables
    string_length: int = 100_000  # characters in any one string argument or variable
