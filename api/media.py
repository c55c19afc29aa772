"""The answer's media type, chosen from the request's Accept header as the GraphQL-over-HTTP
spec asks: `application/graphql-response+json` when the client prefers it, else
`application/json` (also when it sends no Accept, `*/*`, or nothing this server offers);
and the status of a request error under the former."""

from __future__ import annotations

from strawberry.types import ExecutionResult

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def response_media_type(accept: str | None) -> str:
    """The offered type the client ranks highest: by `q`, then by how exactly a range
    names it (`application/json` before `application/*` before `*/*`), then by the order
    of the ranges; on a tie, application/json.

    `application/graphql-response+json, application/json;q=0.9` (Apollo Client) gives
    graphql-response+json; `*/*` and `application/json` give application/json.
    """
    if not accept:
        return JSON
    ranges = [_media_range(item) for item in accept.split(",") if item.strip()]
    best, best_rank = JSON, _rank(JSON, ranges)
    rank = _rank(GRAPHQL_RESPONSE, ranges)
    if rank is not None and (best_rank is None or rank > best_rank):
        best = GRAPHQL_RESPONSE
    return best


def request_error_status(result: ExecutionResult) -> int | None:
    """400 for a request error: nothing ran because the document did not parse or validate,
    or its variables did not coerce (every error is about the request, none has a field's
    path); 500 when what stopped it was unexpected. None when execution ran."""
    errors = result.errors or []
    if result.data is not None or not errors or any(e.path is not None for e in errors):
        return None
    codes = {(e.extensions or {}).get("code") for e in errors}
    return 500 if "INTERNAL_SERVER_ERROR" in codes else 400


def _media_range(item: str) -> tuple[str, float]:
    media, *params = (part.strip() for part in item.split(";"))
    q = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = min(max(float(value.strip()), 0.0), 1.0)
            except ValueError:
                q = 0.0
    return media.lower(), q


def _rank(offered: str, ranges: list[tuple[str, float]]) -> tuple[float, int, int] | None:
    """(q, exactness, -position) of the most exact range naming `offered`; None when no
    range names it or the best says q=0 (not acceptable)."""
    kind = offered.split("/", maxsplit=1)[0] + "/*"
    found = [
        (q, exactness, -position)
        for position, (media, q) in enumerate(ranges)
        for exactness, pattern in enumerate(("*/*", kind, offered))
        if media == pattern
    ]
    if not found:
        return None
    exactness = max(e for _, e, _ in found)  # the most exact range decides
    q, _, position = max(r for r in found if r[1] == exactness)
    return None if q == 0 else (q, exactness, position)
