"""One question as an item of IMS Common Cartridge's QTI 1.2 profile, and back.

Export writes each kind in the profile closest to it: SINGLE_CHOICE `cc.multiple_choice`,
MULTIPLE_CHOICE `cc.multiple_response`, TRUE_FALSE `cc.true_false`, SHORT_ANSWER and
NUMERIC `cc.fib` (a numeric answer as its text: other systems compare the text, so the
tolerance is not portable), ESSAY and CODE `cc.essay`. Correct answers are in
`resprocessing` (a `respcondition` per correct answer, SCORE set to 100; the item's points
in `cc_weighting`), as the profile says. What the profile cannot hold (the kind, the exact
spec: patterns, tolerance, rubric, code tests; difficulty, tags) travels in a
`qtimetadatafield` labelled `lms_question` (JSON), which other systems ignore, so our own
items come back whole.

Import reads our items from that field, and other systems' items of the six profiles:
what does not map (another profile, media, a construct we cannot grade alike) is the
item's `problems`, and it is left out; nothing is dropped silently.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Final

import regex

from common.errors import BadUserInput
from subgraphs.assessments.bank import QuestionMeta
from subgraphs.assessments.models import QuestionRow
from subgraphs.assessments.questions import (
    Accepted,
    Choice,
    Criterion,
    Difficulty,
    MatchMode,
    QuestionDraft,
    QuestionKind,
    TestSpec,
    build_spec,
)

NAMESPACE: Final = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
OURS: Final = "lms_question"  # our qtimetadatafield's label
RESPONSE: Final = "response1"
MULTIPLE_CHOICE: Final = "cc.multiple_choice.v0p1"
MULTIPLE_RESPONSE: Final = "cc.multiple_response.v0p1"
TRUE_FALSE: Final = "cc.true_false.v0p1"
FIB: Final = "cc.fib.v0p1"
PATTERN_MATCH: Final = "cc.pattern_match.v0p1"
ESSAY: Final = "cc.essay.v0p1"
PROFILE_OF: Final = {
    QuestionKind.SINGLE_CHOICE: MULTIPLE_CHOICE,
    QuestionKind.MULTIPLE_CHOICE: MULTIPLE_RESPONSE,
    QuestionKind.TRUE_FALSE: TRUE_FALSE,
    QuestionKind.SHORT_ANSWER: FIB,
    QuestionKind.NUMERIC: FIB,
    QuestionKind.ESSAY: ESSAY,
    QuestionKind.CODE: ESSAY,
}
PROFILES: Final = frozenset(PROFILE_OF.values()) | {PATTERN_MATCH}
MEDIA_TAGS: Final = frozenset({"img", "object", "embed", "audio", "video", "iframe", "math"})
MEDIA_ELEMENTS: Final = frozenset(
    {"matimage", "mataudio", "matvideo", "matapplet", "matapplication", "matref"}
)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    node = ET.SubElement(parent, tag, attrib)
    node.text = text
    return node


def metadata_field(parent: ET.Element, label: str, entry: str) -> None:
    found = _sub(parent, "qtimetadatafield")
    _sub(found, "fieldlabel", label)
    _sub(found, "fieldentry", entry)


def _material(parent: ET.Element, text: str) -> None:
    _sub(_sub(parent, "material"), "mattext", text, texttype="text/plain")


def _scored(processing: ET.Element, condition: ET.Element) -> None:
    rule = _sub(processing, "respcondition", **{"continue": "No"})
    rule.append(condition)
    _sub(rule, "setvar", "100", action="Set", varname="SCORE")


def _equal(value: str, case: bool | None = None) -> ET.Element:
    condition = ET.Element("conditionvar")
    attrib = {"respident": RESPONSE}
    if case is not None:
        attrib["case"] = "Yes" if case else "No"
    _sub(condition, "varequal", value, **attrib)
    return condition


@dataclass(slots=True)
class ExportedCcItem:
    element: ET.Element
    notes: list[str] = field(default_factory=list)


def identifier_of(row: QuestionRow) -> str:
    """The same identifier our QTI 2.1 export gives the question (items.export_item)."""
    return f"q-{row.id}"


def export_cc_item(row: QuestionRow) -> ExportedCcItem:
    kind, spec = QuestionKind(row.kind), row.spec
    item = ET.Element(
        "item", {"ident": identifier_of(row), "title": " ".join(row.prompt.split())[:80]}
    )
    exported = ExportedCcItem(item)
    metadata = _sub(_sub(item, "itemmetadata"), "qtimetadata")
    metadata_field(metadata, "cc_profile", PROFILE_OF[kind])
    metadata_field(metadata, "cc_weighting", _number(row.points))
    ours = {
        "kind": kind.value,
        "points": row.points,
        "difficulty": row.difficulty,
        "tags": list(row.tags),
        "spec": spec,
        "archived": row.archived,
    }
    metadata_field(metadata, OURS, json.dumps(ours, ensure_ascii=False, sort_keys=True))
    presentation = _sub(item, "presentation")
    _material(presentation, row.prompt)
    processing = _sub(item, "resprocessing")
    outcomes = _sub(processing, "outcomes")
    _sub(outcomes, "decvar", varname="SCORE", vartype="Decimal", minvalue="0", maxvalue="100")
    if kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE, QuestionKind.TRUE_FALSE):
        if kind is QuestionKind.TRUE_FALSE:
            choices = [
                {"id": "true", "text": "True", "correct": spec["answer"]},
                {"id": "false", "text": "False", "correct": not spec["answer"]},
            ]
        else:
            choices = spec["choices"]
        multiple = kind is QuestionKind.MULTIPLE_CHOICE
        response = _sub(
            presentation,
            "response_lid",
            ident=RESPONSE,
            rcardinality="Multiple" if multiple else "Single",
        )
        render = _sub(response, "render_choice", shuffle="No")
        for choice in choices:
            _material(_sub(render, "response_label", ident=choice["id"]), choice["text"])
        if multiple:  # all the right ones and none of the others
            condition = ET.Element("conditionvar")
            both = _sub(condition, "and")
            for choice in choices:
                parent = both if choice["correct"] else _sub(both, "not")
                _sub(parent, "varequal", choice["id"], respident=RESPONSE)
            _scored(processing, condition)
            exported.notes.append(
                "Other systems grade multiple response all or nothing; partial credit "
                "travels in our extension only."
            )
        else:
            right = next(choice["id"] for choice in choices if choice["correct"])
            _scored(processing, _equal(right))
        return exported
    _sub(
        _sub(
            _sub(presentation, "response_str", ident=RESPONSE, rcardinality="Single"), "render_fib"
        ),
        "response_label",
        ident="answer1",
        rshuffle="No",
    )
    if kind is QuestionKind.SHORT_ANSWER:
        for accepted in spec["accepted"]:
            if accepted["match"] == MatchMode.EXACT.value:
                _scored(processing, _equal(accepted["value"], bool(accepted["caseSensitive"])))
            else:
                exported.notes.append(
                    "Not portable: answer patterns (regular expressions) have no CC "
                    "equivalent; they travel in our extension only."
                )
    elif kind is QuestionKind.NUMERIC:
        _scored(processing, _equal(repr(float(spec["answer"]))))
        exported.notes.append(
            "Not portable: a numeric answer is a fill-in-the-blank in CC (its text is "
            "compared); the tolerance travels in our extension only."
        )
    else:
        other = _sub(processing, "respcondition", **{"continue": "No"})
        _sub(_sub(other, "conditionvar"), "other")
        if kind is QuestionKind.CODE:
            exported.notes.append(
                "Not portable: code questions are graded by running their tests; other "
                "systems see an essay."
            )
        elif spec.get("rubric"):
            exported.notes.append("Not portable: the rubric travels in our extension only.")
    return exported


# Import


@dataclass(slots=True)
class CcItem:
    """What one item became: a draft to create, or the problems that left it out."""

    identifier: str
    title: str
    profile: str
    draft: QuestionDraft | None = None
    meta: QuestionMeta = field(default_factory=QuestionMeta)
    archived: bool = False  # ours: an assessment may hold a question archived in the bank
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class _Text(HTMLParser):
    """Text of an HTML fragment (paragraphs kept), and which media tags it has."""

    BLOCKS: Final = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "pre"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.media: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in MEDIA_TAGS:
            self.media.add(tag)
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _mattext(node: ET.Element | None) -> tuple[str, set[str]]:
    """The text of a material (plain, or HTML made text) and the media it embeds."""
    if node is None:
        return "", set()
    media = {child.tag for child in node.iter() if child.tag in MEDIA_ELEMENTS}
    texts = []
    for mattext in node.iter("mattext"):
        raw = "".join(mattext.itertext())
        texttype = mattext.get("texttype")
        if "html" in texttype.lower() if texttype else raw.lstrip().startswith("<"):
            parser = _Text()
            parser.feed(raw)
            parser.close()
            media |= parser.media
            lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
            raw = "\n".join(line for line in lines if line)
        texts.append(raw.strip())  # plain text as it is: ours keeps its blank lines
    return "\n\n".join(text for text in texts if text), media


def _fields(node: ET.Element | None) -> dict[str, str]:
    """A qtimetadata's fields by label (the first of each)."""
    found: dict[str, str] = {}
    if node is None:
        return found
    for entry in node.iter("qtimetadatafield"):
        label = (entry.findtext("fieldlabel") or "").strip()
        found.setdefault(label, (entry.findtext("fieldentry") or "").strip())
    return found


