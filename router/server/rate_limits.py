"""The rate limits at the endpoint, once the caller is known and before anything is planned:
a request over a limit is answered 429 with `Retry-After` (whole seconds) and
`RATE_LIMITED`; with Redis down and `when_redis_down: closed`, 503 `RATE_LIMIT_UNAVAILABLE`."""

from starlette.requests import Request
from starlette.responses import Response

from router.errors import error
from router.gateway.gateway import GraphQLRequest, GraphQLResponse
from router.policies.api_keys import api_key_from
from router.policies.authentication import Caller
from router.ratelimit import RateLimitUnavailable, RouterLimits, client_identity
from router.server.http import respond


def _client(limits: RouterLimits, request: Request, caller: Caller | None) -> str:
    if not limits.counts_clients:
        return ""
    subject = caller.subject if caller is not None else None
    # a key counts as an identity only once verified (a caller), or anyone could make one up
    api_key = api_key_from(request.headers) if caller is not None else None
    peer = request.client.host if request.client is not None else None
    forwarded = request.headers.getlist("x-forwarded-for")
    return client_identity(subject, api_key, forwarded, peer, limits.trusted_proxies)


async def refusal(
    limits: RouterLimits, request: Request, graphql_request: GraphQLRequest, caller: Caller | None
) -> Response | None:
    """The answer refusing the request, or None when every limit lets it through."""
    try:
        decision = await limits.check(
            _client(limits, request, caller), graphql_request.operation_name
        )
    except RateLimitUnavailable:
        message = "Rate limits cannot be checked right now; try again later."
        unavailable = GraphQLResponse(503, {"errors": [error(message, "RATE_LIMIT_UNAVAILABLE")]})
        response = respond(request, unavailable)
        response.headers["retry-after"] = str(limits.retry_after_minimum)
        return response
    if decision.allowed:
        return None
    seconds = limits.retry_after(decision)
    message = f"Too many requests ({decision.scope} rate limit); try again in {seconds} seconds."
    body = {"errors": [error(message, "RATE_LIMITED", retryAfter=seconds)]}
    response = respond(request, GraphQLResponse(429, body))
    response.headers["retry-after"] = str(seconds)
    return response
