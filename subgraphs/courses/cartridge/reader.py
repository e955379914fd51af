"""An IMS Common Cartridge (1.0 to 1.3) to a course outline, with a report item by item.

Every item of the organization becomes a lesson (an LTI link: a link placed with a tool
registered here), or is reported as not imported with the reason: nothing is dropped
silently. Problems that would leave the course wrong (a file the
manifest names but the package lacks, an unsafe path, malformed XML, an oversized page) are
errors of their item, and any error fails the whole import; what only loses a detail (a
file type we do not store, a title cut short) is a warning. The zip and the XML are read
with the bounds of common/safe_zip and common/safe_xml; nothing touches the disk.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Final
from urllib.parse import unquote, urlsplit

from common.cc_qti_types import is_cc_qti
from common.errors import BadUserInput
from common.safe_xml import MAX_XML_BYTES, parse
from common.safe_zip import ZipLimits, normalised, open_zip, read_entry, refuse
from subgraphs.courses import validation
from subgraphs.courses.cartridge import bank, lti_links, names, qti12
from subgraphs.courses.cartridge.bank import BankItem
from subgraphs.courses.cartridge.outline import (
    CourseOut,
    FileOut,
    ItemReport,
    LessonOut,
    LtiLinkOut,
    ModuleOut,
)
from subgraphs.courses.content import TextFormat, render
from subgraphs.courses.lessons import MAX_LESSONS_PER_MODULE, MAX_MODULES
from subgraphs.courses.storage import check_upload

MAX_CARTRIDGE_BYTES: Final = 16 * 1024 * 1024  # under the router's upload limit (20 MB)
MAX_MANIFEST_BYTES: Final = 4 * 1024 * 1024
MAX_PAGE_BYTES: Final = 1024 * 1024
CARTRIDGE_ZIP: Final = ZipLimits(max_entries=5000, max_total_bytes=200 * 1024 * 1024)
NOT_A_CARTRIDGE: Final = "The file is not a Common Cartridge (.imscc is a zip)."
_BODY = re.compile(r"<body[^>]*>(.*)</body\s*>", re.IGNORECASE | re.DOTALL)
_LEVELS: Final = frozenset({"BEGINNER", "INTERMEDIATE", "ADVANCED"})


@dataclass(frozen=True, slots=True)
class ReadCartridge:
    course: CourseOut | None  # None when any item has an error
    items: list[ItemReport] = field(default_factory=list)
    bank: list[BankItem] = field(default_factory=list)
    bank_reports: list[ItemReport] = field(default_factory=list)  # in the bank's order
    cc: qti12.CcResources = field(default_factory=qti12.CcResources)  # QTI 1.2 assessments


@dataclass(frozen=True, slots=True)
class _Resource:
    identifier: str
    kind: str
    href: str | None
    files: tuple[str, ...]
    dependencies: tuple[str, ...]
    extension: ET.Element | None
    metadata: ET.Element | None


def open_cartridge(data: bytes) -> tuple[zipfile.ZipFile, ET.Element]:
    """The archive and its manifest, once the package's bounds are checked: what an upload
    is refused for at once (size, zip bombs, unsafe names, a DTD, no manifest)."""
    if len(data) > MAX_CARTRIDGE_BYTES:
        raise refuse(f"The file is larger than {MAX_CARTRIDGE_BYTES // (1024 * 1024)} MiB.")
    if not data.startswith(b"PK"):
        raise refuse(NOT_A_CARTRIDGE)
    archive = open_zip(data, CARTRIDGE_ZIP, NOT_A_CARTRIDGE)
    if names.MANIFEST not in archive.namelist():
        raise refuse("The package has no imsmanifest.xml: it is not a Common Cartridge.")
    raw = read_entry(archive, names.MANIFEST, MAX_MANIFEST_BYTES)
    manifest = parse(raw, names.MANIFEST, MAX_MANIFEST_BYTES)
    if not (manifest.tag.endswith("}manifest") and "imscc" in manifest.tag):
        raise refuse("imsmanifest.xml is not a Common Cartridge manifest (its namespace).")
    return archive, manifest


def _text(element: ET.Element | None) -> str:
    return "" if element is None else "".join(element.itertext()).strip()


def _resources(manifest: ET.Element) -> dict[str, _Resource]:
    found: dict[str, _Resource] = {}
    for resource in manifest.iterfind("{*}resources/{*}resource"):
        identifier = resource.get("identifier", "")
        found[identifier] = _Resource(
            identifier=identifier,
            kind=resource.get("type", ""),
            href=resource.get("href"),
            files=tuple(file.get("href", "") for file in resource.iterfind("{*}file")),
            dependencies=tuple(
                dep.get("identifierref", "") for dep in resource.iterfind("{*}dependency")
            ),
            extension=resource.find(f"{{*}}metadata/{names.OURS}"),
            metadata=resource.find("{*}metadata"),
        )
    return found


class _Reader:
    def __init__(self, archive: zipfile.ZipFile, max_file_bytes: int) -> None:
        self.archive = archive
        self.max_file_bytes = max_file_bytes

    def entry(self, href: str, limit: int) -> tuple[str, bytes]:
        name = normalised(unquote(href))
        data = read_entry(self.archive, name, limit)
        if len(data) > limit:
            raise BadUserInput(f"{name} is larger than {limit // 1024} KiB.", field="file")
        return name, data

    def files(
        self, resource: _Resource, others: dict[str, _Resource], report: ItemReport
    ) -> tuple[FileOut, ...]:
        """The lesson's files: its resource's (but its page), and its dependencies'."""
        hrefs = [href for href in resource.files if href != resource.href]
        for dependency in resource.dependencies:
            target = others.get(dependency)
            if target is None:
                raise BadUserInput(f"It depends on {dependency!r}, which the manifest lacks.")
            if target.kind == names.WEB_CONTENT:
                hrefs.extend(target.files)
        files = []
        for href in dict.fromkeys(hrefs):
            name, data = self.entry(href, self.max_file_bytes)
            try:
                checked = check_upload(name, data, max_bytes=self.max_file_bytes)
            except BadUserInput as problem:
                report.warnings.append(f"{name} is not imported: {problem.message}")
                continue
            files.append(FileOut(checked.filename, checked.data))
        return tuple(files)

    def lesson(
        self,
        title: str,
        resource: _Resource,
        others: dict[str, _Resource],
        report: ItemReport,
    ) -> LessonOut:
        if resource.kind.startswith(names.WEB_LINK):
            return self.web_link(title, resource, report)
        href = resource.href or (resource.files[0] if resource.files else None)
        if href is None:
            raise BadUserInput("Its resource names no file.")
        if not href.lower().endswith(names.HTML_SUFFIXES):  # a document: the file is the lesson
            whole = replace(resource, href=None, files=(href, *resource.files))
            return LessonOut(
                title, "", TextFormat.MARKDOWN, "", files=self.files(whole, others, report)
            )
        files = self.files(resource, others, report)
        name, page = self.entry(href, MAX_PAGE_BYTES)
        ours = resource.extension
        stated = "" if ours is None else ours.get("format", "")
        if ours is not None and stated in TextFormat.__members__:
            body, body_format = ours.text or "", TextFormat(stated)
        else:
            markup = page.decode("utf-8", errors="replace")
            found = _BODY.search(markup)
            body, body_format = (found.group(1) if found else markup).strip(), TextFormat.HTML
        body_html = render(body, body_format, field=name)
        required, duration = True, None
        if ours is not None:
            required = ours.get("required", "true") != "false"
            minutes = ours.get("durationMinutes", "")
            duration = int(minutes) if minutes.isdigit() and 0 < int(minutes) <= 10_000 else None
        return LessonOut(title, body, body_format, body_html, required, duration, files)

    def web_link(self, title: str, resource: _Resource, report: ItemReport) -> LessonOut:
        href = resource.href or (resource.files[0] if resource.files else "")
        name, data = self.entry(href, MAX_PAGE_BYTES)
        link = parse(data, name, MAX_PAGE_BYTES)
        target = link.find("{*}url")
        url = "" if target is None else target.get("href", "")
        if urlsplit(url).scheme not in {"http", "https"}:
            raise BadUserInput(f"{name} links to {url!r}, which is not an http(s) URL.")
        report.warnings.append("A web link: imported as a lesson that links to it.")
        label = html.escape(_text(link.find("{*}title")) or url)
        body = f'<p><a href="{html.escape(url)}">{label}</a></p>'
        return LessonOut(title, body, TextFormat.HTML, render(body, TextFormat.HTML, field=name))

    def lti_link(self, title: str, resource: _Resource) -> LtiLinkOut:
        href = resource.href or (resource.files[0] if resource.files else "")
        name, data = self.entry(href, lti_links.MAX_LINK_BYTES)
        return lti_links.read_link(data, name, title)


