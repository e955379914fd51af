"""Name ordering close to JavaScript's `localeCompare`, which Apollo sorts definitions with."""

from __future__ import annotations


def _primary(char: str) -> tuple[int, str]:
    if char.isalpha():
        return 2, char.lower()
    if char.isdigit():
        return 1, char
    return 0, char


def locale_key(name: str) -> tuple[tuple[tuple[int, str], ...], tuple[bool, ...]]:
    """Letters compare case-insensitively first; punctuation sorts before digits and letters."""
    return tuple(_primary(c) for c in name), tuple(c.isupper() for c in name)
