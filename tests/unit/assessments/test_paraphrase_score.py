"""The paraphrase score on a few essays, with the real all-MiniLM-L6-v2 model (loaded once
per test session: the model is cached per process)."""

from __future__ import annotations

from subgraphs.assessments.plagiarism.paraphrase import EmbeddedEssay, paraphrase_match
from subgraphs.assessments.plagiarism.paraphrase_check import embedded
from subgraphs.assessments.plagiarism.sentences import MAX_SENTENCES, split_sentences

ORIGINAL = (
    "Bees carry pollen from flower to flower while they collect nectar. "
    "Without bees many fruits and vegetables would not grow. "
    "Pesticides and the loss of wild meadows have made bees much rarer."
)
REWORDED = (
    "As they gather nectar, bees move pollen between blossoms. "
    "Lots of our fruit and vegetable crops would fail if there were no bees. "
    "Bees have become far scarcer because of chemical sprays and disappearing meadows."
)
SAME_TOPIC = (
    "A hive has one queen and thousands of workers. "
    "Workers tell each other where flowers are with a dance. "
    "Beekeepers take only the honey the colony can spare."
)


def _essay(text: str) -> EmbeddedEssay:
    essay = embedded(text)
    assert essay is not None
    return essay


def test_a_reworded_essay_matches_sentence_by_sentence() -> None:
    match = paraphrase_match(_essay(REWORDED), _essay(ORIGINAL))
    assert match.score == 1.0
    firsts = [
        (REWORDED[s.left.start : s.left.end].split()[0], ORIGINAL[s.right.start :].split()[0])
        for s in match.spans
    ]
    assert firsts == [("As", "Bees"), ("Lots", "Without"), ("Bees", "Pesticides")]


def test_an_essay_on_the_same_topic_in_its_own_words_does_not_match() -> None:
    assert paraphrase_match(_essay(SAME_TOPIC), _essay(ORIGINAL)).score == 0.0
    assert paraphrase_match(_essay(ORIGINAL), _essay(SAME_TOPIC)).spans == []


def test_the_shorter_essay_decides_the_share() -> None:
    """One reworded sentence out of the shorter essay's two: half of it is someone else's,
    however long the other essay."""
    short = "As they gather nectar, bees move pollen between blossoms. I like honey on toast."
    match = paraphrase_match(_essay(ORIGINAL + " " + SAME_TOPIC), _essay(short))
    assert match.score == 0.5
    assert [short[s.right.start : s.right.end].split()[0] for s in match.spans] == ["As"]


def test_sentences_are_bounded_and_fragments_skipped() -> None:
    assert split_sentences("Yes. No!\n\nTitle\n") == []
    found = split_sentences("  Bees move pollen around.  Then what?\nThey make honey too.")
    assert [(s.text, s.start) for s in found] == [
        ("Bees move pollen around.", 2),
        ("They make honey too.", 39),
    ]
    many = split_sentences("One more sentence here. " * (MAX_SENTENCES + 50))
    assert len(many) == MAX_SENTENCES
