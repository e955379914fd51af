"""How much of one essay is another's reworded: the share of the shorter essay's sentences
whose closest sentence in the other (cosine of their embeddings) reaches SENTENCE_BAR.

Two essays on one topic share its words and its ideas, and their sentences are close (cosine
around 0.5 to 0.7) without being the same statement; a reworded sentence keeps its meaning and
stays above the bar. Counting sentences above a bar, rather than averaging similarities, keeps
a same-topic essay near 0 however close its topic. The matched sentences give the spans on
both sides, as fingerprints' do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from common.ai.embeddings import Vectors
from subgraphs.assessments.plagiarism.compare import MatchedSpan, Span

SENTENCE_BAR = 0.7


@dataclass(frozen=True, slots=True)
class EmbeddedEssay:
    spans: Sequence[Span]  # one per sentence, in order
    vectors: Vectors  # one unit-length row per sentence

    @property
    def centroid(self) -> Vectors:
        """The sentences' mean direction (unit length): finds candidates, scores nothing."""
        mean = self.vectors.mean(axis=0)
        norm = float(np.linalg.norm(mean))
        unit: Vectors = (mean / norm if norm else mean).astype(np.float32)
        return unit


@dataclass(frozen=True, slots=True)
class ParaphraseMatch:
    score: float
    spans: list[MatchedSpan]


def paraphrase_match(
    left: EmbeddedEssay, right: EmbeddedEssay, bar: float = SENTENCE_BAR
) -> ParaphraseMatch:
    if not len(left.vectors) or not len(right.vectors):
        return ParaphraseMatch(0.0, [])
    similarity = left.vectors @ right.vectors.T
    left_best = similarity.max(axis=1)
    right_best = similarity.max(axis=0)
    share = (
        float((left_best >= bar).mean())
        if len(left.vectors) <= len(right.vectors)
        else float((right_best >= bar).mean())
    )
    best_of_left = similarity.argmax(axis=1)
    spans = [
        MatchedSpan(left.spans[i], right.spans[int(best_of_left[i])])
        for i in range(len(left.vectors))
        if left_best[i] >= bar
    ]
    return ParaphraseMatch(share, spans)
