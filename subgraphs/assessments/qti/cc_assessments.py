"""A course's assessments as Common Cartridge QTI 1.2 resources, and CC assessments and
question banks back to drafts.

Each assessment is a `questestinterop` holding one `assessment`: its `qtimetadata` says
what CC holds (`cc_profile` cc.exam.v0p1, `qmd_assessmenttype` Examination,
`qmd_scoretype` Percentage, `cc_maxattempts` 1 to 5 or unlimited, `qmd_timelimit` in
minutes), one `section` holds its fixed questions as items (cc_items). What CC has no
place for (the kind, description, passing score, release rule, availability, an exact
attempt count above 5, random draws by tag and the order of all slots) travels in a
`qtimetadatafield` labelled `lms_assessment` (JSON), which other systems ignore.

The export is a zip (an IMS content package: one organization item per assessment, with
its title, and its resource) the courses subgraph places in a cartridge. Reading is
bounded: each document's size (common/safe_xml, no DTDs) and its item count.
"""

from __future__ import annotations

import io
import json
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from common.cc_qti_types import ASSESSMENT_TYPE
from common.errors import BadUserInput
from common.safe_xml import parse
from subgraphs.assessments.models import AssessmentRow, QuestionRow, SlotRow
from subgraphs.assessments.qti.cc_items import (
    NAMESPACE,
    CcItem,
    export_cc_item,
    identifier_of,
    import_cc_item,
    metadata_field,
)
from subgraphs.assessments.service import MAX_SLOTS, AssessmentDraft, AssessmentKind

CP: Final = "http://www.imsglobal.org/xsd/imscp_v1p1"
OURS: Final = "lms_assessment"
MAX_CC_XML_BYTES: Final = 4 * 1024 * 1024  # 200 items of long prompts fit
MAX_BANK_ITEMS: Final = 1000
CC_MAX_ATTEMPTS: Final = 5  # the profile's largest number; above it, "unlimited"


@dataclass(frozen=True, slots=True)
class AssessmentOut:
    row: AssessmentRow
    slots: Sequence[SlotRow]
    questions: dict[uuid.UUID, QuestionRow]


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def assessment_document(out: AssessmentOut) -> tuple[bytes, list[str]]:
    """The QTI 1.2 document of one assessment, and notes on what is not portable."""
    row = out.row
    root = ET.Element("questestinterop", {"xmlns": NAMESPACE})
    assessment = ET.SubElement(root, "assessment", {"ident": f"a-{row.id}", "title": row.title})
    metadata = ET.SubElement(assessment, "qtimetadata")
    metadata_field(metadata, "cc_profile", "cc.exam.v0p1")
    metadata_field(metadata, "qmd_assessmenttype", "Examination")
    metadata_field(metadata, "qmd_scoretype", "Percentage")
    attempts = row.attempts_allowed
    metadata_field(
        metadata,
        "cc_maxattempts",
        str(attempts) if attempts is not None and attempts <= CC_MAX_ATTEMPTS else "unlimited",
    )
    if row.time_limit_minutes is not None:
        metadata_field(metadata, "qmd_timelimit", str(row.time_limit_minutes))
    section = ET.SubElement(assessment, "section", {"ident": "root_section"})
    slots: list[dict[str, Any]] = []
    notes: list[str] = []
    for slot in out.slots:
        question = None if slot.question_id is None else out.questions.get(slot.question_id)
        if question is None:
            slots.append({"drawTag": slot.draw_tag, "drawCount": slot.draw_count})
            continue
        exported = export_cc_item(question)
        section.append(exported.element)
        slots.append({"item": identifier_of(question)})
        notes.extend(f"{identifier_of(question)}: {note}" for note in exported.notes)
    if any("drawTag" in slot for slot in slots):
        notes.append("Random draws by tag travel in our extension only (CC has none).")
    ours = {
        "kind": row.kind,
        "description": row.description,
        "passingScore": row.passing_score,
        "releaseImmediately": row.release_immediately,
        "availableFrom": _when(row.available_from),
        "availableUntil": _when(row.available_until),
        "attemptsAllowed": attempts,
        "timeLimitMinutes": row.time_limit_minutes,
        "slots": slots,
    }
    metadata_field(metadata, OURS, json.dumps(ours, ensure_ascii=False, sort_keys=True))
    text = ET.tostring(root, encoding="unicode").replace("\r", "&#13;")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + text).encode(), notes


def export_assessments(assessments: Sequence[AssessmentOut]) -> bytes:
    """The zip: imsmanifest.xml (an organization item per assessment, with its title) and
    each assessment's document at `<identifier>/assessment.xml`."""
    manifest = ET.Element("manifest", {"identifier": "lms-assessments", "xmlns": CP})
    organization = ET.SubElement(
        ET.SubElement(manifest, "organizations"), "organization", {"identifier": "assessments"}
    )
    resources = ET.SubElement(manifest, "resources")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for out in assessments:
            ident = f"assessment-{out.row.id}"
            href = f"{ident}/assessment.xml"
            document, _ = assessment_document(out)
            archive.writestr(href, document)
            item = ET.SubElement(organization, "item", {"identifier": f"item-{ident}"})
            item.set("identifierref", ident)
            ET.SubElement(item, "title").text = out.row.title
            resource = ET.SubElement(
                resources, "resource", {"identifier": ident, "type": ASSESSMENT_TYPE}
            )
            ET.SubElement(resource, "file", {"href": href})
        archive.writestr(
            "imsmanifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(manifest, encoding="unicode"),
        )
    return buffer.getvalue()


# Import


@dataclass(frozen=True, slots=True)
class ItemRef:
    identifier: str


@dataclass(frozen=True, slots=True)
class Draw:
    tag: str
    count: int


