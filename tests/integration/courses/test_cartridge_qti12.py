"""Assessments in Common Cartridges as CC's QTI 1.2 profile, through the router: our
course's assessments go out as `imsqti_xmlv1p2/imscc_xmlv1p3/assessment` resources (each
item in the cc_profile of its kind, its correct answers in resprocessing) and come back
with the same settings and questions; a quiz and a question bank as another LMS writes
them import, item by item; what does not map is reported, what is hostile fails the
import and leaves no course."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

import httpx

from tests.accounts import Account
from tests.integration.assessments.conftest import (
    CHOICE,
    ESSAY,
    NUMERIC,
    SHORT,
    TRUE_FALSE,
    assessment,
    question,
)
from tests.integration.assessments.test_qti import BANK, CODE, MULTIPLE
from tests.integration.courses.cartridges import CC13, EXPORT, imported, package
from tests.integration.courses.conftest import add_lesson, add_module, create_course
from tests.support import GraphQLClient

QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
ASSESSMENT_TYPE = "imsqti_xmlv1p2/imscc_xmlv1p3/assessment"
ASSESSMENTS = """
query($id: ID!) { course(id: $id) { modules { title lessons { title } } assessments {
  title description kind timeLimitMinutes attemptsAllowed passingScore releaseGradesImmediately
  published slots { position drawTag drawCount question {
    kind prompt points difficulty tags archived choices { text } rubric { criterion points } starterCode
    answerKey { choiceIds booleanValue numericAnswer tolerance
      acceptedAnswers { value match caseSensitive } tests { name code hidden } } } }
} } }
"""
ARCHIVE = "mutation($id: ID!) { archiveQuestion(input: {id: $id}) { question { id } } }"
BANK_EXPORT = "query($c: ID!) { exportQuestionBank(courseId: $c) { url } }"
PROFILES = {
    "SINGLE_CHOICE": "cc.multiple_choice.v0p1",
    "MULTIPLE_CHOICE": "cc.multiple_response.v0p1",
    "TRUE_FALSE": "cc.true_false.v0p1",
    "SHORT_ANSWER": "cc.fib.v0p1",
    "NUMERIC": "cc.fib.v0p1",
    "ESSAY": "cc.essay.v0p1",
    "CODE": "cc.essay.v0p1",
}


def _fields(node: ET.Element) -> dict[str, str]:
    return {
        field.findtext(f"{QTI}fieldlabel") or "": field.findtext(f"{QTI}fieldentry") or ""
        for field in node.iterfind(f"{QTI}qtimetadata/{QTI}qtimetadatafield")
    }


def _right(item: ET.Element) -> list[str]:
    """What resprocessing gives points for (varequal not under a `not`)."""
    right = []
    for rule in item.iterfind(f"{QTI}resprocessing/{QTI}respcondition"):
        if rule.findtext(f"{QTI}setvar") != "100":
            continue
        condition = rule.find(f"{QTI}conditionvar")
        assert condition is not None
        both = condition.find(f"{QTI}and")
        for test in (condition if both is None else both).iterfind(f"{QTI}varequal"):
            right.append(test.text or "")
    return right


def _label(item: ET.Element, ident: str) -> str:
    for label in item.iter(f"{QTI}response_label"):
        if label.get("ident") == ident:
            return "".join(label.itertext()).strip()
    raise AssertionError(ident)


def _check_document(data: bytes, kinds: list[str]) -> ET.Element:
    """A structurally valid CC assessment; each item in its kind's profile."""
    root = ET.fromstring(data)
    assert root.tag == f"{QTI}questestinterop"
    (test,) = root.findall(f"{QTI}assessment")
    fields = _fields(test)
    assert fields["cc_profile"] == "cc.exam.v0p1"
    assert fields["qmd_assessmenttype"] == "Examination"
    items = list(test.iter(f"{QTI}item"))
    profiles = [_fields(item.find(f"{QTI}itemmetadata")) for item in items]  # type: ignore[arg-type]
    assert [p["cc_profile"] for p in profiles] == [PROFILES[kind] for kind in kinds]
    return test


