"""Calling another subgraph's GraphQL API directly, as the caller (their token is forwarded).

For checks that need another domain's facts now (is this course published? is this learner
enrolled?). The peer applies its own authorization to the caller's token, so nothing can be
learned through a peer that the caller could not ask for themselves.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from common.errors import DomainError

log = logging.getLogger(__name__)


class PeerUnavailable(DomainError):
    """Another service did not answer; the request can be retried."""


class PeerClient:
    def __init__(self, http: httpx.AsyncClient, name: str, url: str, timeout: float = 5.0) -> None:
        self._http = http
        self.name = name
        self.url = url
        self._timeout = timeout

    async def _post(
        self, document: str, variables: dict[str, Any], authorization: str | None
    ) -> dict[str, Any]:
        headers = {"authorization": authorization} if authorization else {}
        try:
            response = await self._http.post(
                self.url,
                json={"query": document, "variables": variables},
                headers=headers,
                timeout=self._timeout,
            )
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            log.warning("peer %s unreachable", self.name, extra={"error": str(error)})
            raise PeerUnavailable(f"The {self.name} service is unavailable; try again.") from None
        if not isinstance(body, dict):
            raise PeerUnavailable(f"The {self.name} service could not answer; try again.")
        return body

    async def query(
        self, document: str, variables: dict[str, Any], *, authorization: str | None
    ) -> dict[str, Any]:
        """The data of a query; errors in the answer are raised, not half-used."""
        body = await self._post(document, variables, authorization)
        data = body.get("data")
        if body.get("errors") or not isinstance(data, dict):
            log.warning(
                "peer %s answered with errors", self.name, extra={"errors": body.get("errors")}
            )
            raise PeerUnavailable(f"The {self.name} service could not answer; try again.")
        return data

    async def entities(
        self, typename: str, ids: list[str], selection: str, *, authorization: str | None
    ) -> list[dict[str, Any] | None]:
        """Entities by id through the peer's `_entities` field, in id order; None if hidden."""
        document = (
            "query($r: [_Any!]!) { _entities(representations: $r) "
            f"{{ ... on {typename} {{ {selection} }} }} }}"
        )
        representations = [{"__typename": typename, "id": item} for item in ids]
        body = await self._post(document, {"r": representations}, authorization)
        data = body.get("data")
        found = data.get("_entities") if isinstance(data, dict) else None
        if not isinstance(found, list) or len(found) != len(ids):
            raise PeerUnavailable(f"The {self.name} service could not answer; try again.")
        return [item if isinstance(item, dict) and item else None for item in found]
