"""GraphiQL served from this project, offline: the page, its own script and style, and the
pinned npm bundles `npm ci` installs here (package.json, package-lock.json). The router and
every subgraph serve it; this package imports nothing of theirs."""

from graphiql_assets.site import GRAPHIQL, GraphiQL

__all__ = ["GRAPHIQL", "GraphiQL"]
