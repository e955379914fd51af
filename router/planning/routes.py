"""Where a field the current subgraph cannot resolve can be fetched from instead."""

from typing import NamedTuple

from router.planning.collect import CField
from router.planning.context import Anchor, FragmentStep, Pos
from router.planning.resolvability import can_resolve, interfaces_of, requires_of
from router.supergraph.model import Supergraph


class Route(NamedTuple):
    graph: str
    representation: str  # typename sent in representations (or the root type)
    anchor: Anchor  # the object the jump starts from, and the steps down to the field
    distance: int  # 0 for the innermost anchor

    def at_root(self, supergraph: Supergraph) -> bool:
        return self.representation == supergraph.query_type and not self.anchor.pos.path


def steps_resolvable(
    supergraph: Supergraph, graph: str, anchor: Anchor, type_name: str, field: str
) -> bool:
    parent = anchor.pos.type_name
    for step in anchor.steps:
        if isinstance(step, FragmentStep):
            parent = step.type_name
            continue
        if not can_resolve(supergraph, graph, parent, step.name) or requires_of(
            supergraph, graph, parent, step.name
        ):
            return False
        parent = step.child_type
    return can_resolve(supergraph, graph, type_name, field)


def _entity_routes(supergraph: Supergraph, anchor: Anchor, field: str, index: int) -> list[Route]:
    entity = anchor.pos.type_name
    info = supergraph.types[entity]
    found = [
        Route(graph, entity, anchor, index)
        for graph in sorted(supergraph.field_graphs(entity, field))
        if info.keys(graph)
    ]
    for interface in interfaces_of(supergraph, entity):
        iinfo = supergraph.types[interface]
        found.extend(
            Route(graph, interface, anchor, index)
            for graph in sorted(supergraph.field_graphs(interface, field))
            if iinfo.is_interface_object(graph) and iinfo.keys(graph)
        )
    return found


def find_routes(supergraph: Supergraph, pos: Pos, cf: CField) -> list[Route]:
    """Every (subgraph, starting object) from which `cf` at `pos` can be fetched."""
    found: list[Route] = []
    for index, anchor in enumerate(pos.anchors or (Anchor(pos),)):
        entity = anchor.pos.type_name
        info = supergraph.types[entity]
        if not anchor.steps:
            if info.is_entity() and entity == pos.type_name:
                found.extend(_entity_routes(supergraph, anchor, cf.name, index))
            continue
        at_root = entity == supergraph.query_type and not anchor.pos.path
        if at_root and any(isinstance(step, FragmentStep) for step in anchor.steps):
            continue
        found.extend(
            Route(graph, entity, anchor, index)
            for graph in sorted(info.graphs)
            if (at_root or info.keys(graph))
            and steps_resolvable(supergraph, graph, anchor, pos.type_name, cf.name)
        )
    return found
