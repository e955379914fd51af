"""What a policy's `Transport` wrapper shares: it forwards what it does not change to the
transport it wraps (`inner`, which `aclose` closes too) and keeps its state per subgraph,
made on the subgraph's first request from what `traffic_shaping` says for it."""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

from router.config.traffic import SubgraphShaping, TrafficShapingSection, subgraph_shaping
from router.transport.base import Transport

Policy = TypeVar("Policy")


Call = Callable[[], Awaitable[dict[str, Any]]]
Answer = Awaitable[dict[str, Any]]  # a call to the transport beneath, made, not yet awaited


class Layer:
    """A wrapper that forwards what it does not change to the transport beneath it."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner

    def send_multipart(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Awaitable[dict[str, Any]]:
        return self.inner.send_multipart(service, payload, headers)

    async def aclose(self) -> None:
        await self.inner.aclose()


class AroundLayer(Layer):
    """A layer that treats every request alike (JSON or multipart, query or mutation): it
    acts around the call to the transport beneath. Its `around` gets the awaitable of that
    call, made (no closure per request) but not awaited, and answers an awaitable: a
    coroutine of its own when it acts after the call, else the call's (one frame less on
    every subgraph request). It must not fail before awaiting the call."""

    def send(
        self,
        service: str,
        payload: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        idempotent: bool = False,
    ) -> Awaitable[dict[str, Any]]:
        return self.around(
            service, self.inner.send(service, payload, headers, idempotent=idempotent)
        )

    def send_multipart(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Awaitable[dict[str, Any]]:
        return self.around(service, self.inner.send_multipart(service, payload, headers))

    def around(self, service: str, call: Answer) -> Awaitable[dict[str, Any]]:
        raise NotImplementedError


class PolicyLayer(Layer, Generic[Policy]):
    def __init__(
        self,
        inner: Transport,
        section: TrafficShapingSection,
        make: Callable[[str, SubgraphShaping], Policy | None],
    ) -> None:
        super().__init__(inner)
        self._section = section
        self._make = make
        self._policies: dict[str, Policy | None] = {}

    def policy(self, service: str) -> Policy | None:
        """The subgraph's policy, or None where it is off."""
        try:
            return self._policies[service]
        except KeyError:
            made = self._policies[service] = self._make(
                service, subgraph_shaping(self._section, service)
            )
            return made
