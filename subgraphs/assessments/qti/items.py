"""One question as one QTI assessmentItem, and back.

Export maps every kind (SINGLE_CHOICE and MULTIPLE_CHOICE to a choiceInteraction, TRUE_FALSE
to a choiceInteraction with the choices `true` and `false`, SHORT_ANSWER and NUMERIC to a
textEntryInteraction, ESSAY and CODE to an extendedTextInteraction with the rubric as a
rubricBlock). What QTI cannot say (answer patterns, code tests, difficulty and tags) travels
in an element of our own namespace, `EXTENSION`, kept in the item's manifest entry
(`<metadata>` takes foreign elements; the item itself stays plain QTI), which other systems
ignore: an item that needs it for grading is reported "not portable". Import reads both our
items (losslessly) and other systems' items of the kinds we have, and says, item by item,
what did not map.

Trees here are spelled as QTI 2.1 without namespaces; `names` converts at the edges.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any, Final

from common.errors import BadUserInput
from subgraphs.assessments.bank import QuestionMeta
from subgraphs.assessments.models import QuestionRow
from subgraphs.assessments.qti.names import QtiVersion, template_name, template_url
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

EXTENSION: Final = "urn:lms-platform:qti:question:1"
OURS: Final = "{" + EXTENSION + "}question"
PROMPT_CLASS: Final = "lms-prompt"
RUBRIC_CLASS: Final = "lms-rubric"
INTERACTIONS: Final = frozenset(
    {"choiceInteraction", "textEntryInteraction", "extendedTextInteraction"}
)
MEDIA: Final = frozenset({"img", "object", "audio", "video", "math", "include"})


def _number(value: float) -> str:
    return repr(float(value))  # the shortest text that reads back as the same float


@dataclass(slots=True)
class ExportedItem:
    identifier: str
    element: ET.Element
    extension: ET.Element
    notes: list[str] = field(default_factory=list)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    node = ET.SubElement(parent, tag, attrib)
    node.text = text
    return node


def _declaration(
    item: ET.Element, base_type: str, cardinality: str, correct: list[str]
) -> ET.Element:
    declaration = _sub(
        item,
        "responseDeclaration",
        identifier="RESPONSE",
        cardinality=cardinality,
        baseType=base_type,
    )
    if correct:
        values = _sub(declaration, "correctResponse")
        for value in correct:
            _sub(values, "value", value)
    return declaration


def _mapping(declaration: ET.Element, entries: list[tuple[str, float, bool]], top: float) -> None:
    mapping = _sub(
        declaration, "mapping", lowerBound="0", upperBound=_number(top), defaultValue="0"
    )
    for key, value, case_sensitive in entries:
        _sub(
            mapping,
            "mapEntry",
            mapKey=key,
            mappedValue=_number(value),
            caseSensitive="true" if case_sensitive else "false",
        )


def _outcomes(item: ET.Element, points: float, by_person: bool) -> None:
    score = _sub(item, "outcomeDeclaration", identifier="SCORE", cardinality="single")
    score.set("baseType", "float")
    if by_person:  # QTI 3.0 says who scores an item graded outside response processing
        score.set("externalScored", "human")
    _sub(_sub(score, "defaultValue"), "value", "0")
    top = _sub(item, "outcomeDeclaration", identifier="MAXSCORE", cardinality="single")
    top.set("baseType", "float")
    _sub(_sub(top, "defaultValue"), "value", _number(points))


def _tolerance_processing(item: ET.Element, points: float, tolerance: float) -> None:
    condition = _sub(_sub(item, "responseProcessing"), "responseCondition")
    branch = _sub(condition, "responseIf")
    equal = _sub(
        branch,
        "equal",
        toleranceMode="absolute",
        tolerance=f"{_number(tolerance)} {_number(tolerance)}",
        includeLowerBound="true",
        includeUpperBound="true",
    )
    _sub(equal, "variable", identifier="RESPONSE")
    _sub(equal, "correct", identifier="RESPONSE")
    scored = _sub(branch, "setOutcomeValue", identifier="SCORE")
    _sub(scored, "baseValue", _number(points), baseType="float")
    otherwise = _sub(_sub(condition, "responseElse"), "setOutcomeValue", identifier="SCORE")
    _sub(otherwise, "baseValue", "0", baseType="float")


def export_item(row: QuestionRow, version: QtiVersion) -> ExportedItem:
    """`row` as an assessmentItem (2.1 spelling; its templates' URLs are `version`'s)."""
    kind, spec, points = QuestionKind(row.kind), row.spec, row.points
    identifier = f"q-{row.id}"
    title = " ".join(row.prompt.split())[:80]
    item = ET.Element(
        "assessmentItem",
        {"identifier": identifier, "title": title, "adaptive": "false", "timeDependent": "false"},
    )
    extension: dict[str, Any] = {
        "kind": kind.value,
        "difficulty": row.difficulty,
        "tags": list(row.tags),
    }
    exported = ExportedItem(identifier, item, ET.Element(OURS))
    body = ET.Element("itemBody")
    _sub(body, "div", row.prompt, **{"class": PROMPT_CLASS})
    rule: str | None = None
    match kind:
        case QuestionKind.SINGLE_CHOICE | QuestionKind.MULTIPLE_CHOICE | QuestionKind.TRUE_FALSE:
            if kind is QuestionKind.TRUE_FALSE:
                choices = [
                    {"id": "true", "text": "True", "correct": spec["answer"]},
                    {"id": "false", "text": "False", "correct": not spec["answer"]},
                ]
            else:
                choices = spec["choices"]
            right = [c["id"] for c in choices if c["correct"]]
            multiple = kind is QuestionKind.MULTIPLE_CHOICE
            declaration = _declaration(
                item, "identifier", "multiple" if multiple else "single", right
            )
            if multiple:
                share = points / len(right)
                _mapping(
                    declaration,
                    [(c["id"], share if c["correct"] else -share, True) for c in choices],
                    points,
                )
            interaction = _sub(
                body,
                "choiceInteraction",
                responseIdentifier="RESPONSE",
                shuffle="false",
                maxChoices="0" if multiple else "1",
            )
            for choice in choices:
                _sub(interaction, "simpleChoice", choice["text"], identifier=choice["id"])
            rule = "map_response" if multiple else "match_correct"
        case QuestionKind.SHORT_ANSWER:
            exact = [a for a in spec["accepted"] if a["match"] == MatchMode.EXACT.value]
            patterns = [a for a in spec["accepted"] if a["match"] == MatchMode.PATTERN.value]
            declaration = _declaration(item, "string", "single", [a["value"] for a in exact[:1]])
            if exact:
                _mapping(
                    declaration, [(a["value"], points, a["caseSensitive"]) for a in exact], points
                )
                rule = "map_response"
            if patterns:
                extension["accepted"] = spec["accepted"]  # in order, patterns among them
                exported.notes.append(
                    "Not portable: answer patterns (regular expressions) have no QTI "
                    "equivalent; they travel in our extension only."
                )
            _sub(_sub(body, "p"), "textEntryInteraction", responseIdentifier="RESPONSE")
        case QuestionKind.NUMERIC:
            _declaration(item, "float", "single", [_number(spec["answer"])])
            _sub(_sub(body, "p"), "textEntryInteraction", responseIdentifier="RESPONSE")
        case QuestionKind.ESSAY | QuestionKind.CODE:
            _declaration(item, "string", "single", [])
            if spec.get("rubric"):
                block = _sub(body, "rubricBlock", view="scorer")
                table = _sub(_sub(block, "table", **{"class": RUBRIC_CLASS}), "tbody")
                for criterion in spec["rubric"]:
                    line = _sub(table, "tr")
                    _sub(line, "td", criterion["criterion"])
                    _sub(line, "td", _number(criterion["points"]))
            _sub(body, "extendedTextInteraction", responseIdentifier="RESPONSE")
            if kind is QuestionKind.CODE:
                extension["code"] = {"starter": spec["starter"], "tests": spec["tests"]}
                exported.notes.append(
                    "Not portable: code questions are graded by running their tests, which "
                    "QTI cannot express; other systems see an extended text question."
                )
    by_person = kind in (QuestionKind.ESSAY, QuestionKind.CODE) and version is QtiVersion.V3_0
    _outcomes(item, points, by_person)
    item.append(body)
    if rule is not None:
        _sub(item, "responseProcessing", template=template_url(version, rule))
    elif kind is QuestionKind.NUMERIC:
        _tolerance_processing(item, points, spec["tolerance"])
    exported.extension.text = json.dumps(extension, ensure_ascii=False, sort_keys=True)
    return exported


# Import


@dataclass(slots=True)
class ImportedItem:
    """What one item became: a draft to create, or why not."""

    identifier: str
    title: str
    draft: QuestionDraft | None = None
    meta: QuestionMeta = field(default_factory=QuestionMeta)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _text(node: ET.Element | None) -> str:
    return "" if node is None else "".join(node.itertext())


def _values(declaration: ET.Element | None) -> list[str]:
    if declaration is None:
        return []
    return [(value.text or "").strip() for value in declaration.iterfind("correctResponse/value")]


def _float(text: str | None, what: str) -> float:
    try:
        value = float((text or "").strip())
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{what} {text!r} is not a finite number")
    return value


def _points(item: ET.Element, declaration: ET.Element | None) -> float:
    for outcome in item.iterfind("outcomeDeclaration"):
        if outcome.get("identifier") == "MAXSCORE":
            value = outcome.find("defaultValue/value")
            if value is not None:
                return _float(value.text, "MAXSCORE")
    mapping = None if declaration is None else declaration.find("mapping")
    if mapping is not None and mapping.get("upperBound"):
        return _float(mapping.get("upperBound"), "upperBound")
    return 1.0


def _prompt(body: ET.Element) -> str:
    ours = body.find(f"div[@class='{PROMPT_CLASS}']")
    if ours is not None:
        return ours.text or ""
    parts: list[str] = []
    for block in body:
        if block.tag in ("rubricBlock", "extendedTextInteraction", "textEntryInteraction"):
            continue
        if block.tag == "choiceInteraction":
            text = " ".join(_text(block.find("prompt")).split())
        else:
            text = " ".join(_text(block).split())
        if text:
            parts.append(text)
    return "\n\n".join(parts)


def _rubric(body: ET.Element) -> tuple[Criterion, ...]:
    table = body.find(f"rubricBlock//table[@class='{RUBRIC_CLASS}']")  # 3.0: in contentBody
    if table is None:
        return ()
    criteria = []
    for line in table.iter("tr"):
        cells = line.findall("td")
        if len(cells) == 2:
            criteria.append(Criterion(cells[0].text or "", _float(cells[1].text, "points")))
    return tuple(criteria)


def _processing_rule(item: ET.Element) -> tuple[str | None, bool]:
    """The standard template named (or None) and whether custom processing is present."""
    processing = item.find("responseProcessing")
    if processing is None:
        return None, False
    if processing.get("template"):
        return template_name(processing.get("template", "")), False
    return None, len(processing) > 0


def _tolerance(item: ET.Element) -> float | None:
    equal = item.find("responseProcessing//equal")
    if equal is None:
        return None
    if equal.get("toleranceMode", "exact") == "exact":
        return 0.0
    if equal.get("toleranceMode") != "absolute":
        raise ValueError(f"tolerance mode {equal.get('toleranceMode')!r} is not supported")
    bounds = (equal.get("tolerance") or "0").split()
    low, high = _float(bounds[0], "tolerance"), _float(bounds[-1], "tolerance")
    if low != high:
        raise ValueError("a tolerance that differs below and above the answer is not supported")
    return low


def import_item(item: ET.Element, extension: ET.Element | None) -> ImportedItem:
    """`item` (2.1 spelling, no namespace) as a draft, or the reasons it cannot be one;
    `extension` is our element from the item's manifest entry, when there is one."""
    result = ImportedItem(item.get("identifier", "?"), item.get("title", ""))
    try:
        _map_item(item, _extension(extension), result)
    except ValueError as error:
        result.errors.append(str(error)[0].upper() + str(error)[1:] + ".")
    except (KeyError, TypeError, AttributeError):
        result.errors.append("The platform extension is malformed.")
    if result.draft is not None and not result.errors:
        try:
            build_spec(result.draft)
        except BadUserInput as error:
            result.errors.append(error.message)
    if result.errors:
        result.draft = None
    return result


