"""`@fromContext` values: read from each entity's ancestors; one `_entities` per value set."""

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    FieldNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

from router import jsonio
from router.execution.merge import Path
from router.execution.representations import selected
from router.planning.nodes import ContextSource, ContextVariable, FetchNode

_MISSING = object()
REPRESENTATIONS = "representations"


def _ancestor(data: Any, path: Path, depth: int) -> dict[str, Any] | None:
    """The object `depth` fields below the root on the way to `path`."""
    value, fields = data, 0
    if depth == 0:
        return value if isinstance(value, dict) else None
    for segment in path:
        if isinstance(segment, str) and isinstance(value, dict):
            value, fields = value.get(segment), fields + 1
        elif isinstance(segment, int) and isinstance(value, list) and 0 <= segment < len(value):
            value = value[segment]
        else:
            return None
        if fields == depth and isinstance(value, dict):
            return value
        if fields > depth:
            return None
    return None


def _value(obj: dict[str, Any], source: ContextSource) -> Any:
    typename = obj.get("__typename")
    if typename is not None and typename not in source.typenames:
        return _MISSING
    values = selected(obj, source.selections)
    if values is None or not any(k != "__typename" for k in values):
        return _MISSING
    return _leaf(values)


def _leaf(value: Any) -> Any:
    """The one field a context selection picks, down to its leaf (`{ obj { a } }` is `a`)."""
    if isinstance(value, list):
        return [_leaf(item) for item in value]
    if isinstance(value, dict):
        return _leaf(next((v for k, v in value.items() if k != "__typename"), None))
    return value


def context_values(
    data: Any, path: Path, contexts: tuple[ContextVariable, ...]
) -> tuple[Any, ...] | None:
    """Each contextual argument's value for the entity at `path`, from the nearest ancestor
    that sets its context; None when a non-null argument gets no value."""
    values = []
    for variable in contexts:
        value = _MISSING
        for source in variable.sources:
            ancestor = _ancestor(data, path, source.depth)
            value = _MISSING if ancestor is None else _value(ancestor, source)
            if value is not _MISSING:
                break
        if value is _MISSING:
            value = None
        if value is None and variable.type.endswith("!"):
            return None
        values.append(value)
    return tuple(values)


class _Suffix(Visitor):
    def __init__(self, names: frozenset[str], suffix: str) -> None:
        super().__init__()
        self.names = names
        self.suffix = suffix

    def enter_variable(self, node: VariableNode, *_: Any) -> VariableNode | None:
        if node.name.value in self.names:
            return VariableNode(name=NameNode(value=node.name.value + self.suffix))
        return None


@lru_cache(maxsize=256)
def batched_operation(operation: str, names: frozenset[str], count: int) -> str:
    """`operation` with its `_entities` call repeated `count` times as `_0`, `_1`…, each with
    its own `$representations_<i>` and contextual variables `$<name>_<i>`."""
    document = parse(operation, no_location=True)
    op = document.definitions[0]
    assert isinstance(op, OperationDefinitionNode)
    renamed = names | {REPRESENTATIONS}
    definitions: list[VariableDefinitionNode] = []
    for definition in op.variable_definitions or ():
        if definition.variable.name.value in renamed:
            definitions.extend(visit(definition, _Suffix(renamed, f"_{i}")) for i in range(count))
        else:
            definitions.append(definition)
    entities = op.selection_set.selections[0]
    assert isinstance(entities, FieldNode)
    calls = []
    for index in range(count):
        call = visit(entities, _Suffix(renamed, f"_{index}"))
        calls.append(
            FieldNode(
                alias=NameNode(value=f"_{index}"),
                name=call.name,
                arguments=call.arguments,
                directives=call.directives,
                selection_set=call.selection_set,
            )
        )
    batched = OperationDefinitionNode(
        operation=op.operation,
        name=op.name,
        variable_definitions=tuple(definitions),
        directives=op.directives,
        selection_set=SelectionSetNode(selections=tuple(calls)),
    )
    return print_ast(batched)


@dataclass
class ContextBatches:
    """Representations grouped by their context values; `members[i]` lists the positions
    (in the fetch's representation list) that call `_i` received."""

    operation: str | None
    members: list[list[int]]


def contextual_request(
    fetch: FetchNode,
    representations: list[dict[str, Any]],
    values: list[tuple[Any, ...]],
    variables: dict[str, Any],
) -> ContextBatches:
    """Fill `variables` for a fetch with contextual arguments; several calls when entities
    have different context values."""
    distinct: dict[bytes, int] = {}
    members: list[list[int]] = []
    for position, entity_values in enumerate(values):
        key = jsonio.dumps_sorted(list(entity_values))
        batch = distinct.setdefault(key, len(members))
        if batch == len(members):
            members.append([])
        members[batch].append(position)
    names = [variable.name for variable in fetch.contexts]
    if len(members) == 1:
        variables[REPRESENTATIONS] = representations
        variables.update(zip(names, values[0], strict=True))
        return ContextBatches(None, members)
    for batch, positions in enumerate(members):
        variables[f"{REPRESENTATIONS}_{batch}"] = [representations[p] for p in positions]
        first = values[positions[0]]
        variables.update(
            (f"{name}_{batch}", value) for name, value in zip(names, first, strict=True)
        )
    operation = batched_operation(fetch.operation, frozenset(names), len(members))
    return ContextBatches(operation, members)


def unbatch(response: dict[str, Any], batches: ContextBatches, total: int) -> dict[str, Any]:
    """The response of a batched call as if one `_entities` call had answered in order."""
    if batches.operation is None:
        return response
    data = response.get("data")
    if isinstance(data, dict):
        answers = [data.get(f"_{batch}") for batch in range(len(batches.members))]
        lists = [a if isinstance(a, list) else [] for a in answers]
        flat: list[Any] = [entity for answer in lists for entity in answer]
        if all(len(a) == len(m) for a, m in zip(lists, batches.members, strict=True)):
            flat = [None] * total
            for answer, positions in zip(lists, batches.members, strict=True):
                for position, entity in zip(positions, answer, strict=True):
                    flat[position] = entity
        response["data"] = {"_entities": flat}
    response["errors"] = [_unbatch_error(raw, batches) for raw in response.get("errors") or ()]
    return response


def _unbatch_error(raw: Any, batches: ContextBatches) -> Any:
    path = raw.get("path") if isinstance(raw, dict) else None
    if not isinstance(path, list) or len(path) < 2 or not isinstance(path[0], str):
        return raw
    batch, index = path[0][1:], path[1]
    if not path[0].startswith("_") or not batch.isdigit() or not isinstance(index, int):
        return raw
    if int(batch) >= len(batches.members) or not 0 <= index < len(batches.members[int(batch)]):
        return raw
    return {**raw, "path": ["_entities", batches.members[int(batch)][index], *path[2:]]}
