"""Plagiarism detection through the router: code and essay answers checked by the worker
after submission, what instructors see, and what nobody else may see or do."""

from __future__ import annotations

from typing import Any

import asyncpg

from common.db.engine import dsn, role_name
from common.settings import Settings
from tests.accounts import Account, register
from tests.integration.assessments.conftest import (
    ENROLL,
    SUBMIT,
    assessment,
    course_with_learner,
    question,
    start,
)
from tests.support import GraphQLClient, error_codes, eventually

STARTER = '''def word_counts(text):
    """Return a dict mapping each lower-cased word of text to how often it occurs."""
    counts = {}
    return counts
'''
ORIGINAL = '''def word_counts(text):
    """Return a dict mapping each lower-cased word of text to how often it occurs."""
    counts = {}
    for raw in text.split():
        word = raw.strip(".,;:!?").lower()
        if not word:
            continue
        if word in counts:
            counts[word] += 1
        else:
            counts[word] = 1
    return counts


def top_words(text, n):
    ranked = sorted(word_counts(text).items(), key=lambda item: (-item[1], item[0]))
    return [word for word, _ in ranked[:n]]
'''
# The original with every name changed, comments added and the functions swapped.
DISGUISED = '''def best(s, k):
    # most frequent first, ties alphabetically
    order = sorted(word_counts(s).items(), key=lambda p: (-p[1], p[0]))
    return [w for w, _ in order[:k]]


def word_counts(text):
    """Return a dict mapping each lower-cased word of text to how often it occurs."""
    counts = {}
    for token in text.split():
        t = token.strip(".,;:!?").lower()
        if not t:
            continue   # skip punctuation-only tokens
        if t in counts:
            counts[t] += 1
        else:
            counts[t] = 1
    return counts
'''
INDEPENDENT = '''import collections
import re


def word_counts(text):
    """Return a dict mapping each lower-cased word of text to how often it occurs."""
    counts = {}
    counts.update(collections.Counter(re.findall(r"[a-z']+", text.lower())))
    return counts


def top_words(text, n):
    return [w for w, _ in collections.Counter(word_counts(text)).most_common(n)]
'''
CODE = {
    "kind": "CODE",
    "prompt": "Write word_counts(text) and top_words(text, n).",
    "points": 1,
    "starterCode": STARTER,
    "tests": [{"name": "counts", "code": "assert word_counts('a A b') == {'a': 2, 'b': 1}"}],
}
ESSAY = {
    "kind": "ESSAY",
    "prompt": "What is inflation?",
    "points": 2,
    "rubric": [{"criterion": "Definition", "points": 2}],
}
ESSAY_ORIGINAL = (
    "Inflation is a general rise in prices that reduces what a unit of money can buy. It is "
    "usually measured by tracking the cost of a basket of typical goods and services over "
    "time. Central banks try to keep inflation near a target, often around two percent, "
    "mainly by raising or lowering interest rates."
)
ESSAY_COPY = (
    "Central banks try to keep inflation near a target, frequently around two percent, "
    "chiefly by raising or lowering interest rates. Inflation is a general rise in prices "
    "that reduces what a unit of money can buy. It is typically measured by tracking the "
    "cost of a basket of typical goods and services over time."
)
ESSAY_OWN = (
    "My grandmother remembers buying bread for a few coins, and the same loaf now costs many "
    "times more. Prices creep upward when demand outpaces what the economy can produce."
)
REPORT = """
query($id: ID!) {
  similarityReport(attemptId: $id) {
    attemptId enabled score
    answers {
      questionId kind score text
      matches { attemptId learner { id } score text spans { start end otherStart otherEnd } }
    }
  }
}
"""
ASSESSMENT_REPORT = """
query($id: ID!) {
  plagiarismReport(assessmentId: $id) {
    settings { enabled codeThreshold textThreshold excludedQuestionIds }
    pairs { questionId kind score attemptId learner { id } otherAttemptId otherLearner { id } }
    clusters { attemptIds learners { id } score }
  }
}
"""
SETTINGS = """
mutation($input: PlagiarismSettingsInput!) {
  setPlagiarismSettings(input: $input) { settings { enabled codeThreshold textThreshold } }
}
"""
RECHECK = "mutation($id: ID!) { recheckPlagiarism(input: {assessmentId: $id}) { queued } }"


