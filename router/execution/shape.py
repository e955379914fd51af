"""Compiling the client's operation into a response shape, once per operation and conditions.

A shape says, per runtime type, which response keys to emit in which order, with what type
(non-null, list, enum, object) — so completing a response needs no GraphQL machinery.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.execution.values import VariableValues, get_directive_values
from graphql.type import GraphQLIncludeDirective, GraphQLSkipDirective

from router.policies.refusal import Refusal


@dataclass(frozen=True, slots=True)
class TypeRef:
    kind: str  # "non_null" | "list" | "leaf" | "enum" | "composite"
    of: "TypeRef | None" = None
    enum_values: frozenset[str] = frozenset()
    selection: "Selection | None" = None
    # The selection of the object type this is, itself or non-null (None for any other
    # type): completion takes such a value in one step, worked out once here.
    object_selection: "Selection | None" = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        ref = self.of if self.kind == "non_null" else self
        selection = ref.selection if ref is not None and ref.kind == "composite" else None
        object.__setattr__(self, "object_selection", selection)


@dataclass(frozen=True, slots=True)
class ShapeField:
    key: str  # "" for a fragment the caller may not read: its error sits at the object
    name: str
    parent: str
    type: TypeRef | None  # None for __typename
    refused: Refusal | None = None
    # A scalar (nullable or not) the caller may read: any value but null is taken as it is.
    plain: bool = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        ref = self.type
        if ref is not None and ref.kind == "non_null":
            ref = ref.of
        plain = ref is not None and ref.kind == "leaf" and self.refused is None and bool(self.key)
        object.__setattr__(self, "plain", plain)


@dataclass(slots=True)
class Selection:
    """The fields to emit for one selection set, resolved per runtime object type."""

    compiler: "ShapeCompiler"
    type_name: str
    nodes: tuple[SelectionSetNode, ...]
    by_type: dict[str, tuple[ShapeField, ...]] = field(default_factory=dict)

    def fields_for(self, runtime_type: str) -> tuple[ShapeField, ...] | None:
        found = self.by_type.get(runtime_type)
        if found is None:
            found = self.compiler.fields_for(self, runtime_type)
            if found is not None:
                self.by_type[runtime_type] = found
        return found


class ShapeCompiler:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
        refused: Mapping[int, Refusal] | None = None,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.refused = refused or {}  # by id() of the selection node

    def _included(self, node: FieldNode | FragmentSpreadNode | InlineFragmentNode) -> bool:
        if not node.directives:
            return True
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include and include.get("if") is False)

    def _applies(self, condition: str | None, runtime_type: str) -> bool:
        if condition is None or condition == runtime_type:
            return True
        abstract = self.schema.get_type(condition)
        runtime = self.schema.get_type(runtime_type)
        if isinstance(abstract, GraphQLInterfaceType | GraphQLUnionType) and isinstance(
            runtime, GraphQLObjectType
        ):
            return self.schema.is_sub_type(abstract, runtime)
        return False

    def _collect(
        self,
        node: SelectionSetNode,
        runtime_type: str,
        into: dict[str, list[FieldNode]],
        refusals: list[Refusal],
        spread: set[str],
    ) -> None:
        for selection in node.selections:
            if not self._included(selection):  # type: ignore[arg-type]
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                into.setdefault(key, []).append(selection)
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = (
                    selection.type_condition.name.value if selection.type_condition else None
                )
                selections = selection.selection_set
            elif isinstance(selection, FragmentSpreadNode):
                # Once per fragment, as the spec's CollectFields: linear in the document.
                fragment = self.fragments.get(selection.name.value)
                if fragment is None or fragment.name.value in spread:
                    continue
                spread.add(fragment.name.value)
                condition = fragment.type_condition.name.value
                selections = fragment.selection_set
            else:
                continue
            if not self._applies(condition, runtime_type):
                continue
            refusal = self.refused.get(id(selection))
            if refusal is not None:
                refusals.append(refusal)
            else:
                self._collect(selections, runtime_type, into, refusals, spread)

    def fields_for(self, selection: Selection, runtime_type: str) -> tuple[ShapeField, ...] | None:
        parent = self.schema.get_type(runtime_type)
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return None
        collected: dict[str, list[FieldNode]] = {}
        refusals: list[Refusal] = []
        spread: set[str] = set()
        for node in selection.nodes:
            self._collect(node, runtime_type, collected, refusals, spread)
        result = [ShapeField("", "", runtime_type, None, refusal) for refusal in refusals]
        for key, nodes in collected.items():
            name = nodes[0].name.value
            if name == "__typename":
                result.append(ShapeField(key, name, runtime_type, None))
                continue
            definition = parent.fields.get(name)
            if definition is None:
                continue
            refused = next((r for n in nodes if (r := self.refused.get(id(n))) is not None), None)
            subs = tuple(n.selection_set for n in nodes if n.selection_set is not None)
            type_ref = self.type_ref(definition.type, subs)
            result.append(ShapeField(key, name, runtime_type, type_ref, refused))
        return tuple(result)

    def type_ref(self, gql_type: GraphQLOutputType, subs: tuple[SelectionSetNode, ...]) -> TypeRef:
        if isinstance(gql_type, GraphQLNonNull):
            return TypeRef("non_null", self.type_ref(gql_type.of_type, subs))
        if isinstance(gql_type, GraphQLList):
            return TypeRef("list", self.type_ref(gql_type.of_type, subs))
        if isinstance(gql_type, GraphQLEnumType):
            return TypeRef("enum", enum_values=frozenset(gql_type.values))
        if isinstance(gql_type, GraphQLObjectType | GraphQLAbstractType):
            return TypeRef("composite", selection=Selection(self, gql_type.name, subs))
        return TypeRef("leaf")

    def root(self, operation: OperationDefinitionNode) -> Selection:
        root_type = self.schema.get_root_type(operation.operation)
        assert root_type is not None
        return Selection(self, root_type.name, (operation.selection_set,))
