"""The fetch groups of one plan: created, found again for reuse, never in a cycle."""

from dataclasses import replace

from router.planning.conflicts import requires_conflict
from router.planning.context import Group
from router.planning.selection import SelSet


def _waits_only_for(group: Group, deps: set[Group]) -> bool:
    """Whether the group waits for nothing more than a fetch that needs `deps` would."""
    allowed = set(deps).union(*(d.ancestors() for d in deps))
    return group.deps <= allowed


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
        """A group to fetch fields of the entities at `path` from: fields that need only the
        key never wait behind a `@requires` chain, and `@requires` fields never hold back a
        group of key-only fields (`merge_siblings` joins them again when they wait alike)."""
        candidates = self.entity_groups.setdefault((subgraph, path), [])
        for group in candidates:
            if requires is None:
                alike = not group.waits_for_requires or _waits_only_for(group, deps)
            else:
                alike = group.waits_for_requires
            if alike and self.reusable(group, deps) and not requires_conflict(group, requires):
                group.deps |= deps
                return group
        group = self.new_group(subgraph, path, True)
        group.deps |= deps
        candidates.append(group)
        return group

    def has_reusable(self, subgraph: str, path: tuple[str, ...]) -> bool:
        return any(self.reusable(g, set()) for g in self.entity_groups.get((subgraph, path), []))


def _merge_selsets(into: SelSet, source: SelSet) -> None:
    for key, sel in source.fields.items():
        existing = into.fields.get(key)
        if existing is None:
            into.fields[key] = sel
            continue
        existing.serve_under(sel.served)
        if sel.sub is not None:
            if existing.sub is None:
                existing.sub = sel.sub
            else:
                _merge_selsets(existing.sub, sel.sub)
    for type_name, fragment in source.fragments.items():
        _merge_selsets(into.fragment(type_name), fragment)


def _can_merge(group: Group, other: Group) -> bool:
    if (group.subgraph, group.path, group.entity) != (other.subgraph, other.path, True):
        return False
    if not (group.waits_for_requires or other.waits_for_requires):
        return False
    if group.ancestors() != other.ancestors() or group in other.ancestors():
        return False
    return not any(
        requires_conflict(group, field_set)
        for field_sets in other.representations.values()
        for field_set in field_sets
    )


def _merge(into: Group, source: Group, groups: list[Group]) -> None:
    _merge_selsets(into.selset, source.selset)
    for typename, representation in source.typenames.items():
        into.typenames.setdefault(typename, representation)
    for representation, field_sets in source.representations.items():
        own = into.representations.setdefault(representation, [])
        own.extend(f for f in field_sets if f not in own)
    into.deps |= source.deps
    into.waits_for_requires = into.waits_for_requires or source.waits_for_requires
    if source.conditions is not None:
        into.serve_under(source.conditions)
    for group in groups:
        if source in group.deps:
            group.deps = (group.deps - {source}) | {into}


def merge_siblings(groups: list[Group]) -> list[Group]:
    """One fetch for entity groups of a subgraph at one path that wait for the same fetches
    (kept apart while planning so that `@requires` fields hold nothing else back)."""
    kept: list[Group] = []
    for group in groups:
        target = next((k for k in kept if _can_merge(k, group)), None)
        if target is None:
            kept.append(group)
        else:
            _merge(target, group, groups)
    return kept


def _foldable(source: Group, target: Group, groups: list[Group]) -> bool:
    """Whether the key-only entity group `source` can be fetched by the `@requires` group
    `target` of its subgraph at its path without making anything wait longer: `target`
    already waits for all `source` waits for (so it runs no earlier than `source` would,
    and both end the same chain of fetches: the plan's longest chain is unchanged) and
    nothing waits for `source`."""
    if source is target or not (source.entity and target.entity):
        return False
    if source.waits_for_requires or not target.waits_for_requires:
        return False
    if (source.subgraph, source.path) != (target.subgraph, target.path):
        return False
    plain = all(not g.conditions and not g.contexts and not g.scoped for g in (source, target))
    if not plain or not source.deps <= target.ancestors():
        return False
    return not any(source in group.deps for group in groups)


def fold_key_only(groups: list[Group]) -> tuple[list[Group], dict[int, Group]]:
    """The groups with each key-only entity group that `_foldable` allows merged into a
    `@requires` group of its subgraph at its path (one per such group): one fetch instead
    of two, run where the `@requires` one ran. Also, by the id of each group that took one
    in, the group it took in (unchanged): the objects whose representation lacks a
    `@requires` input (its source failed) are fetched with it, so they get what they
    would have got without the fold."""
    kept = list(groups)
    folded: dict[int, Group] = {}
    for source in groups:
        target = next((t for t in kept if t.id not in folded and _foldable(source, t, kept)), None)
        if target is not None:
            folded[target.id] = source
            kept.remove(source)
            # (a copy of its selection merged: printing either fetch aliases in place)
            _merge(target, replace(source, selset=source.selset.copied()), kept)
    return kept, folded
