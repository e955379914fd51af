"""A caller's answer from courses about a course, kept a few seconds for the analytics reads.

Every analytics read first asks courses, as the caller, for the course (who teaches it, its
lessons): that peer call was a large share of an analytics query's time through the router,
and a dashboard asks several in a row. The answer is kept per caller (a hash of their
bearer token, so one caller's answer never serves another) and per course, for
`LMS_ANALYTICS_COURSE_CACHE_SECONDS`: an instructor removed from a course keeps reading its
analytics at most that long. Courses not found are not kept (a course just created is seen
at once). Recording activity does not use it (its lessons must be current)."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Final

from strawberry.dataloader import DataLoader

from common.graphql.catalog import CourseFacts

MAX_ENTRIES: Final = 4096

Load = Callable[[list[uuid.UUID]], Awaitable[list[CourseFacts | None]]]


class CourseFactsCache:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._clock = clock
        self._entries: OrderedDict[tuple[str, uuid.UUID], tuple[float, CourseFacts]] = OrderedDict()

    def _get(self, key: tuple[str, uuid.UUID]) -> CourseFacts | None:
        found = self._entries.get(key)
        if found is None:
            return None
        if found[0] <= self._clock():
            del self._entries[key]
            return None
        return found[1]

    def _put(self, key: tuple[str, uuid.UUID], facts: CourseFacts) -> None:
        self._entries[key] = (self._clock() + self._seconds, facts)
        self._entries.move_to_end(key)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)

    def loader(
        self, load: Load, authorization: str | None
    ) -> DataLoader[uuid.UUID, CourseFacts | None]:
        """A per-request loader that answers from the cache and asks `load` (courses, as the
        caller) for the rest."""
        if self._seconds <= 0 or authorization is None:
            return DataLoader(load)
        caller = hashlib.sha256(authorization.encode()).hexdigest()

        async def cached(ids: list[uuid.UUID]) -> list[CourseFacts | None]:
            found = {item: self._get((caller, item)) for item in ids}
            missing = [item for item, facts in found.items() if facts is None]
            if missing:
                for item, facts in zip(missing, await load(missing), strict=True):
                    found[item] = facts
                    if facts is not None:
                        self._put((caller, item), facts)
            return [found[item] for item in ids]

        return DataLoader(cached)
