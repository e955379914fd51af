"""Serving a supergraph that can change: the current gateway, swapped atomically on reload.

Each request takes the gateway that is current when it starts and keeps it to the end, so a
reload never changes a request in flight. A transport whose subgraph URLs are no longer used
is closed once the last request on it has finished. A supergraph file that cannot be read or
loaded is refused with the reason logged, and the old one keeps serving. A new configuration
(`reconfigure`) rebuilds the gateway and its transports on the same supergraph, the same way.
"""

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from router.gateway.gateway import Gateway
from router.supergraph import SupergraphError, load_supergraph
from router.supergraph.model import Supergraph
from router.transport import Transport

logger = logging.getLogger("router")

TransportFactory = Callable[[Mapping[str, str]], Transport]
GatewayFactory = Callable[[Supergraph, Transport], Gateway]


@dataclass
class Generation:
    gateway: Gateway
    urls: dict[str, str]
    digest: str
    sdl: str
    in_flight: int = 0
    retired: bool = False
    idle: asyncio.Event = field(default_factory=asyncio.Event)


class _Holding:
    """`LiveGateway.hold`'s block (a class, not a generator: every request enters one): the
    generation current when it is entered counts as in flight until it ends."""

    __slots__ = ("_generation", "_live")

    def __init__(self, live: "LiveGateway") -> None:
        self._live = live
        self._generation: Generation | None = None

    async def __aenter__(self) -> Generation:
        generation = self._generation = self._live._current
        generation.in_flight += 1
        generation.idle.clear()
        return generation

    async def __aexit__(self, *_: object) -> None:
        generation = self._generation
        assert generation is not None
        generation.in_flight -= 1
        if generation.in_flight == 0:
            generation.idle.set()


class _Using:
    """`LiveGateway.use`'s block: `hold`'s, giving the gateway alone."""

    __slots__ = ("_holding",)

    def __init__(self, live: "LiveGateway") -> None:
        self._holding = _Holding(live)

    async def __aenter__(self) -> Gateway:
        return (await self._holding.__aenter__()).gateway

    async def __aexit__(self, *_: object) -> None:
        await self._holding.__aexit__()


def _digest(sdl: str) -> str:
    return hashlib.sha256(sdl.encode()).hexdigest()


