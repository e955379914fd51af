"""`@link` handling: which federation version a subgraph uses and how it names the directives."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from graphql.language import DirectiveNode, ListValueNode, ObjectValueNode, StringValueNode

from .errors import ErrorSink

FEDERATION_URL = re.compile(r"^https://specs\.apollo\.dev/federation/v(\d+)\.(\d+)$")
LINK_URL = re.compile(r"^https://specs\.apollo\.dev/link/v\d+\.\d+$")

# canonical federation directive -> minor version of federation 2 that introduced it
FEDERATION_DIRECTIVES: dict[str, int] = {
    "key": 0,
    "requires": 0,
    "provides": 0,
    "external": 0,
    "tag": 0,
    "extends": 0,
    "shareable": 0,
    "inaccessible": 0,
    "override": 0,
    "composeDirective": 1,
    "interfaceObject": 3,
    "authenticated": 5,
    "requiresScopes": 5,
    "policy": 6,
    "context": 8,
    "fromContext": 8,
    "cost": 9,
    "listSize": 9,
}
FEDERATION_TYPES = {"FieldSet", "Scope", "Policy", "ContextFieldValue"}
FED1_DIRECTIVES = ("key", "requires", "provides", "external", "extends", "tag", "inaccessible")


@dataclass(frozen=True)
class ForeignLink:
    """A `@link` to a spec other than federation (used by `@composeDirective`)."""

    url: str
    imports: dict[str, str]  # local directive name -> name inside the spec
    prefix: str


@dataclass
class Links:
    version: tuple[int, int] | None  # None: a Federation 1 subgraph (no federation @link)
    names: dict[str, str] = field(default_factory=dict)
    prefix: str = "federation"
    foreign: list[ForeignLink] = field(default_factory=list)

    def canonical(self, local: str) -> str | None:
        if local in self.names:
            return self.names[local]
        if self.version is None:
            return None
        head, sep, rest = local.partition("__")
        if sep and head == self.prefix and rest in FEDERATION_DIRECTIVES:
            return rest
        return None

    def local_name(self, canonical: str) -> str:
        """The name this subgraph gives a federation directive."""
        renamed = [local for local, name in self.names.items() if name == canonical]
        return renamed[0] if renamed else canonical


def _string_arg(node: DirectiveNode, name: str) -> str | None:
    for arg in node.arguments or ():
        if arg.name.value == name and isinstance(arg.value, StringValueNode):
            return arg.value.value
    return None


def _imports(node: DirectiveNode) -> list[tuple[str, str]]:
    """(imported name, local name) pairs of a `@link(import:)` argument."""
    pairs: list[tuple[str, str]] = []
    for arg in node.arguments or ():
        if arg.name.value != "import" or not isinstance(arg.value, ListValueNode):
            continue
        for value in arg.value.values:
            if isinstance(value, StringValueNode):
                pairs.append((value.value, value.value))
            elif isinstance(value, ObjectValueNode):
                entries = {
                    f.name.value: f.value.value
                    for f in value.fields
                    if isinstance(f.value, StringValueNode)
                }
                name = entries.get("name", "")
                pairs.append((name, entries.get("as", name)))
    return pairs


def resolve_links(
    subgraph: str, schema_directives: Sequence[DirectiveNode], sink: ErrorSink
) -> Links:
    links = [d for d in schema_directives if d.name.value == "link"]
    federation = [d for d in links if FEDERATION_URL.match(_string_arg(d, "url") or "")]
    if not federation:
        return Links(None, {name: name for name in FED1_DIRECTIVES})
    node = federation[0]
    match = FEDERATION_URL.match(_string_arg(node, "url") or "")
    assert match is not None
    version = (int(match.group(1)), int(match.group(2)))
    result = Links(version, prefix=_string_arg(node, "as") or "federation")
    for imported, local in _imports(node):
        if imported.startswith("@"):
            canonical = imported[1:]
            introduced = FEDERATION_DIRECTIVES.get(canonical)
            if introduced is None or version < (2, introduced):
                sink.add(
                    "INVALID_LINK_DIRECTIVE_USAGE",
                    f'[{subgraph}] Cannot import unknown element "{imported}".',
                    [subgraph],
                    imported,
                    f"Check the spelling, or raise the federation version above v{version[0]}."
                    f"{version[1]} if the directive is newer.",
                )
                continue
            result.names[local.lstrip("@")] = canonical
        elif imported not in FEDERATION_TYPES:
            sink.add(
                "INVALID_LINK_DIRECTIVE_USAGE",
                f'[{subgraph}] Cannot import unknown element "{imported}".',
                [subgraph],
                imported,
                "Only federation directives and types can be imported from the federation spec.",
            )
    for other in links:
        url = _string_arg(other, "url") or ""
        if other is node or LINK_URL.match(url):
            continue
        imports = {local.lstrip("@"): name.lstrip("@") for name, local in _imports(other)}
        spec_name = url.rstrip("/").split("/")[-2] if url.count("/") >= 2 else url
        result.foreign.append(ForeignLink(url, imports, _string_arg(other, "as") or spec_name))
    return result
