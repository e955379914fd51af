"""`@link`: which spec a schema links, at which version, for what, and under which names."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from graphql.language import (
    DirectiveNode,
    EnumValueNode,
    ListValueNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
)

from router.federation.specs import spec_url

_VERSION = re.compile(r"v(\d+)\.(\d+)")


@dataclass(frozen=True)
class Link:
    url: str
    prefix: str  # `as:`, else the spec's name
    purpose: str | None
    imports: tuple[tuple[str, str], ...]  # (name in the spec, local name), as written ("@key")

    @property
    def name(self) -> str:
        """The spec's name: the URL's last but one segment."""
        return _segments(self.url)[0]

    @property
    def version(self) -> str:
        """The URL's last segment ("v2.3")."""
        return _segments(self.url)[1]

    @property
    def version_number(self) -> tuple[int, int] | None:
        match = _VERSION.fullmatch(self.version)
        return (int(match.group(1)), int(match.group(2))) if match else None

    def is_spec(self, name: str) -> bool:
        """Whether this links a version `vX.Y` of the spec `name` at specs.apollo.dev."""
        return self.version_number is not None and self.url == spec_url(name, self.version)

    def directive(self, element: str) -> str:
        """The name this schema gives the spec's directive `element`."""
        renamed = {spec.lstrip("@"): mine.lstrip("@") for spec, mine in self.imports}
        if element in renamed:
            return renamed[element]
        return self.prefix if element == self.name else f"{self.prefix}__{element}"

    def imported(self, local: str) -> str | None:
        """The spec's element that this schema imports under the name `local`, if any."""
        elements = {mine.lstrip("@"): spec.lstrip("@") for spec, mine in self.imports}
        return elements.get(local)


def _segments(url: str) -> tuple[str, str]:
    """A spec URL's name and version, its last two segments ("" and "" when it has fewer)."""
    parts = url.rstrip("/").split("/")
    return (parts[-2], parts[-1]) if len(parts) >= 2 else ("", "")


def _string(value: ValueNode | None) -> str | None:
    return value.value if isinstance(value, StringValueNode) else None


def _imports(value: ValueNode | None) -> tuple[tuple[str, str], ...]:
    """(name in the spec, local name) pairs of an `import:` argument."""
    if not isinstance(value, ListValueNode):
        return ()
    pairs: list[tuple[str, str]] = []
    for item in value.values:
        if isinstance(item, StringValueNode):
            pairs.append((item.value, item.value))
        elif isinstance(item, ObjectValueNode):
            entries = {
                f.name.value: f.value.value
                for f in item.fields
                if isinstance(f.value, StringValueNode)
            }
            name = entries.get("name", "")
            pairs.append((name, entries.get("as", name)))
    return tuple(pairs)


def read_link(node: DirectiveNode) -> Link:
    """One `@link(url:, as:, for:, import:)` application."""
    args = {a.name.value: a.value for a in node.arguments or ()}
    url = _string(args.get("url")) or ""
    purpose = args.get("for")
    return Link(
        url,
        _string(args.get("as")) or _segments(url)[0],
        purpose.value if isinstance(purpose, EnumValueNode | StringValueNode) else None,
        _imports(args.get("import")),
    )


def read_links(directives: Iterable[DirectiveNode]) -> list[Link]:
    """Every `@link` among a schema's directives, in order."""
    return [read_link(d) for d in directives if d.name.value == "link"]
