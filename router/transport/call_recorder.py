"""A `Transport` layer that notes each subgraph call in the access record of the request
making it (`router.access_record`), then makes it."""

from collections.abc import Awaitable
from typing import Any

from router.access_record import current_record
from router.transport.layer import Answer, AroundLayer


class CallRecorder(AroundLayer):
    def around(self, service: str, call: Answer) -> Awaitable[dict[str, Any]]:
        record = current_record()
        if record is not None:
            calls = record.subgraph_calls
            calls[service] = calls.get(service, 0) + 1
        return call
