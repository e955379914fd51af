"""Which join spec version and which other specs (@tag, authorization...) the supergraph links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from router.federation.specs import FEATURES

from ..expand import Expanded
from ..model import Directive, TypeDef, elements
from ..supergraph import FeatureLink

SPEC_LINKS: dict[str, FeatureLink] = {
    name: FeatureLink(name, spec.url, spec.purpose) for name, spec in FEATURES.items()
}
# directives that belong to the spec of another one (and are imported through its link)
SPEC_MEMBERS = {"listSize": "cost"}


def join_version(subgraphs: Sequence[Expanded]) -> str:
    versions = [s.subgraph.links.version or (2, 0) for s in subgraphs]
    highest = max(versions, default=(2, 0))
    if highest >= (2, 8):
        return "0.5"
    if highest >= (2, 7):
        return "0.4"
    return "0.3"


def _used_directives(sub: Expanded) -> set[str]:
    used: set[str] = set()
    for typedef in sub.types.values():
        for element in elements(typedef):
            used.update(d.name for d in element.directives)
    return used


def feature_links(subgraphs: Sequence[Expanded]) -> list[FeatureLink]:
    """Per subgraph in order, the features it uses (in spec order) that are not linked yet.

    The first subgraph using a feature decides the name its directive is imported under.
    """
    links: dict[str, FeatureLink] = {}
    for sub in subgraphs:
        used = _used_directives(sub)
        used |= {spec for member, spec in SPEC_MEMBERS.items() if member in used}
        for name in SPEC_LINKS:
            if name in used and name not in links:
                local = sub.subgraph.links.local_name(name)
                renamed = local if local != name and "__" not in local else None
                links[name] = replace(SPEC_LINKS[name], local_name=renamed)
    used_anywhere = set().union(*(_used_directives(s) for s in subgraphs))
    for member, spec in SPEC_MEMBERS.items():
        if member in used_anywhere and spec in links:
            links[spec] = replace(links[spec], imports=(*links[spec].imports, member))
    return list(links.values())


def rename_features(types: dict[str, TypeDef], links: Sequence[FeatureLink]) -> None:
    """Directives imported under another name keep that name in the supergraph."""
    names = {link.name: link.local_name for link in links if link.local_name}
    if not names:
        return
    for typedef in types.values():
        for element in elements(typedef):
            element.directives = [
                Directive(names[d.name], d.args) if d.name in names else d
                for d in element.directives
            ]
