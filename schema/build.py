"""The one strawberry.Schema, with limits and caches on."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig

from schema.base import LONG_SCALAR, Long
from schema.query import Mutation, Query

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000


class QueryLimits(AddValidationRules):
    """strawberry's depth and alias limits, with their validation rules made once: the
    ValidationCache is keyed by the rules, and the stock extensions make new rule classes for
    every request, so no validation would ever be served from the cache."""

    RULES = (depth_rule(MAX_DEPTH, None), aliases_rule(MAX_ALIASES))

    def __init__(self) -> None:
        super().__init__(list(self.RULES))


class BillingSchema(strawberry.Schema):
    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """The HTTP view applies `schema.error_policy` and logs what is unexpected, with the
        request id; strawberry's own logging of every error would only repeat it."""


def build_schema() -> strawberry.Schema:
    return BillingSchema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(
            auto_camel_case=True, relay_max_results=100, scalar_map={Long: LONG_SCALAR}
        ),
        extensions=[
            QueryLimits,
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            ParserCache,
            ValidationCache,
        ],
    )


schema = build_schema()
