from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from common.errors import BadUserInput
from common.pagination import Cursor, page_size


def test_cursor_round_trips() -> None:
    cursor = Cursor(datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC), uuid.uuid4())
    assert Cursor.decode(cursor.encode()) == cursor


@pytest.mark.parametrize("value", ["", "!!!", "bm90IGpzb24", "WzEsMl0", "WyJ4IiwgInkiXQ"])
def test_foreign_cursors_are_bad_input(value: str) -> None:
    with pytest.raises(BadUserInput, match="cursor"):
        Cursor.decode(value)


@pytest.mark.parametrize(("first", "size"), [(None, 20), (0, 0), (100, 100)])
def test_page_size(first: int | None, size: int) -> None:
    assert page_size(first) == size


@pytest.mark.parametrize("first", [-1, 101])
def test_page_size_out_of_range(first: int) -> None:
    with pytest.raises(BadUserInput, match="between 0 and 100"):
        page_size(first)
