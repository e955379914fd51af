"""TF-IDF vectors of short texts: the content similarity of courses where the sentence
embedding model (the `ai` extra) is not installed, or a course is not embedded yet.

Words are lower-cased letter-and-digit runs of two characters or more, common English words
left out; term frequency is sublinear (1 + log tf), inverse document frequency smoothed
(log((1 + n) / (1 + df)) + 1), rows unit length, so a dot product is the cosine similarity.
The vocabulary is the texts' own: vectors are comparable within one call only.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Final

import numpy as np

from common.ai.embeddings import Vectors

_WORD: Final = re.compile(r"[^\W_]{2,}")
# fmt: off
STOP_WORDS: Final = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "how", "in", "into", "is",
    "it", "its", "of", "on", "or", "that", "the", "this", "to", "with", "you", "your", "we",
    "our", "what", "when", "which", "who", "will", "can", "all", "about", "learn", "learning",
    "course", "introduction", "intro",
})
# fmt: on


def words(text: str) -> list[str]:
    return [word for word in _WORD.findall(text.lower()) if word not in STOP_WORDS]


def tfidf_vectors(texts: Sequence[str]) -> Vectors:
    """One unit row per text (a zero row for a text without words), float32."""
    counts = [Counter(words(text)) for text in texts]
    vocabulary = {word: index for index, word in enumerate(sorted(set().union(*counts)))}
    matrix = np.zeros((len(texts), len(vocabulary)), dtype=np.float32)
    for row, counted in enumerate(counts):
        for word, count in counted.items():
            matrix[row, vocabulary[word]] = 1.0 + np.log(count)
    document_frequency = (matrix > 0).sum(axis=0)
    matrix *= (np.log((1 + len(texts)) / (1 + document_frequency)) + 1.0).astype(np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: Vectors = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
    return unit