def _extension(node: ET.Element | None) -> dict[str, Any]:
    if node is None:
        return {}
    try:
        data = json.loads(node.text or "{}")
    except ValueError:
        raise ValueError("the platform extension is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the platform extension is not a JSON object")
    return data


def _map_item(item: ET.Element, extension: dict[str, Any], result: ImportedItem) -> None:
    if item.tag != "assessmentItem":
        raise ValueError(f"<{item.tag}> is not an assessmentItem")
    body = item.find("itemBody")
    if body is None:
        raise ValueError("the item has no itemBody")
    media = sorted({node.tag for node in body.iter() if node.tag in MEDIA})
    if media:
        raise ValueError(f"embedded media ({', '.join(media)}) is not supported")
    found = [node for node in body.iter() if node.tag.endswith("Interaction")]
    if len(found) != 1:
        names = ", ".join(sorted({node.tag for node in found})) or "none"
        raise ValueError(f"an item needs exactly one interaction (found: {names})")
    interaction = found[0]
    if interaction.tag not in INTERACTIONS:
        raise ValueError(f"{interaction.tag} has no equivalent question kind here")
    declarations = item.findall("responseDeclaration")
    if len(declarations) != 1:
        raise ValueError("an item needs exactly one responseDeclaration")
    declaration = declarations[0]
    if interaction.get("responseIdentifier") != declaration.get("identifier"):
        raise ValueError("the interaction and the responseDeclaration do not match")
    meta = QuestionMeta(
        Difficulty(extension.get("difficulty", Difficulty.MEDIUM.value)),
        [str(tag) for tag in extension.get("tags", [])],
    )
    result.meta = meta
    prompt = _prompt(body)
    points = _points(item, declaration)
    rule, custom = _processing_rule(item)
    kind_named = extension.get("kind")
    base_type = declaration.get("baseType", "")
    if interaction.tag == "choiceInteraction":
        result.draft = _choice_draft(item, interaction, declaration, prompt, points, kind_named)
        if custom:
            result.warnings.append(
                "Custom response processing is replaced by grading against correctResponse."
            )
    elif interaction.tag == "textEntryInteraction" and base_type in ("float", "integer"):
        tolerance = _tolerance(item)
        if custom and tolerance is None:
            result.warnings.append(
                "Custom response processing is replaced by grading against correctResponse."
            )
        answer = _values(declaration)
        if len(answer) != 1:
            raise ValueError("a numeric item needs one correctResponse value")
        result.draft = QuestionDraft(
            QuestionKind.NUMERIC,
            prompt,
            points,
            numeric_answer=_float(answer[0], "correctResponse"),
            tolerance=tolerance or 0.0,
        )
    elif interaction.tag == "textEntryInteraction":
        if base_type != "string":
            raise ValueError(f"a text entry of baseType {base_type!r} is not supported")
        if custom:
            result.warnings.append(
                "Custom response processing is replaced by the correct response and mapping."
            )
        result.draft = QuestionDraft(
            QuestionKind.SHORT_ANSWER,
            prompt,
            points,
            accepted=_accepted(declaration, extension),
        )
    else:
        code = extension.get("code") if kind_named == QuestionKind.CODE.value else None
        if code is not None:
            result.draft = QuestionDraft(
                QuestionKind.CODE,
                prompt,
                points,
                starter_code=str(code.get("starter", "")),
                tests=tuple(
                    TestSpec(str(t["name"]), str(t["code"]), bool(t["hidden"]))
                    for t in code.get("tests", [])
                ),
            )
        else:
            result.draft = QuestionDraft(QuestionKind.ESSAY, prompt, points, rubric=_rubric(body))
            if body.find("rubricBlock") is not None and not result.draft.rubric:
                result.warnings.append("The rubricBlock is not in our table form; not imported.")
    if rule not in (None, "match_correct", "map_response"):
        result.warnings.append(f"Response processing template {rule} is replaced by ours.")


