"""The one strawberry.Schema, with limits and caches on."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document

from resolvers.limits import Limits
from schema.compiled import CompiledExecutionContext
from schema.document import measure, objects_in
from schema.input_limits import InputLimits
from schema.query import Mutation, Query
from schema.scalars import SCALAR_MAP

# graphql-core's validation of a document, kept for the documents seen most; the key is the
# document (ParserCache returns the same one for the same text) and the rules.
cached_validation = lru_cache(maxsize=256)(validate_document)


class DocumentLimits(SchemaExtension):
    """The request's limits (the Context's, from the settings) on the document: the parser's
    token budget; then its shape (depth, aliases, repeated fields) and, once graphql-core's
    validation passed, its cost, all before anything runs. The cost is reported in
    `extensions.cost` as Shopify does: requested, actual (objects returned) and limit."""

    requested: int | None = None

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        self.limits: Limits = getattr(execution.context, "limits", None) or Limits()
        execution.parse_options["max_tokens"] = self.limits.tokens
        yield

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        assert document is not None
        schema = execution.schema._schema
        measured = measure(
            schema, document, execution.operation_name, execution.variables, self.limits
        )
        errors = measured.errors or cached_validation(schema, document, execution.validation_rules)
        if not errors and measured.cost > self.limits.cost:
            errors = [
                GraphQLError(
                    f"The query costs {measured.cost}, more than the limit of "
                    f"{self.limits.cost}: ask for fewer or smaller lists.",
                    extensions={"code": "QUERY_TOO_COSTLY"},
                )
            ]
        if not errors:
            self.requested = measured.cost
        execution.pre_execution_errors = errors
        yield

    def get_results(self) -> dict[str, Any]:
        if self.requested is None:
            return {}
        result = self.execution_context.result
        actual = objects_in(getattr(result, "data", None))
        return {"cost": {"requested": self.requested, "actual": actual, "limit": self.limits.cost}}


class BillingSchema(strawberry.Schema):
    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """The HTTP view applies `schema.error_policy` and logs what is unexpected, with the
        request id; strawberry's own logging of every error would only repeat it."""


def build_schema() -> strawberry.Schema:
    return BillingSchema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(auto_camel_case=True, relay_max_results=100, scalar_map=SCALAR_MAP),
        extensions=[ParserCache, DocumentLimits, InputLimits],
        execution_context_class=CompiledExecutionContext,
    )


schema = build_schema()


def schema_sdl() -> str:
    """The schema as SDL, with its `schema {}` block: strawberry leaves the block out when
    the roots have their default names, and tools that read the file (graphql-js
    `buildSchema`, codegen, relay-compiler) would then take the object type `Subscription`
    for a subscription root."""
    from strawberry.printer import print_schema

    roots = "schema {\n  query: Query\n  mutation: Mutation\n}\n\n"
    return roots + print_schema(schema) + "\n"
