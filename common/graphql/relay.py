"""Relay connection types shared by every subgraph's list fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry
from strawberry.federation.schema_directives import ListSize

from common.db.pagination import Page
from common.graphql.cache_control.hints import INHERIT
from common.pagination import DEFAULT_PAGE_SIZE

NodeT = TypeVar("NodeT")
RowT = TypeVar("RowT")


# `@listSize` of every field answering a `Connection`: its edges number `first`, else the
# default page size (the router's demand control estimates each operation's cost from it).
PAGED = ListSize(
    slicing_arguments=["first"],
    sized_fields=["edges"],
    require_one_slicing_argument=False,
    assumed_size=DEFAULT_PAGE_SIZE,
)


# A connection, its edges and page info are cached as the field answering the connection is
# (its hint, or its nodes' type's), never longer.
@strawberry.federation.type(shareable=True, directives=[INHERIT])
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(directives=[INHERIT])
class Edge(Generic[NodeT]):
    node: NodeT
    cursor: str


@strawberry.type(directives=[INHERIT])
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    total_count: int

    @classmethod
    def from_page(cls, page: Page[RowT], to_node: Callable[[RowT], NodeT]) -> Connection[NodeT]:
        cursors = [cursor.encode() for cursor in page.cursors]
        return cls(
            edges=[
                Edge(node=to_node(row), cursor=cursor)
                for row, cursor in zip(page.rows, cursors, strict=True)
            ],
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=cursors[0] if cursors else None,
                end_cursor=cursors[-1] if cursors else None,
            ),
            total_count=page.total_count,
        )