async def test_assessments_go_out_as_cc_qti_and_come_back_with_their_questions(
    graph: GraphQLClient, http: httpx.AsyncClient, instructor: Account, other_instructor: Account
) -> None:
    course = await create_course(graph, instructor, "Quizzes Travel")
    module = await add_module(graph, instructor, course["id"], "Basics")
    await add_lesson(graph, instructor, module["id"], "Loops", body="for x in y")
    kinds = [CHOICE, MULTIPLE, TRUE_FALSE, SHORT, NUMERIC, ESSAY, CODE]
    made = [await question(graph, instructor, course["id"], fields) for fields in kinds]
    slots: list[dict[str, Any]] = [{"questionId": q["id"]} for q in made]
    old = await question(graph, instructor, course["id"], {**CHOICE, "prompt": "Retired?"})
    await graph.data(ARCHIVE, {"id": old["id"]}, token=instructor.access_token)
    await assessment(
        graph,
        instructor,
        course["id"],
        [*slots, {"questionId": old["id"]}, {"drawTag": "basics", "drawCount": 1}],
        publish=False,
        title="Midterm exam",
        kind="EXAM",
        description="Closed book.",
        timeLimitMinutes=30,
        attemptsAllowed=3,
        passingScore=60,
        releaseGradesImmediately=True,
    )
    await assessment(graph, instructor, course["id"], slots[:2], publish=False, attemptsAllowed=8)
    link = (await graph.data(EXPORT, {"c": course["id"]}, token=instructor.access_token))[
        "exportCourseCartridge"
    ]
    assert any("QTI 1.2" in note for note in link["notes"])
    served = await http.get(link["url"])
    assert served.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(served.content))
    manifest = ET.fromstring(archive.read("imsmanifest.xml"))
    tests = [r for r in manifest.iter(f"{{{CC13}}}resource") if r.get("type") == ASSESSMENT_TYPE]
    assert len(tests) == 2
    folder = manifest.find(f"{{{CC13}}}organizations/{{{CC13}}}organization/{{{CC13}}}item")
    assert folder is not None
    titles = {
        item.findtext(f"{{{CC13}}}title"): item.get("identifierref")
        for group in folder
        if group.findtext(f"{{{CC13}}}title") == "Assessments"
        for item in group.iterfind(f"{{{CC13}}}item")
    }
    assert set(titles) == {"Midterm exam", "Checkpoint quiz"}
    hrefs = {r.get("identifier"): r.find(f"{{{CC13}}}file").get("href") for r in tests}  # type: ignore[union-attr]
    exam = _check_document(
        archive.read(hrefs[titles["Midterm exam"]] or ""),
        [
            "SINGLE_CHOICE",
            "MULTIPLE_CHOICE",
            "TRUE_FALSE",
            "SHORT_ANSWER",
            "NUMERIC",
            "ESSAY",
            "CODE",
            "SINGLE_CHOICE",
        ],
    )
    assert _fields(exam)["cc_maxattempts"] == "3"
    assert _fields(exam)["qmd_timelimit"] == "30"
    items = list(exam.iter(f"{QTI}item"))
    assert [_label(items[0], ident) for ident in _right(items[0])] == ["def"]
    assert sorted(_label(items[1], ident) for ident in _right(items[1])) == ["str", "tuple"]
    assert _right(items[2]) == ["true"]
    assert _right(items[3]) == ["len"]  # the pattern travels in our extension only
    assert _right(items[4]) == ["3.14"]
    assert _right(items[5]) == []
    assert _right(items[6]) == []
    quiz = _check_document(
        archive.read(hrefs[titles["Checkpoint quiz"]] or ""), ["SINGLE_CHOICE", "MULTIPLE_CHOICE"]
    )
    assert _fields(quiz)["cc_maxattempts"] == "unlimited"  # 8 is more than CC says

    # The assessments' own route opens with the bank's link proof, and with nothing else.
    bank_link = await graph.data(BANK_EXPORT, {"c": course["id"]}, token=instructor.access_token)
    url = bank_link["exportQuestionBank"]["url"].replace("questions.zip", "assessments.zip")
    assert (await http.get(url)).status_code == 200
    other = await create_course(graph, other_instructor, "Not Yours")
    for forged in (
        url.replace("signature=", "signature=0"),
        url.replace(course["id"], other["id"]),
    ):
        assert (await http.get(forged)).status_code == 403

    job = await imported(graph, http, other_instructor.access_token, served.content)
    assert job["status"] == "SUCCEEDED", job
    assert all(item["imported"] and not item["errors"] for item in job["items"]), job["items"]
    reports = [item for item in job["items"] if item["kind"] == ASSESSMENT_TYPE]
    assert sorted(report["title"] for report in reports) == ["Checkpoint quiz", "Midterm exam"]
    original = (await graph.data(ASSESSMENTS, {"id": course["id"]}, token=instructor.access_token))[
        "course"
    ]
    copy = (
        await graph.data(
            ASSESSMENTS, {"id": job["course"]["id"]}, token=other_instructor.access_token
        )
    )["course"]
    assert copy["modules"] == original["modules"]  # no module "Assessments"
    assert sorted(copy["assessments"], key=lambda a: a["title"]) == sorted(
        original["assessments"], key=lambda a: a["title"]
    )
    bank = await graph.data(BANK, {"c": job["course"]["id"]}, token=other_instructor.access_token)
    assert len(bank["questionBank"]["edges"]) == 7  # the same questions, not copies
    # (the archived one is in the exam, archived, as it was)


