"""A course out as an IMS Common Cartridge 1.3 and back in through the router: everything CC
can carry comes back equal, as a draft of the importer; who may export or import; the
import runs as a background job with a report item by item."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

import httpx

from tests.accounts import Account
from tests.integration.assessments.conftest import (
    CHOICE,
    ESSAY,
    NUMERIC,
    SHORT,
    TRUE_FALSE,
    question,
)
from tests.integration.assessments.test_qti import BANK, CODE, MULTIPLE
from tests.integration.courses.cartridges import (
    CC13,
    EXPORT,
    FOLLOW,
    WHOLE_COURSE,
    imported,
    send_cartridge,
)
from tests.integration.courses.conftest import (
    APPROVE,
    SUBMIT,
    add_lesson,
    add_module,
    create_course,
)
from tests.integration.courses.test_attachments import upload
from tests.support import GraphQLClient, error_codes

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8
MARKDOWN = "# Loops\n\nA `for` loop:\n\n```python\nfor x in range(3):\n    print(x)\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
HTML = '<p>Read <a href="https://docs.python.org/3/">the docs</a> &amp; <strong>try</strong>.</p>'


async def _course(graph: GraphQLClient, http: httpx.AsyncClient, owner: Account) -> str:
    course = await create_course(
        graph,
        owner,
        "Cartridge Round Trip",
        description="An *intro*, with\r\nline breaks & <angles>.",
        tags=["python", "loops"],
        language="pt-BR",
        level="ADVANCED",
    )
    first = await add_module(graph, owner, course["id"], "Basics")
    await add_module(graph, owner, course["id"], "Nothing here yet")
    third = await add_module(graph, owner, course["id"], "Más allá — ünïcode")
    lesson = await add_lesson(
        graph, owner, first["id"], "Loops", body=MARKDOWN, required=False, durationMinutes=45
    )
    await add_lesson(graph, owner, first["id"], "Reading", body=HTML, bodyFormat="HTML")
    await add_lesson(graph, owner, third["id"], "Empty lesson")
    for name in ("notes & tips.pdf", "diagram.png"):
        data = PDF if name.endswith(".pdf") else b"\x89PNG\r\n\x1a\n" + b"\x01" * 64
        sent = await upload(http, graph.url, owner.access_token, lesson["id"], name, data)
        assert "errors" not in sent, sent
    for fields in (CHOICE, MULTIPLE, TRUE_FALSE, SHORT, NUMERIC, ESSAY, CODE):
        await question(graph, owner, course["id"], fields)
    course_id: str = course["id"]
    return course_id


def _comparable(course: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in course.items() if key not in {"status", "instructor"}}


async def test_a_course_goes_out_as_a_cartridge_and_comes_back_equal(
    graph: GraphQLClient,
    http: httpx.AsyncClient,
    instructor: Account,
    other_instructor: Account,
    admin: Account,
    student: Account,
) -> None:
    course_id = await _course(graph, http, instructor)
    data = await graph.data(EXPORT, {"c": course_id}, token=instructor.access_token)
    link = data["exportCourseCartridge"]
    assert any("version history" in note for note in link["notes"])
    served = await http.get(link["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/vnd.ims.imsccv1p3"
    archive = zipfile.ZipFile(io.BytesIO(served.content))
    manifest = ET.fromstring(archive.read("imsmanifest.xml"))
    assert manifest.tag == f"{{{CC13}}}manifest"
    assert manifest.findtext(f"{{{CC13}}}metadata/{{{CC13}}}schemaversion") == "1.3.0"
    kinds = [resource.get("type", "") for resource in manifest.iter(f"{{{CC13}}}resource")]
    assert sorted(set(kinds)) == ["imsqti_xmlv2p1", "webcontent"]
    assert kinds.count("imsqti_xmlv2p1") == 7  # the question bank, as QTI 2.1 items
    assert "lessons/1-1/files/notes & tips.pdf" in archive.namelist()
    tampered = served.request.url.copy_set_param("expires", "4102444800")
    assert (await http.get(tampered)).status_code == 403

    # Another instructor imports it: a draft of theirs, equal in all CC carries.
    job = await imported(graph, http, other_instructor.access_token, served.content)
    assert job["status"] == "SUCCEEDED", job
    assert job["progress"] == 1.0
    assert job["error"] is None
    assert job["finishedAt"]
    assert all(item["imported"] and not item["errors"] for item in job["items"]), job["items"]
    assert job["course"]["status"] == "DRAFT"
    assert job["course"]["instructor"]["id"] == other_instructor.id
    original = await graph.data(WHOLE_COURSE, {"id": course_id}, token=instructor.access_token)
    copy = await graph.data(
        WHOLE_COURSE, {"id": job["course"]["id"]}, token=other_instructor.access_token
    )
    assert _comparable(copy["course"]) == _comparable(original["course"])
    assert len(original["course"]["modules"][0]["lessons"][0]["attachments"]) == 2
    banks = [
        sorted(
            (edge["node"] for edge in data["questionBank"]["edges"]),
            key=lambda node: str(node["prompt"]),
        )
        for data in [
            await graph.data(BANK, {"c": course}, token=account.access_token)
            for course, account in (
                (course_id, instructor),
                (job["course"]["id"], other_instructor),
            )
        ]
    ]
    assert len(banks[0]) == 7
    assert banks[1] == banks[0]  # the bank, every field, in the imported course

    # Only the owner (or an admin) follows an import; others are not told it exists.
    hidden = await graph.execute(FOLLOW, {"id": job["id"]}, token=instructor.access_token)
    assert error_codes(hidden) == ["NOT_FOUND"]
    seen = await graph.data(FOLLOW, {"id": job["id"]}, token=admin.access_token)
    assert seen["courseImport"]["status"] == "SUCCEEDED"

    # Exporting another teacher's (published) course, or as a learner: FORBIDDEN.
    await graph.data(SUBMIT, {"id": course_id}, token=instructor.access_token)
    await graph.data(APPROVE, {"id": course_id}, token=admin.access_token)
    for account in (other_instructor, student):
        refused = await graph.execute(EXPORT, {"c": course_id}, token=account.access_token)
        assert error_codes(refused) == ["FORBIDDEN"], refused
    assert error_codes(await graph.execute(EXPORT, {"c": course_id})) == ["UNAUTHENTICATED"]
    assert error_codes(
        await graph.execute(EXPORT, {"c": "not-a-uuid"}, token=instructor.access_token)
    ) == ["BAD_USER_INPUT"]
    # A learner may not import.
    body = await send_cartridge(http, graph.url, student.access_token, served.content)
    assert error_codes(body) == ["FORBIDDEN"]
