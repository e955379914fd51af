"""The GraphiQL page (for `GET <endpoint>` from a browser) and the route of its files,
`graphiql/<name>` beside the endpoint."""

from __future__ import annotations

import functools
import html
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from graphiql_assets.files import NODE_MODULES, Asset, Assets, find_assets
from graphiql_assets.headers import asset_headers, page_headers

NOT_INSTALLED = (
    "GraphiQL's files are not installed on this server: run <code>bash scripts/setup.sh</code>"
    " (or <code>npm ci</code> in <code>graphiql_assets/</code>) and restart it."
)


def _page(assets: Assets | None) -> str:
    if assets is None:
        body = f"  <p>{NOT_INSTALLED}</p>\n"
    else:
        scripts = "".join(
            f'  <script src="graphiql/{html.escape(a.name)}"></script>\n' for a in assets.scripts
        )
        body = f'  <div id="graphiql">Loading…</div>\n{scripts}'
    styles = "".join(
        f'  <link rel="stylesheet" href="graphiql/{html.escape(a.name)}">\n'
        for a in (assets.styles if assets else ())
    )
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n  <meta charset="utf-8">\n'
        f"  <title>GraphiQL</title>\n{styles}</head>\n<body>\n{body}</body>\n</html>\n"
    )


class GraphiQL:
    """GraphiQL over the npm packages installed in ``node_modules``; the files are looked
    for once, at the first request."""

    def __init__(self, node_modules: Path = NODE_MODULES) -> None:
        self._node_modules = node_modules
        self.route = Route("/graphiql/{name}", self.asset, methods=["GET"])

    @functools.cached_property
    def _assets(self) -> Assets | None:
        return find_assets(self._node_modules)

    @functools.cached_property
    def _html(self) -> str:
        return _page(self._assets)

    @functools.cached_property
    def _files(self) -> dict[str, Asset]:
        return self._assets.by_name() if self._assets else {}

    def page(self, request: Request) -> Response:
        """The page; 503 with one line saying what to run when the files are missing."""
        status = 200 if self._assets is not None else 503
        return HTMLResponse(self._html, status, headers=page_headers(request.headers.get("host")))

    async def asset(self, request: Request) -> Response:
        asset = self._files.get(request.path_params["name"])
        if asset is None:
            return PlainTextResponse("Not Found", 404, headers=asset_headers(found=False))
        return FileResponse(
            asset.path, headers=asset_headers(found=True), media_type=asset.media_type
        )


GRAPHIQL = GraphiQL()
