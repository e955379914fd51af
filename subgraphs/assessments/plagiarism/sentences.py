"""An essay cut into sentences, each with the characters it covers, the text bounded so that
one answer never costs more than MAX_SENTENCES encodings."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CHARS = 20_000
MAX_SENTENCES = 200
MIN_WORDS = 3  # shorter pieces ("Yes.", headings) say too little to match on

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    start: int
    end: int


def split_sentences(text: str) -> list[Sentence]:
    found: list[Sentence] = []
    for match in _SENTENCE.finditer(text[:MAX_CHARS]):
        piece = match.group()
        stripped = piece.strip()
        if len(_WORD.findall(stripped)) < MIN_WORDS:
            continue
        start = match.start() + piece.index(stripped)
        found.append(Sentence(stripped, start, start + len(stripped)))
        if len(found) == MAX_SENTENCES:
            break
    return found