class LiveGateway:
    """The gateway in use, and how to replace it without disturbing requests in flight."""

    def __init__(
        self,
        sdl: str,
        url_overrides: Mapping[str, str],
        make_transport: TransportFactory,
        *,
        transport: Transport | None = None,
        make_gateway: GatewayFactory = Gateway,
    ) -> None:
        self._overrides = dict(url_overrides)
        self._make_transport = make_transport
        self._make_gateway = make_gateway
        self._fixed_transport = transport
        self._transports: dict[Transport, int] = {}  # transport -> generations using it
        self._closing: set[asyncio.Task[None]] = set()
        self._current = self._generation(sdl, _digest(sdl), reuse_transport=False)

    @property
    def gateway(self) -> Gateway:
        return self._current.gateway

    @property
    def digest(self) -> str:
        return self._current.digest

    @property
    def urls(self) -> Mapping[str, str]:
        """The current supergraph's subgraph URLs (overrides applied)."""
        return self._current.urls

    def _generation(self, sdl: str, digest: str, *, reuse_transport: bool = True) -> Generation:
        supergraph = load_supergraph(sdl)  # raises SupergraphError (or GraphQLError) if bad
        urls = {name: sub.url for name, sub in supergraph.subgraphs.items()}
        urls.update({k: v for k, v in self._overrides.items() if k in urls})
        previous: Generation | None = getattr(self, "_current", None)
        if self._fixed_transport is not None:
            transport = self._fixed_transport
        elif reuse_transport and previous is not None and previous.urls == urls:
            transport = previous.gateway.transport
        else:
            transport = self._make_transport(urls)
        self._transports[transport] = self._transports.get(transport, 0) + 1
        try:
            gateway = self._make_gateway(supergraph, transport)
        except BaseException:
            self._release(transport)
            raise
        generation = Generation(gateway, urls, digest, sdl)
        generation.idle.set()
        return generation

    def use(self) -> "_Using":
        """The current gateway, held by this request until it finishes."""
        return _Using(self)

    def hold(self) -> "_Holding":
        """The current gateway with its subgraph URLs, held until the block ends (a
        subscription holds it for its whole life)."""
        return _Holding(self)

    def replace(self, sdl: str) -> bool:
        """Load and swap in a new supergraph; False (old one kept, reason logged) if it fails."""
        digest = _digest(sdl)
        if digest == self._current.digest:
            return False
        try:
            generation = self._generation(sdl, digest)
        except Exception as failure:
            logger.error(
                "supergraph refused, still serving %s: %s", self._current.digest[:12], failure
            )
            return False
        self._swap(generation)
        logger.info(
            "supergraph reloaded: %d subgraphs, sha256 %s",
            len(generation.urls),
            digest[:12],
        )
        return True

    def reconfigure(
        self,
        url_overrides: Mapping[str, str],
        make_transport: TransportFactory,
        make_gateway: GatewayFactory,
    ) -> None:
        """The same supergraph served through gateways and transports made the new way
        (a new configuration); raises, the old ones kept, if they cannot be made."""
        previous = (self._overrides, self._make_transport, self._make_gateway)
        self._overrides = dict(url_overrides)
        self._make_transport, self._make_gateway = make_transport, make_gateway
        current = self._current
        try:
            generation = self._generation(current.sdl, current.digest, reuse_transport=False)
        except BaseException:
            self._overrides, self._make_transport, self._make_gateway = previous
            raise
        self._swap(generation)

    def _swap(self, generation: Generation) -> None:
        old, self._current = self._current, generation
        old.retired = True
        self._retire_soon(old)

    def _release(self, transport: Transport) -> bool:
        """One generation fewer uses ``transport``; whether none does any more."""
        self._transports[transport] -= 1
        if self._transports[transport] > 0:
            return False
        del self._transports[transport]
        return True

    def _retire_soon(self, old: Generation) -> None:
        transport = old.gateway.transport
        if not self._release(transport) or transport is self._fixed_transport:
            return

        async def close_when_idle() -> None:
            await old.idle.wait()
            await transport.aclose()

        task = asyncio.get_running_loop().create_task(close_when_idle())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        for task in list(self._closing):
            task.cancel()
        for transport in list(self._transports):
            await transport.aclose()
        self._transports.clear()


def _fingerprint(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


async def watch_file(
    path: Path,
    interval: float,
    changed: Callable[[str], Awaitable[object]],
    what: str = "supergraph",
) -> None:
    """Poll the file; give each new content to ``changed`` (which refuses what it cannot use).

    A file caught half-written fails to load and is refused; the next poll after the write
    finishes sees a new fingerprint and takes it.
    """
    seen = await asyncio.to_thread(_fingerprint, path)
    while True:
        await asyncio.sleep(interval)
        fingerprint = await asyncio.to_thread(_fingerprint, path)
        if fingerprint == seen:
            continue
        seen = fingerprint
        if fingerprint is None:
            logger.error("%s file %s is gone; still serving the last one", what, path)
            continue
        try:
            text = await asyncio.to_thread(path.read_text)
        except (OSError, UnicodeDecodeError) as failure:
            logger.error("cannot read %s file %s: %s", what, path, failure)
            continue
        await changed(text)


async def watch_supergraph(live: LiveGateway, path: Path, interval: float) -> None:
    async def replace(sdl: str) -> None:
        live.replace(sdl)

    await watch_file(path, interval, replace)


__all__ = ["Generation", "LiveGateway", "SupergraphError", "watch_file", "watch_supergraph"]
