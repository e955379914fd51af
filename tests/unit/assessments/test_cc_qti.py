"""Common Cartridge's QTI 1.2 profile: every kind of ours out and back whole (and equal to
what our QTI 2.1 export of the same question reads back as, so a cartridge's two copies
of a question become one), and other systems' constructs we cannot grade alike reported."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

from common.cc_qti_types import ASSESSMENT_TYPE
from subgraphs.assessments.models import AssessmentRow, SlotRow
from subgraphs.assessments.qti.cc_assessments import (
    AssessmentOut,
    Draw,
    ItemRef,
    assessment_document,
    read_cc_resource,
)
from subgraphs.assessments.qti.cc_import import content_key
from subgraphs.assessments.qti.cc_items import import_cc_item
from subgraphs.assessments.qti.names import QtiVersion
from subgraphs.assessments.qti.package import export_package, read_package
from tests.unit.assessments.test_qti import DRAFTS, _row


def test_every_kind_goes_out_in_its_profile_and_comes_back_as_the_bank_item() -> None:
    rows = [_row(draft, index) for index, draft in enumerate(DRAFTS)]
    exam = AssessmentRow(
        id=uuid.uuid4(),
        title="Final",
        description="All of it.",
        kind="EXAM",
        time_limit_minutes=90,
        attempts_allowed=2,
        available_from=None,
        available_until=None,
        passing_score=70.0,
        release_immediately=False,
    )
    slots = [SlotRow(position=i, question_id=row.id, draw_count=1) for i, row in enumerate(rows)]
    slots.append(SlotRow(position=len(rows), question_id=None, draw_tag="qti", draw_count=3))
    document, notes = assessment_document(AssessmentOut(exam, slots, {r.id: r for r in rows}))
    assert any("tolerance" in note for note in notes)
    read = read_cc_resource("R", ASSESSMENT_TYPE, document, "exam.xml")
    assert (read.errors, read.warnings) == ([], [])
    assert read.draft is not None
    assert (read.draft.kind.value, read.draft.time_limit_minutes, read.draft.attempts_allowed) == (
        "EXAM",
        90,
        2,
    )
    assert read.slots == [*(ItemRef(f"q-{row.id}") for row in rows), Draw("qti", 3)]
    bank = read_package(export_package(rows, QtiVersion.V2_1).data)
    for item, twin, draft in zip(read.items, bank, DRAFTS, strict=True):
        assert item.problems == []
        assert item.draft is not None
        assert twin.draft is not None
        assert item.draft.kind is draft.kind
        assert item.identifier == twin.identifier
        assert content_key(item.draft, item.meta) == content_key(twin.draft, twin.meta)


def _foreign(condition: str, profile: str = "cc.fib.v0p1") -> ET.Element:
    return ET.fromstring(f"""<item ident="x" title="x"><itemmetadata><qtimetadata>
      <qtimetadatafield><fieldlabel>cc_profile</fieldlabel><fieldentry>{profile}</fieldentry></qtimetadatafield>
      </qtimetadata></itemmetadata>
      <presentation><material><mattext>How many?</mattext></material>
        <response_str ident="response1"><render_fib/></response_str></presentation>
      <resprocessing><respcondition><conditionvar>{condition}</conditionvar>
        <setvar action="Set" varname="SCORE">100</setvar></respcondition></resprocessing></item>""")


def test_what_does_not_map_says_why() -> None:
    ranged = import_cc_item(_foreign('<vargte respident="response1">3</vargte>'))
    assert ranged.draft is None
    assert ranged.problems == ["The condition <vargte> is not supported."]
    unknown = import_cc_item(_foreign("", "cc.hotspot.v0p1"))
    assert "'cc.hotspot.v0p1' has no equivalent" in unknown.problems[0]
    nothing = import_cc_item(_foreign(""))
    assert nothing.problems == ["A short answer needs 1 to 20 accepted answers."]
    broken = ET.fromstring(
        "<item ident='y'><itemmetadata><qtimetadata><qtimetadatafield><fieldlabel>lms_question"
        "</fieldlabel><fieldentry>[1]</fieldentry></qtimetadatafield></qtimetadata></itemmetadata>"
        "<presentation/></item>"
    )
    assert import_cc_item(broken).problems == [
        "The platform extension (lms_question) is malformed."
    ]
    two = read_cc_resource(
        "R", ASSESSMENT_TYPE, b"<questestinterop><assessment/><assessment/></questestinterop>", "a"
    )
    assert two.errors == ["a needs exactly one assessment (it has 2)."]