def _title(raw: str, report: ItemReport, fallback: str) -> str:
    title = " ".join(raw.split())
    if len(title) > 200:
        report.warnings.append("Its title was cut to 200 characters.")
        title = title[:200].rstrip()
    if len(title) < 3:
        report.warnings.append(f"Its title {title!r} is too short; it is now {fallback!r}.")
        title = fallback
    return title


def _course(manifest: ET.Element, report: ItemReport) -> CourseOut:
    general = manifest.find("{*}metadata/{*}lom/{*}general")
    title = _text(None if general is None else general.find("{*}title/{*}string"))
    if not title:
        title = _text(manifest.find("{*}organizations/{*}organization/{*}title"))
    title = _title(title, report, "Imported course")
    report.title = title
    description = _text(None if general is None else general.find("{*}description/{*}string"))
    language = _text(None if general is None else general.find("{*}language")) or "en"
    try:
        language = validation.language(language)
    except BadUserInput:
        report.warnings.append(f"Its language {language!r} is not a language tag; it is en.")
        language = "en"
    tags: list[str] = []
    for keyword in [] if general is None else general.iterfind("{*}keyword/{*}string"):
        try:
            tags = validation.tags([*tags, _text(keyword)])
        except BadUserInput as problem:
            report.warnings.append(f"Keyword {_text(keyword)!r} is not a tag: {problem.message}")
    ours = manifest.find(f"{{*}}metadata/{names.OURS}")
    level = "BEGINNER" if ours is None else ours.get("level", "BEGINNER")
    text_format = "MARKDOWN" if ours is None else ours.get("descriptionFormat", "MARKDOWN")
    render(description, TextFormat(text_format), field="description")
    return CourseOut(
        title=title,
        description=description,
        description_format=TextFormat(text_format),
        language=language,
        level=level if level in _LEVELS else "BEGINNER",
        tags=tuple(tags),
    )


