"""The GraphQL schema: strawberry types, inputs, root Query, errors and extensions."""
