"""The one strawberry.Schema, with limits and caches on."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from schema.base import LONG_SCALAR, Long
from schema.query import Mutation, Query

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000


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
            lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
            lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            ParserCache,
            ValidationCache,
        ],
    )


schema = build_schema()
