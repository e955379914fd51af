"""`@skip`/`@include` on the client's selections, as the conditions a fetch runs under."""

from graphql import BooleanValueNode, DirectiveNode, VariableNode

# (variable name, the value it must have): every one must hold for the selection to apply
Conditions = frozenset[tuple[str, bool]]


def variable_conditions(directives: tuple[DirectiveNode, ...]) -> Conditions | None:
    """The variable conditions of these directives, or None when a literal excludes them."""
    found: set[tuple[str, bool]] = set()
    for directive in directives:
        wanted = directive.name.value == "include"
        for argument in directive.arguments or ():
            if argument.name.value != "if":
                continue
            value = argument.value
            if isinstance(value, BooleanValueNode) and value.value != wanted:
                return None
            if isinstance(value, VariableNode):
                found.add((value.name.value, wanted))
    return frozenset(found)
