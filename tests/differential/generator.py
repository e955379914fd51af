"""Seeded random operations over an API schema, each valid against it (graphql-core)."""

import random
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
)

from tests.differential.data import POOL

MAX_DEPTH = 5


@dataclass(frozen=True)
class Operation:
    query: str
    variables: dict[str, Any]


@dataclass
class _Draft:
    rng: random.Random
    schema: GraphQLSchema
    variables: dict[str, tuple[str, Any]] = field(default_factory=dict)
    fragments: list[str] = field(default_factory=list)

    def variable(self, type_text: str, value: Any) -> str:
        name = f"v{len(self.variables)}"
        self.variables[name] = (type_text, value)
        return f"${name}"

    def directives(self) -> str:
        roll = self.rng.random()
        if roll > 0.12:
            return ""
        kind = self.rng.choice(["skip", "include"])
        condition = self.rng.random() < 0.5
        if self.rng.random() < 0.5:
            return f" @{kind}(if: {self.variable('Boolean!', condition)})"
        return f" @{kind}(if: {str(condition).lower()})"

    def selection_set(self, gtype: Any, depth: int) -> str:
        items: list[str] = []
        if isinstance(gtype, GraphQLObjectType | GraphQLInterfaceType):
            fields = sorted(gtype.fields.items())
            for _ in range(self.rng.randint(1, 3)):
                name, definition = self.rng.choice(fields)
                item = self.field(name, definition, depth, [n for n, _ in fields])
                if item:
                    items.append(item)
        if self.rng.random() < 0.25 or not items:
            items.append(self.alias(["a", "id"]) + "__typename")
        if depth < MAX_DEPTH and self.rng.random() < 0.45:
            items.append(self.fragment(gtype, depth))
        self.rng.shuffle(items)
        return "{ " + " ".join(items) + " }"

    def alias(self, names: list[str]) -> str:
        """Now and then an alias, often the name of another field of the type (a key's)."""
        return f"{self.rng.choice([*names, 'a'])}: " if self.rng.random() < 0.15 else ""

    def field(self, name: str, definition: Any, depth: int, names: list[str]) -> str:
        named = get_named_type(definition.type)
        if not is_leaf_type(named) and depth >= MAX_DEPTH:
            return ""
        arguments = self.arguments(definition.args, named)
        text = f"{self.alias(names)}{name}{arguments}{self.directives()}"
        if not is_leaf_type(named):
            text += " " + self.selection_set(named, depth + 1)
        return text

    def fragment(self, gtype: Any, depth: int) -> str:
        """An inline or named fragment on the type, a possible type, or an interface of it."""
        targets = [gtype]
        if isinstance(gtype, GraphQLInterfaceType | GraphQLUnionType):
            targets += self.schema.get_possible_types(gtype)
        if isinstance(gtype, GraphQLObjectType):
            targets += gtype.interfaces
        target = self.rng.choice(targets)
        body = self.selection_set(target, depth + 1)
        if self.rng.random() < 0.5:
            name = f"F{len(self.fragments)}"
            self.fragments.append(f"fragment {name} on {target.name} {body}")
            return f"...{name}{self.directives()}"
        condition = "" if target is gtype and self.rng.random() < 0.3 else f" on {target.name}"
        return f"...{condition}{self.directives()} {body}"

    def arguments(self, args: dict[str, GraphQLArgument], returned: Any) -> str:
        chosen = []
        for name, argument in sorted(args.items()):
            required = isinstance(argument.type, GraphQLNonNull) and argument.default_value is None
            if not required and self.rng.random() < 0.6:
                continue
            value = self.input_value(argument.type, name, returned)
            if self.rng.random() < 0.3:
                text = self.variable(str(argument.type), value)
            else:
                text = _literal(value, get_named_type(argument.type))
            chosen.append(f"{name}: {text}")
        return f"({', '.join(chosen)})" if chosen else ""

    def input_value(self, gtype: GraphQLInputType, name: str, returned: Any) -> Any:
        if isinstance(gtype, GraphQLNonNull):
            return self.input_value(gtype.of_type, name, returned)
        if isinstance(gtype, GraphQLList):
            return [self.input_value(gtype.of_type, name, returned)]
        if isinstance(gtype, GraphQLEnumType):
            return self.rng.choice(sorted(gtype.values))
        if isinstance(gtype, GraphQLInputObjectType):
            return {
                key: self.input_value(f.type, key, returned)
                for key, f in sorted(gtype.fields.items())
                if isinstance(f.type, GraphQLNonNull) or self.rng.random() < 0.5
            }
        kind = gtype.name
        if kind == "ID":
            possible = _concrete(self.schema, returned) or ["Unknown"]
            return f"{self.rng.choice(possible)}-{self.rng.randint(0, POOL)}"
        if kind == "Int":
            return self.rng.randint(0, 3)
        if kind == "Float":
            return self.rng.choice([0.5, 2.0])
        if kind == "Boolean":
            return self.rng.random() < 0.5
        return self.rng.choice(["x", "y"])

    def text(self, body: str) -> str:
        declared = ", ".join(f"${n}: {t}" for n, (t, _) in self.variables.items())
        header = f"query Q({declared}) " if declared else "query Q "
        return "\n".join([header + body, *self.fragments])


def _concrete(schema: GraphQLSchema, gtype: Any) -> list[str]:
    if isinstance(gtype, GraphQLInterfaceType | GraphQLUnionType):
        return sorted(t.name for t in schema.get_possible_types(gtype))
    if isinstance(gtype, GraphQLObjectType):
        return [gtype.name]
    return []


def _literal(value: Any, named: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v, named) for v in value) + "]"
    if isinstance(value, dict):
        fields = named.fields
        inner = ", ".join(
            f"{k}: {_literal(v, get_named_type(fields[k].type))}" for k, v in value.items()
        )
        return "{" + inner + "}"
    if isinstance(named, GraphQLEnumType):
        return str(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return '"' + value + '"'
    return str(value)


def generate(schema: GraphQLSchema, seed: int) -> Operation:
    """A random valid query for ``seed``; drafts that fail validation are drawn again."""
    rng = random.Random(seed)
    query_type = schema.query_type
    assert query_type is not None
    for _ in range(50):
        draft = _Draft(rng, schema)
        body = draft.selection_set(query_type, 1)
        text = draft.text(body)
        if not validate(schema, parse(text)):
            return Operation(text, {name: value for name, (_, value) in draft.variables.items()})
    raise AssertionError(f"no valid operation drawn for seed {seed}")
