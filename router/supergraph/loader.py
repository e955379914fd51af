"""Reading a supergraph SDL (link v1, join v0.1 to v0.5) into the typed model."""

from graphql import (
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    GraphQLError,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    build_ast_schema,
    parse,
    value_from_ast_untyped,
)

from router.federation.links import Link
from router.supergraph.access import read_access_rules
from router.supergraph.api_schema import build_api_schema
from router.supergraph.costs import read_cost_directives
from router.supergraph.errors import SupergraphError
from router.supergraph.links import supergraph_links
from router.supergraph.model import (
    ContextArgument,
    FieldJoin,
    Subgraph,
    Supergraph,
    TypeInfo,
    TypeJoin,
)

_KINDS: dict[type, str] = {
    ObjectTypeDefinitionNode: "object",
    InterfaceTypeDefinitionNode: "interface",
    UnionTypeDefinitionNode: "union",
    EnumTypeDefinitionNode: "enum",
    InputObjectTypeDefinitionNode: "input",
    ScalarTypeDefinitionNode: "scalar",
}


def _args(directive: DirectiveNode) -> dict[str, object]:
    return {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()}


def _directives(node: TypeDefinitionNode, name: str) -> list[dict[str, object]]:
    return [_args(d) for d in node.directives or () if d.name.value == name]


def _opt(args: dict[str, object], name: str) -> str | None:
    value = args.get(name)
    return None if value is None else str(value)


def _read_graphs(document: DocumentNode, join: Link) -> tuple[dict[str, str], dict[str, Subgraph]]:
    graph_directive = join.directive("graph")
    enum_to_name: dict[str, str] = {}
    subgraphs: dict[str, Subgraph] = {}
    for definition in document.definitions:
        if isinstance(definition, EnumTypeDefinitionNode) and definition.name.value == (
            f"{join.prefix}__Graph"
        ):
            for value in definition.values or ():
                for directive in value.directives or ():
                    if directive.name.value == graph_directive:
                        args = _args(directive)
                        name = str(args["name"])
                        enum_to_name[value.name.value] = name
                        subgraphs[name] = Subgraph(name, str(args.get("url") or ""))
    if not subgraphs:
        raise SupergraphError(f"the supergraph declares no subgraphs ({join.prefix}__Graph)")
    return enum_to_name, subgraphs


def _context_arguments(value: object) -> tuple[ContextArgument, ...]:
    if not isinstance(value, list):
        return ()
    try:
        return tuple(
            ContextArgument(
                str(item["name"]), str(item["type"]), str(item["context"]), str(item["selection"])
            )
            for item in value
        )
    except (KeyError, TypeError) as error:
        raise SupergraphError(f"invalid join__field(contextArguments: {value!r})") from error


def _read_contexts(document: DocumentNode, links: dict[str, Link]) -> dict[str, frozenset[str]]:
    if "context" not in links:
        return {}
    directive = links["context"].directive("context")
    setters: dict[str, set[str]] = {}
    for definition in document.definitions:
        if isinstance(definition, TypeDefinitionNode):
            for args in _directives(definition, directive):
                setters.setdefault(str(args.get("name")), set()).add(definition.name.value)
    return {name: frozenset(types) for name, types in setters.items()}


def _type_info(node: TypeDefinitionNode, join: Link, graphs: dict[str, str]) -> TypeInfo:
    info = TypeInfo(node.name.value, _KINDS[type(node)])
    for args in _directives(node, join.directive("type")):
        info.joins.append(
            TypeJoin(
                graph=graphs[str(args["graph"])],
                key=_opt(args, "key"),
                extension=bool(args.get("extension", False)),
                resolvable=bool(args.get("resolvable", True)),
                is_interface_object=bool(args.get("isInterfaceObject", False)),
            )
        )
    for args in _directives(node, join.directive("implements")):
        info.implements.setdefault(graphs[str(args["graph"])], set()).add(str(args["interface"]))
    for args in _directives(node, join.directive("unionMember")):
        info.members.setdefault(graphs[str(args["graph"])], set()).add(str(args["member"]))
    info.graphs = frozenset(j.graph for j in info.joins) or frozenset(graphs.values())
    field_directive = join.directive("field")
    fields = getattr(node, "fields", None) or ()
    for field_node in fields:
        joins: list[FieldJoin] = []
        for directive in field_node.directives or ():
            if directive.name.value != field_directive:
                continue
            args = _args(directive)
            graph = _opt(args, "graph")
            joins.append(
                FieldJoin(
                    graph=graphs[graph] if graph is not None else None,
                    requires=_opt(args, "requires"),
                    provides=_opt(args, "provides"),
                    type=_opt(args, "type"),
                    external=bool(args.get("external", False)),
                    override=_opt(args, "override"),
                    override_label=_opt(args, "overrideLabel"),
                    used_overridden=bool(args.get("usedOverridden", False)),
                    context_arguments=_context_arguments(args.get("contextArguments")),
                )
            )
        info.fields[field_node.name.value] = joins
    return info


def _fill_possible_types(supergraph: Supergraph, has_implements: bool) -> None:
    schema = supergraph.schema
    for info in supergraph.types.values():
        if info.kind not in ("interface", "union"):
            if info.kind == "object":
                info.possible = {None: (info.name,)}
            continue
        gql_type = schema.type_map[info.name]
        every = tuple(sorted(t.name for t in schema.get_possible_types(gql_type)))  # type: ignore[arg-type]
        info.possible = {None: every}
        for graph in supergraph.subgraphs:
            if info.kind == "union" and info.members:
                members = info.members.get(graph, set())
            elif info.kind == "union" or not has_implements:
                members = {t for t in every if graph in supergraph.types[t].graphs}
            else:
                members = {
                    t
                    for t in every
                    if info.name in supergraph.types[t].implements.get(graph, set())
                }
            info.possible[graph] = tuple(sorted(members))


def load_supergraph(sdl: str) -> Supergraph:
    try:
        document = parse(sdl)
    except GraphQLError as error:
        raise SupergraphError(f"the supergraph SDL does not parse: {error.message}") from error
    links = supergraph_links(document)
    join = links["join"]
    graphs, subgraphs = _read_graphs(document, join)
    types: dict[str, TypeInfo] = {}
    root_names = {"query": "Query", "mutation": None, "subscription": None}
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode):
            for op in definition.operation_types:
                root_names[op.operation.value] = op.type.name.value
        elif isinstance(definition, TypeDefinitionNode) and type(definition) in _KINDS:
            name = definition.name.value
            if name.startswith((f"{join.prefix}__", "link__")):
                continue
            types[name] = _type_info(definition, join, graphs)
    try:
        schema = build_ast_schema(document, assume_valid_sdl=True)
        api_schema = build_api_schema(document, links)
    except (GraphQLError, TypeError) as error:
        raise SupergraphError(f"the supergraph SDL is not a valid schema: {error}") from error
    if root_names.get("mutation") is None and "Mutation" in types:
        root_names["mutation"] = "Mutation"
    if root_names.get("subscription") is None and "Subscription" in types:
        root_names["subscription"] = "Subscription"
    supergraph = Supergraph(
        schema=schema,
        api_schema=api_schema,
        subgraphs=subgraphs,
        types=types,
        query_type=root_names["query"] or "Query",
        mutation_type=root_names["mutation"],
        subscription_type=root_names["subscription"],
        access=read_access_rules(document, links),
        contexts=_read_contexts(document, links),
        costs=read_cost_directives(document, links),
    )
    has_implements = any(info.implements for info in types.values())
    _fill_possible_types(supergraph, has_implements)
    return supergraph
