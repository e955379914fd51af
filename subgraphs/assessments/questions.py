"""Question kinds: what each one stores (its spec), what learners may see, and how an
answer to it is graded when the grading needs no person and no sandbox.

A spec is JSON kept with the question:
- SINGLE_CHOICE, MULTIPLE_CHOICE: {"choices": [{"id", "text", "correct"}]}
- TRUE_FALSE: {"answer": bool}
- SHORT_ANSWER: {"accepted": [{"value", "match": EXACT | PATTERN, "caseSensitive"}]}
- NUMERIC: {"answer": float, "tolerance": float}
- ESSAY: {"rubric": [{"criterion", "points"}]}  (graded by a person)
- CODE: {"starter": str, "tests": [{"name", "code", "hidden"}]}  (graded by the grader worker)

A response is JSON kept with the answer: {"choiceIds": [...]}, {"boolean": b}, {"text": s},
{"number": x} or {"code": s}, whichever the kind takes.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

import regex

from common.errors import BadUserInput

MAX_PROMPT: Final = 20_000
MAX_CHOICES: Final = 20
MAX_ACCEPTED: Final = 20
MAX_PATTERN: Final = 300
MAX_TEXT_ANSWER: Final = 500
MAX_ESSAY: Final = 50_000
MAX_CODE: Final = 64 * 1024
MAX_TESTS: Final = 50
MAX_TEST_CODE: Final = 20_000
MAX_RUBRIC: Final = 20
# Instructors write the patterns; a catastrophic one must not stall the service.
PATTERN_TIMEOUT: Final = 0.05  # seconds


class QuestionKind(StrEnum):
    SINGLE_CHOICE = "SINGLE_CHOICE"
    MULTIPLE_CHOICE = "MULTIPLE_CHOICE"
    TRUE_FALSE = "TRUE_FALSE"
    SHORT_ANSWER = "SHORT_ANSWER"
    NUMERIC = "NUMERIC"
    ESSAY = "ESSAY"
    CODE = "CODE"


class Difficulty(StrEnum):
    EASY = "EASY"
    MEDIUM = "MEDIUM"
    HARD = "HARD"


class MatchMode(StrEnum):
    EXACT = "EXACT"  # equal after trimming and collapsing whitespace
    PATTERN = "PATTERN"  # the whole answer matches a regular expression


CHOICE_KINDS: Final = frozenset({QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE})
MANUAL_KINDS: Final = frozenset({QuestionKind.ESSAY})


@dataclass(frozen=True, slots=True)
class Choice:
    text: str
    correct: bool


@dataclass(frozen=True, slots=True)
class Accepted:
    value: str
    match: MatchMode = MatchMode.EXACT
    case_sensitive: bool = False


@dataclass(frozen=True, slots=True)
class Criterion:
    criterion: str
    points: float


@dataclass(frozen=True, slots=True)
class TestSpec:
    name: str
    code: str
    hidden: bool = True


@dataclass(frozen=True, slots=True)
class QuestionDraft:
    """What a client sends for a question, before checks."""

    kind: QuestionKind
    prompt: str
    points: float = 1.0
    choices: tuple[Choice, ...] = ()
    boolean_answer: bool | None = None
    accepted: tuple[Accepted, ...] = ()
    numeric_answer: float | None = None
    tolerance: float = 0.0
    rubric: tuple[Criterion, ...] = ()
    starter_code: str = ""
    tests: tuple[TestSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class Grade:
    points: float
    correct: bool
    details: dict[str, Any] | None = None


def _bad(message: str, field: str) -> BadUserInput:
    return BadUserInput(message, field=field)


def _normalise(text: str, case_sensitive: bool) -> str:
    text = " ".join(unicodedata.normalize("NFC", text).split())
    return text if case_sensitive else text.casefold()


def _compile(accepted: Accepted) -> regex.Pattern[str]:
    flags = regex.V0 if accepted.case_sensitive else regex.IGNORECASE
    return regex.compile(accepted.value, flags)


def _choices_spec(draft: QuestionDraft) -> dict[str, Any]:
    if not 2 <= len(draft.choices) <= MAX_CHOICES:
        raise _bad(f"A choice question needs 2 to {MAX_CHOICES} choices.", "choices")
    texts = [" ".join(choice.text.split()) for choice in draft.choices]
    if any(not text or len(text) > 1000 for text in texts):
        raise _bad("Each choice needs 1 to 1000 characters of text.", "choices")
    if len(set(texts)) != len(texts):
        raise _bad("Two choices have the same text.", "choices")
    correct = sum(choice.correct for choice in draft.choices)
    if draft.kind is QuestionKind.SINGLE_CHOICE and correct != 1:
        raise _bad("A single-choice question needs exactly one correct choice.", "choices")
    if draft.kind is QuestionKind.MULTIPLE_CHOICE and correct < 1:
        raise _bad("A multiple-choice question needs at least one correct choice.", "choices")
    return {
        "choices": [
            {"id": chr(ord("a") + index), "text": text, "correct": choice.correct}
            for index, (text, choice) in enumerate(zip(texts, draft.choices, strict=True))
        ]
    }


def _accepted_spec(draft: QuestionDraft) -> dict[str, Any]:
    if not 1 <= len(draft.accepted) <= MAX_ACCEPTED:
        raise _bad(f"A short answer needs 1 to {MAX_ACCEPTED} accepted answers.", "acceptedAnswers")
    entries = []
    for accepted in draft.accepted:
        value = accepted.value.strip()
        if not value or len(value) > MAX_PATTERN:
            raise _bad(
                f"Each accepted answer needs 1 to {MAX_PATTERN} characters.", "acceptedAnswers"
            )
        if accepted.match is MatchMode.PATTERN:
            try:
                _compile(accepted)
            except regex.error as error:
                raise _bad(
                    f"The pattern {value!r} is invalid: {error}.", "acceptedAnswers"
                ) from None
        entries.append(
            {
                "value": value,
                "match": accepted.match.value,
                "caseSensitive": accepted.case_sensitive,
            }
        )
    return {"accepted": entries}


def _numeric_spec(draft: QuestionDraft) -> dict[str, Any]:
    answer, tolerance = draft.numeric_answer, draft.tolerance
    if answer is None or not math.isfinite(answer):
        raise _bad("A numeric question needs a finite numericAnswer.", "numericAnswer")
    if not math.isfinite(tolerance) or tolerance < 0:
        raise _bad("tolerance must be zero or more.", "tolerance")
    return {"answer": answer, "tolerance": tolerance}


def _rubric_spec(draft: QuestionDraft) -> dict[str, Any]:
    if len(draft.rubric) > MAX_RUBRIC:
        raise _bad(f"A rubric has at most {MAX_RUBRIC} criteria.", "rubric")
    criteria = []
    for item in draft.rubric:
        name = " ".join(item.criterion.split())
        if not name or len(name) > 500 or not math.isfinite(item.points) or item.points <= 0:
            raise _bad("Each rubric criterion needs a name and points above zero.", "rubric")
        criteria.append({"criterion": name, "points": item.points})
    total = sum(item.points for item in draft.rubric)
    if criteria and not math.isclose(total, draft.points):
        raise _bad(
            f"The rubric's points add up to {total:g}, not to the question's {draft.points:g}.",
            "rubric",
        )
    return {"rubric": criteria}


def _code_spec(draft: QuestionDraft) -> dict[str, Any]:
    if not 1 <= len(draft.tests) <= MAX_TESTS:
        raise _bad(f"A code question needs 1 to {MAX_TESTS} test cases.", "tests")
    if len(draft.starter_code) > MAX_CODE:
        raise _bad("The starter code is too long.", "starterCode")
    names = [test.name.strip() for test in draft.tests]
    if any(not name or len(name) > 200 for name in names) or len(set(names)) != len(names):
        raise _bad("Each test case needs a unique name of 1 to 200 characters.", "tests")
    for test in draft.tests:
        if not test.code.strip() or len(test.code) > MAX_TEST_CODE or "\x00" in test.code:
            raise _bad(f"Test case {test.name!r} needs 1 to {MAX_TEST_CODE} characters.", "tests")
        try:
            compile(test.code, test.name, "exec")
        except SyntaxError as error:
            raise _bad(
                f"Test case {test.name!r} is not valid Python (line {error.lineno}).", "tests"
            ) from None
    return {
        "starter": draft.starter_code,
        "tests": [
            {"name": name, "code": test.code, "hidden": test.hidden}
            for name, test in zip(names, draft.tests, strict=True)
        ],
    }


def build_spec(draft: QuestionDraft) -> dict[str, Any]:
    """The spec of a valid question; BAD_USER_INPUT naming the field otherwise."""
    if not draft.prompt.strip() or len(draft.prompt) > MAX_PROMPT:
        raise _bad(f"prompt must be 1 to {MAX_PROMPT} characters long.", "prompt")
    if not math.isfinite(draft.points) or not 0 < draft.points <= 1000:
        raise _bad("points must be above 0 and at most 1000.", "points")
    match draft.kind:
        case QuestionKind.SINGLE_CHOICE | QuestionKind.MULTIPLE_CHOICE:
            return _choices_spec(draft)
        case QuestionKind.TRUE_FALSE:
            if draft.boolean_answer is None:
                raise _bad("A true/false question needs booleanAnswer.", "booleanAnswer")
            return {"answer": draft.boolean_answer}
        case QuestionKind.SHORT_ANSWER:
            return _accepted_spec(draft)
        case QuestionKind.NUMERIC:
            return _numeric_spec(draft)
        case QuestionKind.ESSAY:
            return _rubric_spec(draft)
        case QuestionKind.CODE:
            return _code_spec(draft)


def public_spec(kind: QuestionKind, spec: dict[str, Any]) -> dict[str, Any]:
    """What a learner may see of a spec: choices without the key, starter code, the names
    and code of tests that are not hidden, the rubric (it says how essays are marked)."""
    if kind in CHOICE_KINDS:
        return {"choices": [{"id": c["id"], "text": c["text"]} for c in spec["choices"]]}
    if kind is QuestionKind.CODE:
        visible = [t for t in spec["tests"] if not t["hidden"]]
        return {"starter": spec["starter"], "tests": visible}
    if kind is QuestionKind.ESSAY:
        return {"rubric": spec["rubric"]}
    return {}


# Responses


def normalise_response(
    kind: QuestionKind, response: dict[str, Any], spec: dict[str, Any]
) -> dict[str, Any]:
    """The part of a client's answer this kind takes, checked; BAD_USER_INPUT otherwise."""
    match kind:
        case QuestionKind.SINGLE_CHOICE | QuestionKind.MULTIPLE_CHOICE:
            chosen = response.get("choiceIds")
            known = {choice["id"] for choice in spec["choices"]}
            if not isinstance(chosen, list) or not set(chosen) <= known:
                raise _bad("choiceIds must name choices of the question.", "choiceIds")
            if kind is QuestionKind.SINGLE_CHOICE and len(chosen) > 1:
                raise _bad("A single-choice question takes one choice.", "choiceIds")
            return {"choiceIds": sorted(set(chosen))}
        case QuestionKind.TRUE_FALSE:
            if not isinstance(response.get("boolean"), bool):
                raise _bad("A true/false question takes booleanValue.", "booleanValue")
            return {"boolean": response["boolean"]}
        case QuestionKind.SHORT_ANSWER | QuestionKind.ESSAY:
            text, limit = response.get("text"), MAX_TEXT_ANSWER
            if kind is QuestionKind.ESSAY:
                limit = MAX_ESSAY
            if not isinstance(text, str) or len(text) > limit:
                raise _bad(f"This question takes text of at most {limit} characters.", "text")
            return {"text": text}
        case QuestionKind.NUMERIC:
            number = response.get("number")
            if not isinstance(number, int | float) or not math.isfinite(number):
                raise _bad("A numeric question takes a finite number.", "number")
            return {"number": float(number)}
        case QuestionKind.CODE:
            code = response.get("code")
            if not isinstance(code, str) or len(code.encode()) > MAX_CODE or "\x00" in code:
                raise _bad(f"Code answers are at most {MAX_CODE // 1024} KiB of text.", "code")
            return {"code": code}


