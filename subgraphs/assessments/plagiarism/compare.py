"""How similar two fingerprinted answers are, and where.

The score is the share of the smaller answer's fingerprints found in the other (1.0: one is
contained in the other), so that adding unrelated code or sentences to a copy does not hide
it. Matched spans pair the characters of one answer with those of the other that share a
fingerprint, merged where they touch on both sides, for highlighting.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from subgraphs.assessments.plagiarism.fingerprints import Fingerprint


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class MatchedSpan:
    left: Span
    right: Span


def containment(left: Collection[int], right: Collection[int]) -> float:
    """Shared distinct hashes over the smaller answer's distinct hashes."""
    a, b = set(left), set(right)
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def matched_spans(left: Sequence[Fingerprint], right: Sequence[Fingerprint]) -> list[MatchedSpan]:
    first_in_right: dict[int, Fingerprint] = {}
    for fingerprint in right:
        first_in_right.setdefault(fingerprint.hash, fingerprint)
    pairs = sorted(
        (fp.start, fp.end, first_in_right[fp.hash].start, first_in_right[fp.hash].end)
        for fp in left
        if fp.hash in first_in_right
    )
    merged: list[list[int]] = []
    for a_start, a_end, b_start, b_end in pairs:
        if merged:
            last = merged[-1]
            if a_start <= last[1] and b_start <= last[3] and b_end >= last[2]:
                last[1], last[2], last[3] = (
                    max(last[1], a_end),
                    min(last[2], b_start),
                    max(last[3], b_end),
                )
                continue
        merged.append([a_start, a_end, b_start, b_end])
    return [MatchedSpan(Span(a, b), Span(c, d)) for a, b, c, d in merged]
