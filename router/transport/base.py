"""The boundary between the executor and the wire: one call per subgraph request."""

from collections.abc import Mapping
from typing import Any, Protocol


class SubgraphRequestError(Exception):
    """A subgraph could not be reached or did not answer with GraphQL JSON."""

    def __init__(self, service: str, message: str, code: str = "SUBREQUEST_HTTP_ERROR") -> None:
        super().__init__(message)
        self.service = service
        self.message = message
        self.code = code


class Transport(Protocol):
    async def send(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> dict[str, Any]:
        """POST `payload` to the subgraph named `service`; return its decoded JSON body."""
        ...

    async def send_multipart(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> dict[str, Any]:
        """As `send`, for a payload whose variables hold `UploadedFile`s: a GraphQL multipart
        request (https://github.com/jaydenseric/graphql-multipart-request-spec)."""
        ...

    async def aclose(self) -> None: ...