def grade_objective(
    kind: QuestionKind, spec: dict[str, Any], response: dict[str, Any] | None, points: float
) -> Grade:
    """The grade of an answer to a choice, true/false, short answer or numeric question (an
    unanswered question scores zero). Multiple choice gives partial credit: each correct
    choice picked earns a share, each wrong choice picked takes one away, never below zero."""
    if response is None:
        return Grade(0.0, False)
    match kind:
        case QuestionKind.SINGLE_CHOICE | QuestionKind.MULTIPLE_CHOICE:
            right = {c["id"] for c in spec["choices"] if c["correct"]}
            chosen = set(response.get("choiceIds", []))
            if chosen == right:
                return Grade(points, True)
            if kind is QuestionKind.SINGLE_CHOICE:
                return Grade(0.0, False)
            share = (len(chosen & right) - len(chosen - right)) / len(right)
            return Grade(round(max(0.0, share) * points, 4), False)
        case QuestionKind.TRUE_FALSE:
            correct = response.get("boolean") is spec["answer"]
            return Grade(points if correct else 0.0, correct)
        case QuestionKind.SHORT_ANSWER:
            correct = _short_answer_matches(spec, str(response.get("text", "")))
            return Grade(points if correct else 0.0, correct)
        case QuestionKind.NUMERIC:
            number = response.get("number")
            correct = isinstance(number, float) and abs(number - spec["answer"]) <= spec[
                "tolerance"
            ] + 1e-9 * max(1.0, abs(spec["answer"]))
            return Grade(points if correct else 0.0, correct)
    raise ValueError(f"{kind} is not graded automatically")


