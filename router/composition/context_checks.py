"""`@context`/`@fromContext` checks of one subgraph, with Apollo's codes and messages."""

from __future__ import annotations

import re
from collections.abc import Callable

from graphql import GraphQLSyntaxError
from graphql.language import (
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
)

from router.federation.fieldset import parse_context_selection
from router.federation.typerefs import named_type

from .errors import ErrorSink
from .expand import Expanded, string_arg
from .fieldset import Selection, selections_of, walk
from .model import Field, InputValue, Kind, TypeDef, applied

_IGNORED = r"(?:[\n\r\t ,]|#[^\n\r]*)*"
_NAME = re.compile(r"^[A-Za-z]\w*$")
_REFERENCE = re.compile(rf"^{_IGNORED}\${_IGNORED}([A-Za-z_]\w*)(?!\w)([\s\S]*)$")


def referenced_context(reference: str) -> str | None:
    """The context a `@fromContext(field:)` value names, if it is well formed."""
    match = _REFERENCE.match(reference)
    return match.group(1) if match is not None and match.group(2).strip() else None


def context_fields(sub: Expanded) -> set[tuple[str, str]]:
    """The fields `@fromContext` selections read on the types that set their contexts (an
    @external field read this way is used)."""
    setters: dict[str, list[str]] = {}
    for typedef in sub.types.values():
        for directive in applied(typedef, "context"):
            setters.setdefault(string_arg(directive, "name") or "", []).append(typedef.name)
    found: set[tuple[str, str]] = set()
    for typedef in sub.types.values():
        for fdef in typedef.fields.values():
            for arg in fdef.args.values():
                for directive in applied(arg, "fromContext"):
                    match = _REFERENCE.match(string_arg(directive, "field") or "")
                    if match is None:
                        continue
                    selections = _selections(match.group(2))
                    for location in setters.get(match.group(1), []):
                        found |= {(s.parent, s.name) for s in walk(selections, location, sub.types)}
    return found


def _selections(text: str) -> tuple[Selection, ...]:
    try:
        operation = parse_context_selection(text).definitions[0]
    except GraphQLSyntaxError:
        return ()
    assert isinstance(operation, OperationDefinitionNode)
    return selections_of(operation.selection_set)


class _Use:
    """One `@fromContext` argument, and where to report about it."""

    def __init__(self, sink: ErrorSink, sub: Expanded, typedef: TypeDef, fdef: Field) -> None:
        self.sink = sink
        self.sub = sub
        self.typedef = typedef
        self.fdef = fdef

    def report(self, code: str, message: str, coordinate: str, hint: str) -> None:
        self.sink.add(code, f"[{self.sub.name}] {message}", [self.sub.name], coordinate, hint)


def check_contexts(sink: ErrorSink, sub: Expanded) -> None:
    setters: dict[str, list[str]] = {}
    for typedef in sub.types.values():
        for directive in applied(typedef, "context"):
            name = string_arg(directive, "name") or ""
            _check_name(sink, sub, typedef.name, name)
            setters.setdefault(name, []).append(typedef.name)
    for typedef in sub.types.values():
        for fdef in typedef.fields.values():
            for arg in fdef.args.values():
                for directive in applied(arg, "fromContext"):
                    use = _Use(sink, sub, typedef, fdef)
                    _check_use(use, arg, string_arg(directive, "field") or "", setters)


def _check_name(sink: ErrorSink, sub: Expanded, type_name: str, name: str) -> None:
    if "_" in name:
        problem = f'Context name "{name}" may not contain an underscore.'
    elif not _NAME.match(name):
        problem = f'Context name "{name}" is invalid. It should have only alphanumeric characters.'
    else:
        return
    hint = "Context names are letters and digits, starting with a letter."
    sink.add("CONTEXT_NAME_INVALID", f"[{sub.name}] {problem}", [sub.name], type_name, hint)


