"""A course's question bank in its cartridge: QTI 2.1 items, as Canvas carries content CC's
own QTI 1.2 profile cannot hold (resources of type `imsqti_xmlv2p1`).

The bank belongs to the assessments subgraph, so this module only asks it, over HTTP, as
the caller: `exportQuestionBank` for a signed link at export time (the assessments subgraph
checks the caller there), and `importQuestions` into the imported course (all or nothing)
at import time. Each item's QTI metadata (our QTI extension: kind, points, answer key
details) is copied across unchanged, so our own bank comes back whole.
"""

from __future__ import annotations

import copy
import io
import json
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

import httpx

from common.errors import BadUserInput
from common.graphql.peers import PeerClient, PeerUnavailable
from common.safe_xml import MAX_XML_BYTES, parse
from common.safe_zip import ZipLimits, normalised, open_zip, read_entry
from common.settings import Settings
from subgraphs.courses.cartridge.qti12 import CcFile

CC_TYPE: Final = "imsqti_xmlv2p1"  # the type a cartridge gives a QTI 2.1 item
QTI_TYPE: Final = "imsqti_item_xmlv2p1"  # the type a QTI content package gives it
QTI_MANIFEST_NS: Final = "http://www.imsglobal.org/xsd/imscp_v1p1"
FOLDER: Final = "questions"
TIMEOUT_SECONDS: Final = 30.0
EXPORT = """
query($c: ID!) { exportQuestionBank(courseId: $c, version: V2_1) { url itemCount } }
"""
IMPORT = """
mutation($c: ID!, $file: Upload!) {
  importQuestions(courseId: $c, file: $file) {
    imported { id } items { identifier title imported kind warnings errors }
    resources { identifier title imported warnings errors
      items { identifier title imported kind warnings errors } }
  }
}
"""


@dataclass(frozen=True, slots=True)
class BankItem:
    identifier: str
    href: str  # inside the QTI package (items/x.xml)
    metadata: ET.Element | None  # the resource's <metadata>, copied as it is
    data: bytes


@dataclass(frozen=True, slots=True)
class BankLink:
    """The signed link's proof the assessments subgraph gave for this course's bank."""

    expires: str
    signature: str


def _base(graphql_url: str) -> str:
    return graphql_url.removesuffix("/").removesuffix("/graphql")


async def bank_link(
    http: httpx.AsyncClient, settings: Settings, course_id: uuid.UUID, authorization: str | None
) -> BankLink | None:
    """The bank's signed export link, asked as the caller (it opens the course's
    assessments too, qti12.fetch_assessments), even when the bank is empty."""
    peer = PeerClient(http, "assessments", settings.service_url("assessments"), TIMEOUT_SECONDS)
    data = await peer.query(EXPORT, {"c": str(course_id)}, authorization=authorization)
    export = data["exportQuestionBank"]
    query = parse_qs(urlsplit(export["url"]).query)
    return BankLink(query["expires"][0], query["signature"][0])


async def fetch_bank(
    http: httpx.AsyncClient, settings: Settings, course_id: uuid.UUID, link: BankLink
) -> list[BankItem]:
    base = _base(settings.service_url("assessments"))
    try:
        response = await http.get(
            f"{base}/qti/{course_id}/2.1/questions.zip",
            params={"expires": link.expires, "signature": link.signature},
            timeout=TIMEOUT_SECONDS,
        )
    except httpx.HTTPError:
        raise PeerUnavailable("The assessments service is unavailable; try again.") from None
    if response.status_code != 200:
        raise PeerUnavailable("The assessments service did not give the question bank.")
    return read_qti_package(response.content)


def read_qti_package(data: bytes) -> list[BankItem]:
    archive = open_zip(data, ZipLimits(), "The question bank is not a zip.")
    manifest = parse(read_entry(archive, "imsmanifest.xml", MAX_XML_BYTES), "imsmanifest.xml")
    items = []
    for resource in manifest.iterfind("{*}resources/{*}resource"):
        href = normalised(resource.get("href", ""))
        items.append(
            BankItem(
                resource.get("identifier", href),
                href,
                resource.find("{*}metadata"),
                read_entry(archive, href, MAX_XML_BYTES),
            )
        )
    return items


