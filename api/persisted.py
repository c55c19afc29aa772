"""Apollo's automatic persisted queries (APQ): a client sends `extensions.persistedQuery
{version: 1, sha256Hash}` and no query; when the hash is unknown here the answer is the
protocol's `PersistedQueryNotFound`, and the client sends the query once more with its hash,
which is checked and, once the query has run, kept. Kept in process, least recently used
first out, within a budget of bytes (docs/http.md)."""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import replace

from strawberry.http import GraphQLRequestData

from api.request import RequestRefused, bad_request

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class PersistedQueries:
    """Documents by the SHA-256 of their UTF-8 text (hex), at most `max_bytes` of them
    (UTF-8 text); 0 turns APQ off (`PersistedQueryNotSupported`)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._queries: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._queries)

    def resolve(self, data: GraphQLRequestData) -> GraphQLRequestData:
        """The request with its document: as sent, or the one kept under its hash;
        RequestRefused when the hash is unknown (200, as Apollo's server answers it: the
        client resends), malformed, or not the hash of the document sent."""
        persisted = (data.extensions or {}).get("persistedQuery")
        if persisted is None:
            return data
        if self.max_bytes == 0:
            raise _refusal("PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED")
        sha = _hash(persisted)
        if data.query is None:
            query = self._queries.get(sha)
            if query is None:
                raise _refusal("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
            self._queries.move_to_end(sha)
            return replace(data, query=query)
        if not isinstance(data.query, str):
            return data  # refused as any request without a document string is
        if hashlib.sha256(data.query.encode("utf-8", "surrogatepass")).hexdigest() != sha:
            raise bad_request("`extensions.persistedQuery.sha256Hash` does not match the query.")
        return data

    def keep(self, data: GraphQLRequestData) -> None:
        """Keep a resolved request's document under its hash, once it has run (one that did
        not parse or validate is not worth a place)."""
        persisted = (data.extensions or {}).get("persistedQuery")
        if persisted is None or self.max_bytes == 0 or not isinstance(data.query, str):
            return
        sha, query = _hash(persisted), data.query
        if sha in self._queries:
            self._queries.move_to_end(sha)
            return
        size = len(query.encode("utf-8", "surrogatepass"))
        if size > self.max_bytes:
            return
        self._queries[sha] = query
        self.size += size
        while self.size > self.max_bytes:
            _, dropped = self._queries.popitem(last=False)
            self.size -= len(dropped.encode("utf-8", "surrogatepass"))


def _hash(persisted: object) -> str:
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise bad_request("`extensions.persistedQuery` must be {version: 1, sha256Hash}.")
    sha = persisted.get("sha256Hash")
    if not isinstance(sha, str) or not _SHA256.match(sha):
        raise bad_request("`extensions.persistedQuery.sha256Hash` must be a SHA-256 in hex.")
    return sha.lower()


def _refusal(message: str, code: str) -> RequestRefused:
    return RequestRefused(200, code, message)
