"""Where one client connection's subscriptions go: to the router's shared socket of a
subgraph that multiplexes (`subscription.mode.passthrough`), else to sockets of its own."""

from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

from router.transport.headers import HeaderRules
from router.transport.shared_sockets import SharedSockets
from router.transport.websocket import SubgraphSockets


class Upstream:
    def __init__(
        self,
        urls: Mapping[str, str],
        headers: Mapping[str, str],
        rules: HeaderRules,
        shared: SharedSockets | None,
        multiplexes: Callable[[str], bool],
    ) -> None:
        self.urls = urls
        self.headers = headers  # the client connection's (a `ForwardedHeaders`)
        self.rules = rules
        self.shared = shared
        self.multiplexes = multiplexes
        self._own: SubgraphSockets | None = None

    def subscribe(self, service: str, payload: Mapping[str, Any]) -> AsyncGenerator[dict[str, Any]]:
        if self.shared is not None and self.multiplexes(service):
            headers = self.rules.for_subgraph(service, self.headers)
            return self.shared.subscribe(service, self.urls[service], payload, headers)
        if self._own is None:
            self._own = SubgraphSockets(self.urls, self.headers, self.rules)
        return self._own.subscribe(service, payload)

    async def aclose(self) -> None:
        """Closes the connection's own sockets; its operations on shared ones were completed
        when their tasks ended."""
        if self._own is not None:
            await self._own.aclose()
