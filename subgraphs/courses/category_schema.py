"""GraphQL surface of the category tree."""

from __future__ import annotations

import strawberry

from common.graphql.access import scopes
from common.graphql.cache_control.hints import PUBLIC_FEW_MINUTES
from common.graphql.ids import graphql_id
from subgraphs.courses.input_values import optional_id
from subgraphs.courses.loaders import CoursesInfo
from subgraphs.courses.models import CategoryRow


@strawberry.type(description="A node of the category tree.", directives=[PUBLIC_FEW_MINUTES])
class Category:
    id: strawberry.ID
    name: str
    slug: str
    row: strawberry.Private[CategoryRow]

    @strawberry.field
    async def parent(self, info: CoursesInfo) -> Category | None:
        if self.row.parent_id is None:
            return None
        row = await info.context.loaders.category.load(self.row.parent_id)
        return None if row is None else category_of(row)

    @strawberry.field
    async def children(self, info: CoursesInfo) -> list[Category]:
        return [category_of(row) for row in await info.context.loaders.children.load(self.row.id)]


def category_of(row: CategoryRow) -> Category:
    return Category(id=graphql_id(row.id), name=row.name, slug=row.slug, row=row)


@strawberry.input
class CreateCategoryInput:
    name: str
    slug: str | None = None
    parent_id: strawberry.ID | None = None


@strawberry.type
class CategoryPayload:
    category: Category


@strawberry.type
class CategoryQueries:
    @strawberry.field(description="Top-level categories; each lists its children.")
    async def categories(
        self, info: CoursesInfo, parent_id: strawberry.ID | None = None
    ) -> list[Category]:
        rows = await info.context.service.courses.categories(optional_id(parent_id, "parentId"))
        return [category_of(row) for row in rows]


@strawberry.type
class CategoryMutations:
    @strawberry.mutation(
        extensions=[scopes(["admin"])], description="A new category (administrators)."
    )
    async def create_category(
        self, info: CoursesInfo, input: CreateCategoryInput
    ) -> CategoryPayload:
        row = await info.context.service.courses.create_category(
            info.context.require_principal(),
            input.name,
            input.slug,
            optional_id(input.parent_id, "parentId"),
        )
        return CategoryPayload(category=category_of(row))
