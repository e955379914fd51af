"""An operation made ready to run: its plan and its response shapes, cached together."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    Node,
    OperationDefinitionNode,
    VariableNode,
)
from graphql.execution.values import VariableValues

from router.execution.complete import Completer
from router.execution.shape import Selection, ShapeCompiler
from router.execution.shaping import shape_response
from router.planning.nodes import QueryPlan
from router.policies.authorization import Guard, Verdict
from router.policies.refusal import Refusal

_INTROSPECTION = frozenset({"__schema", "__type"})
_MAX_SHAPES = 64
_MAX_VARIANTS = 16


def _condition_variables(node: Node, into: set[str]) -> None:
    if isinstance(node, DirectiveNode) and node.name.value in ("skip", "include"):
        for argument in node.arguments or ():
            if isinstance(argument.value, VariableNode):
                into.add(argument.value.name.value)
        return
    for key in node.keys:
        value = getattr(node, key, None)
        if isinstance(value, Node):
            _condition_variables(value, into)
        elif isinstance(value, tuple | list):
            for item in value:
                if isinstance(item, Node) and not isinstance(item, BooleanValueNode):
                    _condition_variables(item, into)


@dataclass
class PreparedOperation:
    document: DocumentNode
    operation: OperationDefinitionNode
    plan: QueryPlan
    condition_variables: tuple[str, ...] = ()
    introspection: bool = False
    shapes: dict[tuple[Any, ...], Selection] = field(default_factory=dict)
    # Authorization: the places that need something of the caller (their order is the
    # index a verdict names), what this variant refuses (by selection node identity), and
    # the variants planned without what some callers may not read, by verdict.
    guards: tuple[Guard, ...] = ()
    refused: dict[int, Refusal] = field(default_factory=dict)
    variants: dict[Verdict, "PreparedOperation"] = field(default_factory=dict)
    labels: frozenset[str] = frozenset()  # the progressive override labels it was planned with

    @classmethod
    def create(
        cls,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        plan: QueryPlan,
        *,
        guards: tuple[Guard, ...] = (),
        refused: dict[int, Refusal] | None = None,
        labels: frozenset[str] = frozenset(),
    ) -> "PreparedOperation":
        names: set[str] = set()
        _condition_variables(document, names)
        introspection = any(
            isinstance(s, FieldNode) and s.name.value in _INTROSPECTION
            for s in operation.selection_set.selections
        )
        return cls(
            document,
            operation,
            plan,
            tuple(sorted(names)),
            introspection,
            guards=guards,
            refused=refused or {},
            labels=labels,
        )

    def remember_variant(self, key: Verdict, variant: "PreparedOperation") -> None:
        if len(self.variants) >= _MAX_VARIANTS:
            self.variants.clear()
        self.variants[key] = variant

    def shape(self, schema: GraphQLSchema, variables: VariableValues) -> Selection:
        key = tuple(variables.coerced.get(name) for name in self.condition_variables)
        shape = self.shapes.get(key)
        if shape is None:
            fragments = {
                d.name.value: d
                for d in self.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            shape = ShapeCompiler(schema, fragments, variables, self.refused).root(self.operation)
            if len(self.shapes) >= _MAX_SHAPES:
                self.shapes.clear()
            self.shapes[key] = shape
        return shape

    def respond(
        self,
        schema: GraphQLSchema,
        data: dict[str, Any],
        errors: list[dict[str, Any]],
        variables: VariableValues,
        raw_variables: Mapping[str, Any],
        abstract: frozenset[str],
    ) -> dict[str, Any]:
        if self.introspection:
            name = self.operation.name.value if self.operation.name else None
            shaped = shape_response(schema, self.document, data, raw_variables, name)
            errors = errors + [dict(e.formatted) for e in shaped.errors or ()]
            result = shaped.data
        else:
            result = Completer(abstract, errors).complete_root(data, self.shape(schema, variables))
        body: dict[str, Any] = {"data": result}
        if errors:
            body["errors"] = errors
        return body
