"""Plagiarism detection measured: precision, recall and F1 per obfuscation level at the
default thresholds on the labelled corpus (bench/plagiarism_corpus.py), text by fingerprints
alone and (with the `ai` extra) with the paraphrase stage, then the time to check one
submission with 1,000 and 10,000 stored (bench/plagiarism_timing.py).

    PYTHONPATH=$PWD .venv/bin/python bench/plagiarism.py [--sizes 1000 10000] [--probes 30]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from functools import cache

from plagiarism_corpus import CODE_LEVELS, TEXT_LEVELS, Pair, code_pairs, text_pairs
from plagiarism_timing import timings

from common.ai import embeddings
from subgraphs.assessments.plagiarism.analysis import analyse_code, analyse_text
from subgraphs.assessments.plagiarism.compare import containment
from subgraphs.assessments.plagiarism.paraphrase import EmbeddedEssay, paraphrase_match
from subgraphs.assessments.plagiarism.paraphrase_check import embedded
from subgraphs.assessments.plagiarism.thresholds import CODE_THRESHOLD, TEXT_THRESHOLD


def code_score(pair: Pair) -> float:
    return containment(analyse_code(pair.left).hashes, analyse_code(pair.right).hashes)


def text_score(pair: Pair) -> float:
    """Zero unless the two share an LSH band: the detector never compares them otherwise."""
    left, right = analyse_text(pair.left), analyse_text(pair.right)
    if not set(left.band_keys) & set(right.band_keys):
        return 0.0
    return containment(left.hashes, right.hashes)


@cache
def _embedded(text: str) -> EmbeddedEssay | None:
    return embedded(text)


def text_with_embeddings_score(pair: Pair) -> float:
    """The higher of the fingerprint and paraphrase scores, as the checker keeps them (its
    candidates are the 20 closest answers: here the pair itself)."""
    left, right = _embedded(pair.left), _embedded(pair.right)
    paraphrase = 0.0 if left is None or right is None else paraphrase_match(left, right).score
    return max(text_score(pair), paraphrase)


def _row(name: str, pairs: Sequence[Pair], scores: Sequence[float], threshold: float) -> str:
    tp = sum(1 for p, s in zip(pairs, scores, strict=True) if p.plagiarised and s >= threshold)
    fp = sum(1 for p, s in zip(pairs, scores, strict=True) if not p.plagiarised and s >= threshold)
    fn = sum(1 for p, s in zip(pairs, scores, strict=True) if p.plagiarised and s < threshold)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    positives = sum(p.plagiarised for p in pairs)
    return (
        f"| {name} | {positives} | {len(pairs) - positives} | {precision:.2f} | {recall:.2f} "
        f"| {f1:.2f} |"
    )


def quality(
    title: str,
    pairs: Sequence[Pair],
    levels: Sequence[str],
    score: Callable[[Pair], float],
    threshold: float,
) -> None:
    scores = [score(pair) for pair in pairs]
    print(f"\n{title} at threshold {threshold}\n")
    print("| level | positives | negatives | precision | recall | F1 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for level in levels:
        chosen = [i for i, p in enumerate(pairs) if p.level == level]
        print(_row(level, [pairs[i] for i in chosen], [scores[i] for i in chosen], threshold))
    print(_row("all", pairs, scores, threshold))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--probes", type=int, default=30, help="new submissions timed per size")
    args = parser.parse_args()
    quality("Code", code_pairs(), CODE_LEVELS, code_score, CODE_THRESHOLD)
    quality("Text (shingles and LSH)", text_pairs(), TEXT_LEVELS, text_score, TEXT_THRESHOLD)
    if embeddings.available():
        quality(
            "Text (shingles and LSH, and sentence embeddings)",
            text_pairs(),
            TEXT_LEVELS,
            text_with_embeddings_score,
            TEXT_THRESHOLD,
        )
    else:
        print("\nText with sentence embeddings: skipped, the `ai` extra is not installed")
    if args.sizes:
        timings(args.sizes, args.probes)


if __name__ == "__main__":
    main()
