from router.transport.base import SubgraphRequestError, Transport
from router.transport.http import HttpTransport
from router.transport.streams import StreamTransport

__all__ = ["HttpTransport", "StreamTransport", "SubgraphRequestError", "Transport"]
