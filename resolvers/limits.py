"""What one GraphQL document may ask for. The defaults are the service's; `BILLING_MAX_*`
settings (api.settings) override them, and docs/limits.md lists them all."""

from __future__ import annotations

from dataclasses import dataclass

from resolvers.errors import BadUserInput


@dataclass(frozen=True)
class Limits:
    depth: int = 12  # nested selections, fragments followed
    aliases: int = 30  # aliased fields in one document, fragments counted where they are used
    field_repeats: int = 30  # times one response name occurs in one selection, fragments merged
    fields: int = 5000  # fields one document reaches once its fragments are expanded
    tokens: int = 5000  # lexical tokens in the document
    cost: int = 20_000  # objects a query may ask for, lists multiplied out (schema.document)
    list_items: int = 1000  # items in any one list of arguments or variables
    string_length: int = 100_000  # characters in any one string argument or variable


# A substring search (ILIKE '%term%') costs the database time in the term's length times the
# rows it scans: 100,000 characters held PostgreSQL for a minute. Names and emails are short.
MAX_SEARCH_LENGTH = 100


def search_term(search: str | None) -> str | None:
    """`search` when it is at most MAX_SEARCH_LENGTH characters, else BAD_USER_INPUT."""
    if search is not None and len(search) > MAX_SEARCH_LENGTH:
        raise BadUserInput(
            f"`search` has at most {MAX_SEARCH_LENGTH} characters ({len(search)} sent).", "search"
        )
    return search
