"""What one answer contributes to detection: its winnowed fingerprints (code or text), the
starter code's k-grams removed, and for text its LSH band keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from subgraphs.assessments.plagiarism import fingerprints, minhash
from subgraphs.assessments.plagiarism.fingerprints import Fingerprint
from subgraphs.assessments.plagiarism.tokens import code_tokens, text_tokens

TEXT_SHINGLE = 3  # words per MinHash shingle


class AnswerKind(StrEnum):
    CODE = "CODE"
    TEXT = "TEXT"


class Method(StrEnum):
    """What found a match: shared fingerprints, or sentence embeddings (paraphrase)."""

    FINGERPRINT = "FINGERPRINT"
    EMBEDDING = "EMBEDDING"


@dataclass(frozen=True, slots=True)
class Analysis:
    kind: AnswerKind
    fingerprints: list[Fingerprint]
    band_keys: list[int] = field(default_factory=list)

    @property
    def hashes(self) -> set[int]:
        return {fp.hash for fp in self.fingerprints}


def answer_text(kind: AnswerKind, response: dict[str, object]) -> str:
    """The code or essay text of an answer's response ("" without one)."""
    text = response.get("code" if kind is AnswerKind.CODE else "text")
    return text if isinstance(text, str) else ""


def analyse_code(source: str, starter: str = "") -> Analysis:
    """The answer's fingerprints less every k-gram of the starter code."""
    tokens = code_tokens(source)
    excluded = {
        gram.hash for gram in fingerprints.kgrams(code_tokens(starter), fingerprints.CODE.k)
    }
    kept = [fp for fp in fingerprints.winnow(tokens, fingerprints.CODE) if fp.hash not in excluded]
    return Analysis(AnswerKind.CODE, kept)


def analyse_text(text: str) -> Analysis:
    tokens = text_tokens(text)
    shingles = [gram.hash for gram in fingerprints.kgrams(tokens, TEXT_SHINGLE)]
    return Analysis(
        AnswerKind.TEXT,
        fingerprints.winnow(tokens, fingerprints.TEXT),
        minhash.band_keys(shingles) if shingles else [],
    )
