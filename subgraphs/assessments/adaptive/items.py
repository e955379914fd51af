"""The parameters an adaptive test uses for a question: the calibrated ones, or priors from its
authored difficulty while it has too few responses (model PRIOR)."""

from __future__ import annotations

from subgraphs.assessments.adaptive.irt import Item
from subgraphs.assessments.adaptive.models import ItemParametersRow
from subgraphs.assessments.models import QuestionRow
from subgraphs.assessments.questions import QuestionKind

PRIOR_DIFFICULTY = {"EASY": -1.0, "MEDIUM": 0.0, "HARD": 1.0}
OBJECTIVE_KINDS = frozenset(
    {
        QuestionKind.SINGLE_CHOICE,
        QuestionKind.MULTIPLE_CHOICE,
        QuestionKind.TRUE_FALSE,
        QuestionKind.SHORT_ANSWER,
        QuestionKind.NUMERIC,
    }
)


def prior_item(question: QuestionRow) -> Item:
    return Item(1.0, PRIOR_DIFFICULTY.get(question.difficulty, 0.0), 0.0)


def guessing_rate(question: QuestionRow) -> float | None:
    """1/choices for a question answered by picking one of a few (a 3PL candidate)."""
    if question.kind == QuestionKind.TRUE_FALSE:
        return 0.5
    if question.kind == QuestionKind.SINGLE_CHOICE:
        return 1 / max(2, len(question.spec.get("choices", [])))
    return None


def item_of(question: QuestionRow, parameters: ItemParametersRow | None) -> Item:
    if parameters is None or parameters.model == "PRIOR":
        return prior_item(question)
    return Item(parameters.a, parameters.b, parameters.c)
