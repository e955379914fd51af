"""The fetch groups of one plan: created, found again for reuse, never in a cycle."""

from router.planning.conflicts import requires_conflict
from router.planning.context import Group


class GroupRegistry:
    def __init__(self) -> None:
        self.groups: list[Group] = []
        self.root_groups: dict[str, Group] = {}
        self.entity_groups: dict[tuple[str, tuple[str, ...]], list[Group]] = {}
        # groups whose inputs are being planned: nothing they feed may be merged into them
        self.excluded: list[Group] = []

    def new_group(self, subgraph: str, path: tuple[str, ...], entity: bool) -> Group:
        group = Group(len(self.groups), subgraph, path, entity)
        self.groups.append(group)
        return group

    def root_group(self, subgraph: str) -> Group:
        group = self.root_groups.get(subgraph)
        if group is None:
            group = self.root_groups[subgraph] = self.new_group(subgraph, (), False)
        return group

    def reusable(self, group: Group, deps: set[Group]) -> bool:
        if any(group is ex or group.depends_on(ex) for ex in self.excluded):
            return False
        return not any(dep is group or dep.depends_on(group) for dep in deps)

    def entity_group(
        self, subgraph: str, path: tuple[str, ...], deps: set[Group], requires: str | None = None
    ) -> Group:
        candidates = self.entity_groups.setdefault((subgraph, path), [])
        for group in candidates:
            if self.reusable(group, deps) and not requires_conflict(group, requires):
                group.deps |= deps
                return group
        group = self.new_group(subgraph, path, True)
        group.deps |= deps
        candidates.append(group)
        return group

    def has_reusable(self, subgraph: str, path: tuple[str, ...]) -> bool:
        return any(self.reusable(g, set()) for g in self.entity_groups.get((subgraph, path), []))
