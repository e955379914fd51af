"""LTI links in a Common Cartridge, both ways: a `cartridge_basiclti_link` file per link
(resource type `imsbasiclti_xmlv1p0`, the same in CC 1.0 to 1.3).

Out: title, launch URL (the link's target link URI; also `secure_launch_url` when https),
the tool as vendor, and in `blti:extensions platform="<our issuer>"` what another of our
platforms needs to place it again: the tool's client id, target link URI and login URL.
Nothing secret travels (a registration here holds no shared secret; keys are public).

In: a link is placed only with a tool registered on this platform, matched by our
extension's client id first, else by the launch URL's host and path (the tool's target
link URI or a redirect URI under whose folder it lies, the longest such wins). A link that
matches no tool, or whose launch URL is not http(s), is reported on its item and not
placed; the rest of the course imports. Our data keeps a module's links after its
lessons, so a cartridge that puts a link between lessons keeps the links' order among
themselves and says so on the item.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from common.errors import BadUserInput
from common.safe_xml import parse
from common.validation import url
from subgraphs.courses.cartridge.outline import ItemReport, LtiLinkOut
from subgraphs.courses.lti.tools import (
    MAX_LINKS_PER_MODULE,
    course_links,
    placed_link,
    registered_tools,
)
from subgraphs.courses.models import ModuleRow

TYPE: Final = "imsbasiclti_xmlv1p0"
CC: Final = "http://www.imsglobal.org/xsd/imslticc_v1p0"
BLTI: Final = "http://www.imsglobal.org/xsd/imsbasiclti_v1p0"
LTICM: Final = "http://www.imsglobal.org/xsd/imslticm_v1p0"
LTICP: Final = "http://www.imsglobal.org/xsd/imslticp_v1p0"
MAX_LINK_BYTES: Final = 256 * 1024
MAX_SHOWN: Final = 200  # characters of a hostile URL quoted back in a report
FOLDER: Final = "lti"
REGISTER: Final = (
    "an administrator must register the tool (registerLtiTool); an instructor can then "
    "place it in the module (addLtiLink)"
)

for _prefix, _namespace in (("blti", BLTI), ("lticm", LTICM), ("lticp", LTICP)):
    ET.register_namespace(_prefix, _namespace)


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool registered here, as matching needs it."""

    id: uuid.UUID
    name: str
    client_id: str
    deployment_id: str
    target_link_uri: str
    redirect_uris: tuple[str, ...]


# Out


def _property(parent: ET.Element, name: str, value: str) -> None:
    ET.SubElement(parent, f"{{{LTICM}}}property", {"name": name}).text = value


def link_file(link: LtiLinkOut, platform: str) -> bytes:
    root = ET.Element("cartridge_basiclti_link")
    ET.SubElement(root, f"{{{BLTI}}}title").text = link.title
    if link.tool_name:
        ET.SubElement(root, f"{{{BLTI}}}description").text = f"{link.title} ({link.tool_name})"
    extensions = ET.SubElement(root, f"{{{BLTI}}}extensions", {"platform": platform})
    _property(extensions, "lti_version", "1.3.0")
    for name, value in (
        ("client_id", link.client_id),
        ("target_link_uri", link.tool_url),
        ("login_url", link.login_url),
    ):
        if value:
            _property(extensions, name, value)
    ET.SubElement(root, f"{{{BLTI}}}launch_url").text = link.launch_url
    if link.launch_url.startswith("https://"):
        ET.SubElement(root, f"{{{BLTI}}}secure_launch_url").text = link.launch_url
    vendor = ET.SubElement(root, f"{{{BLTI}}}vendor")
    ET.SubElement(vendor, f"{{{LTICP}}}code").text = urlsplit(
        link.tool_url or link.launch_url
    ).netloc
    ET.SubElement(vendor, f"{{{LTICP}}}name").text = link.tool_name or "LTI tool"
    root.set("xmlns", CC)  # as the manifest is written: no default prefix registered
    text = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + text).encode()


def add_to_module(
    archive: zipfile.ZipFile,
    resources: ET.Element,
    folder: ET.Element,
    links: Sequence[LtiLinkOut],
    module: int,
    platform: str,
) -> None:
    """The module's links as items after its lessons, each with its resource and file."""
    for n, link in enumerate(links, start=1):
        ident, href = f"lti-{module}-{n}", f"{FOLDER}/{module}-{n}.xml"
        item = ET.SubElement(
            folder, "item", {"identifier": f"item-lti-{module}-{n}", "identifierref": ident}
        )
        ET.SubElement(item, "title").text = link.title
        resource = ET.SubElement(resources, "resource", {"identifier": ident, "type": TYPE})
        ET.SubElement(resource, "file", {"href": href})
        archive.writestr(href, link_file(link, platform))


async def links_by_module(
    session: AsyncSession, course_id: uuid.UUID
) -> dict[uuid.UUID, tuple[LtiLinkOut, ...]]:
    grouped: dict[uuid.UUID, list[LtiLinkOut]] = {}
    for link, tool in await course_links(session, course_id):
        grouped.setdefault(link.module_id, []).append(
            LtiLinkOut(
                title=link.title,
                launch_url=link.target_link_uri,
                tool_name=tool.name,
                client_id=tool.client_id,
                tool_url=tool.target_link_uri,
                login_url=tool.login_url,
            )
        )
    return {module: tuple(links) for module, links in grouped.items()}


# In