def _not_carried(kind: str) -> str | None:
    for prefix, reason in names.KINDS_NOT_CARRIED.items():
        if kind.startswith(prefix):
            return reason
    if kind == names.WEB_CONTENT or kind.startswith((names.WEB_LINK, names.LTI_LINK)):
        return None
    return f"resources of type {kind!r} are not supported"


def read_cartridge(
    data: bytes, max_file_bytes: int, tools: Sequence[lti_links.Tool] = ()
) -> ReadCartridge:
    """`tools`: those registered here, which the cartridge's LTI links are matched to."""
    archive, manifest = open_cartridge(data)
    course_report = ItemReport(manifest.get("identifier", "manifest"), "", "course", True)
    course = _course(manifest, course_report)
    resources = _resources(manifest)
    kinds = {identifier: resource.kind for identifier, resource in resources.items()}
    reader = _Reader(archive, max_file_bytes)
    reports = [course_report]
    used: set[str] = set()
    modules: list[ModuleOut] = []
    organization = manifest.find("{*}organizations/{*}organization")
    top = [] if organization is None else list(organization.iterfind("{*}item"))
    # A rooted hierarchy has one root item whose children are the modules.
    if len(top) == 1 and top[0].get("identifierref") is None:
        top = list(top[0].iterfind("{*}item"))
    loose = _Entries()
    for position, folder in enumerate(top, start=1):
        if folder.get("identifierref") is not None:  # a lesson outside any module
            loose.add(_item(reader, folder, resources, used, reports), reports[-1])
            continue
        entries = _Entries()
        for item in folder.iter():
            if item is folder or not item.tag.endswith("}item"):
                continue
            if item.get("identifierref") is not None:
                entries.add(_item(reader, item, resources, used, reports), reports[-1])
        if not entries.lessons and not entries.links and qti12.only_assessments(folder, kinds):
            continue  # our folder of assessments: they go to the course's assessments
        module_title = _title(_text(folder.find("{*}title")), course_report, f"Module {position}")
        modules.append(entries.module(module_title, tools))
    contents = loose.module("Contents", tools)
    if contents.lessons or contents.links:
        course_report.warnings.append("Items outside any module went to a module 'Contents'.")
        modules.insert(0, contents)
    for module in modules:
        if len(module.lessons) > MAX_LESSONS_PER_MODULE:
            course_report.errors.append(
                f"Module {module.title!r} has more than {MAX_LESSONS_PER_MODULE} lessons."
            )
    if len(modules) > MAX_MODULES:
        course_report.errors.append(f"A course can have at most {MAX_MODULES} modules.")
    bank, bank_reports = _bank(reader, resources, used)
    reports.extend(bank_reports)
    cc = qti12.collect(archive, {i: (r.kind, r.href, r.files) for i, r in resources.items()})
    used.update(report.identifier for report in cc.reports)
    reports.extend(cc.reports)
    _left_out(resources, used, reports)
    failed = any(report.errors for report in reports)
    if failed:
        for report in reports:
            report.imported = False
    return ReadCartridge(
        None if failed else replace(course, modules=tuple(modules)),
        reports,
        bank,
        bank_reports,
        cc,
    )


