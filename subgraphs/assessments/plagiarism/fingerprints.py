"""Winnowing (Schleimer, Wilkerson and Aiken, 2003; the method of MOSS): hash every k-gram
of tokens, and keep the smallest hash of each window of w consecutive k-grams (the rightmost
on ties). Any match of at least w + k - 1 tokens shares a kept hash, and the kept hashes are
about 2 / (w + 1) of all. Each kept hash remembers the characters its k-gram covers.

Hashes are signed 64-bit integers (a PostgreSQL bigint).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from subgraphs.assessments.plagiarism.tokens import Token


@dataclass(frozen=True, slots=True)
class Fingerprint:
    hash: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Winnowing:
    k: int  # tokens per k-gram
    window: int  # k-grams per window


CODE = Winnowing(k=10, window=4)
TEXT = Winnowing(k=5, window=4)


def stable_hash(text: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True
    )


def kgrams(tokens: Sequence[Token], k: int) -> list[Fingerprint]:
    """Every k-gram's hash with its span (one k-gram of everything when shorter)."""
    if not tokens:
        return []
    size = min(k, len(tokens))
    texts = [token.text for token in tokens]
    return [
        Fingerprint(
            stable_hash("\x1f".join(texts[i : i + size])), tokens[i].start, tokens[i + size - 1].end
        )
        for i in range(len(tokens) - size + 1)
    ]


def winnow(tokens: Sequence[Token], params: Winnowing) -> list[Fingerprint]:
    grams = kgrams(tokens, params.k)
    if len(grams) <= params.window:
        return [min(grams, key=lambda gram: gram.hash)] if grams else []
    kept: list[Fingerprint] = []
    last = -1
    for left in range(len(grams) - params.window + 1):
        best = left
        for i in range(left, left + params.window):
            if grams[i].hash <= grams[best].hash:
                best = i
        if best != last:
            kept.append(grams[best])
            last = best
    return kept
