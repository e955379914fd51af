"""DataLoaders built from one batch query: keys in, rows out in key order (None when missing)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

from strawberry.dataloader import DataLoader

KeyT = TypeVar("KeyT", bound=Hashable)
ValueT = TypeVar("ValueT")


def batch_loader(
    fetch: Callable[[list[KeyT]], Awaitable[dict[KeyT, ValueT]]],
) -> DataLoader[KeyT, ValueT | None]:
    async def load(keys: list[KeyT]) -> list[ValueT | None]:
        found = await fetch(list(keys))
        return [found.get(key) for key in keys]

    return DataLoader(load)


def grouped_loader(
    fetch: Callable[[list[KeyT]], Awaitable[dict[KeyT, list[ValueT]]]],
) -> DataLoader[KeyT, list[ValueT]]:
    """A loader of one-to-many relations: each key gets its list (empty when it has none)."""

    async def load(keys: list[KeyT]) -> list[list[ValueT]]:
        found = await fetch(list(keys))
        return [found.get(key, []) for key in keys]

    return DataLoader(load)