def _bank(
    reader: _Reader, resources: dict[str, _Resource], used: set[str]
) -> tuple[list[BankItem], list[ItemReport]]:
    """QTI 2.1 items, wherever they are: they go to the course's question bank."""
    items, reports = [], []
    for resource in resources.values():
        if not resource.kind.startswith((bank.CC_TYPE, bank.QTI_TYPE)):
            continue
        used.add(resource.identifier)
        href = resource.href or (resource.files[0] if resource.files else "")
        report = ItemReport(resource.identifier, href, resource.kind)
        reports.append(report)
        try:
            _, data = reader.entry(href, MAX_XML_BYTES)
        except BadUserInput as problem:
            report.errors.append(problem.message)
            continue
        items.append(BankItem(resource.identifier, href, resource.metadata, data))
    return items, reports


@dataclass
class _Entries:
    """A module's lessons and LTI links as the organization lists them."""

    lessons: list[LessonOut] = field(default_factory=list)
    links: list[tuple[LtiLinkOut, ItemReport]] = field(default_factory=list)
    lessons_after: set[int] = field(default_factory=set)  # links a lesson follows

    def add(self, entry: LessonOut | LtiLinkOut | None, report: ItemReport) -> None:
        if isinstance(entry, LtiLinkOut):
            self.links.append((entry, report))
        elif entry is not None:
            self.lessons_after.update(range(len(self.links)))
            self.lessons.append(entry)

    def module(self, title: str, tools: Sequence[lti_links.Tool]) -> ModuleOut:
        placed = lti_links.placeable(self.links, tools, self.lessons_after)
        return ModuleOut(title, tuple(self.lessons), tuple(placed))


def _item(
    reader: _Reader,
    item: ET.Element,
    resources: dict[str, _Resource],
    used: set[str],
    reports: list[ItemReport],
) -> LessonOut | LtiLinkOut | None:
    ref = item.get("identifierref", "")
    resource = resources.get(ref)
    if resource is not None and is_cc_qti(resource.kind):
        used.add(ref)  # an assessment: reported with its resource (qti12.collect)
        return None
    report = ItemReport(item.get("identifier", ref), "", "" if resource is None else resource.kind)
    reports.append(report)
    report.title = _title(_text(item.find("{*}title")), report, "Untitled lesson")
    if resource is None:
        report.errors.append(f"It refers to resource {ref!r}, which the manifest lacks.")
        return None
    used.add(ref)
    used.update(resource.dependencies)
    if resource.kind.startswith((bank.CC_TYPE, bank.QTI_TYPE)):
        report.warnings.append("A question: it goes to the course's question bank.")
        return None
    reason = _not_carried(resource.kind)
    if reason is not None:
        report.warnings.append(f"Not imported: {reason}.")
        return None
    if resource.kind.startswith(names.LTI_LINK):  # placed once matched to a tool here
        try:
            return reader.lti_link(report.title, resource)
        except BadUserInput as problem:
            report.errors.append(problem.message)
            return None
    try:
        lesson = reader.lesson(report.title, resource, resources, report)
    except BadUserInput as problem:
        report.errors.append(problem.message)
        return None
    report.imported = True
    return lesson


def _left_out(resources: dict[str, _Resource], used: set[str], reports: list[ItemReport]) -> None:
    """Resources no item of the outline uses: each reported, none imported."""
    for resource in resources.values():
        if resource.identifier in used:
            continue
        report = ItemReport(resource.identifier, resource.href or "", resource.kind)
        reason = _not_carried(resource.kind)
        report.warnings.append(
            f"Not imported: {reason}." if reason else "Not imported: it is in no module."
        )
        reports.append(report)
