"""QTI export and import of questions: the round trip of every kind in 2.1 and 3.0, items
written by other implementations (qti-package-maker's Blackboard QTI 2.1 writer, Citolab's
2.1 -> 3.0 converter), and what is reported rather than dropped."""

from __future__ import annotations

import uuid
import zipfile
from pathlib import Path
from typing import Any

import lxml.etree
import pytest
from qti_convert import downgrade_package, upgrade_package
from qti_package_maker.assessment_items import item_types  # type: ignore[import-untyped]
from qti_package_maker.assessment_items.item_bank import (  # type: ignore[import-untyped]
    ItemBank,
)
from qti_package_maker.engines.blackboard_qti_v2_1.engine_class import (  # type: ignore[import-untyped]
    EngineClass as BlackboardQti21,
)

from common.errors import BadUserInput
from subgraphs.assessments.models import QuestionRow
from subgraphs.assessments.qti.names import QtiVersion
from subgraphs.assessments.qti.package import export_item_xml, export_package, read_package
from subgraphs.assessments.questions import (
    Accepted,
    Choice,
    Criterion,
    MatchMode,
    QuestionDraft,
    QuestionKind,
    build_spec,
)
from subgraphs.assessments.questions import (
    TestSpec as CodeTest,
)

DRAFTS = [
    QuestionDraft(
        QuestionKind.SINGLE_CHOICE,
        'Which is <b>bold</b> & "quoted"?\r\nSecond line: `code` ]]> {{x}}',
        2.5,
        choices=(Choice("<script>alert(1)</script>", True), Choice("B & C", False)),
    ),
    QuestionDraft(
        QuestionKind.MULTIPLE_CHOICE,
        "Pick the primes",
        3.0,
        choices=(Choice("2", True), Choice("3", True), Choice("4", False)),
    ),
    QuestionDraft(QuestionKind.TRUE_FALSE, "The earth is flat.", 1.0, boolean_answer=False),
    QuestionDraft(QuestionKind.TRUE_FALSE, "Water is wet.", 1.0, boolean_answer=True),
    QuestionDraft(
        QuestionKind.SHORT_ANSWER,
        "Capital of France?",
        1.0,
        accepted=(
            Accepted("Paris", MatchMode.EXACT, False),
            Accepted("pa+ris", MatchMode.PATTERN, False),
            Accepted("PARIS", MatchMode.EXACT, True),
        ),
    ),
    QuestionDraft(
        QuestionKind.SHORT_ANSWER,
        "Name a colour",
        1.0,
        accepted=(Accepted("red", MatchMode.EXACT, False),),
    ),
    QuestionDraft(QuestionKind.NUMERIC, "One third?", 4.0, numeric_answer=1 / 3, tolerance=0.001),
    QuestionDraft(QuestionKind.NUMERIC, "Exactly 42", 1.0, numeric_answer=42.0),
    QuestionDraft(
        QuestionKind.ESSAY,
        "Discuss.",
        5.0,
        rubric=(Criterion("Structure <of> the essay", 2.0), Criterion("Evidence", 3.0)),
    ),
    QuestionDraft(QuestionKind.ESSAY, "Free text", 1.0),
    QuestionDraft(
        QuestionKind.CODE,
        "Write f",
        2.0,
        starter_code="def f(x):\n    return x  # <todo>\n",
        tests=(
            CodeTest("doubles", "assert f(2) == 4", True),
            CodeTest("zero", "assert f(0) == 0", False),
        ),
    ),
]


def _row(draft: QuestionDraft, index: int) -> QuestionRow:
    return QuestionRow(
        id=uuid.uuid4(),
        course_id=uuid.uuid4(),
        kind=draft.kind.value,
        prompt=draft.prompt.strip(),
        points=draft.points,
        difficulty=("EASY", "MEDIUM", "HARD")[index % 3],
        tags=[f"tag{index}", "qti"],
        spec=build_spec(draft),
    )


def _fields(row: QuestionRow) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "prompt": row.prompt,
        "points": row.points,
        "difficulty": row.difficulty,
        "tags": list(row.tags),
        "spec": row.spec,
    }


@pytest.mark.parametrize("version", list(QtiVersion))
def test_our_export_reads_back_losslessly_for_every_kind(version: QtiVersion) -> None:
    rows = [_row(draft, index) for index, draft in enumerate(DRAFTS)]
    package = export_package(rows, version)
    assert package.items == len(rows)
    items = read_package(package.data)
    assert [item.errors for item in items] == [[]] * len(rows)
    back = []
    for item in items:
        assert item.draft is not None
        row = QuestionRow(
            kind=item.draft.kind.value,
            prompt=item.draft.prompt.strip(),
            points=item.draft.points,
            difficulty=item.meta.difficulty.value,
            tags=list(item.meta.tags),
            spec=build_spec(item.draft),
        )
        back.append(_fields(row))
    assert back == [_fields(row) for row in rows]
    noted = {note.identifier for note in package.notes}
    assert noted == {f"q-{rows[4].id}", f"q-{rows[10].id}"}  # the pattern, the code


def test_prompts_are_escaped_never_markup() -> None:
    row = _row(DRAFTS[0], 0)
    xml = export_item_xml(row, QtiVersion.V2_1)
    assert b"<b>" not in xml
    assert b"<script>" not in xml
    assert b"&lt;b&gt;bold&lt;/b&gt; &amp;" in xml
    root = lxml.etree.fromstring(xml)
    prompt = root.find("{http://www.imsglobal.org/xsd/imsqti_v2p1}itemBody/*")
    assert prompt is not None
    assert prompt.text == row.prompt