def _short_answer_matches(spec: dict[str, Any], text: str) -> bool:
    text = text[:MAX_TEXT_ANSWER]
    for entry in spec["accepted"]:
        accepted = Accepted(entry["value"], MatchMode(entry["match"]), entry["caseSensitive"])
        if accepted.match is MatchMode.PATTERN:
            try:
                if _compile(accepted).fullmatch(text.strip(), timeout=PATTERN_TIMEOUT):
                    return True
            except TimeoutError:
                continue  # too slow to decide: not a match
        elif _normalise(text, accepted.case_sensitive) == _normalise(
            accepted.value, accepted.case_sensitive
        ):
            return True
    return False


def answer_key(kind: QuestionKind, spec: dict[str, Any]) -> dict[str, Any]:
    """The correct answer, for those allowed to see it."""
    match kind:
        case QuestionKind.SINGLE_CHOICE | QuestionKind.MULTIPLE_CHOICE:
            return {"choiceIds": [c["id"] for c in spec["choices"] if c["correct"]]}
        case QuestionKind.TRUE_FALSE:
            return {"boolean": spec["answer"]}
        case QuestionKind.SHORT_ANSWER:
            return {"accepted": spec["accepted"]}
        case QuestionKind.NUMERIC:
            return {"number": spec["answer"], "tolerance": spec["tolerance"]}
        case QuestionKind.ESSAY:
            return {"rubric": spec["rubric"]}
        case QuestionKind.CODE:
            return {"tests": spec["tests"]}