def _choice_draft(
    item: ET.Element,
    interaction: ET.Element,
    declaration: ET.Element,
    prompt: str,
    points: float,
    kind_named: Any,
) -> QuestionDraft:
    choices = interaction.findall("simpleChoice")
    right = set(_values(declaration))
    ids = [choice.get("identifier", "") for choice in choices]
    if not right <= set(ids):
        raise ValueError("correctResponse names choices the interaction does not have")
    multiple = declaration.get("cardinality") == "multiple"
    if not multiple and sorted(ids) == ["false", "true"] and kind_named in (None, "TRUE_FALSE"):
        return QuestionDraft(
            QuestionKind.TRUE_FALSE, prompt, points, boolean_answer=right == {"true"}
        )
    if declaration.get("cardinality") not in ("single", "multiple"):
        raise ValueError("a choice item needs single or multiple cardinality")
    return QuestionDraft(
        QuestionKind.MULTIPLE_CHOICE if multiple else QuestionKind.SINGLE_CHOICE,
        prompt,
        points,
        choices=tuple(
            Choice(" ".join(_text(choice).split()), choice.get("identifier") in right)
            for choice in choices
        ),
    )


def _accepted(declaration: ET.Element, extension: dict[str, Any]) -> tuple[Accepted, ...]:
    entries: list[Accepted] = []
    seen: set[str] = set()
    for entry in declaration.iterfind("mapping/mapEntry"):
        key = entry.get("mapKey", "")
        if _float(entry.get("mappedValue"), "mappedValue") > 0 and key not in seen:
            seen.add(key)
            entries.append(Accepted(key, MatchMode.EXACT, entry.get("caseSensitive") == "true"))
    for value in _values(declaration):
        if value not in seen:
            seen.add(value)
            entries.append(Accepted(value, MatchMode.EXACT, False))
    if "accepted" in extension:  # ours, with patterns: the whole list, in order
        return tuple(
            Accepted(str(a["value"]), MatchMode(a["match"]), bool(a["caseSensitive"]))
            for a in extension["accepted"]
        )
    return tuple(entries)
