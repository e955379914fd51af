"""Validated stage: each subgraph's federation directives are checked on their own."""

from __future__ import annotations

import re
from typing import NewType

from router.federation.typerefs import named_type

from .context_checks import check_contexts, context_fields
from .errors import ErrorSink
from .expand import Expanded, implemented_fields, string_arg
from .fieldset import Selection, field_set_error, parse_field_set, walk
from .model import Field, Kind, TypeDef, applied

# a subgraph whose federation directives were checked
Validated = NewType("Validated", Expanded)

COMPOSITE = (Kind.OBJECT, Kind.INTERFACE, Kind.UNION)
KEY_UNKNOWN = (
    "(the field should either be added to this subgraph or, if it should not be resolved by"
    " this subgraph, you need to add it to this subgraph with @external)."
)
OTHER_UNKNOWN = (
    "(if the field is defined in another subgraph, you need to add it to this subgraph with"
    " @external)."
)


_LABEL = re.compile(r"[a-zA-Z][a-zA-Z0-9_\-:./]*")
_PERCENT_LABEL = re.compile(r"percent\((\d{1,2}(\.\d{1,8})?|100)\)")


def valid_override_label(label: str) -> bool:
    return bool(_LABEL.fullmatch(label) or _PERCENT_LABEL.fullmatch(label))


def _kind(sub: Expanded, type_name: str) -> Kind | None:
    typedef = sub.types.get(type_name)
    return typedef.kind if typedef else None


def _invalid(
    sink: ErrorSink, sub: Expanded, code: str, where: str, message: str, hint: str
) -> None:
    coordinate = where.split('"')[1]
    sink.add(code, f"[{sub.name}] {where}: {message}", [sub.name], coordinate, hint)


def _check_selections(
    sink: ErrorSink,
    sub: Expanded,
    selections: tuple[Selection, ...],
    parent: str,
    directive: str,
    where: str,
) -> list[tuple[str, str]]:
    """Reports unknown fields; returns the (type, field) coordinates the field set selects."""
    code = f"{directive.upper()}_INVALID_FIELDS"
    found: list[tuple[str, str]] = []
    for step in walk(selections, parent, sub.types):
        if step.field_type is None:
            _invalid(
                sink,
                sub,
                code,
                where,
                f'Cannot query field "{step.name}" on type "{step.parent}" '
                + (KEY_UNKNOWN if directive == "key" else OTHER_UNKNOWN),
                f'Add "{step.parent}.{step.name}" to subgraph "{sub.name}" or fix the field set.',
            )
            continue
        found.append((step.parent, step.name))
        kind = _kind(sub, named_type(step.field_type))
        if kind in COMPOSITE and not step.selection.children:
            _invalid(
                sink,
                sub,
                code,
                where,
                f'Field "{step.parent}.{step.name}" of composite type needs a sub-selection.',
                "Select the leaf fields of the composite field.",
            )
        if directive == "key" and kind in (Kind.INTERFACE, Kind.UNION):
            what = f"a {kind.name.title()}"
            _invalid(
                sink,
                sub,
                "KEY_FIELDS_SELECT_INVALID_TYPE",
                where,
                f'field "{step.parent}.{step.name}" is {what} type which is not allowed in @key',
                "Key fields must be scalars, enums or objects of those.",
            )
        if directive == "key" and (step.selection.has_args or step.takes_args):
            _invalid(
                sink,
                sub,
                "KEY_FIELDS_HAS_ARGS",
                where,
                f"field {step.parent}.{step.name} cannot be included because it has arguments"
                " (fields with argument are not allowed in @key)",
                "Key fields cannot take arguments.",
            )
    return found


def _field_set(
    sink: ErrorSink, sub: Expanded, text: str, parent: str, directive: str, where: str
) -> list[tuple[str, str]]:
    selections = parse_field_set(text)
    if selections is None:
        _invalid(
            sink,
            sub,
            f"{directive.upper()}_INVALID_FIELDS",
            where,
            field_set_error(text) or f'invalid field set "{text}"',
            "A field set is a selection set without the outer braces.",
        )
        return []
    return _check_selections(sink, sub, selections, parent, directive, where)


def _check_keys(sink: ErrorSink, sub: Expanded, typedef: TypeDef) -> None:
    for key in sub.keys.get(typedef.name, []):
        where = f'On type "{typedef.name}", for @key(fields: "{key.fields}")'
        _field_set(sink, sub, key.fields, typedef.name, "key", where)


def _is_external(sub: Expanded, parent: str, name: str) -> bool:
    """External, or (on an interface) external in one of the implementations."""
    if (parent, name) in sub.external:
        return True
    return any((t.name, name) in sub.external for t in sub.types.values() if parent in t.interfaces)


