"""A `Transport` that notes each subgraph call in the access record of the request making it
(`router.access_record`), then makes it."""

from collections.abc import Mapping
from typing import Any

from router.access_record import current_record
from router.transport.base import Transport


class CallRecorder:
    def __init__(self, inner: Transport) -> None:
        self.inner = inner

    async def send(
        self,
        service: str,
        payload: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        idempotent: bool = False,
    ) -> dict[str, Any]:
        _note(service)
        return await self.inner.send(service, payload, headers, idempotent=idempotent)

    async def send_multipart(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> dict[str, Any]:
        _note(service)
        return await self.inner.send_multipart(service, payload, headers)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _note(service: str) -> None:
    record = current_record()
    if record is not None:
        record.subgraph_calls[service] += 1
