"""The operation a request names by id, found before the gateway runs: Apollo's automatic
persisted queries (`apq:`) and the persisted query list (`persisted_queries:`).

Automatic persisted queries (https://www.apollographql.com/docs/apollo-server/performance/apq):
a request with `extensions.persistedQuery: {version: 1, sha256Hash}` and no query runs the
query registered under that hash, or is answered `PERSISTED_QUERY_NOT_FOUND` (HTTP 200, so
that the client sends the query with its hash); with the query, the hash is checked
(`PERSISTED_QUERY_HASH_MISMATCH`), the query registered and run. Over GET a hash-only
request can be cached by a CDN. With `apq.enabled: false`: `PERSISTED_QUERY_NOT_SUPPORTED`.

The persisted query list, as Apollo Router applies it: an id from a manifest runs that
operation; with the safelist on, a body sent in full runs only if the list holds it
(`QUERY_NOT_IN_SAFELIST`), and with `require_id` not even then
(`PERSISTED_QUERY_ID_REQUIRED`). With the safelist on, automatic persisted queries are off
whatever `apq.enabled` says (Apollo Router refuses the two together): an unknown id is
`PERSISTED_QUERY_NOT_IN_LIST`, an id with a body `CANNOT_SEND_PQ_ID_AND_BODY`."""

import dataclasses
import hashlib
import re

from router.config import RouterConfig
from router.errors import error
from router.gateway.gateway import MAX_QUERY_BYTES, GraphQLRequest, GraphQLResponse
from router.policies.safelist import PersistedQueryList
from router.server.apq_cache import ApqCache

# Persisted-query answers must not be cached: the same request succeeds once registered.
NO_CACHE = "private, no-cache, must-revalidate"
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def _refusal(status: int, message: str, code: str) -> GraphQLResponse:
    return GraphQLResponse(status, {"errors": [error(message, code)]})


class PersistedQueries:
    """`apq:` and `persisted_queries:` compiled; `resolve` gives each request its query."""

    def __init__(self, config: RouterConfig, previous: "PersistedQueries | None" = None) -> None:
        """Manifests are read again each time; ``previous``'s APQ cache is kept (with what
        it holds) when `apq` did not change."""
        listed = config.persisted_queries
        self.list = PersistedQueryList(listed) if listed.enabled else None
        self.apq = config.apq if config.apq.enabled and not listed.safelist.enabled else None
        if self.apq is None:
            self.cache = None
        elif previous is not None and previous.apq == self.apq:
            self.cache = previous.cache
        else:
            self.cache = ApqCache(self.apq.router.cache)

    async def resolve(self, request: GraphQLRequest) -> GraphQLRequest | GraphQLResponse:
        """The request with the query it names, or the answer refusing it."""
        identifier = request.persisted
        if self.list is not None and identifier is not None:
            if not request.query:
                body = self.list.body(identifier)
                if body is not None:
                    return dataclasses.replace(request, query=body, persisted=None)
                if self.cache is None:
                    return _refusal(
                        404,
                        "the persisted query is not in the persisted query list",
                        "PERSISTED_QUERY_NOT_IN_LIST",
                    )
            elif self.cache is None:
                return _refusal(
                    400,
                    "a persisted query id and a query cannot be sent together",
                    "CANNOT_SEND_PQ_ID_AND_BODY",
                )
        if identifier is not None:
            if self.cache is None:
                return _refusal(200, "PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED")
            resolved = await self._automatic(request, identifier, self.cache)
            if isinstance(resolved, GraphQLResponse):
                return resolved
            request = resolved
        if self.list is not None:
            return self._listed(request, self.list)
        return request

    async def _automatic(
        self, request: GraphQLRequest, identifier: str, cache: ApqCache
    ) -> GraphQLRequest | GraphQLResponse:
        if not _SHA256.match(identifier):
            return _refusal(
                400,
                "extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits",
                "BAD_REQUEST",
            )
        sha256 = identifier.lower()
        if not request.query:
            query = await cache.get(sha256)
            if query is None:
                return _refusal(200, "PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
            return dataclasses.replace(request, query=query, persisted=None)
        encoded = request.query.encode()
        if hashlib.sha256(encoded).hexdigest() != sha256:
            return _refusal(
                400, "provided sha does not match query", "PERSISTED_QUERY_HASH_MISMATCH"
            )
        if len(encoded) <= MAX_QUERY_BYTES:  # a longer one is refused by the gateway
            await cache.put(sha256, request.query)
        return dataclasses.replace(request, persisted=None)

    def _listed(
        self, request: GraphQLRequest, listed: PersistedQueryList
    ) -> GraphQLRequest | GraphQLResponse:
        if listed.require_id:
            listed.log_unknown(request.query, request.operation_name, refused=True)
            return _refusal(
                400,
                "operations must be sent by id (extensions.persistedQuery.sha256Hash), not as text",
                "PERSISTED_QUERY_ID_REQUIRED",
            )
        if not listed.allows(request.query, request.operation_name):
            return _refusal(
                403,
                "the operation is not in the persisted query safelist",
                "QUERY_NOT_IN_SAFELIST",
            )
        return request

    async def aclose(self) -> None:
        if self.cache is not None:
            await self.cache.aclose()