def _float(text: str | None, what: str) -> float:
    try:
        value = float((text or "").strip())
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{what} {text!r} is not a finite number")
    return value


def draft_from_spec(kind: QuestionKind, prompt: str, points: float, spec: Any) -> QuestionDraft:
    """Our own spec (from the extension) back to a draft."""
    match kind:
        case QuestionKind.SINGLE_CHOICE | QuestionKind.MULTIPLE_CHOICE:
            choices = tuple(Choice(str(c["text"]), bool(c["correct"])) for c in spec["choices"])
            return QuestionDraft(kind, prompt, points, choices=choices)
        case QuestionKind.TRUE_FALSE:
            return QuestionDraft(kind, prompt, points, boolean_answer=bool(spec["answer"]))
        case QuestionKind.SHORT_ANSWER:
            accepted = tuple(
                Accepted(str(a["value"]), MatchMode(a["match"]), bool(a["caseSensitive"]))
                for a in spec["accepted"]
            )
            return QuestionDraft(kind, prompt, points, accepted=accepted)
        case QuestionKind.NUMERIC:
            return QuestionDraft(
                kind,
                prompt,
                points,
                numeric_answer=float(spec["answer"]),
                tolerance=float(spec["tolerance"]),
            )
        case QuestionKind.ESSAY:
            rubric = tuple(
                Criterion(str(c["criterion"]), float(c["points"])) for c in spec["rubric"]
            )
            return QuestionDraft(kind, prompt, points, rubric=rubric)
        case QuestionKind.CODE:
            tests = tuple(
                TestSpec(str(t["name"]), str(t["code"]), bool(t["hidden"])) for t in spec["tests"]
            )
            return QuestionDraft(
                kind, prompt, points, starter_code=str(spec["starter"]), tests=tests
            )


