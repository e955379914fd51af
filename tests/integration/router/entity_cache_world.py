"""A small graph for the entity cache's tests: a public course catalogue (`catalog`) and each
caller's progress in a course (`progress`, private: its answer depends on who asks), with
routers configured for `preview_entity_cache` over a real Redis."""

import base64
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import RSAKey

from router.composition.api import compose
from router.composition.subgraph import SubgraphInput
from router.config import RouterConfig
from router.policies.authentication import JwtConfig
from router.server import create_app
from router.transport import HttpTransport
from tests.integration.router.subgraphs import Subgraph, subgraphs_client

ISSUER = "https://issuer.test"
AUDIENCE = "lms-test"
LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", '
    'import: ["@key", "@authenticated"])'
)
# Apollo's directive, declared and used as the contract has the subgraphs do (composition
# accepts it; the router reads the policies from the answers' headers, never from here)
CACHE_CONTROL = """
enum CacheControlScope { PUBLIC PRIVATE }
directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean)
  on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
"""
CATALOG_SDL = f"""{LINK}{CACHE_CONTROL}
type Query {{ courses: [Course!]! @cacheControl(maxAge: 60) course(id: ID!): Course }}
type Mutation {{ rename(id: ID!, title: String!): Course }}
type Course @key(fields: "id") @cacheControl(maxAge: 60) {{ id: ID! title: String! }}
"""
PROGRESS_SDL = f"""{LINK}{CACHE_CONTROL}
type Query {{ myCourseCount: Int @authenticated }}
type Course @key(fields: "id") {{
  id: ID! myProgress: Int @cacheControl(maxAge: 30, scope: PRIVATE)
}}
"""
PUBLIC = "max-age=60, public"
PRIVATE = "max-age=30, private"


def supergraph() -> str:
    result = compose(
        [
            SubgraphInput("catalog", "http://catalog.local/graphql", CATALOG_SDL),
            SubgraphInput("progress", "http://progress.local/graphql", PROGRESS_SDL),
        ]
    )
    assert result.supergraph_sdl is not None, result.errors
    return result.supergraph_sdl


@dataclass
class World:
    """The subgraphs' data, which tests change."""

    titles: dict[str, str] = field(
        default_factory=lambda: {f"c{n}": f"Course {n}" for n in range(1, 6)}
    )
    # progress by user (the token's subject), by course
    progress: dict[str, dict[str, int]] = field(default_factory=dict)
    subgraphs: dict[str, Subgraph] = field(default_factory=dict)

    def course(self, course_id: str) -> dict[str, Any] | None:
        title = self.titles.get(course_id)
        return None if title is None else {"id": course_id, "title": title}

    def rename(self, id: str, title: str) -> dict[str, Any] | None:
        self.titles[id] = title
        return self.course(id)

    def my_progress(self, rep: dict[str, Any]) -> dict[str, Any]:
        headers = self.subgraphs["progress"].headers[-1]  # (the request being answered)
        subject = _subject(headers.get("authorization", ""))
        return {"id": rep["id"], "myProgress": self.progress.get(subject, {}).get(rep["id"])}

    def build(self) -> dict[str, Subgraph]:
        catalog = Subgraph(
            "type Query { courses: [Course!]! course(id: ID!): Course }\n"
            "type Mutation { rename(id: ID!, title: String!): Course }\n"
            "type Course { id: ID! title: String! }",
            root={
                "courses": lambda: [self.course(c) for c in sorted(self.titles)],
                "course": lambda id: self.course(id),
                "rename": self.rename,
            },
            references={"Course": lambda rep: self.course(rep["id"])},
            cache_control=lambda body: None if "mutation" in body["query"] else PUBLIC,
        )
        progress = Subgraph(
            "type Query { myCourseCount: Int }\ntype Course { id: ID! myProgress: Int }",
            root={"myCourseCount": 3},
            references={"Course": self.my_progress},
            cache_control=PRIVATE,
        )
        self.subgraphs = {"catalog": catalog, "progress": progress}
        return self.subgraphs


def _subject(authorization: str) -> str:
    token = authorization.removeprefix("Bearer ")
    if not token:
        return ""
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return str(json.loads(base64.urlsafe_b64decode(payload))["sub"])


def cache_config(redis_url: str | None, **section: Any) -> dict[str, Any]:
    """`preview_entity_cache` on, in a namespace and on a channel of the test's own."""
    all_subgraphs: dict[str, Any] = {}
    if redis_url is not None:
        all_subgraphs["redis"] = {"urls": [redis_url], "namespace": uuid.uuid4().hex}
    return {
        "enabled": True,
        "subgraph": {"all": all_subgraphs},
        "invalidation": {"channel": f"test:{uuid.uuid4().hex}"},
        **section,
    }


Sign = Callable[[str], str]


def signer(key: RSAKey) -> Sign:
    def token(subject: str) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "exp": now + 300}
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

    return token


@contextlib.asynccontextmanager
async def cached_router(
    subgraphs: Mapping[str, Subgraph],
    cache: Mapping[str, Any] | None,
    jwks_url: str | None = None,
    **config: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """A router (lifespan running) in front of `subgraphs`, `preview_entity_cache` = `cache`."""
    urls = {name: f"http://{name}.local/graphql" for name in subgraphs}
    transport = HttpTransport(urls, client=subgraphs_client(dict(subgraphs)))
    if cache is not None:
        config = {**config, "preview_entity_cache": cache}
    authentication = None if jwks_url is None else JwtConfig((jwks_url,), ISSUER, AUDIENCE)
    app = create_app(
        supergraph(),
        transport=transport,
        config=RouterConfig.model_validate(config),
        authentication=authentication,
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as client,
    ):
        entity_cache = app.state.router.entity_cache
        if entity_cache is not None and entity_cache.listener is not None:
            await entity_cache.listener.subscribed.wait()
        yield client
    await transport.aclose()
