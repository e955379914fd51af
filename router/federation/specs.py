"""The specs a federated schema links (`https://specs.apollo.dev/<name>/<version>`)."""

from __future__ import annotations

from dataclasses import dataclass

SPEC_ROOT = "https://specs.apollo.dev/"


def spec_url(name: str, version: str) -> str:
    return f"{SPEC_ROOT}{name}/{version}"


@dataclass(frozen=True)
class Spec:
    name: str
    versions: tuple[str, ...]  # the versions known here, oldest first; composition links the last
    purpose: str | None = None  # `@link(for:)` of the spec in a supergraph

    @property
    def url(self) -> str:
        """The URL composition links."""
        return spec_url(self.name, self.versions[-1])


LINK = Spec("link", ("v1.0",))
JOIN = Spec("join", ("v0.1", "v0.2", "v0.3", "v0.4", "v0.5"), "EXECUTION")
# the features a supergraph may link besides link and join, in the order composition links them
FEATURES: dict[str, Spec] = {
    spec.name: spec
    for spec in (
        Spec("tag", ("v0.1", "v0.2", "v0.3")),
        Spec("inaccessible", ("v0.1", "v0.2"), "SECURITY"),
        Spec("authenticated", ("v0.1",), "SECURITY"),
        Spec("requiresScopes", ("v0.1",), "SECURITY"),
        Spec("policy", ("v0.1",), "SECURITY"),
        Spec("cost", ("v0.1",)),
        Spec("context", ("v0.1",), "SECURITY"),
    )
}

# The federation spec, linked by subgraphs: each directive with the minor version of
# federation 2 that introduced it, the types it defines, and Federation 1's directives.
FEDERATION = "federation"
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
FEDERATION_TYPES = frozenset({"FieldSet", "Scope", "Policy", "ContextFieldValue"})
FED1_DIRECTIVES = ("key", "requires", "provides", "external", "extends", "tag", "inaccessible")