def _positive_conditions(item: ET.Element) -> list[ET.Element]:
    """The conditionvars of the respconditions that give points."""
    found = []
    for rule in item.iterfind("resprocessing/respcondition"):
        for setvar in rule.iterfind("setvar"):
            if (setvar.get("varname") or "SCORE").upper() != "SCORE":
                continue
            action = (setvar.get("action") or "Set").lower()
            if action in ("set", "add") and _float(setvar.text, "setvar") > 0:
                condition = rule.find("conditionvar")
                if condition is not None:
                    found.append(condition)
                break
    return found


def _equals(condition: ET.Element) -> list[ET.Element]:
    """The varequal tests a condition is satisfied by (those under `not` excluded); any
    other test is a construct we cannot grade alike."""
    tests: list[ET.Element] = []

    def walk(node: ET.Element) -> None:
        for child in node:
            if child.tag in ("and", "or"):
                walk(child)
            elif child.tag == "not":
                continue
            elif child.tag in ("varequal", "varsubstring"):
                tests.append(child)
            elif child.tag != "other":
                raise ValueError(f"the condition <{child.tag}> is not supported")

    walk(condition)
    return tests


def _choice_draft(item: ET.Element, profile: str, prompt: str, points: float) -> QuestionDraft:
    response = item.find("presentation//response_lid")
    if response is None:
        raise ValueError("a choice item needs a response_lid")
    labels = []
    for label in response.iterfind("render_choice//response_label"):
        text, media = _mattext(label)
        if media:
            raise ValueError(f"a choice embeds media ({', '.join(sorted(media))})")
        labels.append((label.get("ident", ""), text))
    right: set[str] = set()
    for condition in _positive_conditions(item):
        right |= {(test.text or "").strip() for test in _equals(condition)}
    idents = [ident for ident, _ in labels]
    if not right <= set(idents):
        raise ValueError("resprocessing names choices the item does not have")
    if profile == TRUE_FALSE or (
        profile == MULTIPLE_CHOICE
        and sorted(text.lower() for _, text in labels) == ["false", "true"]
    ):
        by_text = {text.lower(): ident for ident, text in labels}
        if set(by_text) == {"true", "false"} and len(right) == 1:
            return QuestionDraft(
                QuestionKind.TRUE_FALSE, prompt, points, boolean_answer=by_text["true"] in right
            )
    multiple = profile == MULTIPLE_RESPONSE or response.get("rcardinality") == "Multiple"
    return QuestionDraft(
        QuestionKind.MULTIPLE_CHOICE if multiple else QuestionKind.SINGLE_CHOICE,
        prompt,
        points,
        choices=tuple(Choice(text, ident in right) for ident, text in labels),
    )