def test_version_3_marks_essays_as_scored_by_a_person() -> None:
    essay = lxml.etree.fromstring(export_item_xml(_row(DRAFTS[8], 8), QtiVersion.V3_0))
    score = essay.find("{*}qti-outcome-declaration[@identifier='SCORE']")
    assert score is not None
    assert score.get("external-scored") == "human"


def test_version_3_spells_items_as_qti_3() -> None:
    xml = export_item_xml(_row(DRAFTS[1], 1), QtiVersion.V3_0)
    root = lxml.etree.fromstring(xml)
    assert root.tag == "{http://www.imsglobal.org/xsd/imsqtiasi_v3p0}qti-assessment-item"
    interaction = root.find(".//{*}qti-choice-interaction")
    assert interaction is not None
    assert interaction.get("response-identifier") == "RESPONSE"
    processing = root.find("{*}qti-response-processing")
    assert processing is not None
    assert processing.get("template") == (
        "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/map_response.xml"
    )


def test_a_package_written_by_qti_package_maker_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the engine stages its files in the working directory
    bank = ItemBank(allow_mixed=True)
    for item in (
        item_types.MC("What is 2+2?", ["3", "4", "5"], "4"),
        item_types.MA("Pick even numbers", ["1", "2", "4"], ["2", "4"]),
        item_types.NUM("Pi to two places?", 3.14, 0.01),
        item_types.FIB("The capital of Italy is ___", ["Rome", "Roma"]),
        item_types.MATCH("Match them", ["a", "b"], ["1", "2"]),
    ):
        bank.add_item_cls(item)
    written = BlackboardQti21("theirs").save_package(bank, str(tmp_path / "theirs.zip"))
    items = read_package(Path(written).read_bytes())
    kinds = [None if item.draft is None else item.draft.kind for item in items]
    assert kinds == [
        QuestionKind.SINGLE_CHOICE,
        QuestionKind.MULTIPLE_CHOICE,
        QuestionKind.NUMERIC,
        QuestionKind.SHORT_ANSWER,
        None,
    ]
    first, many, number, text, unsupported = items
    assert first.draft is not None
    assert first.draft.prompt == "What is 2+2?"
    assert [c.text for c in first.draft.choices if c.correct] == ["4"]
    assert first.warnings == [
        "Custom response processing is replaced by grading against correctResponse."
    ]
    assert many.draft is not None
    assert sorted(c.text for c in many.draft.choices if c.correct) == ["2", "4"]
    assert number.draft is not None
    assert number.draft.numeric_answer == 3.14
    assert number.draft.tolerance == 0.01
    assert text.draft is not None
    assert [a.value for a in text.draft.accepted] == ["Rome", "Roma"]
    assert unsupported.errors == ["MatchInteraction has no equivalent question kind here."]


@pytest.mark.parametrize(
    ("ours", "convert", "their_root"),
    [
        (QtiVersion.V2_1, upgrade_package, b"<qti-assessment-item"),
        (QtiVersion.V3_0, downgrade_package, b"<assessmentItem"),
    ],
)
def test_our_package_converted_by_citolab_imports_unchanged(
    tmp_path: Path, ours: QtiVersion, convert: Any, their_root: bytes
) -> None:
    rows = [_row(draft, index) for index, draft in enumerate(DRAFTS)]
    source, target = tmp_path / "ours.zip", tmp_path / "theirs.zip"
    source.write_bytes(export_package(rows, ours).data)
    convert(str(source), str(target))
    converted = zipfile.ZipFile(target)
    assert any(their_root in converted.read(name) for name in converted.namelist())
    items = read_package(target.read_bytes())
    assert [item.errors for item in items] == [[]] * len(rows)
    # Our extension rides in the manifest's metadata, which the converter keeps: even the
    # patterns and code tests come through.
    expected = read_package(source.read_bytes())
    assert [(item.draft, item.meta) for item in items] == [
        (item.draft, item.meta) for item in expected
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
            "DTD",
        ),
        (b"not xml, not zip", "neither"),
        (b"<a><b></a>", "well-formed"),
        (b'<assessmentItem xmlns="urn:other"/>', "not a QTI"),
    ],
)
def test_hostile_or_foreign_documents_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(BadUserInput) as refused:
        read_package(data)
    assert message in refused.value.message


def test_media_and_custom_processing_are_reported_item_by_item() -> None:
    ns = b'xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1"'
    declaration = (
        b'<responseDeclaration identifier="RESPONSE" cardinality="single" baseType="float">'
        b"<correctResponse><value>2</value></correctResponse></responseDeclaration>"
    )
    with_image = read_package(
        b"<assessmentItem " + ns + b' identifier="i">' + declaration + b"<itemBody><p>See "
        b'<img src="chart.png" alt="chart"/></p><p><textEntryInteraction '
        b'responseIdentifier="RESPONSE"/></p></itemBody></assessmentItem>'
    )
    assert with_image[0].errors == ["Embedded media (img) is not supported."]
    custom = read_package(
        b"<assessmentItem " + ns + b' identifier="c">' + declaration + b"<itemBody><p>1+1?"
        b'<textEntryInteraction responseIdentifier="RESPONSE"/></p></itemBody>'
        b'<responseProcessing><setOutcomeValue identifier="SCORE"><baseValue '
        b'baseType="float">1</baseValue></setOutcomeValue></responseProcessing></assessmentItem>'
    )
    assert custom[0].errors == []
    assert custom[0].draft is not None
    assert custom[0].draft.numeric_answer == 2.0
    assert custom[0].warnings == [
        "Custom response processing is replaced by grading against correctResponse."
    ]
