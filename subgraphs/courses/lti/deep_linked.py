"""Graded items by Deep Linking: an ``ltiResourceLink`` content item carrying a
``lineItem`` (LTI Deep Linking 2.0, as Canvas and Moodle take it) becomes a graded link,
exactly as ``addLtiLink(grading:)`` makes one (graded.py): the platform makes its line item
with the item's scoreMaximum, label (the title when omitted), resourceId and tag, and its
due date is ``submission.endDateTime``.

Release rule: the instructor's, given when they start deep linking
(``releaseGradesImmediately``, true by default as for addLtiLink); a tool's
``gradesReleased: false`` holds the item's grades too, and never releases what the
instructor held. ``available`` and ``submission.startDateTime`` are checked (a bad date
refuses the response) but not kept: a link is open as its module is.

Everything here is the tool's word, so every value is type-checked before it is used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from common.errors import BadUserInput
from subgraphs.courses.lti.graded import Grading

PREFIX: Final = "lineItem"
MAX_DATE_CHARACTERS: Final = 64


def _text(claim: Mapping[str, Any], name: str) -> str | None:
    value = claim.get(name)
    if value is not None and not isinstance(value, str):
        raise BadUserInput(f"{PREFIX}.{name} must be a string.", field=f"{PREFIX}.{name}")
    return value


def _maximum(claim: Mapping[str, Any]) -> float:
    value = claim.get("scoreMaximum")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadUserInput(
            f"{PREFIX}.scoreMaximum is required, as a number.", field=f"{PREFIX}.scoreMaximum"
        )
    try:
        return float(value)
    except OverflowError:  # an integer too large for a float: refused as out of range
        return math.inf


def _window(item: Mapping[str, Any], name: str) -> tuple[datetime | None, datetime | None]:
    """An item's ``available`` or ``submission`` window: ISO 8601 times with their zone."""
    window = item.get(name)
    if window is None:
        return None, None
    if not isinstance(window, dict):
        raise BadUserInput(f"{name} must be an object.", field=name)
    ends: list[datetime | None] = []
    for end in ("startDateTime", "endDateTime"):
        value = window.get(end)
        if value is None:
            ends.append(None)
            continue
        when = None
        if isinstance(value, str) and len(value) <= MAX_DATE_CHARACTERS:
            try:
                when = datetime.fromisoformat(value)
            except ValueError:
                when = None
        if when is None or when.tzinfo is None:
            raise BadUserInput(
                f"{name}.{end} must be an ISO 8601 date and time with its zone.",
                field=f"{name}.{end}",
            )
        ends.append(when)
    start, finish = ends
    if start is not None and finish is not None and finish < start:
        raise BadUserInput(f"{name} ends before it starts.", field=name)
    return start, finish


def grading_of(item: Mapping[str, Any], *, release_immediately: bool) -> Grading | None:
    """The grading part of a content item (None: it has no lineItem, an ungraded link),
    type-checked; its ranges and lengths are checked where every placement's are
    (graded.checked)."""
    _window(item, "available")
    _, due = _window(item, "submission")
    claim = item.get("lineItem")
    if claim is None:
        return None
    if not isinstance(claim, dict):
        raise BadUserInput(f"{PREFIX} must be an object.", field=PREFIX)
    released = claim.get("gradesReleased")
    if released is not None and not isinstance(released, bool):
        raise BadUserInput(
            f"{PREFIX}.gradesReleased must be true or false.", field=f"{PREFIX}.gradesReleased"
        )
    return Grading(
        score_maximum=_maximum(claim),
        label=_text(claim, "label"),
        release_immediately=release_immediately and released is not False,
        due_at=due,
        resource_id=_text(claim, "resourceId"),
        tag=_text(claim, "tag"),
    )
