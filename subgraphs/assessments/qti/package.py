"""QTI content packages: a zip of imsmanifest.xml and one item file per question.

Reading is bounded before anything is decompressed (common/safe_zip: entries, sizes,
compression ratio, zip slip) and XML is parsed without DTDs (common/safe_xml). Nothing is
extracted to disk.
A single item XML (not a zip) is accepted too.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from common.cc_qti_types import is_cc_qti
from common.safe_xml import MAX_XML_BYTES, parse
from common.safe_zip import ZipLimits, normalised, open_zip, read_entry
from common.safe_zip import refuse as _refuse
from subgraphs.assessments.models import QuestionRow
from subgraphs.assessments.qti import names
from subgraphs.assessments.qti.cc_assessments import (
    MAX_CC_XML_BYTES,
    CcResource,
    read_cc_resource,
)
from subgraphs.assessments.qti.items import (
    EXTENSION,
    OURS,
    ExportedItem,
    ImportedItem,
    export_item,
    import_item,
)
from subgraphs.assessments.qti.names import QtiVersion

MAX_PACKAGE_BYTES: Final = 16 * 1024 * 1024  # under the router's upload limit (20 MB)
MAX_ENTRIES: Final = 2000
MAX_ITEMS: Final = 500
MAX_TOTAL_BYTES: Final = 100 * 1024 * 1024
MAX_RATIO: Final = 100
MANIFEST: Final = "imsmanifest.xml"
MAX_CC_ITEMS: Final = 2000  # items of CC QTI 1.2 assessments and banks, all together


@dataclass(frozen=True, slots=True)
class ExportNote:
    identifier: str
    message: str


@dataclass(frozen=True, slots=True)
class ExportedPackage:
    data: bytes
    items: int
    notes: Sequence[ExportNote]


def _serialise(root: ET.Element, namespace: str) -> bytes:
    """`root`, its QTI elements unqualified, as a document whose default namespace is
    `namespace`."""
    root.set("xmlns", namespace)
    ET.register_namespace("lms", EXTENSION)
    text = ET.tostring(root, encoding="unicode")
    # XML parsers turn a raw carriage return into a line feed: keep ours as a reference.
    text = text.replace("\r", "&#13;")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + text).encode()


def _manifest(version: QtiVersion, items: Sequence[tuple[ExportedItem, str]]) -> ET.Element:
    manifest = ET.Element("manifest", {"identifier": "lms-question-bank"})
    ET.SubElement(manifest, "organizations")
    resources = ET.SubElement(manifest, "resources")
    for item, href in items:
        resource = ET.SubElement(
            resources,
            "resource",
            {"identifier": item.identifier, "type": names.RESOURCE_TYPE[version], "href": href},
        )
        ET.SubElement(resource, "metadata").append(item.extension)
        ET.SubElement(resource, "file", {"href": href})
    return manifest


def export_package(rows: Sequence[QuestionRow], version: QtiVersion) -> ExportedPackage:
    buffer = io.BytesIO()
    notes: list[ExportNote] = []
    listed: list[tuple[ExportedItem, str]] = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for row in rows:
            exported = export_item(row, version)
            href = f"items/{exported.identifier}.xml"
            archive.writestr(href, _item_bytes(exported.element, version))
            listed.append((exported, href))
            notes.extend(ExportNote(exported.identifier, note) for note in exported.notes)
        manifest = _manifest(version, listed)
        archive.writestr(MANIFEST, _serialise(manifest, names.MANIFEST_NAMESPACE[version]))
    return ExportedPackage(buffer.getvalue(), len(rows), notes)


def _item_bytes(item: ET.Element, version: QtiVersion) -> bytes:
    names.to_version(item, version)
    return _serialise(item, names.ITEM_NAMESPACE[version])


def export_item_xml(row: QuestionRow, version: QtiVersion) -> bytes:
    """One question as a standalone item document (without our extension)."""
    exported = export_item(row, version)
    return _item_bytes(exported.element, version)


# Import


QTI_ZIP = ZipLimits(MAX_ENTRIES, MAX_TOTAL_BYTES, MAX_RATIO, MAX_XML_BYTES)
NOT_QTI = "The file is neither a QTI package (zip) nor a QTI item (XML)."


def _read_entry(archive: zipfile.ZipFile, name: str) -> bytes:
    return read_entry(archive, name, MAX_XML_BYTES)


def _item_version(root: ET.Element) -> QtiVersion:
    for version, namespace in names.ITEM_NAMESPACE.items():
        if root.tag.startswith("{" + namespace + "}"):
            return version
    raise _refuse(
        "The XML is not a QTI 2.1 or 3.0 assessment item (unknown namespace or root element)."
    )


def read_item(data: bytes, name: str, extension: ET.Element | None = None) -> ImportedItem:
    root = parse(data, name)
    version = _item_version(root)
    names.from_version(root, names.ITEM_NAMESPACE[version])
    if root.tag != "assessmentItem":
        raise _refuse(f"{name} is not an assessment item (its root is {root.tag}).")
    return import_item(root, extension)


def _item_resources(manifest: ET.Element) -> list[tuple[str, ET.Element | None]]:
    """Each item's href and our extension from its manifest entry (None: not ours)."""
    found: list[tuple[str, ET.Element | None]] = []
    for resource in manifest.iter():
        if not isinstance(resource.tag, str) or not resource.tag.endswith("}resource"):
            continue
        kind = resource.get("type", "")
        if kind.startswith("imsqti_item_xml"):
            if kind not in names.RESOURCE_TYPE.values():
                raise _refuse(f"Item resources of type {kind} are not supported (2.1, 3.0).")
            found.append((resource.get("href", ""), resource.find(f"{{*}}metadata/{OURS}")))
    return found


