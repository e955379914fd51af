"""A response's Cache-Control from `@cacheControl` hints (Apollo Server's rules), computed by
the extension every subgraph's schema runs, over a small schema of its own."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry
from strawberry.types import Info

from common.graphql.cache_control.extension import restrict_cache
from common.graphql.cache_control.hints import (
    INHERIT,
    NO_STORE,
    PRIVATE_FIELD,
    CacheControl,
    CacheControlScope,
)
from common.graphql.cache_control.policy import CachePolicy
from common.graphql.schema import ServiceSchema


@strawberry.type(directives=[CacheControl(max_age=600)])
class Author:
    name: str
    email: str = strawberry.field(
        directives=[CacheControl(max_age=0, scope=CacheControlScope.PRIVATE)]
    )


@strawberry.type
class Review:  # no hint: a field returning it gets maxAge 0
    stars: int


@strawberry.type(directives=[INHERIT])
class Page:
    items: list[Author]


@strawberry.federation.type(keys=["id"], directives=[CacheControl(max_age=300)])
class Book:
    id: strawberry.ID
    title: str
    votes: int = strawberry.field(directives=[CacheControl(max_age=30)])
    read_by_me: bool = strawberry.field(directives=[PRIVATE_FIELD])
    author: Author
    reviews: list[Review]
    cover: Review = strawberry.field(directives=[CacheControl(inherit_max_age=True)])
    draft: bool = False

    @classmethod
    def resolve_reference(cls, info: Info, id: strawberry.ID) -> Book | None:
        found = BOOKS.get(id)
        if found is not None and found.draft:
            restrict_cache(info, NO_STORE)
        return found

    @strawberry.field
    def broken(self) -> str:
        raise ValueError("no")


@strawberry.federation.type(keys=["id"])
class Shelf:  # an entity without a hint
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Shelf:
        return cls(id=id)


def _book(id: str, *, draft: bool = False) -> Book:
    return Book(
        id=strawberry.ID(id),
        title=f"Book {id}",
        votes=1,
        read_by_me=False,
        author=Author(name="Ada", email="ada@example.org"),
        reviews=[Review(stars=5)],
        cover=Review(stars=1),
        draft=draft,
    )


BOOKS = {"1": _book("1"), "2": _book("2"), "9": _book("9", draft=True)}


@strawberry.type
class Query:
    @strawberry.field
    def book(self, id: strawberry.ID) -> Book:
        return BOOKS[id]

    @strawberry.field(directives=[CacheControl(max_age=120)])
    def hinted_book(self, info: Info, id: strawberry.ID) -> Book:
        if BOOKS[id].draft:
            restrict_cache(info, NO_STORE)
        return BOOKS[id]

    @strawberry.field(directives=[CacheControl(max_age=60)])
    def authors(self) -> Page:
        return Page(items=[Author(name="Ada", email="ada@example.org")])

    @strawberry.field
    def unwrapped_authors(self) -> Page:
        return Page(items=[])

    @strawberry.field
    def count(self) -> int:
        return 2

    @strawberry.field(directives=[CacheControl(max_age=90)])
    def hinted_count(self) -> int:
        return 2

    @strawberry.field(directives=[CacheControl(max_age=90, scope=CacheControlScope.PRIVATE)])
    def my_count(self) -> int:
        return 1


@strawberry.type
class Mutation:
    @strawberry.mutation(directives=[CacheControl(max_age=300)])
    def vote(self) -> Book:
        return BOOKS["1"]


SCHEMA = ServiceSchema(query=Query, mutation=Mutation, types=[Book, Shelf])


class Headers:
    def __init__(self) -> None:
        self.headers: dict[str, str] = {}


@dataclass
class Context:
    response: Headers = field(default_factory=Headers)
    cache_policy: CachePolicy = field(default_factory=CachePolicy)


async def cache_control(query: str) -> str | None:
    """What the extension says, None when it says nothing (the app sends no-store then)."""
    context = Context()
    await SCHEMA.execute(query, context_value=context)
    return context.response.headers.get("cache-control")


async def test_the_minimum_max_age_of_the_fields_resolved() -> None:
    assert await cache_control('{ hintedBook(id: "1") { title } }') == "max-age=120, public"
    assert await cache_control('{ hintedBook(id: "1") { votes } }') == "max-age=30, public"
    # the field's hint wins over its type's (300): a root field's own
    assert await cache_control('{ book(id: "1") { title } }') == "max-age=300, public"


async def test_nested_fields_count_with_their_types() -> None:
    query = '{ book(id: "1") { title author { name } } }'
    assert await cache_control(query) == "max-age=300, public"  # Author: 600, Book: 300
    # a composite field whose type has no hint is 0: nothing may be kept
    assert await cache_control('{ book(id: "1") { reviews { stars } } }') == "no-store"


async def test_inherit_max_age_takes_the_parent_s() -> None:
    assert await cache_control('{ book(id: "1") { cover { stars } } }') == "max-age=300, public"
    assert await cache_control("{ authors { items { name } } }") == "max-age=60, public"
    # a wrapper inherits from a root field without a hint: 0
    assert await cache_control("{ unwrappedAuthors { items { name } } }") == "no-store"


async def test_scalars_inherit_and_root_scalars_need_a_hint() -> None:
    assert await cache_control("{ count }") == "no-store"
    assert await cache_control("{ hintedCount }") == "max-age=90, public"
    assert await cache_control("{ hintedCount count }") == "no-store"


async def test_one_private_field_makes_the_answer_private() -> None:
    assert await cache_control('{ book(id: "1") { title readByMe } }') == "max-age=300, private"
    assert await cache_control("{ myCount hintedCount }") == "max-age=90, private"
    query = '{ book(id: "1") { author { name email } } }'
    assert await cache_control(query) == "no-store"  # PRIVATE and maxAge 0


async def test_errors_mutations_and_introspection_are_not_cacheable() -> None:
    assert await cache_control('{ book(id: "1") { title broken } }') is None
    assert await cache_control("{ nope }") is None  # validation failed
    assert await cache_control("{ book(") is None  # parse failed
    assert await cache_control("mutation { vote { title } }") is None
    assert await cache_control("{ __schema { queryType { name } } }") == "no-store"
    assert await cache_control('{ __type(name: "Book") { name } }') == "no-store"
    assert await cache_control("{ __typename }") == "no-store"
    assert await cache_control("{ _service { sdl } }") == "no-store"


async def test_a_dynamic_hint_restricts_the_answer() -> None:
    assert await cache_control('{ hintedBook(id: "9") { title } }') == "no-store"


async def test_entities_count_each_entity_as_its_type() -> None:
    def entities(*representations: str) -> str:
        listed = ", ".join(representations)
        return (
            f"{{ _entities(representations: [{listed}]) {{ ... on Book {{ title }} __typename }} }}"
        )

    book = '{__typename: "Book", id: "%s"}'
    assert await cache_control(entities(book % 1, book % 2)) == "max-age=300, public"
    assert await cache_control(entities(book % 1)) == "max-age=300, public"
    # an entity type without a maxAge, an unknown key (null), a dynamic hint: nothing kept
    assert await cache_control(entities(book % 1, '{__typename: "Shelf", id: "s"}')) == "no-store"
    assert await cache_control(entities(book % 1, book % 404)) == "no-store"
    assert await cache_control(entities(book % 9)) == "no-store"
    assert await cache_control(entities()) == "no-store"


def test_the_directive_is_declared_and_printed_as_apollo_s() -> None:
    sdl = SCHEMA.as_str()
    assert (
        "directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) "
        "on FIELD_DEFINITION | OBJECT | INTERFACE | UNION"
    ) in sdl
    assert "enum CacheControlScope {\n  PUBLIC\n  PRIVATE\n}" in sdl
    assert 'type Book @cacheControl(maxAge: 300) @key(fields: "id")' in sdl
    assert "readByMe: Boolean! @cacheControl(scope: PRIVATE)" in sdl
