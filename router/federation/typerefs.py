"""Type references as SDL strings ("[Int!]!") and the subtype rules used to merge them."""

from __future__ import annotations


def named_type(ref: str) -> str:
    return ref.replace("[", "").replace("]", "").replace("!", "")


def is_non_null(ref: str) -> bool:
    return ref.endswith("!")


def nullable(ref: str) -> str:
    return ref[:-1] if ref.endswith("!") else ref


def is_list(ref: str) -> bool:
    return nullable(ref).startswith("[")


def item(ref: str) -> str:
    return nullable(ref)[1:-1]


def is_subtype(sub: str, sup: str, implements: dict[str, set[str]]) -> bool:
    """True when a value of type `sub` is always acceptable where `sup` is expected (output)."""
    if is_non_null(sup):
        return is_non_null(sub) and is_subtype(nullable(sub), nullable(sup), implements)
    sub = nullable(sub)
    if is_list(sup):
        return is_list(sub) and is_subtype(item(sub), item(sup), implements)
    if is_list(sub):
        return False
    return sub == sup or sup in implements.get(sub, set())


def same_shape(a: str, b: str) -> bool:
    """Equal modulo nullability at every level."""
    return a.replace("!", "") == b.replace("!", "")
