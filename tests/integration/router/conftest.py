import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from router.server import create_app
from router.transport import HttpTransport
from tests.integration.router.subgraphs import Subgraph, subgraphs_client
from tests.unit.router.supergraphs import local_graphs, supergraph

# From @apollo/composition for subgraphs products (Query, Product, Mutation.createProduct),
# reviews (Product.reviews, Review, User stub, Mutation.addReview) and users (User).
TYPES = """
type Mutation
  @join__type(graph: PRODUCTS)
  @join__type(graph: REVIEWS)
{
  createProduct(name: String!): Product! @join__field(graph: PRODUCTS)
  addReview(productId: ID!, body: String!): Review! @join__field(graph: REVIEWS)
}

type Product
  @join__type(graph: PRODUCTS, key: "id")
  @join__type(graph: REVIEWS, key: "id")
{
  id: ID!
  name: String! @join__field(graph: PRODUCTS)
  price: Int @join__field(graph: PRODUCTS)
  secret: String @inaccessible @join__field(graph: PRODUCTS)
  reviews: [Review!]! @join__field(graph: REVIEWS)
}

type Query
  @join__type(graph: PRODUCTS)
  @join__type(graph: REVIEWS)
  @join__type(graph: USERS)
{
  products: [Product!]! @join__field(graph: PRODUCTS)
  product(id: ID!): Product @join__field(graph: PRODUCTS)
  topProduct: Product! @join__field(graph: PRODUCTS)
}

type Review
  @join__type(graph: REVIEWS)
{
  id: ID!
  body: String!
  author: User!
}

type User
  @join__type(graph: REVIEWS, key: "id", resolvable: false)
  @join__type(graph: USERS, key: "id")
{
  id: ID!
  name: String! @join__field(graph: USERS)
  email: String @join__field(graph: USERS)
}
"""

SUPERGRAPH = supergraph(
    local_graphs("products", "reviews", "users"), TYPES, mutation=True, inaccessible=True
)

PRODUCTS = [
    {"id": "p1", "name": "Chair", "price": 10, "secret": "s1"},
    {"id": "p2", "name": "Table", "price": 20, "secret": "s2"},
]
REVIEWS = {
    "p1": [
        {"id": "r1", "body": "Comfy", "author": {"id": "u1"}},
        {"id": "r2", "body": "Wobbly", "author": {"id": "u2"}},
    ],
    "p2": [{"id": "r3", "body": "Solid", "author": {"id": "u1"}}],
}
USERS: dict[str, dict[str, Any]] = {
    "u1": {"id": "u1", "name": "Ada", "email": "ada@example.com"},
    "u2": {"id": "u2", "name": "Alan", "email": "alan@example.com"},
}


def _find_product(product_id: str) -> dict[str, Any] | None:
    return next((dict(p) for p in PRODUCTS if p["id"] == product_id), None)


def make_subgraphs() -> dict[str, Subgraph]:
    created: list[str] = []

    def create_product(name: str) -> dict[str, Any]:
        created.append(name)
        return {"id": f"new{len(created)}", "name": name, "price": None}

    products = Subgraph(
        """
        type Query { products: [Product!]! product(id: ID!): Product topProduct: Product! }
        type Mutation { createProduct(name: String!): Product! }
        type Product { id: ID! name: String! price: Int secret: String }
        """,
        root={
            "products": lambda: [dict(p) for p in PRODUCTS],
            "product": lambda id: _find_product(id),
            "topProduct": lambda: dict(PRODUCTS[0]),
            "createProduct": create_product,
        },
        references={"Product": lambda rep: _find_product(rep["id"])},
    )
    reviews = Subgraph(
        """
        type Query { reviewCount: Int }
        type Mutation { addReview(productId: ID!, body: String!): Review! }
        type Product { id: ID! reviews: [Review!]! }
        type Review { id: ID! body: String! author: User! }
        type User { id: ID! }
        """,
        root={
            "addReview": lambda body, **_: {
                "id": "r9",
                "body": body,
                "author": {"id": "u1"},
            }
        },
        references={"Product": lambda rep: {"id": rep["id"], "reviews": REVIEWS[rep["id"]]}},
    )
    users = Subgraph(
        """
        type Query { userCount: Int }
        type User { id: ID! name: String! email: String }
        """,
        references={"User": lambda rep: dict(USERS[rep["id"]])},
    )
    return {"products": products, "reviews": reviews, "users": users}


@pytest.fixture
def subgraphs() -> dict[str, Subgraph]:
    return make_subgraphs()


RouterFactory = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def router_factory(
    subgraphs: dict[str, Subgraph],
) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    transports: list[HttpTransport] = []

    def build(**options: Any) -> httpx.AsyncClient:
        urls = local_graphs(*subgraphs)
        transport = HttpTransport(urls, client=subgraphs_client(subgraphs), **options)
        transports.append(transport)
        app = create_app(SUPERGRAPH, transport=transport)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://router")

    yield build
    for transport in transports:
        await transport.aclose()


@pytest.fixture
async def router(router_factory: RouterFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with router_factory() as client:
        yield client


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
RawServer = Callable[[Handler], Awaitable[str]]


@pytest.fixture
async def raw_server() -> AsyncIterator[RawServer]:
    async with raw_servers() as start:
        yield start


@asynccontextmanager
async def raw_servers() -> AsyncIterator[RawServer]:
    """Starts TCP servers on loopback that run `handler` per connection; gives their URL."""
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> str:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/graphql"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()