def _meta(label: str, entry: str) -> str:
    return (
        f"<qtimetadatafield><fieldlabel>{label}</fieldlabel>"
        f"<fieldentry>{entry}</fieldentry></qtimetadatafield>"
    )


def _item(ident: str, profile: str, body: str, processing: str, extra: str = "") -> str:
    return f"""<item ident="{ident}" title="{ident}">
  <itemmetadata><qtimetadata>{_meta("cc_profile", profile)}{_meta("cc_weighting", "2")}</qtimetadata></itemmetadata>
  <presentation><material><mattext texttype="text/html">&lt;p&gt;Question {ident}&lt;/p&gt;</mattext></material>{body}</presentation>
  <resprocessing><outcomes><decvar varname="SCORE" vartype="Decimal" minvalue="0" maxvalue="100"/></outcomes>{processing}</resprocessing>{extra}
</item>"""


def _choices(cardinality: str, *labels: str) -> str:
    options = "".join(
        f'<response_label ident="{n}"><material><mattext texttype="text/html">{text}</mattext></material></response_label>'
        for n, text in enumerate(labels, start=101)
    )
    return f'<response_lid ident="response1" rcardinality="{cardinality}"><render_choice>{options}</render_choice></response_lid>'


FIB = '<response_str ident="response1" rcardinality="Single"><render_fib><response_label ident="answer1" rshuffle="No"/></render_fib></response_str>'


def _scores(condition: str) -> str:
    return f'<respcondition continue="No"><conditionvar>{condition}</conditionvar><setvar action="Set" varname="SCORE">100</setvar></respcondition>'


def _assessment(items: list[str], title: str = "Week 1 quiz", attempts: str = "2") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<questestinterop xmlns="http://www.imsglobal.org/xsd/ims_qtiasiv1p2">
  <assessment ident="g1a2b3" title="{title}">
    <qtimetadata>{_meta("cc_profile", "cc.exam.v0p1")}{_meta("qmd_assessmenttype", "Examination")}
      {_meta("qmd_scoretype", "Percentage")}{_meta("cc_maxattempts", attempts)}{_meta("qmd_timelimit", "20")}</qtimetadata>
    <section ident="root_section">{"".join(items)}</section>
  </assessment>
