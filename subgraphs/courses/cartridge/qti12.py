"""A course's assessments in its cartridge, as CC's own QTI 1.2 profile
(`imsqti_xmlv1p2/imscc_xmlv1p3/assessment`), and CC assessments and question banks back.

Assessments belong to the assessments subgraph, and are not placed in modules there, so
on export they sit in a folder of their own, "Assessments", at the end of the
organization: one item per assessment, its resource the QTI 1.2 document the assessments
subgraph wrote (fetched with the bank's link proof: the same instructors export both).
On import, every CC QTI 1.2 resource (wherever an item places it, or in no item) is read
here only as far as bounds go and handed, with the bank's QTI 2.1 items, to the
assessments subgraph's `importQuestions` as the importer: it checks them, maps each item
(or says why not) and writes questions and assessments in one transaction. A folder that
holds only assessments (ours) is not a module.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import unquote

import httpx

from common.cc_qti_types import ASSESSMENT_TYPE, is_cc_qti
from common.errors import BadUserInput
from common.graphql.peers import PeerUnavailable
from common.safe_xml import MAX_XML_BYTES, parse
from common.safe_zip import ZipLimits, normalised, open_zip, read_entry
from subgraphs.courses.cartridge.outline import ItemReport

ASSESSMENT: Final = ASSESSMENT_TYPE
MAX_DOCUMENT_BYTES: Final = 4 * 1024 * 1024  # as the assessments subgraph reads them
FOLDER: Final = "Assessments"
TIMEOUT_SECONDS: Final = 30.0


@dataclass(frozen=True, slots=True)
class AssessmentFile:
    identifier: str
    title: str
    data: bytes


async def fetch_assessments(
    http: httpx.AsyncClient, base: str, course_id: str, expires: str, signature: str
) -> list[AssessmentFile]:
    """The course's assessments from the assessments subgraph (the bank's link proof)."""
    try:
        response = await http.get(
            f"{base}/qti/{course_id}/2.1/assessments.zip",
            params={"expires": expires, "signature": signature},
            timeout=TIMEOUT_SECONDS,
        )
    except httpx.HTTPError:
        raise PeerUnavailable("The assessments service is unavailable; try again.") from None
    if response.status_code != 200:
        raise PeerUnavailable("The assessments service did not give the assessments.")
    archive = open_zip(response.content, ZipLimits(), "The assessments are not a zip.")
    manifest = parse(read_entry(archive, "imsmanifest.xml", MAX_XML_BYTES), "imsmanifest.xml")
    limit = MAX_DOCUMENT_BYTES
    hrefs = {
        resource.get("identifier", ""): normalised(file.get("href", ""))
        for resource in manifest.iterfind("{*}resources/{*}resource")
        for file in resource.iterfind("{*}file")
    }
    return [
        AssessmentFile(ref, item.findtext("{*}title") or "", read_entry(archive, href, limit))
        for item in manifest.iterfind("{*}organizations/{*}organization/{*}item")
        if (href := hrefs.get(ref := item.get("identifierref", "")))
    ]


def add_assessments(
    archive: zipfile.ZipFile,
    root: ET.Element,
    resources: ET.Element,
    assessments: Sequence[AssessmentFile],
) -> None:
    """The folder of assessments under the organization's root, and their resources."""
    if not assessments:
        return
    folder = ET.SubElement(root, "item", {"identifier": "assessments"})
    ET.SubElement(folder, "title").text = FOLDER
    for assessment in assessments:
        href = f"assessments/{assessment.identifier}/assessment.xml"
        archive.writestr(href, assessment.data)
        item = ET.SubElement(
            folder,
            "item",
            {"identifier": f"item-{assessment.identifier}", "identifierref": assessment.identifier},
        )
        ET.SubElement(item, "title").text = assessment.title
        resource = ET.SubElement(
            resources, "resource", {"identifier": assessment.identifier, "type": ASSESSMENT}
        )
        ET.SubElement(resource, "file", {"href": href})


# Import


@dataclass(frozen=True, slots=True)
class CcFile:
    """A CC QTI 1.2 resource of a cartridge, for the assessments subgraph."""

    identifier: str
    kind: str
    href: str
    data: bytes


@dataclass(slots=True)
class CcResources:
    files: list[CcFile] = field(default_factory=list)
    reports: list[ItemReport] = field(default_factory=list)  # in the files' order


def only_assessments(folder: ET.Element, kinds: dict[str, str]) -> bool:
    """Whether a folder holds items and every one is a CC assessment (our own folder):
    it is then not a module. `kinds` maps resource identifiers to types."""
    refs = [item.get("identifierref", "") for item in folder.iter() if item.tag.endswith("}item")]
    refs = [ref for ref in refs if ref]
    return bool(refs) and all(is_cc_qti(kinds.get(ref, "")) for ref in refs)


def collect(
    archive: zipfile.ZipFile, resources: dict[str, tuple[str, str | None, tuple[str, ...]]]
) -> CcResources:
    """Every CC QTI 1.2 resource, its file read within bounds (a missing file or an unsafe
    path is its error). `resources` maps identifier to (type, href, files)."""
    found = CcResources()
    for identifier, (kind, href, files) in resources.items():
        if not is_cc_qti(kind):
            continue
        first = href or (files[0] if files else "")
        report = ItemReport(identifier, first, kind)
        found.reports.append(report)
        try:
            name = normalised(unquote(first))
            data = read_entry(archive, name, MAX_DOCUMENT_BYTES)
            if len(data) > MAX_DOCUMENT_BYTES:
                raise BadUserInput(f"{name} is larger than {MAX_DOCUMENT_BYTES // 1024} KiB.")
        except BadUserInput as problem:
            report.errors.append(problem.message)
            continue
        found.files.append(CcFile(identifier, kind, name, data))
    return found


def merge_reports(reports: list[ItemReport], answer: Sequence[dict[str, Any]]) -> list[ItemReport]:
    """The assessments subgraph's word on each resource (by identifier) into ours, and a
    report per item of it (its kind is the question kind it became, or its CC profile)."""
    by_identifier = {report.identifier: report for report in reports}
    items: list[ItemReport] = []
    for theirs in answer:
        report = by_identifier.get(str(theirs.get("identifier")))
        if report is None:
            continue
        report.title = str(theirs.get("title") or report.title)
        report.imported = bool(theirs.get("imported"))
        report.warnings.extend(str(text) for text in theirs.get("warnings") or [])
        report.errors.extend(str(text) for text in theirs.get("errors") or [])
        for item in theirs.get("items") or []:
            items.append(
                ItemReport(
                    identifier=f"{report.identifier}/{item.get('identifier')}",
                    title=str(item.get("title") or ""),
                    kind=str(item.get("kind") or "question"),
                    imported=bool(item.get("imported")),
                    warnings=[str(text) for text in item.get("warnings") or []],
                    errors=[str(text) for text in item.get("errors") or []],
                )
            )
    return items