def _text_draft(item: ET.Element, prompt: str, points: float) -> QuestionDraft:
    accepted: list[Accepted] = []
    for condition in _positive_conditions(item):
        for test in _equals(condition):
            value = (test.text or "").strip()
            case = (test.get("case") or "No").lower() == "yes"
            if test.tag == "varsubstring":  # contains it: a pattern of ours says the same
                accepted.append(Accepted(f".*{regex.escape(value)}.*", MatchMode.PATTERN, case))
            elif value:
                accepted.append(Accepted(value, MatchMode.EXACT, case))
    return QuestionDraft(QuestionKind.SHORT_ANSWER, prompt, points, accepted=tuple(accepted))


def import_cc_item(item: ET.Element) -> CcItem:
    """`item` (QTI 1.2, no namespace) as a draft, or the problems that leave it out."""
    fields = _fields(item.find("itemmetadata"))
    profile = fields.get("cc_profile", "")
    result = CcItem(item.get("ident", "?"), item.get("title", ""), profile or "?")
    try:
        _map(item, fields, result)
        if result.draft is not None:
            build_spec(result.draft)
    except ValueError as error:
        result.problems.append(str(error)[0].upper() + str(error)[1:] + ".")
    except BadUserInput as error:
        result.problems.append(error.message)
    except (KeyError, TypeError, AttributeError):
        result.problems.append("The platform extension (lms_question) is malformed.")
    if result.problems:
        result.draft = None
    return result


def _map(item: ET.Element, fields: dict[str, str], result: CcItem) -> None:
    presentation = item.find("presentation")
    if presentation is None:
        raise ValueError("the item has no presentation")
    texts, media = [], {node.tag for node in presentation.iter() if node.tag in MEDIA_ELEMENTS}
    for material in [*presentation.iterfind("material"), *presentation.iterfind("flow/material")]:
        text, found = _mattext(material)  # the prompt; some systems put it in a flow
        texts.append(text)
        media |= found
    prompt = "\n\n".join(text for text in texts if text)
    if media:
        raise ValueError(f"it embeds media ({', '.join(sorted(media))}), which is not supported")
    ours = fields.get(OURS)
    if ours:
        data = json.loads(ours)
        if not isinstance(data, dict):
            raise TypeError
        kind = QuestionKind(data["kind"])
        result.meta = QuestionMeta(Difficulty(data["difficulty"]), [str(t) for t in data["tags"]])
        result.archived = bool(data.get("archived", False))
        result.draft = draft_from_spec(kind, prompt, float(data["points"]), data["spec"])
        return
    points = _float(fields.get("cc_weighting") or "1", "cc_weighting")
    if result.profile not in PROFILES:
        raise ValueError(
            f"the item profile {result.profile!r} has no equivalent question kind here"
        )
    if any(node.tag in ("response_xy", "response_grp", "response_num") for node in item.iter()):
        raise ValueError("its response type is not supported")
    if result.profile in (MULTIPLE_CHOICE, MULTIPLE_RESPONSE, TRUE_FALSE):
        result.draft = _choice_draft(item, result.profile, prompt, points)
    elif result.profile == ESSAY:
        result.draft = QuestionDraft(QuestionKind.ESSAY, prompt, points)
    else:
        result.draft = _text_draft(item, prompt, points)
    feedback, _ = _mattext(item.find("itemfeedback"))
    if feedback:
        result.warnings.append("Its feedback is not imported (questions here carry none).")
