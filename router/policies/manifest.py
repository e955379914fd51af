"""Persisted query manifests in Apollo's format
(`{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id", "name",
"type", "body"}]}`): read for safelisting, written from a folder of `.graphql` operations.

A body is written as Apollo's manifest generator writes it: the operation and the fragments
it uses, operations first then fragments, each group sorted by name, printed by graphql's
printer; its id is the SHA-256 of that body in hex. (Apollo's generator also adds
`__typename` to every selection set for Apollo Client's cache by default; this one writes the
operations as they are.)"""

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    Node,
    OperationDefinitionNode,
    parse,
    print_ast,
    visit,
)
from graphql.language import Visitor

from router import jsonio

FORMAT = "apollo-persisted-query-manifest"


class ManifestError(ValueError):
    """A manifest that cannot be read, or operations that cannot be written as one."""


def print_sorted(definitions: Iterable[OperationDefinitionNode | FragmentDefinitionNode]) -> str:
    """Operations then fragments, each sorted by name, printed: the form manifests hold and
    the safelist compares."""
    chosen = list(definitions)
    operations = [d for d in chosen if isinstance(d, OperationDefinitionNode)]
    fragments = [d for d in chosen if isinstance(d, FragmentDefinitionNode)]
    operations.sort(key=lambda d: d.name.value if d.name else "")
    fragments.sort(key=lambda d: d.name.value)
    return print_ast(DocumentNode(definitions=(*operations, *fragments)))


def operation_id(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def read_manifests(paths: Iterable[Path]) -> dict[str, str]:
    """Each operation's body by id, from every manifest; an id given two bodies is an error."""
    bodies: dict[str, str] = {}
    for path in paths:
        for identifier, body in _operations(path):
            if bodies.setdefault(identifier, body) != body:
                raise ManifestError(f"{path}: id {identifier!r} has two different bodies")
    return bodies


def _operations(path: Path) -> Iterable[tuple[str, str]]:
    try:
        manifest = jsonio.loads(path.read_bytes())
    except OSError as error:
        raise ManifestError(f"{path}: {error.strerror}") from None
    except ValueError as error:
        raise ManifestError(f"{path}: not JSON ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ManifestError(f"{path}: not a persisted query manifest (format {FORMAT!r})")
    if manifest.get("version") != 1:
        raise ManifestError(f"{path}: manifest version {manifest.get('version')!r}, not 1")
    operations = manifest.get("operations")
    if not isinstance(operations, list):
        raise ManifestError(f"{path}: `operations` must be a list")
    for index, operation in enumerate(operations):
        if not (
            isinstance(operation, dict)
            and isinstance(operation.get("id"), str)
            and operation["id"]
            and isinstance(operation.get("body"), str)
        ):
            raise ManifestError(f"{path}: operations[{index}] needs an `id` and a `body` (text)")
        yield operation["id"], operation["body"]


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
        self.names.add(node.name.value)


def _spreads(node: Node) -> set[str]:
    spreads = _Spreads()
    visit(node, spreads)
    return spreads.names


def _used_fragments(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> list[FragmentDefinitionNode]:
    used: dict[str, FragmentDefinitionNode] = {}
    waiting = _spreads(operation)
    while waiting:
        name = waiting.pop()
        if name in used:
            continue
        fragment = fragments.get(name)
        if fragment is None:
            raise ManifestError(f"operation {_name(operation)!r} uses unknown fragment {name!r}")
        used[name] = fragment
        waiting |= _spreads(fragment)
    return list(used.values())


def _name(operation: OperationDefinitionNode) -> str:
    return operation.name.value if operation.name else ""


def _definitions(
    files: list[Path],
) -> tuple[dict[str, OperationDefinitionNode], dict[str, FragmentDefinitionNode]]:
    operations: dict[str, OperationDefinitionNode] = {}
    fragments: dict[str, FragmentDefinitionNode] = {}
    for file in files:
        try:
            document = parse(file.read_text(), no_location=True)
        except GraphQLError as error:
            raise ManifestError(f"{file}: {error.message}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise ManifestError(f"{file}: cannot be read ({error})") from None
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                name = definition.name.value
                if fragments.setdefault(name, definition) is not definition:
                    raise ManifestError(f"{file}: a second fragment named {name!r}")
            elif isinstance(definition, OperationDefinitionNode):
                if definition.name is None:
                    raise ManifestError(f"{file}: an operation without a name")
                name = definition.name.value
                if operations.setdefault(name, definition) is not definition:
                    raise ManifestError(f"{file}: a second operation named {name!r}")
            else:
                raise ManifestError(
                    f"{file}: holds a {definition.kind.replace('_', ' ')}, not an operation"
                )
    return operations, fragments


def manifest_from_folder(directory: Path) -> dict[str, Any]:
    """The manifest of every operation in the `.graphql` files under `directory`."""
    if not directory.is_dir():
        raise ManifestError(f"{directory}: not a folder")
    files = sorted(directory.rglob("*.graphql"))
    operations, fragments = _definitions(files)
    if not operations:
        raise ManifestError(f"{directory}: no operation in any .graphql file")
    entries = []
    for name, operation in sorted(operations.items()):
        body = print_sorted([operation, *_used_fragments(operation, fragments)])
        entries.append(
            {
                "id": operation_id(body),
                "name": name,
                "type": operation.operation.value,
                "body": body,
            }
        )
    return {"format": FORMAT, "version": 1, "operations": entries}
