"""The rate limits at the endpoint, once the caller is known and before anything is planned:
a request over a limit is refused 429 with `Retry-After` (whole seconds) and
`RATE_LIMITED`; with Redis down and `when_redis_down: closed`, 503 `RATE_LIMIT_UNAVAILABLE`."""

from starlette.requests import Request

from router.gateway.gateway import GraphQLRequest, GraphQLResponse
from router.policies.api_keys import api_key_from
from router.policies.authentication import Caller
from router.ratelimit import RouterLimits, connection_identity


async def refusal(
    limits: RouterLimits, request: Request, graphql_request: GraphQLRequest, caller: Caller | None
) -> GraphQLResponse | None:
    """The answer refusing the request, or None when every limit lets it through."""
    client = ""
    if limits.counts_clients:
        subject = caller.subject if caller is not None else None
        api_key = api_key_from(request.headers) if caller is not None else None
        client = connection_identity(request, subject, api_key, limits.trusted_proxies)
    refused = await limits.refusal(client, graphql_request.operation_name)
    if refused is None:
        return None
    return GraphQLResponse(
        refused.status,
        {"errors": [refused.error]},
        headers={"retry-after": str(refused.retry_after)},
    )