def _check_use(use: _Use, arg: InputValue, reference: str, setters: dict[str, list[str]]) -> None:
    typedef, fdef = use.typedef, use.fdef
    coordinate = f"{typedef.name}.{fdef.name}({arg.name}:)"
    if typedef.kind != Kind.OBJECT:
        use.report(
            "CONTEXT_NOT_SET",
            "@fromContext argument cannot be used on a field that exists on an abstract type"
            f' "{coordinate}".',
            coordinate,
            "Move the contextual argument to the object types' fields.",
        )
        return
    for interface in typedef.interfaces:
        implemented = use.sub.types.get(interface)
        if implemented is not None and fdef.name in implemented.fields:
            use.report(
                "CONTEXT_NOT_SET",
                "@fromContext argument cannot be used on a field implementing an interface"
                f' field "{interface}.{fdef.name}".',
                coordinate,
                "Contextual arguments cannot be part of an interface's field.",
            )
    if arg.default is not None:
        use.report(
            "CONTEXT_NOT_SET",
            f'@fromContext arguments may not have a default value: "{coordinate}".',
            coordinate,
            "Remove the default value: the router always passes the context's value.",
        )
    match = _REFERENCE.match(reference)
    if match is None or not match.group(2).strip():
        use.report(
            "NO_CONTEXT_IN_SELECTION",
            f'@fromContext argument does not reference a context "{reference}".',
            coordinate,
            'Write the argument as "$<context> <selection>", e.g. "$ctx { field }".',
        )
        return
    context, selection = match.group(1), match.group(2)
    locations = setters.get(context)
    if locations is None:
        use.report(
            "CONTEXT_NOT_SET",
            f'Context "{context}" is used at location "{coordinate}" but is never set.',
            coordinate,
            f'Set it with @context(name: "{context}") on a type above "{typedef.name}".',
        )
    else:
        _SelectionCheck(use, context, coordinate, arg.type).run(selection, locations)
    if not any(key.resolvable for key in use.sub.keys.get(typedef.name, [])):
        use.report(
            "CONTEXT_NO_RESOLVABLE_KEY",
            f'Object "{typedef.name}" has no resolvable key but has a field with a contextual'
            " argument.",
            typedef.name,
            f'Give "{typedef.name}" a resolvable @key: the router fetches it through _entities.',
        )


def _wrap(original: str, resolved: str) -> str:
    """`resolved` inside the list wrappers of `original` (non-null markers dropped)."""
    depth = original.count("[")
    return "[" * depth + resolved + "]" * depth


def _wrapper(ref: str) -> bool:
    return ref.endswith("!") or ref.startswith("[")


def _fits(selected: str, expected: str) -> bool:
    if selected.endswith("!"):
        return _fits(selected[:-1], expected.removesuffix("!"))
    if selected.startswith("[") and expected.startswith("[") and expected.endswith("]"):
        return _fits(selected[1:-1], expected[1:-1])
    return not _wrapper(selected) and not _wrapper(expected) and selected == expected


