"""Whether a fetch group can take another `@requires` without mixing argument values."""

from graphql import FieldNode, InlineFragmentNode, SelectionSetNode

from router.planning.context import Group
from router.supergraph.fieldset import REQUIRES_ALIAS, parse_requires


def _aliased(selection_set: SelectionSetNode, prefix: str, into: dict[str, set[str]]) -> None:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            path = f"{prefix}.{selection.name.value}"
            if selection.alias and REQUIRES_ALIAS in selection.alias.value:
                into.setdefault(path, set()).add(selection.alias.value)
            if selection.selection_set is not None:
                _aliased(selection.selection_set, path, into)
        elif isinstance(selection, InlineFragmentNode):
            _aliased(selection.selection_set, prefix, into)


def requires_conflict(group: Group, requires: str | None) -> bool:
    """True when `requires` needs a field with other arguments than the group already sends."""
    if requires is None:
        return False
    wanted: dict[str, set[str]] = {}
    _aliased(parse_requires(requires), "", wanted)
    if not wanted:
        return False
    present: dict[str, set[str]] = {}
    for field_sets in group.representations.values():
        for field_set in field_sets:
            _aliased(parse_requires(field_set), "", present)
    return any(present.get(path, aliases) != aliases for path, aliases in wanted.items())
