"""The one strawberry.Schema, with limits and caches on."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import strawberry
from graphql import ASTValidationRule
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig

from resolvers.limits import Limits
from schema.input_limits import InputLimits
from schema.query import Mutation, Query
from schema.scalars import SCALAR_MAP


@cache
def limit_rules(limits: Limits) -> tuple[type[ASTValidationRule], ...]:
    """The validation rules enforcing `limits`, made once per set of limits: the
    ValidationCache is keyed by the rules, so new rule classes per request would never hit."""
    return (depth_rule(limits.depth, None), aliases_rule(limits.aliases))


class DocumentLimits(SchemaExtension):
    """Applies the request's limits (the Context's, from the settings) to the document:
    the parser's token budget and the shape rules run with validation."""

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        limits: Limits = getattr(execution.context, "limits", None) or Limits()
        execution.parse_options["max_tokens"] = limits.tokens
        execution.validation_rules = (*execution.validation_rules, *limit_rules(limits))
        yield


class BillingSchema(strawberry.Schema):
    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """The HTTP view applies `schema.error_policy` and logs what is unexpected, with the
        request id; strawberry's own logging of every error would only repeat it."""


def build_schema() -> strawberry.Schema:
    return BillingSchema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(auto_camel_case=True, relay_max_results=100, scalar_map=SCALAR_MAP),
        extensions=[DocumentLimits, InputLimits, ParserCache, ValidationCache],
    )


schema = build_schema()
