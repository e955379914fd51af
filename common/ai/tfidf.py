"""TF-IDF vectors of short texts: the content similarity of courses where the sentence
embedding model (the `ai` extra) is not installed, or a course is not embedded yet.

Words are lower-cased letter-and-digit runs of two characters or more, common English words
left out; term frequency is sublinear (1 + log tf), inverse document frequency smoothed
(log((1 + n) / (1 + df)) + 1), rows unit length, so a dot product is the cosine similarity.
The vocabulary is the texts' own: vectors are comparable within one call only
(`tfidf_vectors`), or within one fitted corpus (`TfidfIndex`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import sparse

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


class TfidfIndex:
    """TF-IDF fitted once on a corpus (a catalogue), then asked with other texts.

    Where the corpus stays the same between questions, fitting it once saves tokenising and
    weighing all of it again each time. A question is weighed with the corpus's inverse
    document frequencies; its words the corpus lacks weigh as if in no document and count in
    its length (so a text with much the corpus lacks is less like any), though they match
    nothing. The corpus is kept sparse: a catalogue's vocabulary is large, its texts short.
    """

    def __init__(self, corpus: Sequence[str]) -> None:
        counts = [Counter(words(text)) for text in corpus]
        self._vocabulary = {w: i for i, w in enumerate(sorted(set().union(*counts)))}
        self._unseen_idf = float(np.log(1 + len(corpus)) + 1.0)
        rows, columns, values = [], [], []
        for row, counted in enumerate(counts):
            for word, count in counted.items():
                rows.append(row)
                columns.append(self._vocabulary[word])
                values.append(1.0 + np.log(count))
        shape = (len(corpus), len(self._vocabulary))
        matrix = sparse.csr_matrix((values, (rows, columns)), shape=shape, dtype=np.float32)
        document_frequency = np.bincount(columns, minlength=shape[1])
        self._idf = (np.log((1 + len(corpus)) / (1 + document_frequency)) + 1.0).astype(np.float32)
        weighed = matrix.multiply(self._idf[np.newaxis, :]).tocsr()
        norms = np.sqrt(np.asarray(weighed.multiply(weighed).sum(axis=1))).ravel()
        inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        self._unit = sparse.csr_matrix(sparse.diags(inverse.astype(np.float32)) @ weighed)

    def __len__(self) -> int:
        return int(self._unit.shape[0])

    def similarities(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Cosine similarity of each text (rows) to each corpus text (columns)."""
        questions = np.zeros((len(texts), len(self._vocabulary)), dtype=np.float32)
        lengths = np.zeros(len(texts), dtype=np.float32)
        for row, text in enumerate(texts):
            for word, count in Counter(words(text)).items():
                column = self._vocabulary.get(word)
                weight = 1.0 + float(np.log(count))
                if column is None:
                    lengths[row] += (weight * self._unseen_idf) ** 2
                else:
                    questions[row, column] = weight * self._idf[column]
                    lengths[row] += questions[row, column] ** 2
        norms = np.sqrt(lengths)[:, np.newaxis]
        questions = np.divide(questions, norms, out=np.zeros_like(questions), where=norms > 0)
        scores: npt.NDArray[np.float32] = np.asarray((self._unit @ questions.T).T, dtype=np.float32)
        return scores