</questestinterop>""".encode()


FEEDBACK = '<respcondition continue="Yes"><conditionvar><varequal respident="response1">101</varequal></conditionvar><displayfeedback feedbacktype="Response" linkrefid="101_fb"/></respcondition>'
FOREIGN_ITEMS = [
    _item(
        "mc",
        "cc.multiple_choice.v0p1",
        _choices("Single", "&lt;b&gt;Paris&lt;/b&gt;", "Lyon", "Nice"),
        FEEDBACK + _scores('<varequal respident="response1">101</varequal>'),
        '<itemfeedback ident="101_fb"><flow_mat><material><mattext>Well done</mattext></material></flow_mat></itemfeedback>',
    ),
    _item(
        "tf",
        "cc.true_false.v0p1",
        _choices("Single", "True", "False"),
        _scores('<varequal respident="response1">102</varequal>'),
    ),
    _item(
        "mr",
        "cc.multiple_response.v0p1",
        _choices("Multiple", "2", "3", "4"),
        _scores(
            '<and><varequal respident="response1">101</varequal><varequal respident="response1">102</varequal>'
            '<not><varequal respident="response1">103</varequal></not></and>'
        ),
    ),
    _item(
        "fib",
        "cc.fib.v0p1",
        FIB,
        _scores(
            '<varequal respident="response1" case="No">Seine</varequal>'
            '<varequal respident="response1" case="Yes">La Seine</varequal>'
        ),
    ),
    _item(
        "pm",
        "cc.pattern_match.v0p1",
        FIB,
        _scores('<varsubstring respident="response1" case="No">tower</varsubstring>'),
    ),
    _item(
        "es",
        "cc.essay.v0p1",
        FIB,
        "<respcondition><conditionvar><other/></conditionvar></respcondition>",
    ),
    _item("odd", "cc.matching.v0p1", FIB, ""),
    _item(
        "pic",
        "cc.multiple_choice.v0p1",
        '<material><matimage uri="x.png"/></material>' + _choices("Single", "a", "b"),
        _scores('<varequal respident="response1">101</varequal>'),
    ),
]
BANK_FILE = f"""<?xml version="1.0" encoding="UTF-8"?>
<questestinterop xmlns="http://www.imsglobal.org/xsd/ims_qtiasiv1p2"><objectbank ident="bank1">
{_item("b1", "cc.true_false.v0p1", _choices("Single", "True", "False"), _scores('<varequal respident="response1">101</varequal>'))}
</objectbank></questestinterop>""".encode()


def _cartridge(resources: str, files: dict[str, bytes], quiz_ref: str = "QUIZ") -> bytes:
    manifest = f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="canvas-export" xmlns="{CC13}">
  <metadata><schema>IMS Common Cartridge</schema><schemaversion>1.3.0</schemaversion></metadata>
  <organizations><organization identifier="org" structure="rooted-hierarchy"><item identifier="root">
    <item identifier="week"><title>Week 1</title>
      <item identifier="w1" identifierref="PAGE"><title>Welcome</title></item>
      <item identifier="w2" identifierref="{quiz_ref}"><title>Week 1 quiz</title></item>
    </item>
  </item></organization></organizations>
  <resources>
    <resource identifier="PAGE" type="webcontent" href="wiki/welcome.html"><file href="wiki/welcome.html"/></resource>
    {resources}
  </resources>
</manifest>""".encode()
    return package({"imsmanifest.xml": manifest, "wiki/welcome.html": b"<p>Hi</p>", **files})