async def _submit(
    graph: GraphQLClient, learner: Account, assessment_id: str, answers: list[dict[str, Any]]
) -> str:
    attempt = await start(graph, learner, assessment_id)
    await graph.data(SUBMIT, {"id": attempt["id"], "answers": answers}, token=learner.access_token)
    return str(attempt["id"])


async def _checked(graph: GraphQLClient, owner: Account, attempt_id: str, count: int) -> Any:
    """The attempt's report once the worker has checked `count` of its answers."""

    async def report() -> Any:
        data = await graph.data(REPORT, {"id": attempt_id}, token=owner.access_token)
        found = data["similarityReport"]
        return found if len(found["answers"]) >= count else None

    return await eventually(report, within=30.0)


async def _learner(graph: GraphQLClient, course_id: str, name: str) -> Account:
    learner = await register(graph, name=name)
    await graph.data(ENROLL, {"c": course_id}, token=learner.access_token)
    return learner


async def test_disguised_copies_are_found_and_shown_to_the_instructor_only(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    course = await course_with_learner(graph, instructor, admin, student, "Honest Work")
    code = await question(graph, instructor, course["id"], CODE)
    essay = await question(graph, instructor, course["id"], ESSAY)
    exam = await assessment(
        graph,
        instructor,
        course["id"],
        [{"questionId": code["id"]}, {"questionId": essay["id"]}],
        attemptsAllowed=3,
    )
    copier = await _learner(graph, course["id"], "Cody Copier")
    loner = await _learner(graph, course["id"], "Lena Loner")

    def answers(source: str, text: str) -> list[dict[str, Any]]:
        return [
            {"questionId": code["id"], "code": source},
            {"questionId": essay["id"], "text": text},
        ]

    first = await _submit(graph, student, exam["id"], answers(ORIGINAL, ESSAY_ORIGINAL))
    again = await _submit(graph, student, exam["id"], answers(ORIGINAL, ESSAY_ORIGINAL))
    copied = await _submit(graph, copier, exam["id"], answers(DISGUISED, ESSAY_COPY))
    own = await _submit(graph, loner, exam["id"], answers(INDEPENDENT, ESSAY_OWN))
    await _checked(graph, instructor, first, 2)
    await _checked(graph, instructor, again, 2)
    await _checked(graph, instructor, own, 2)
    report = await _checked(graph, instructor, copied, 2)

    # The copier's code and essay both lead to the student's two attempts, never the loner's.
    assert report["enabled"] is True
    assert report["score"] >= 0.5
    by_kind = {answer["kind"]: answer for answer in report["answers"]}
    for kind, text in (("CODE", DISGUISED), ("TEXT", ESSAY_COPY)):
        answer = by_kind[kind]
        assert answer["text"] == text
        top = answer["matches"][:2]
        assert {m["attemptId"] for m in top} == {first, again}, kind
        assert all(m["learner"]["id"] == student.id and m["score"] >= 0.5 for m in top)
        assert own not in {m["attemptId"] for m in answer["matches"] if m["score"] >= 0.3}
        # The spans point at the same words on both sides.
        span = max(top[0]["spans"], key=lambda s: s["end"] - s["start"])
        mine, theirs = (
            text[span["start"] : span["end"]],
            top[0]["text"][span["otherStart"] : span["otherEnd"]],
        )
        assert mine.split()[-1] == theirs.split()[-1], (mine, theirs)

    # The student's resubmission never matches their first attempt.
    resubmitted = await _checked(graph, instructor, again, 2)
    for answer in resubmitted["answers"]:
        assert first not in {m["attemptId"] for m in answer["matches"]}
    # The loner shares the starter code with the others (a tenth of their fingerprints):
    # it does not count, so nothing resembles the loner's code at all.
    alone = await _checked(graph, instructor, own, 2)
    code_alone = next(a for a in alone["answers"] if a["kind"] == "CODE")
    assert code_alone["matches"] == []

    # The assessment's ranked pairs and the cluster of the student's and copier's attempts.
    ranked = (await graph.data(ASSESSMENT_REPORT, {"id": exam["id"]}, token=admin.access_token))[
        "plagiarismReport"
    ]
    pairs = {frozenset((p["attemptId"], p["otherAttemptId"])) for p in ranked["pairs"]}
    assert frozenset((first, copied)) in pairs
    assert frozenset((again, copied)) in pairs
    assert frozenset((first, again)) not in pairs
    assert all(own not in pair for pair in pairs)
    scores = [p["score"] for p in ranked["pairs"]]
    assert scores == sorted(scores, reverse=True)
    assert [sorted(c["attemptIds"]) for c in ranked["clusters"]] == [sorted([first, again, copied])]

    # Nobody else reads any of it.
    for learner, attempt_id in ((copier, copied), (copier, first), (student, copied)):
        body = await graph.execute(REPORT, {"id": attempt_id}, token=learner.access_token)
        assert body.get("data") is None
        expected = "FORBIDDEN" if attempt_id == copied and learner is copier else "NOT_FOUND"
        assert error_codes(body) == [expected]
    body = await graph.execute(ASSESSMENT_REPORT, {"id": exam["id"]}, token=copier.access_token)
    assert body.get("data") is None
    assert error_codes(body) == ["FORBIDDEN"]
    anonymous = await graph.execute(REPORT, {"id": copied})
    assert anonymous.get("data") is None
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_another_courses_instructor_and_learners_cannot_read_or_change_it(
    graph: GraphQLClient,
    instructor: Account,
    other_instructor: Account,
    admin: Account,
    student: Account,
) -> None:
    course = await course_with_learner(graph, instructor, admin, student, "Closed Books")
    code = await question(graph, instructor, course["id"], CODE)
    exam = await assessment(graph, instructor, course["id"], [{"questionId": code["id"]}])
    attempt = await _submit(
        graph, student, exam["id"], [{"questionId": code["id"], "code": ORIGINAL}]
    )
    await _checked(graph, instructor, attempt, 1)
    for query, variables in (
        (REPORT, {"id": attempt}),
        (ASSESSMENT_REPORT, {"id": exam["id"]}),
        (RECHECK, {"id": exam["id"]}),
        (SETTINGS, {"input": {"assessmentId": exam["id"], "enabled": False}}),
    ):
        body = await graph.execute(query, variables, token=other_instructor.access_token)
        assert body.get("data") is None, query
        assert error_codes(body) == ["NOT_FOUND"], query
    for query, variables in (
        (RECHECK, {"id": exam["id"]}),
        (SETTINGS, {"input": {"assessmentId": exam["id"], "enabled": False}}),
    ):
        body = await graph.execute(query, variables, token=student.access_token)
        assert body.get("data") is None, query
        assert error_codes(body) == ["FORBIDDEN"], query
    # Detection is still on, with the default thresholds.
    settings = (
        await graph.data(ASSESSMENT_REPORT, {"id": exam["id"]}, token=instructor.access_token)
    )["plagiarismReport"]["settings"]
    assert settings == {
        "enabled": True,
        "codeThreshold": 0.5,
        "textThreshold": 0.3,
        "excludedQuestionIds": [],
    }
    bad = await graph.execute(
        SETTINGS,
        {"input": {"assessmentId": exam["id"], "codeThreshold": 1.5}},
        token=instructor.access_token,
    )
    assert error_codes(bad) == ["BAD_USER_INPUT"]


async def _handled(settings: Settings, attempt_id: str) -> bool:
    """The worker has consumed the attempt's submission.submitted event."""
    url = dsn(
        settings, role_name("assessments"), settings.pg_password("assessments"), driver="postgresql"
    )
    conn = await asyncpg.connect(url)
    try:
        found = await conn.fetchval(
            "SELECT count(*) FROM assessments.inbox i JOIN assessments.outbox o ON o.id = i.event_id"
            " WHERE o.type = 'submission.submitted' AND o.envelope->'data'->>'attempt_id' = $1",
            attempt_id,
        )
    finally:
        await conn.close()
    return bool(found)


async def test_a_disabled_assessment_is_not_checked_until_turned_on_and_rechecked(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account, migrated: Settings
) -> None:
    course = await course_with_learner(graph, instructor, admin, student, "Open Books")
    code = await question(graph, instructor, course["id"], CODE)
    exam = await assessment(graph, instructor, course["id"], [{"questionId": code["id"]}])
    off = await graph.data(
        SETTINGS,
        {"input": {"assessmentId": exam["id"], "enabled": False}},
        token=instructor.access_token,
    )
    assert off["setPlagiarismSettings"]["settings"]["enabled"] is False
    copier = await _learner(graph, course["id"], "Paula Pair")
    answer = [{"questionId": code["id"], "code": ORIGINAL}]
    first = await _submit(graph, student, exam["id"], answer)
    second = await _submit(graph, copier, exam["id"], answer)
    await eventually(lambda: _handled(migrated, first), within=30.0)
    await eventually(lambda: _handled(migrated, second), within=30.0)
    report = await graph.data(REPORT, {"id": second}, token=instructor.access_token)
    assert report["similarityReport"] == {
        "attemptId": second,
        "enabled": False,
        "score": 0.0,
        "answers": [],
    }
    refused = await graph.execute(RECHECK, {"id": exam["id"]}, token=instructor.access_token)
    assert error_codes(refused) == ["CONFLICT"]
    # Turned on and re-checked, the identical answers are found.
    await graph.data(
        SETTINGS,
        {"input": {"assessmentId": exam["id"], "enabled": True}},
        token=instructor.access_token,
    )
    queued = await graph.data(RECHECK, {"id": exam["id"]}, token=instructor.access_token)
    assert queued == {"recheckPlagiarism": {"queued": True}}
    found = await _checked(graph, instructor, second, 1)
    assert [m["attemptId"] for m in found["answers"][0]["matches"]] == [first]
    assert found["answers"][0]["matches"][0]["score"] == 1.0


# The original reworded sentence by sentence: hardly a word sequence in common.
ESSAY_PARAPHRASE = (
    "When prices climb across the economy, each unit of currency purchases less; that is "
    "inflation. To gauge it, statisticians follow over the years what an ordinary bundle of "
    "goods and services costs. Keeping it close to a goal, commonly about two per cent, is the "
    "job of central banks, which do so chiefly by moving interest rates up or down."
)
# Same topic, the student's own account.
ESSAY_SAME_TOPIC = (
    "Inflation hurts savers most, since the money they put aside loses value every year. "
    "Workers whose wages do not keep up also become poorer in real terms. Some economists "
    "think a little inflation is healthy because it encourages spending and investment."
)
PARAPHRASE_REPORT = """
query($id: ID!) {
  similarityReport(attemptId: $id) {
    answers {
      kind stages text
      matches { attemptId score method text spans { start end otherStart otherEnd } }
    }
  }
}
"""
PAIRS = """
query($id: ID!) {
  plagiarismReport(assessmentId: $id) { pairs { attemptId otherAttemptId score method } }
}
"""


async def test_a_paraphrased_essay_is_reported_with_its_method(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    course = await course_with_learner(graph, instructor, admin, student, "Own Words")
    essay = await question(graph, instructor, course["id"], ESSAY)
    exam = await assessment(graph, instructor, course["id"], [{"questionId": essay["id"]}])
    rewriter = await _learner(graph, course["id"], "Rita Rewriter")
    thinker = await _learner(graph, course["id"], "Theo Thinker")

    def answer(text: str) -> list[dict[str, Any]]:
        return [{"questionId": essay["id"], "text": text}]

    original = await _submit(graph, student, exam["id"], answer(ESSAY_ORIGINAL))
    own = await _submit(graph, thinker, exam["id"], answer(ESSAY_SAME_TOPIC))
    await _checked(graph, instructor, original, 1)
    await _checked(graph, instructor, own, 1)
    reworded = await _submit(graph, rewriter, exam["id"], answer(ESSAY_PARAPHRASE))
    await _checked(graph, instructor, reworded, 1)

    data = await graph.data(PARAPHRASE_REPORT, {"id": reworded}, token=instructor.access_token)
    (checked,) = data["similarityReport"]["answers"]
    assert checked["stages"] == ["FINGERPRINT", "EMBEDDING"]
    top = checked["matches"][0]
    assert (top["attemptId"], top["method"]) == (original, "EMBEDDING")
    assert top["score"] >= 0.3  # the default text threshold
    assert own not in {m["attemptId"] for m in checked["matches"] if m["score"] >= 0.3}
    # Each highlighted sentence is paired with the original's sentence of the same meaning.
    pairs = {
        (
            ESSAY_PARAPHRASE[s["start"] : s["end"]].split()[0],
            ESSAY_ORIGINAL[s["otherStart"] : s["otherEnd"]].split()[0],
        )
        for s in top["spans"]
    }
    assert ("Keeping", "Central") in pairs, pairs
    assert top["text"] == ESSAY_ORIGINAL

    # The assessment's ranked pairs name the method too; the same-topic essay is in none.
    ranked = await graph.data(PAIRS, {"id": exam["id"]}, token=instructor.access_token)
    found = {
        (frozenset((p["attemptId"], p["otherAttemptId"])), p["method"])
        for p in ranked["plagiarismReport"]["pairs"]
    }
    assert (frozenset((original, reworded)), "EMBEDDING") in found
    assert all(own not in attempts for attempts, _ in found)