class _SelectionCheck:
    def __init__(self, use: _Use, context: str, coordinate: str, expected: str) -> None:
        self.use = use
        self.coordinate = coordinate
        self.expected = expected
        self.prefix = f'Context "{context}" is used in "{coordinate}" but the selection is invalid'

    def invalid(self, detail: str, separator: str = ": ") -> None:
        self.use.report(
            "CONTEXT_INVALID_SELECTION",
            f"{self.prefix}{separator}{detail}",
            self.coordinate,
            "The selection must pick exactly one field (or one per type condition) whose type"
            " matches the argument's.",
        )

    def run(self, selection: str, locations: list[str]) -> None:
        parsed = self._parse(selection)
        if parsed is None:
            return
        conditions = self._format(parsed)
        if conditions is None:
            return
        used: set[str] = set()
        for location in locations:
            if not self._check_location(parsed, location, conditions, used):
                return
        for condition in conditions:
            if condition not in used:
                self.invalid(f'type condition "{condition}" is never used.')

    def _parse(self, selection: str) -> SelectionSetNode | None:
        try:
            document = parse_context_selection(selection)
        except GraphQLSyntaxError as error:
            self.invalid(error.message.replace("'", '"'))
            return None
        operation = document.definitions[0]
        if not isinstance(operation, OperationDefinitionNode) or len(document.definitions) > 1:
            self.invalid("the selection is not a selection set")
            return None
        return operation.selection_set

    def _format(self, parsed: SelectionSetNode) -> list[str] | None:
        """The type conditions of a selection of inline fragments ([] for one field)."""
        selections = parsed.selections
        if not selections:  # graphql-js refuses `{ }` when parsing; say what it says
            self.invalid('Syntax Error: Expected Name, found "}".')
            return None
        first = selections[0]
        if isinstance(first, FieldNode):
            if len(selections) != 1:
                self.invalid("multiple selections are made")
                return None
            return []
        if isinstance(first, FragmentSpreadNode):
            self.invalid("fragment spread is not allowed")
            return None
        if not all(isinstance(s, InlineFragmentNode) for s in selections):
            self.invalid("multiple fields could be selected")
            return None
        conditions = [
            s.type_condition.name.value
            for s in selections
            if isinstance(s, InlineFragmentNode) and s.type_condition
        ]
        if len(set(conditions)) != len(selections):
            self.invalid("type conditions have same name")
            return None
        return conditions

    def _check_location(
        self, parsed: SelectionSetNode, location: str, conditions: list[str], used: set[str]
    ) -> bool:
        problem = self._unknown(parsed, location)
        if problem is not None:
            self.invalid(f"for type {location}. Error: {problem}", " ")
            return False
        if _has(parsed, lambda s: bool(s.directives)):
            self.invalid("directives are not allowed in the selection")
        if _has(parsed, lambda s: isinstance(s, FieldNode) and s.alias is not None):
            self.invalid("aliases are not allowed in the selection")
        if not conditions:
            resolved = self._resolved(location, parsed)
            if resolved is None or not _fits(resolved, self.expected):
                self.invalid(
                    f'the type of the selection "{resolved or "undefined"}" does not match the'
                    f' expected type "{self.expected}"'
                )
                return False
            return True
        matching = []
        for fragment in parsed.selections:
            assert isinstance(fragment, InlineFragmentNode)
            assert fragment.type_condition is not None
            condition = fragment.type_condition.name.value
            condition_type = self.use.sub.types.get(condition)
            if condition_type is None or condition_type.kind != Kind.OBJECT:
                self.invalid('type conditions must be an object type"')
                continue
            if condition in self._possible(location):
                matching.append(fragment)
                used.add(condition)
        if not matching:
            self.invalid(f'no type condition matches the location "{location}"')
            return False
        for fragment in matching:
            assert fragment.type_condition is not None
            resolved = self._resolved(fragment.type_condition.name.value, fragment.selection_set)
            if resolved is None:
                self.invalid(
                    f'the type of the selection does not match the expected type "{self.expected}"'
                )
                return False
            if not _fits(resolved, self.expected):
                self.invalid(
                    f'the type of the selection "{resolved}" does not match the expected type'
                    f' "{self.expected}"'
                )
                return False
        return True

    def _possible(self, type_name: str) -> set[str]:
        typedef = self.use.sub.types.get(type_name)
        if typedef is None:
            return set()
        if typedef.kind == Kind.OBJECT:
            return {type_name}
        if typedef.kind == Kind.UNION:
            return set(typedef.members)
        return {t.name for t in self.use.sub.types.values() if type_name in t.interfaces}

    def _unknown(self, selection_set: SelectionSetNode, parent: str) -> str | None:
        """Why the selection is not valid on `parent`, as GraphQL validation would say."""
        typedef = self.use.sub.types.get(parent)
        for selection in selection_set.selections:
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = condition.name.value if condition else parent
                if inner not in self.use.sub.types:
                    return f'Unknown type "{inner}".'
                problem = self._unknown(selection.selection_set, inner)
                if problem is not None:
                    return problem
                continue
            if not isinstance(selection, FieldNode):
                return "Fragment spreads are not allowed."
            name = selection.name.value
            fdef = typedef.fields.get(name) if typedef else None
            if fdef is None:
                return f'Cannot query field "{name}" on type "{parent}".'
            child = self.use.sub.types.get(named_type(fdef.type))
            composite = child is not None and child.kind in (
                Kind.OBJECT,
                Kind.INTERFACE,
                Kind.UNION,
            )
            if composite and selection.selection_set is None:
                return (
                    f'Invalid empty selection set for field "{parent}.{name}" of non-leaf type'
                    f" {named_type(fdef.type)}"
                )
            if not composite and selection.selection_set is not None:
                return f'Field "{parent}.{name}" of leaf type has a selection.'
            if composite and selection.selection_set is not None:
                problem = self._unknown(selection.selection_set, named_type(fdef.type))
                if problem is not None:
                    return problem
        return None

    def _resolved(self, parent: str, selection_set: SelectionSetNode) -> str | None:
        typedef = self.use.sub.types.get(parent)
        if parent in self.use.sub.interface_objects:  # Apollo's message, as it prints it
            self.use.report(
                "CONTEXT_INVALID_SELECTION",
                f'Context "is used in "{self.coordinate}" but the selection is invalid: One of'
                f' the types in the selection is an interfaceObject: "{parent}"',
                self.coordinate,
                "A context cannot be read through an @interfaceObject type.",
            )
        found: list[str | None] = []
        for selection in selection_set.selections:
            if not isinstance(selection, FieldNode) or typedef is None:
                found.append(None)
                continue
            fdef = typedef.fields.get(selection.name.value)
            if fdef is None:
                found.append(None)
            elif selection.selection_set is not None:
                inner = self._resolved(named_type(fdef.type), selection.selection_set)
                found.append(None if inner is None else _wrap(fdef.type, inner))
            else:
                found.append(_wrap(fdef.type, named_type(fdef.type)))
        if not found or any(f != found[0] for f in found):
            return None
        return found[0]


def _has(selection_set: SelectionSetNode, predicate: Callable[[SelectionNode], bool]) -> bool:
    for selection in selection_set.selections:
        if predicate(selection):
            return True
        inner = getattr(selection, "selection_set", None)
        if inner is not None and _has(inner, predicate):
            return True
    return False