def _shown(value: str) -> str:
    return repr(value if len(value) <= MAX_SHOWN else value[:MAX_SHOWN] + "…")


def read_link(data: bytes, name: str, title: str) -> LtiLinkOut:
    """The link a file describes (BadUserInput when it is not a safe, well-formed one)."""
    root = parse(data, name, MAX_LINK_BYTES)
    if not root.tag.endswith("}cartridge_basiclti_link"):
        raise BadUserInput(f"{name} is not a cartridge_basiclti_link.", field="file")

    def text(tag: str) -> str:
        return " ".join("".join(root.findtext(f"{{*}}{tag}") or "").split())

    ours = {
        each.get("name", ""): (each.text or "").strip()
        for extensions in root.iterfind("{*}extensions")
        for each in extensions.iterfind("{*}property")
    }
    vendor = root.find("{*}vendor")
    return LtiLinkOut(
        title=title,
        launch_url=text("secure_launch_url") or text("launch_url"),
        tool_name="" if vendor is None else (vendor.findtext("{*}name") or "").strip()[:200],
        client_id=ours.get("client_id") or None,
        tool_url=ours.get("target_link_uri") or None,
        login_url=ours.get("login_url") or None,
    )


def _within(launch: str, tool_url: str) -> int:
    """How closely `launch` lies under `tool_url` (the length of the tool's folder it lies
    in, 1 for the host's root), or 0 when it does not (another host or port, or folder)."""
    try:
        given, known = urlsplit(launch), urlsplit(tool_url)
        if (given.hostname, given.port) != (known.hostname, known.port) or not given.hostname:
            return 0
    except ValueError:
        return 0
    folder = known.path[: known.path.rfind("/") + 1] or "/"
    path = given.path or "/"
    return len(folder) if path.startswith(folder) or path == known.path else 0


def match(link: LtiLinkOut, tools: Sequence[Tool], report: ItemReport) -> LtiLinkOut | None:
    """The link with the tool it is placed with and the URI it launches; None (said on the
    report) when it cannot be placed."""
    launch = link.launch_url
    try:
        scheme = urlsplit(launch).scheme.lower()
    except ValueError:  # e.g. an unclosed IPv6 bracket
        scheme = ""
    if scheme not in {"http", "https"}:
        report.warnings.append(
            f"Not placed: its launch URL {_shown(launch)} is not an http(s) URL."
        )
        return None
    tool = next(
        (each for each in tools if link.client_id and each.client_id == link.client_id), None
    )
    if tool is None:
        scored = [
            (max(_within(launch, each) for each in (t.target_link_uri, *t.redirect_uris)), t)
            for t in tools
        ]
        best = max((score for score, _ in scored), default=0)
        chosen = [t for score, t in scored if score == best and best > 0]
        if not chosen:
            report.warnings.append(
                f"Not placed: no LTI tool registered on this platform matches its launch URL "
                f"{_shown(launch)}; {REGISTER}."
            )
            return None
        tool = chosen[0]
        if len(chosen) > 1:
            report.warnings.append(
                f"Its launch URL matches {len(chosen)} registered tools; placed with "
                f"{tool.name!r}, registered first."
            )
    target = launch
    within = any(_within(launch, each) for each in (tool.target_link_uri, *tool.redirect_uris))
    try:
        target = url(launch, field="launch_url", loopback_http=True)
    except BadUserInput:
        within = False
    if not within:
        report.warnings.append(
            f"Its launch URL {_shown(launch)} is not an https URL on the host of the tool "
            f"it names ({tool.name!r}): the link launches the tool's own target link URI."
        )
        target = tool.target_link_uri
    return replace(
        link,
        launch_url=target,
        tool_name=tool.name,
        tool_id=tool.id,
        deployment_id=tool.deployment_id,
    )


def placeable(
    links: Sequence[tuple[LtiLinkOut, ItemReport]], tools: Sequence[Tool], lessons_after: set[int]
) -> list[LtiLinkOut]:
    """A module's links that can be placed, in their order; each one's report says what
    became of it. `lessons_after` holds the indexes of links a lesson follows."""
    placed: list[LtiLinkOut] = []
    for index, (link, report) in enumerate(links):
        if len(placed) >= MAX_LINKS_PER_MODULE:
            report.warnings.append(
                f"Not placed: a module holds at most {MAX_LINKS_PER_MODULE} LTI links."
            )
            continue
        matched = match(link, tools, report)
        if matched is None:
            continue
        if index in lessons_after:
            report.warnings.append(
                "Placed after the module's lessons: here a module's LTI links follow its "
                "lessons (their order among themselves is kept)."
            )
        report.imported = True
        placed.append(matched)
    return placed


def save_links(
    session: AsyncSession, owner: uuid.UUID, module: ModuleRow, links: Sequence[LtiLinkOut]
) -> None:
    """The module's matched links, in the module's (the course's) transaction."""
    for position, link in enumerate(links):
        if link.tool_id is None or link.deployment_id is None:
            continue  # not matched: reported, never placed
        session.add(
            placed_link(
                module,
                link.tool_id,
                link.deployment_id,
                link.title,
                link.launch_url,
                position,
                owner,
            )
        )


async def tools_here(session: AsyncSession) -> list[Tool]:
    return [
        Tool(
            row.id,
            row.name,
            row.client_id,
            row.deployment_ids[0],
            row.target_link_uri,
            tuple(row.redirect_uris),
        )
        for row in await registered_tools(session)
    ]
