"""A course outline to an IMS Common Cartridge 1.3 package.

The organization is the course's outline (modules as folders, lessons as items); each
lesson is a web page (`webcontent`) with its files beside it, listed in the lesson's
resource so any system imports them with it. The course's and the lessons' properties CC
has no place for travel in our extension's metadata, which other systems ignore.
"""

from __future__ import annotations

import html
import io
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from urllib.parse import quote

from subgraphs.courses.cartridge import lti_links, names
from subgraphs.courses.cartridge.bank import BankItem, add_to_cartridge
from subgraphs.courses.cartridge.outline import CourseOut, LessonOut
from subgraphs.courses.cartridge.qti12 import AssessmentFile, add_assessments

ET.register_namespace("lomimscc", names.LOM_MANIFEST)
ET.register_namespace("lmscc", names.EXTENSION)


def _lom(parent: ET.Element, tag: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{names.LOM_MANIFEST}}}{tag}")


def _lom_string(parent: ET.Element, tag: str, value: str) -> None:
    _lom(_lom(parent, tag), "string").text = value


def _course_metadata(manifest: ET.Element, course: CourseOut) -> None:
    metadata = ET.SubElement(manifest, "metadata")
    ET.SubElement(metadata, "schema").text = names.SCHEMA
    ET.SubElement(metadata, "schemaversion").text = names.SCHEMA_VERSION
    general = _lom(_lom(metadata, "lom"), "general")
    _lom_string(general, "title", course.title)
    _lom(general, "language").text = course.language
    if course.description:
        _lom_string(general, "description", course.description)
    for tag in course.tags:
        _lom_string(general, "keyword", tag)
    ET.SubElement(
        metadata,
        names.OURS,
        {"level": course.level, "descriptionFormat": course.description_format.value},
    )


def _page(lesson: LessonOut) -> bytes:
    title = html.escape(lesson.title)
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n</head>\n<body>\n{lesson.body_html}\n</body>\n</html>\n"
    ).encode()


def _lesson_resource(
    resources: ET.Element, archive: zipfile.ZipFile, lesson: LessonOut, folder: str, ident: str
) -> None:
    href = f"{folder}/index.html"
    resource = ET.SubElement(
        resources, "resource", {"identifier": ident, "type": names.WEB_CONTENT, "href": href}
    )
    extension = {"format": lesson.body_format.value, "required": str(lesson.required).lower()}
    if lesson.duration_minutes is not None:
        extension["durationMinutes"] = str(lesson.duration_minutes)
    source = ET.SubElement(ET.SubElement(resource, "metadata"), names.OURS, extension)
    source.text = lesson.body
    archive.writestr(href, _page(lesson))
    ET.SubElement(resource, "file", {"href": href})
    for file in lesson.files:
        file_href = f"{folder}/files/{quote(file.filename)}"
        archive.writestr(f"{folder}/files/{file.filename}", file.data)
        ET.SubElement(resource, "file", {"href": file_href})


def write_cartridge(
    course: CourseOut,
    bank: Sequence[BankItem] = (),
    assessments: Sequence[AssessmentFile] = (),
    *,
    platform: str = "",
) -> bytes:
    """The cartridge; the question bank's items, if any, as QTI 2.1 resources outside the
    outline (a bank is not a place in the course); each module's LTI links after its
    lessons, marked as placed on `platform` (our LTI issuer); the assessments in a folder
    of their own (qti12)."""
    buffer = io.BytesIO()
    manifest = ET.Element("manifest", {"identifier": "lms-course"})
    _course_metadata(manifest, course)
    organizations = ET.SubElement(manifest, "organizations")
    organization = ET.SubElement(
        organizations,
        "organization",
        {"identifier": "organization", "structure": "rooted-hierarchy"},
    )
    root = ET.SubElement(organization, "item", {"identifier": "root"})
    resources = ET.SubElement(manifest, "resources")
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for m, module in enumerate(course.modules, start=1):
            folder = ET.SubElement(root, "item", {"identifier": f"module-{m}"})
            ET.SubElement(folder, "title").text = module.title
            for n, lesson in enumerate(module.lessons, start=1):
                ident = f"lesson-{m}-{n}"
                item = ET.SubElement(
                    folder, "item", {"identifier": f"item-{m}-{n}", "identifierref": ident}
                )
                ET.SubElement(item, "title").text = lesson.title
                _lesson_resource(resources, archive, lesson, f"lessons/{m}-{n}", ident)
            lti_links.add_to_module(archive, resources, folder, module.links, m, platform)
        add_assessments(archive, root, resources, assessments)
        add_to_cartridge(archive, resources, bank)
        manifest.set("xmlns", names.CP)
        text = ET.tostring(manifest, encoding="unicode").replace("\r", "&#13;")
        archive.writestr(names.MANIFEST, '<?xml version="1.0" encoding="UTF-8"?>\n' + text)
    return buffer.getvalue()
