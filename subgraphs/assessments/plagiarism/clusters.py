"""Connected groups of a similarity graph (union-find): the submissions that share work."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Group:
    members: frozenset[uuid.UUID]
    score: float  # the highest similarity inside the group


def clusters_of(edges: Iterable[tuple[uuid.UUID, uuid.UUID, float]]) -> list[Group]:
    parent: dict[uuid.UUID, uuid.UUID] = {}

    def root(node: uuid.UUID) -> uuid.UUID:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    best: dict[uuid.UUID, float] = {}
    listed = list(edges)
    for left, right, _ in listed:
        parent[root(left)] = root(right)
    for left, _, score in listed:
        top = root(left)
        best[top] = max(best.get(top, 0.0), score)
    members: dict[uuid.UUID, set[uuid.UUID]] = {}
    for node in parent:
        members.setdefault(root(node), set()).add(node)
    groups = [Group(frozenset(nodes), best[top]) for top, nodes in members.items()]
    groups.sort(key=lambda g: (-len(g.members), -g.score, sorted(g.members)))
    return groups
