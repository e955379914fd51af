"""Whether a fetch group can take another `@requires` without mixing argument values.

A representation carries each required field once, under its name: a fetch whose inputs
select one field (at one path in the entity) with two sets of arguments (`price` and
`price(discount: 5)`) would send one value for both, so such inputs go in separate fetches.
"""

from graphql import FieldNode, InlineFragmentNode, SelectionSetNode

from router.federation.fieldset import parse_field_set
from router.planning.context import Group
from router.planning.internal import printed_arguments

Variants = dict[str, set[str]]  # path of field names in the entity -> printed arguments


def _variants(selection_set: SelectionSetNode, prefix: str, into: Variants) -> None:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            path = f"{prefix}.{selection.name.value}"
            into.setdefault(path, set()).add(printed_arguments(selection.arguments))
            if selection.selection_set is not None:
                _variants(selection.selection_set, path, into)
        elif isinstance(selection, InlineFragmentNode):
            _variants(selection.selection_set, prefix, into)


def requires_conflict(group: Group, requires: str | None) -> bool:
    """True when `requires` needs a field with other arguments than the group already sends."""
    if requires is None:
        return False
    wanted: Variants = {}
    _variants(parse_field_set(requires), "", wanted)
    present: Variants = {}
    for field_sets in group.representations.values():
        for field_set in field_sets:
            _variants(parse_field_set(field_set), "", present)
    return any(present.get(path, arguments) != arguments for path, arguments in wanted.items())