def read_package(data: bytes) -> list[ImportedItem]:
    """The items of a package or of a single item XML, each mapped or with its reasons."""
    items, _ = read_contents(data)
    return items


def _cc_resources(archive: zipfile.ZipFile, manifest: ET.Element) -> list[CcResource]:
    """Common Cartridge QTI 1.2 assessments and question banks the manifest lists."""
    found = []
    for resource in manifest.iter():
        kind = resource.get("type", "") if isinstance(resource.tag, str) else ""
        if not is_cc_qti(kind):
            continue
        file = resource.find("{*}file")
        href = resource.get("href") or ("" if file is None else file.get("href", ""))
        name = normalised(href or "")
        data = read_entry(archive, name, MAX_CC_XML_BYTES)
        found.append(read_cc_resource(resource.get("identifier", name), kind, data, name))
        if sum(len(read.items) for read in found) > MAX_CC_ITEMS:
            raise _refuse(f"A package holds at most {MAX_CC_ITEMS} CC QTI 1.2 items.")
    return found


def read_contents(data: bytes) -> tuple[list[ImportedItem], list[CcResource]]:
    """The QTI 2.1/3.0 items of a package (or of a single item XML), and the Common
    Cartridge QTI 1.2 resources it lists."""
    if len(data) > MAX_PACKAGE_BYTES:
        raise _refuse(f"The file is larger than {MAX_PACKAGE_BYTES // (1024 * 1024)} MiB.")
    if not data.startswith(b"PK"):
        if data.lstrip()[:1] == b"<" or data.startswith(b"\xef\xbb\xbf"):
            return [read_item(data, "The item")], []
        raise _refuse(NOT_QTI)
    archive = open_zip(data, QTI_ZIP, NOT_QTI)
    if MANIFEST not in archive.namelist():
        raise _refuse("The package has no imsmanifest.xml: it is not a QTI content package.")
    manifest = parse(_read_entry(archive, MANIFEST), MANIFEST)
    resources = _item_resources(manifest)
    cartridge = _cc_resources(archive, manifest)
    if not resources and not cartridge:
        raise _refuse("The manifest lists no QTI 2.1 or 3.0 items (nor CC QTI 1.2 resources).")
    if len(resources) > MAX_ITEMS:
        raise _refuse(f"A package holds at most {MAX_ITEMS} items.")
    items = []
    for href, extension in resources:
        name = normalised(href)
        items.append(read_item(_read_entry(archive, name), name, extension))
    return items, cartridge