def add_to_cartridge(
    archive: zipfile.ZipFile, resources: ET.Element, items: Sequence[BankItem]
) -> None:
    for item in items:
        href = f"{FOLDER}/{item.href}"
        archive.writestr(href, item.data)
        resource = ET.SubElement(
            resources,
            "resource",
            {"identifier": f"question-{item.identifier}", "type": CC_TYPE, "href": href},
        )
        if item.metadata is not None:
            resource.append(_unqualified_wrapper(item.metadata))
        ET.SubElement(resource, "file", {"href": href})


def _unqualified_wrapper(metadata: ET.Element) -> ET.Element:
    """The <metadata> in the cartridge's namespace, its children (ours) as they were."""
    wrapper = ET.Element("metadata")
    wrapper.extend(copy.deepcopy(list(metadata)))
    return wrapper


def qti_package(items: list[BankItem], cc: Sequence[CcFile] = ()) -> bytes:
    """A QTI 2.1 content package of the items, for importQuestions, listing CC QTI 1.2
    resources (assessments, question banks) too."""
    manifest = ET.Element(f"{{{QTI_MANIFEST_NS}}}manifest", {"identifier": "cartridge-bank"})
    ET.SubElement(manifest, f"{{{QTI_MANIFEST_NS}}}organizations")
    resources = ET.SubElement(manifest, f"{{{QTI_MANIFEST_NS}}}resources")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, item in enumerate(items, start=1):
            href = f"items/{index}.xml"
            archive.writestr(href, item.data)
            resource = ET.SubElement(
                resources,
                f"{{{QTI_MANIFEST_NS}}}resource",
                {"identifier": item.identifier, "type": QTI_TYPE, "href": href},
            )
            metadata = ET.SubElement(resource, f"{{{QTI_MANIFEST_NS}}}metadata")
            if item.metadata is not None:
                metadata.extend(copy.deepcopy(list(item.metadata)))
            ET.SubElement(resource, f"{{{QTI_MANIFEST_NS}}}file", {"href": href})
        for file in cc:
            href = f"cc/{file.href}"  # its path in the cartridge, for the report's messages
            archive.writestr(href, file.data)
            resource = ET.SubElement(
                resources,
                f"{{{QTI_MANIFEST_NS}}}resource",
                {"identifier": file.identifier, "type": file.kind},
            )
            ET.SubElement(resource, f"{{{QTI_MANIFEST_NS}}}file", {"href": href})
        archive.writestr("imsmanifest.xml", ET.tostring(manifest, xml_declaration=True))
    return buffer.getvalue()


async def import_bank(
    http: httpx.AsyncClient,
    settings: Settings,
    authorization: str,
    course_id: uuid.UUID,
    items: list[BankItem],
    cc: Sequence[CcFile] = (),
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The assessments subgraph's report, item by item, of importing the items (all or
    nothing), and resource by resource of the CC QTI 1.2 ones; BadUserInput with its
    message when it refused the package itself."""
    operations = {"query": IMPORT, "variables": {"c": str(course_id), "file": None}}
    try:
        response = await http.post(
            settings.service_url("assessments"),
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.file"]}),
            },
            files={"0": ("questions.zip", qti_package(items, cc), "application/zip")},
            headers={"authorization": authorization, "apollo-require-preflight": "true"},
            timeout=TIMEOUT_SECONDS,
        )
        body = response.json()
    except (httpx.HTTPError, ValueError):
        raise PeerUnavailable("The assessments service is unavailable; try again.") from None
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors:
        raise BadUserInput(f"The question bank was refused: {errors[0].get('message')}")
    try:
        answer = body["data"]["importQuestions"]
        report: list[dict[str, Any]] = answer["items"]
        resources: list[dict[str, Any]] = answer["resources"]
    except (KeyError, TypeError):
        raise PeerUnavailable("The assessments service could not answer; try again.") from None
    return report, resources