@dataclass(slots=True)
class CcResource:
    """One CC QTI resource read: an assessment (its settings and slots) or a question bank
    (items only). `errors` fail it (and an import of it); `warnings` lose a detail."""

    identifier: str
    kind: str  # "assessment" or "question-bank"
    title: str = ""
    items: list[CcItem] = field(default_factory=list)
    draft: AssessmentDraft | None = None
    slots: list[ItemRef | Draw] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _strip(root: ET.Element) -> None:
    """QTI 1.2 element names without their namespace (1.2 and CC's profile share one)."""
    for node in root.iter():
        if isinstance(node.tag, str) and node.tag.startswith("{"):
            node.tag = node.tag.split("}", 1)[1]


def _fields(metadata: ET.Element | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in [] if metadata is None else metadata.iterfind("qtimetadatafield"):
        label = (entry.findtext("fieldlabel") or "").strip()
        found.setdefault(label, (entry.findtext("fieldentry") or "").strip())
    return found


def read_cc_resource(identifier: str, kind: str, data: bytes, name: str) -> CcResource:
    """A CC assessment or question bank document; its items each mapped or with their
    problems. Anything wrong with the document itself is the resource's error."""
    resource = CcResource(identifier, "question-bank" if kind.endswith("bank") else "assessment")
    try:
        root = parse(data, name, MAX_CC_XML_BYTES)
        _strip(root)
        if root.tag != "questestinterop":
            raise BadUserInput(f"{name} is not a QTI 1.2 questestinterop (its root is {root.tag}).")
        if resource.kind == "question-bank":
            _read_bank(root, name, resource)
        else:
            _read_assessment(root, name, resource)
    except BadUserInput as problem:
        resource.errors.append(problem.message)
        resource.items, resource.draft = [], None
    return resource


def _items(container: ET.Element, name: str, limit: int) -> list[ET.Element]:
    """Items in document order (nested sections flattened), at most `limit`."""
    found: list[ET.Element] = []
    for node in container.iter("item"):
        found.append(node)
        if len(found) > limit:
            raise BadUserInput(f"{name} has more than {limit} items.")
    return found


def _read_bank(root: ET.Element, name: str, resource: CcResource) -> None:
    bank = root.find("objectbank")
    if bank is None:
        raise BadUserInput(f"{name} has no objectbank.")
    resource.title = bank.get("ident", resource.identifier)
    resource.items = [import_cc_item(item) for item in _items(bank, name, MAX_BANK_ITEMS)]


def _int(text: str | None, low: int, high: int) -> int | None:
    try:
        value = int(float(text or ""))
    except ValueError:
        return None
    return value if low <= value <= high else None


def _read_assessment(root: ET.Element, name: str, resource: CcResource) -> None:
    assessments = root.findall("assessment")
    if len(assessments) != 1:
        raise BadUserInput(f"{name} needs exactly one assessment (it has {len(assessments)}).")
    assessment = assessments[0]
    fields = _fields(assessment.find("qtimetadata"))
    for construct in ("selection_ordering", "sectionref", "itemref", "outcomes_processing"):
        if assessment.find(f".//{construct}") is not None:
            resource.warnings.append(f"Its <{construct}> is not imported (no equivalent here).")
    elements = _items(assessment, name, MAX_SLOTS)
    resource.items = [import_cc_item(item) for item in elements]
    title = " ".join((assessment.get("title") or "").split())[:200]
    if len(title) < 3:
        resource.warnings.append(f"Its title {title!r} is too short; it is 'Imported assessment'.")
        title = "Imported assessment"
    resource.title = title
    ours_text = fields.get(OURS)
    if ours_text:
        resource.draft, resource.slots = _ours(ours_text, title)
        return
    attempts_text = fields.get("cc_maxattempts", "unlimited")
    attempts = None if attempts_text.lower() == "unlimited" else _int(attempts_text, 1, 100)
    if attempts is None and attempts_text.lower() != "unlimited":
        resource.warnings.append(f"cc_maxattempts {attempts_text!r} is read as unlimited.")
    limit_text = fields.get("qmd_timelimit", "")
    limit = _int(limit_text, 1, 24 * 60) if limit_text not in ("", "0") else None
    if limit is None and limit_text not in ("", "0"):
        resource.warnings.append(f"qmd_timelimit {limit_text!r} is not 1 to 1440 minutes; none.")
    resource.draft = AssessmentDraft(
        title=title, kind=AssessmentKind.QUIZ, time_limit_minutes=limit, attempts_allowed=attempts
    )
    resource.slots = [ItemRef(item.identifier) for item in resource.items]


def _ours(text: str, title: str) -> tuple[AssessmentDraft, list[ItemRef | Draw]]:
    try:
        data = json.loads(text)
        slots: list[ItemRef | Draw] = [
            ItemRef(str(slot["item"]))
            if "item" in slot
            else Draw(str(slot["drawTag"]), int(slot["drawCount"]))
            for slot in data["slots"]
        ]
        moments = [
            None if data[key] is None else datetime.fromisoformat(str(data[key]))
            for key in ("availableFrom", "availableUntil")
        ]
        draft = AssessmentDraft(
            title=title,
            kind=AssessmentKind(data["kind"]),
            description=str(data["description"]),
            time_limit_minutes=data["timeLimitMinutes"],
            attempts_allowed=data["attemptsAllowed"],
            available_from=moments[0],
            available_until=moments[1],
            passing_score=float(data["passingScore"]),
            release_immediately=bool(data["releaseImmediately"]),
        )
    except (ValueError, KeyError, TypeError):
        raise BadUserInput("Its platform extension (lms_assessment) is malformed.") from None
    return draft, slots
