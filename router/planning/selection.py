"""Mutable selection sets a fetch is built from during planning, and their printing."""

from dataclasses import dataclass, field

from graphql import ArgumentNode, DirectiveNode, Node, VariableNode, print_ast


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

    @property
    def response_key(self) -> str:
        return self.alias or self.name


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
    ) -> FieldSel:
        if alias == name:
            alias = None
        key = (alias or name, conditions_key(conditions))
        existing = self.fields.get(key)
        if existing is not None:
            if composite and existing.sub is None:
                existing.sub = SelSet()
            return existing
        sub = SelSet() if composite else None
        created = FieldSel(name, alias, arguments, conditions, sub, signature)
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


def _print_field(sel: FieldSel, variables: set[str]) -> str:
    text = f"{sel.alias}: {sel.name}" if sel.alias else sel.name
    if sel.arguments:
        for argument in sel.arguments:
            _collect_variables(argument, variables)
        text += "(" + ", ".join(print_ast(a) for a in sel.arguments) + ")"
    for directive in sel.conditions:
        _collect_variables(directive, variables)
    names = [d.name.value for d in sel.conditions]
    wrapped = len(set(names)) != len(names)
    if sel.conditions and not wrapped:
        text += " " + " ".join(print_ast(d) for d in sel.conditions)
    if sel.sub is not None:
        inner = print_selection_set(sel.sub, variables)
        text += " " + (inner if inner else "{ __typename }")
    if wrapped:
        for directive in reversed(sel.conditions):
            text = f"... {print_ast(directive)} {{ {text} }}"
    return text


def print_selection_set(selset: SelSet, variables: set[str]) -> str:
    parts = [_print_field(sel, variables) for sel in selset.fields.values()]
    for type_name, fragment in selset.fragments.items():
        inner = print_selection_set(fragment, variables)
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
