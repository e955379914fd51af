"""The small schema vocabulary shared by every stage: types, fields, directive applications."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from graphql.language import ValueNode


class Kind(Enum):
    SCALAR = "scalar"
    OBJECT = "type"
    INTERFACE = "interface"
    UNION = "union"
    ENUM = "enum"
    INPUT_OBJECT = "input"


@dataclass
class Directive:
    name: str
    args: dict[str, ValueNode] = field(default_factory=dict)


@dataclass
class InputValue:
    name: str
    type: str
    default: ValueNode | None = None
    description: str | None = None
    directives: list[Directive] = field(default_factory=list)


@dataclass
class Field:
    name: str
    type: str
    args: dict[str, InputValue] = field(default_factory=dict)
    description: str | None = None
    directives: list[Directive] = field(default_factory=list)


@dataclass
class EnumValue:
    name: str
    description: str | None = None
    directives: list[Directive] = field(default_factory=list)


@dataclass
class TypeDef:
    kind: Kind
    name: str
    description: str | None = None
    directives: list[Directive] = field(default_factory=list)
    fields: dict[str, Field] = field(default_factory=dict)
    input_fields: dict[str, InputValue] = field(default_factory=dict)
    interfaces: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    values: dict[str, EnumValue] = field(default_factory=dict)
    extension: bool = False  # printed as `extension: true` on @join__type
    declared_as_extension: bool = False  # only `extend type` (or Federation 1 @extends)


Element = TypeDef | Field | InputValue | EnumValue


def elements(typedef: TypeDef) -> list[Element]:
    """The type and everything inside it that can carry directives."""
    result: list[Element] = [typedef, *typedef.fields.values(), *typedef.input_fields.values()]
    result += typedef.values.values()
    result += [a for f in typedef.fields.values() for a in f.args.values()]
    return result


def applied(element: Element, name: str) -> list[Directive]:
    return [d for d in element.directives if d.name == name]


def has(element: Element, name: str) -> bool:
    return any(d.name == name for d in element.directives)


ROOT_KINDS = ("query", "mutation", "subscription")
DEFAULT_ROOT_NAMES = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}