async def test_a_quiz_and_a_bank_written_by_another_lms_import_item_by_item(
    graph: GraphQLClient, http: httpx.AsyncClient, instructor: Account
) -> None:
    resources = f"""
    <resource identifier="QUIZ" type="{ASSESSMENT_TYPE}"><file href="g1a2b3/assessment_qti.xml"/></resource>
    <resource identifier="BANK" type="imsqti_xmlv1p2/imscc_xmlv1p3/question-bank"><file href="banks/bank1.xml"/></resource>"""
    data = _cartridge(
        resources,
        {"g1a2b3/assessment_qti.xml": _assessment(FOREIGN_ITEMS), "banks/bank1.xml": BANK_FILE},
    )
    job = await imported(graph, http, instructor.access_token, data)
    assert job["status"] == "SUCCEEDED", job
    items = {item["identifier"]: item for item in job["items"]}
    assert items["QUIZ"]["imported"]
    assert items["QUIZ"]["title"] == "Week 1 quiz"
    assert items["BANK"]["imported"]
    assert items["QUIZ/mc"]["kind"] == "SINGLE_CHOICE"
    assert "feedback is not imported" in items["QUIZ/mc"]["warnings"][0]
    for left in ("QUIZ/odd", "QUIZ/pic"):
        assert not items[left]["imported"]
        assert items[left]["warnings"][0].startswith("Not imported: "), items[left]
    assert "cc.matching.v0p1" in items["QUIZ/odd"]["warnings"][0]
    assert "matimage" in items["QUIZ/pic"]["warnings"][0]
    assert sum("left out" in text for text in items["QUIZ"]["warnings"]) == 2
    course = (
        await graph.data(ASSESSMENTS, {"id": job["course"]["id"]}, token=instructor.access_token)
    )["course"]
    assert course["modules"] == [{"title": "Week 1", "lessons": [{"title": "Welcome"}]}]
    (quiz,) = course["assessments"]
    assert (quiz["title"], quiz["kind"], quiz["attemptsAllowed"], quiz["timeLimitMinutes"]) == (
        "Week 1 quiz",
        "QUIZ",
        2,
        20,
    )
    assert quiz["published"] is False
    questions = [slot["question"] for slot in quiz["slots"]]
    assert [q["kind"] for q in questions] == [
        "SINGLE_CHOICE",
        "TRUE_FALSE",
        "MULTIPLE_CHOICE",
        "SHORT_ANSWER",
        "SHORT_ANSWER",
        "ESSAY",
    ]
    choice, true_false, multiple, fib, pattern, essay = questions
    assert choice["prompt"] == "Question mc"
    assert [c["text"] for c in choice["choices"]] == ["Paris", "Lyon", "Nice"]
    assert choice["answerKey"]["choiceIds"] == ["a"]
    assert choice["points"] == 2
    assert true_false["answerKey"]["booleanValue"] is False
    assert multiple["answerKey"]["choiceIds"] == ["a", "b"]
    assert fib["answerKey"]["acceptedAnswers"] == [
        {"value": "Seine", "match": "EXACT", "caseSensitive": False},
        {"value": "La Seine", "match": "EXACT", "caseSensitive": True},
    ]
    assert pattern["answerKey"]["acceptedAnswers"] == [
        {"value": ".*tower.*", "match": "PATTERN", "caseSensitive": False}
    ]
    assert essay["kind"] == "ESSAY"
    bank = await graph.data(BANK, {"c": job["course"]["id"]}, token=instructor.access_token)
    assert len(bank["questionBank"]["edges"]) == 7  # the quiz's six and the bank's one


async def test_hostile_qti_fails_the_import_and_leaves_no_course(
    graph: GraphQLClient, http: httpx.AsyncClient, instructor: Account
) -> None:
    count = "query($i: ID!) { courses(filter: {instructorId: $i}) { totalCount } }"
    before = await graph.data(count, {"i": instructor.id}, token=instructor.access_token)
    xxe = b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY x SYSTEM "file:///etc/passwd">]><questestinterop>&x;</questestinterop>'
    many = _assessment(['<item ident="i"/>'] * 10_000)
    resources = "".join(
        f'<resource identifier="{name}" type="{ASSESSMENT_TYPE}"><file href="{name}.xml"/></resource>'
        for name in ("QUIZ", "XXE", "MANY")
    )
    data = _cartridge(
        resources, {"QUIZ.xml": b"<questestinterop><assessment", "XXE.xml": xxe, "MANY.xml": many}
    )
    job = await imported(graph, http, instructor.access_token, data)
    assert job["status"] == "FAILED", job
    assert job["course"] is None
    errors = {item["identifier"]: item["errors"] for item in job["items"]}
    assert "not well-formed" in errors["QUIZ"][0]
    assert "DTD" in errors["XXE"][0]
    assert "more than 200 items" in errors["MANY"][0]
    after = await graph.data(count, {"i": instructor.id}, token=instructor.access_token)
    assert after == before

    # A huge prompt: bounded, that item left out and said so; the rest imports.
    huge = _item("big", "cc.essay.v0p1", FIB, "").replace("Question big", "x" * 300_000)
    data = _cartridge(
        f'<resource identifier="QUIZ" type="{ASSESSMENT_TYPE}"><file href="q.xml"/></resource>',
        {"q.xml": _assessment([huge, FOREIGN_ITEMS[1]], title="Q", attempts="lots")},
    )
    job = await imported(graph, http, instructor.access_token, data)
    assert job["status"] == "SUCCEEDED", job
    items = {item["identifier"]: item for item in job["items"]}
    assert not items["QUIZ/big"]["imported"]
    assert "prompt must be 1 to 20000 characters" in items["QUIZ/big"]["warnings"][0]
    assert items["QUIZ/tf"]["imported"]
    assert any("too short" in text for text in items["QUIZ"]["warnings"])
    assert any("unlimited" in text for text in items["QUIZ"]["warnings"])
    json.dumps(job)  # the report is plain data
