"""Mutable selection sets a fetch is built from during planning, and their printing."""

from dataclasses import dataclass, field, replace

from graphql import ArgumentNode, DirectiveNode, Node, VariableNode, print_ast

from router.planning.conditions import Conditions, variable_conditions


def _collect_variables(node: Node, into: set[str]) -> None:
    if isinstance(node, VariableNode):
        into.add(node.name.value)
        return
    for key in node.keys:
        value = getattr(node, key, None)
        if isinstance(value, Node):
            _collect_variables(value, into)
        elif isinstance(value, tuple | list):
            for item in value:
                if isinstance(item, Node):
                    _collect_variables(item, into)


def conditions_key(conditions: tuple[DirectiveNode, ...]) -> str:
    return " ".join(print_ast(d) for d in conditions)


@dataclass(eq=False)
class FieldSel:
    name: str
    alias: str | None
    arguments: tuple[ArgumentNode, ...] = ()
    conditions: tuple[DirectiveNode, ...] = ()
    sub: "SelSet | None" = None
    signature: str = ""
    # the client's conditions under which the plan needs this field (None: always); those
    # its fetch and the enclosing fields do not already apply are forwarded to the subgraph
    served: Conditions | None = None

    @property
    def response_key(self) -> str:
        return self.alias or self.name

    def serve_under(self, conditions: Conditions | None) -> None:
        if conditions is None or self.served is None:
            self.served = None
        else:
            self.served &= conditions


@dataclass(eq=False)
class SelSet:
    fields: dict[tuple[str, str], FieldSel] = field(default_factory=dict)
    fragments: "dict[str, SelSet]" = field(default_factory=dict)

    def add_field(
        self,
        name: str,
        alias: str | None = None,
        arguments: tuple[ArgumentNode, ...] = (),
        conditions: tuple[DirectiveNode, ...] = (),
        composite: bool = False,
        signature: str = "",
        served: Conditions | None = None,
    ) -> FieldSel:
        if alias == name:
            alias = None
        key = (alias or name, conditions_key(conditions))
        existing = self.fields.get(key)
        if existing is not None:
            if composite and existing.sub is None:
                existing.sub = SelSet()
            existing.serve_under(served)
            return existing
        sub = SelSet() if composite else None
        created = FieldSel(name, alias, arguments, conditions, sub, signature, served)
        self.fields[key] = created
        return created

    def add_typename(self) -> None:
        self.add_field("__typename")

    def fragment(self, type_name: str) -> "SelSet":
        existing = self.fragments.get(type_name)
        if existing is None:
            existing = self.fragments[type_name] = SelSet()
        return existing

    def is_empty(self) -> bool:
        return not self.fields and all(f.is_empty() for f in self.fragments.values())

    def copied(self) -> "SelSet":
        """This selection with fields and fragments of its own (their syntax shared): what is
        done to one (merged into, aliased when printed) leaves the other as it was."""
        return SelSet(
            {
                key: replace(sel, sub=None if sel.sub is None else sel.sub.copied())
                for key, sel in self.fields.items()
            },
            {name: fragment.copied() for name, fragment in self.fragments.items()},
        )


def _condition_directive(variable: str, wanted: bool) -> str:
    return f"@{'include' if wanted else 'skip'}(if: ${variable})"


def _print_field(sel: FieldSel, variables: set[str], applied: Conditions) -> str:
    text = f"{sel.alias}: {sel.name}" if sel.alias else sel.name
    if sel.arguments:
        for argument in sel.arguments:
            _collect_variables(argument, variables)
        text += "(" + ", ".join(print_ast(a) for a in sel.arguments) + ")"
    for directive in sel.conditions:
        _collect_variables(directive, variables)
    own = applied | (variable_conditions(sel.conditions) or frozenset())
    forwarded = sorted((sel.served or frozenset()) - own)
    variables.update(variable for variable, _ in forwarded)
    directives = [print_ast(d) for d in sel.conditions]
    directives += [_condition_directive(variable, wanted) for variable, wanted in forwarded]
    names = [d.split("(", 1)[0] for d in directives]
    wrapped = len(set(names)) != len(names)
    if directives and not wrapped:
        text += " " + " ".join(directives)
    if sel.sub is not None:
        inner = print_selection_set(sel.sub, variables, own | frozenset(forwarded))
        text += " " + (inner if inner else "{ __typename }")
    if wrapped:
        for printed in reversed(directives):
            text = f"... {printed} {{ {text} }}"
    return text


def print_selection_set(
    selset: SelSet, variables: set[str], applied: Conditions = frozenset()
) -> str:
    """`applied`: the conditions the fetch and the enclosing fields already apply."""
    parts = [_print_field(sel, variables, applied) for sel in selset.fields.values()]
    for type_name, fragment in selset.fragments.items():
        inner = print_selection_set(fragment, variables, applied)
        if inner:
            parts.append(f"... on {type_name} {inner}")
    return "{ " + " ".join(parts) + " }" if parts else ""


ALIAS_MARKER = "__fed_alias_"
SCOPED_MARKER = "__fed_scoped_"


def _scope(selset: SelSet) -> list[FieldSel]:
    found = list(selset.fields.values())
    for fragment in selset.fragments.values():
        found.extend(_scope(fragment))
    return found


def _shapes_conflict(left: SelSet | None, right: SelSet | None) -> bool:
    """Whether two sub-selections merged under one response key would clash."""
    if left is None or right is None:
        return False
    by_key: dict[str, list[FieldSel]] = {}
    for sel in _scope(left):
        by_key.setdefault(sel.response_key, []).append(sel)
    return any(
        other.signature != sel.signature or _shapes_conflict(other.sub, sel.sub)
        for sel in _scope(right)
        for other in by_key.get(sel.response_key, ())
    )


def alias_conflicts(selset: SelSet, counter: list[int]) -> bool:
    """Alias same-named fields of different fragments whose shapes may conflict.

    The aliases carry `ALIAS_MARKER`, so the executor renames them back in the response.
    """
    changed = False
    first: dict[str, FieldSel] = {}
    own = set(map(id, selset.fields.values()))
    for sel in _scope(selset):
        seen = first.get(sel.response_key)
        if seen is None:
            first[sel.response_key] = sel
        elif id(sel) not in own and (
            sel.signature != seen.signature or _shapes_conflict(seen.sub, sel.sub)
        ):
            counter[0] += 1
            sel.alias = f"{sel.response_key}{ALIAS_MARKER}{counter[0]}"
            changed = True
    for sel in _scope(selset):
        if sel.sub is not None:
            changed = alias_conflicts(sel.sub, counter) or changed
    return changed
