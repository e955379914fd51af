"""Deterministic subgraph data: every value is a function of the data seed, the object's
identity, the field and its arguments, so the same entity answers alike in every subgraph.

Entities have the identity "<ConcreteType>-<n>" (n < POOL); every ID field holds its object's
identity, so a representation's ID key names the entity and its concrete type. Objects that
are not entities get "<parent identity>/<field><args>.<index>". Nullable fields are sometimes
null, some fields fail with an error, non-null ones are now and then null (which the subgraph
turns into an error), and some entities are unknown to some subgraphs (`unknown_here`).
"""

import hashlib
import json
from typing import Any

POOL = 5
DATA_SEED = 7


def digest(*parts: Any) -> int:
    text = json.dumps([DATA_SEED, *parts], sort_keys=True, default=str)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def entity_identity(typename: str, n: int) -> str:
    return f"{typename}-{n}"


def parse_identity(value: object) -> tuple[str, int] | None:
    """The concrete type and number of an entity from any ID value under it."""
    if not isinstance(value, str):
        return None
    head = value.split("/", 1)[0]
    typename, _, number = head.rpartition("-")
    if not typename or not number.isdigit() or int(number) >= POOL:
        return None
    return typename, int(number)


def scalar(kind: str, key: tuple[Any, ...]) -> Any:
    number = digest(*key, "scalar")
    if kind == "Int":
        return number % 100
    if kind == "Float":
        return (number % 1000) / 8
    if kind == "Boolean":
        return number % 2 == 0
    return f"{key[1]}-{number % 1000}"


def is_null(key: tuple[Any, ...], non_null: bool) -> bool:
    """Nullable fields are null one time in seven; non-null ones (breaking their contract,
    which the subgraph turns into an error) one time in twenty-five."""
    return digest(*key, "null") % (25 if non_null else 7) == 0


def raises(key: tuple[Any, ...]) -> bool:
    return digest(*key, "error") % 20 == 0


def list_length(key: tuple[Any, ...]) -> int:
    return digest(*key, "length") % 4


def pick(key: tuple[Any, ...], choices: list[str], salt: str) -> str:
    return choices[digest(*key, salt) % len(choices)]


def entity_number(key: tuple[Any, ...]) -> int:
    return digest(*key, "entity") % POOL


def unknown_here(identity: str, subgraph: str) -> bool:
    """One entity in eleven is missing from each subgraph that resolves it by key: `_entities`
    answers null for it (no error), as a subgraph does for an entity it does not hold."""
    return digest(identity, subgraph, "unknown") % 11 == 0
