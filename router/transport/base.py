"""The boundary between the executor and the wire: one call per subgraph request."""

from collections.abc import Awaitable, Mapping
from typing import Any, Protocol

from router import jsonio

# A subgraph answer larger than this is refused (while it is read) unless configured otherwise.
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class SubgraphRequestError(Exception):
    """A subgraph could not be reached or did not answer with GraphQL JSON."""

    def __init__(
        self,
        service: str,
        message: str,
        code: str = "SUBREQUEST_HTTP_ERROR",
        *,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.service = service
        self.message = message
        self.code = code
        self.status = status  # the subgraph's HTTP status, when it answered


def response_too_large(service: str, limit: int) -> SubgraphRequestError:
    return SubgraphRequestError(
        service,
        f"subgraph {service!r} answered more than {limit} bytes",
        "SUBGRAPH_RESPONSE_TOO_LARGE",
    )


# The subgraph's `Cache-Control` header rides in its decoded answer under this key (no
# GraphQL response has it: one a subgraph sends in its body is dropped), so that every layer
# between the wire and the executor passes it on as it is (deduplication's copies too).
# Absent: the subgraph sent none, and its answer is not cacheable.
CACHE_CONTROL = "cache-control"


def decode_answer(
    service: str, status: int, content: bytes, cache_control: str | None = None
) -> dict[str, Any]:
    """A subgraph's GraphQL response from its HTTP body (with its `Cache-Control`)."""
    try:
        decoded = jsonio.loads(content)
    except ValueError as error:
        raise SubgraphRequestError(
            service, f"subgraph {service!r} answered HTTP {status} without JSON", status=status
        ) from error
    if not isinstance(decoded, dict) or ("data" not in decoded and "errors" not in decoded):
        raise SubgraphRequestError(
            service, f"subgraph {service!r} answered HTTP {status} without data", status=status
        )
    if cache_control is not None:
        decoded[CACHE_CONTROL] = cache_control
    elif CACHE_CONTROL in decoded:
        del decoded[CACHE_CONTROL]
    return decoded


class Transport(Protocol):
    """A wrapper may answer `send` and `send_multipart` with the awaitable of the transport
    it wraps (no coroutine of its own where it has nothing to do after the call)."""

    def send(
        self,
        service: str,
        payload: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        idempotent: bool = False,
    ) -> Awaitable[dict[str, Any]]:
        """POST `payload` to the subgraph named `service`; return its decoded JSON body.

        Once any byte of a request is written it is never sent again, unless `idempotent`
        (a query: no mutation) allows one resend after a reused connection failed before
        answering."""
        ...

    def send_multipart(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Awaitable[dict[str, Any]]:
        """As `send`, for a payload whose variables hold `UploadedFile`s: a GraphQL multipart
        request (https://github.com/jaydenseric/graphql-multipart-request-spec). Never
        idempotent."""
        ...

    async def aclose(self) -> None: ...