def _unexternal_leaves(
    sub: Expanded, selections: tuple[Selection, ...], parent: str, under_external: bool
) -> list[tuple[str, str]]:
    """Leaf fields of a field set with no @external field on their path."""
    found: list[tuple[str, str]] = []
    typedef = sub.types.get(parent)
    for sel in selections:
        if not sel.name:
            condition = sel.type_condition or parent
            found += _unexternal_leaves(sub, sel.children, condition, under_external)
            continue
        fdef = typedef.fields.get(sel.name) if typedef else None
        if fdef is None:
            continue
        external = under_external or _is_external(sub, parent, sel.name)
        if sel.children:
            found += _unexternal_leaves(sub, sel.children, named_type(fdef.type), external)
        elif not external:
            found.append((parent, sel.name))
    return found


def _check_external_use(
    sink: ErrorSink, sub: Expanded, text: str, parent: str, directive: str, where: str
) -> None:
    selections = parse_field_set(text)
    if selections is None or sub.subgraph.fed1:
        return
    for coordinate in _unexternal_leaves(sub, selections, parent, False):
        if directive == "provides" and coordinate in sub.key_fields:
            continue
        _invalid(
            sink,
            sub,
            f"{directive.upper()}_FIELDS_MISSING_EXTERNAL",
            where,
            f'field "{coordinate[0]}.{coordinate[1]}" should not be part of a @{directive} since'
            " it is already provided by this subgraph (it is not marked @external)",
            f'Mark "{coordinate[0]}.{coordinate[1]}" @external or remove it from the field set.',
        )


def _check_field(sink: ErrorSink, sub: Expanded, typedef: TypeDef, fdef: Field) -> None:
    coordinate = f"{typedef.name}.{fdef.name}"
    for d in applied(fdef, "requires"):
        text = string_arg(d, "fields") or ""
        where = f'On field "{coordinate}", for @requires(fields: "{text}")'
        _field_set(sink, sub, text, typedef.name, "requires", where)
        _check_external_use(sink, sub, text, typedef.name, "requires", where)
    for d in applied(fdef, "provides"):
        text = string_arg(d, "fields") or ""
        where = f'On field "{coordinate}", for @provides(fields: "{text}")'
        target = named_type(fdef.type)
        if _kind(sub, target) not in COMPOSITE:
            sink.add(
                "PROVIDES_ON_NON_OBJECT_FIELD",
                f'[{sub.name}] Invalid @provides directive on field "{coordinate}": field has type'
                f' "{fdef.type}" which is not a Composite Type',
                [sub.name],
                coordinate,
                "@provides only applies to fields returning objects or interfaces.",
            )
            continue
        _field_set(sink, sub, text, target, "provides", where)
        _check_external_use(sink, sub, text, target, "provides", where)
    override = sub.overrides.get((typedef.name, fdef.name))
    if override is not None and override.source == sub.name:
        sink.add(
            "OVERRIDE_FROM_SELF_ERROR",
            f'Source and destination subgraphs "{sub.name}" are the same for overridden field'
            f' "{coordinate}"',
            [sub.name],
            coordinate,
            "@override(from:) must name another subgraph.",
        )
    if override is not None and override.label and not valid_override_label(override.label):
        sink.add(
            "OVERRIDE_LABEL_INVALID",
            f'Invalid @override label "{override.label}" on field "{coordinate}" on subgraph'
            f' "{sub.name}": labels must start with a letter and after that may contain'
            " alphanumerics, underscores, minuses, colons, periods, or slashes."
            ' Alternatively, labels may be of the form "percent(x)" where x is a float'
            " between 0-100 inclusive.",
            [sub.name],
            coordinate,
            'Use a name such as "my-migration" or a percentage such as "percent(25)"'
            " (at most 8 decimals).",
        )


def _check_unused_externals(sink: ErrorSink, sub: Expanded) -> None:
    if sub.subgraph.fed1:
        return
    used = sub.key_fields | sub.requires_fields | sub.provided | implemented_fields(sub)
    used |= context_fields(sub)
    for type_name, field_name in sorted(sub.external - used):
        coordinate = f"{type_name}.{field_name}"
        sink.add(
            "EXTERNAL_UNUSED",
            f'[{sub.name}] Field "{coordinate}" is marked @external but is not used in any'
            " federation directive (@key, @provides, @requires) or to satisfy an interface;"
            " the field declaration has no use and should be removed (or the field should not"
            " be @external).",
            [sub.name],
            coordinate,
            f'Remove "{coordinate}" from subgraph "{sub.name}", or drop its @external.',
        )


def validate_subgraph(sub: Expanded, sink: ErrorSink) -> Validated:
    for typedef in sub.types.values():
        _check_keys(sink, sub, typedef)
        for fdef in typedef.fields.values():
            _check_field(sink, sub, typedef, fdef)
    _check_unused_externals(sink, sub)
    check_contexts(sink, sub)
    return Validated(sub)
