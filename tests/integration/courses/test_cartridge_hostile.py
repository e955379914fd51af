"""Common Cartridge imports through the router that must not get in: hostile packages are
refused at upload with a reason; a package whose items have errors fails as a job with the
errors item by item and leaves no course behind; what we cannot carry is reported item by
item, never dropped silently. The foreign cartridge is shaped like 1EdTech's CC 1.2
"Validation Cartridge 1" (an LTI link and a web link in a rooted hierarchy)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from common.settings import Settings
from tests.accounts import Account
from tests.integration.assessments.test_qti import ORDER_ITEM, PICK_ITEM
from tests.integration.courses.cartridges import (
    FOLLOW,
    as_courses_service,
    finished,
    imported,
    package,
    send_cartridge,
)
from tests.integration.courses.conftest import create_course
from tests.support import GraphQLClient, error_codes

CC12 = "http://www.imsglobal.org/xsd/imsccv1p2/imscp_v1p1"
LOM12 = "http://ltsc.ieee.org/xsd/imsccv1p2/LOM/manifest"
XXE = b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><manifest>&x;</manifest>'
COUNT = "query($i: ID!) { courses(filter: {instructorId: $i}) { totalCount } }"


def _manifest(items: str, resources: str, title: str = "Foreign Course") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="cctd0015" xmlns="{CC12}" xmlns:lomimscc="{LOM12}">
  <metadata><schema>IMS Common Cartridge</schema><schemaversion>1.2.0</schemaversion>
    <lomimscc:lom><lomimscc:general>
      <lomimscc:title><lomimscc:string language="en-US">{title}</lomimscc:string></lomimscc:title>
      <lomimscc:description><lomimscc:string>Sample with a Basic LTI link</lomimscc:string></lomimscc:description>
      <lomimscc:keyword><lomimscc:string>Data Science</lomimscc:string></lomimscc:keyword>
      <lomimscc:keyword><lomimscc:string>!!!</lomimscc:string></lomimscc:keyword>
    </lomimscc:general></lomimscc:lom>
  </metadata>
  <organizations><organization identifier="T_1000" structure="rooted-hierarchy">
    <item identifier="T_00000">{items}</item>
  </organization></organizations>
  <resources>{resources}</resources>
</manifest>""".encode()


WEB_LINK = b"""<?xml version="1.0" encoding="UTF-8"?>
<webLink xmlns="http://www.imsglobal.org/xsd/imsccv1p2/imswl_v1p2">
  <title>IMS Global</title><url href="https://www.imsglobal.org/" target="_blank"/>
</webLink>"""
LTI = b"""<?xml version="1.0" encoding="UTF-8"?>
<cartridge_basiclti_link xmlns="http://www.imsglobal.org/xsd/imslticc_v1p0"
  xmlns:blti="http://www.imsglobal.org/xsd/imsbasiclti_v1p0">
  <blti:title>BLTI Test</blti:title><blti:launch_url>https://not-registered.example/launch</blti:launch_url>
</cartridge_basiclti_link>"""
QUIZ = b"""<questestinterop xmlns="http://www.imsglobal.org/xsd/ims_qtiasiv1p2">
<assessment ident="q1" title="Quiz 1"><section ident="root_section"/></assessment></questestinterop>"""
PAGE = b"<html><head><title>W</title><script>alert(1)</script></head><body><h2>Week 1</h2><p onclick='x()'>Hello</p><img src='javascript:x'></body></html>"


def _foreign() -> bytes:
    items = """
      <item identifier="T_00001" identifierref="T_00001_R"><title>BLTI Test</title></item>
      <item identifier="T_00002"><title>Week one</title>
        <item identifier="T_00003" identifierref="T_00003_R"><title>Welcome page</title></item>
        <item identifier="T_00004"><title>Sub-header</title>
          <item identifier="T_00005" identifierref="T_00005_R"><title>Web Link Test</title></item>
          <item identifier="T_00006" identifierref="T_00006_R"><title>Syllabus</title></item>
        </item>
        <item identifier="T_00007" identifierref="T_00007_R"><title>Quiz 1</title></item>
        <item identifier="T_00008" identifierref="T_00008_R"><title>Q</title></item>
      </item>"""
    resources = """
      <resource identifier="T_00001_R" type="imsbasiclti_xmlv1p0"><file href="LTI.xml"/>
        <dependency identifierref="BLTI001_Icon"/></resource>
      <resource identifier="BLTI001_Icon" type="webcontent"><file href="icon.png"/></resource>
      <resource identifier="T_00003_R" type="webcontent" href="pages/welcome.html">
        <file href="pages/welcome.html"/><file href="pages/run.exe"/>
        <dependency identifierref="IMG"/></resource>
      <resource identifier="IMG" type="webcontent"><file href="web_resources/logo.png"/></resource>
      <resource identifier="T_00005_R" type="imswl_xmlv1p2"><file href="WebLink.xml"/></resource>
      <resource identifier="T_00006_R" type="webcontent" href="files/syllabus%20v2.pdf">
        <file href="files/syllabus%20v2.pdf"/></resource>
      <resource identifier="T_00007_R" type="imsqti_xmlv1p2/imscc_xmlv1p2/assessment">
        <file href="quiz/assessment.xml"/></resource>
      <resource identifier="T_00008_R" type="imsdt_xmlv1p2"><file href="dt.xml"/></resource>
      <resource identifier="ORPHAN" type="webcontent" href="orphan.html"><file href="orphan.html"/></resource>"""
    png = b"\x89PNG\r\n\x1a\n" + b"\x02" * 32
    return package(
        {
            "imsmanifest.xml": _manifest(items, resources),
            "LTI.xml": LTI,
            "icon.png": png,
            "pages/welcome.html": PAGE,
            "pages/run.exe": b"MZ\x90\x00",
            "web_resources/logo.png": png,
            "WebLink.xml": WEB_LINK,
            "files/syllabus v2.pdf": b"%PDF-1.7 syllabus",
            "quiz/assessment.xml": QUIZ,
            "dt.xml": b"<topic/>",
            "orphan.html": b"<p>orphan</p>",
        }
    )


LESSONS = """
query($id: ID!) { course(id: $id) { title description tags modules { title lessons {
  title bodyFormat bodyHtml attachments { filename } } } } }
"""


async def test_a_foreign_cartridge_imports_what_maps_and_reports_the_rest(
    graph: GraphQLClient, http: httpx.AsyncClient, instructor: Account
) -> None:
    job = await imported(graph, http, instructor.access_token, _foreign())
    assert job["status"] == "SUCCEEDED", job
    items = {item["identifier"]: item for item in job["items"]}
    assert not any(item["errors"] for item in job["items"])
    assert items["T_00001"]["imported"] is False
    assert "no LTI tool registered" in items["T_00001"]["warnings"][0]
    assert "T_00007" not in items  # a quiz: reported with its resource
    assert items["T_00007_R"]["imported"] is True
    assert items["T_00007_R"]["title"] == "Quiz 1"
    assert items["T_00008"]["imported"] is False
    assert "discussion" in items["T_00008"]["warnings"][-1]
    assert items["ORPHAN"]["imported"] is False
    assert "in no module" in items["ORPHAN"]["warnings"][0]
    assert items["T_00005"]["imported"]
    assert "web link" in items["T_00005"]["warnings"][0]
    assert any("run.exe is not imported" in text for text in items["T_00003"]["warnings"])
    assert items["T_00008"]["title"] == "Untitled lesson"  # "Q" is too short, and said so
    assert any("Keyword" in text for text in items["cctd0015"]["warnings"])
    course = (
        await graph.data(LESSONS, {"id": job["course"]["id"]}, token=instructor.access_token)
    )["course"]
    assert course["title"] == "Foreign Course"
    assert course["tags"] == ["data-science"]
    # Items outside a module go first into "Contents"; sub-headers are flattened.
    assert [module["title"] for module in course["modules"]] == ["Week one"]
    lessons = course["modules"][0]["lessons"]
    assert [lesson["title"] for lesson in lessons] == ["Welcome page", "Web Link Test", "Syllabus"]
    welcome, link, syllabus = lessons
    assert welcome["bodyFormat"] == "HTML"
    assert "<h2>Week 1</h2>" in welcome["bodyHtml"]
    assert "script" not in welcome["bodyHtml"]
    assert "onclick" not in welcome["bodyHtml"]
    assert "javascript" not in welcome["bodyHtml"]
    assert [a["filename"] for a in welcome["attachments"]] == ["logo.png"]
    assert 'href="https://www.imsglobal.org/"' in link["bodyHtml"]
    assert [a["filename"] for a in syllabus["attachments"]] == ["syllabus v2.pdf"]


async def test_hostile_packages_are_refused_at_upload_with_a_reason(
    graph: GraphQLClient, http: httpx.AsyncClient, instructor: Account
) -> None:
    cases = {
        "zip bomb": (package({"imsmanifest.xml": b"<" + b" " * (20 * 1024 * 1024)}), "expands"),
        "slip entry": (package({"../evil.html": b"x", "imsmanifest.xml": b"<a/>"}), "unsafe name"),
        "xxe": (package({"imsmanifest.xml": XXE}), "DTD"),
        "not a zip": (b"\x89PNG\r\n\x1a\n\x00", "not a Common Cartridge"),
        "no manifest": (package({"index.html": b"<p/>"}), "no imsmanifest.xml"),
        "qti manifest": (
            package(
                {"imsmanifest.xml": b'<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"/>'}
            ),
            "not a Common Cartridge manifest",
        ),
        "too many files": (package({f"f{i}": b"" for i in range(5001)}), "more than 5000"),
    }
    for case, (data, reason) in cases.items():
        body = await send_cartridge(http, graph.url, instructor.access_token, data)
        assert error_codes(body) == ["BAD_USER_INPUT"], (case, body)
        assert reason in body["errors"][0]["message"], (case, body["errors"][0]["message"])
    oversized = b"PK" + b"\x00" * (17 * 1024 * 1024)
    body = await send_cartridge(http, graph.url, instructor.access_token, oversized)
    assert error_codes(body) == ["PAYLOAD_TOO_LARGE"], body
    wrong_type = await graph.execute(
        "mutation($f: Upload!) { importCourseCartridge(file: $f) { courseImport { id } } }",
        {"f": "not a file"},
        token=instructor.access_token,
    )
    assert error_codes(wrong_type) == ["BAD_USER_INPUT"], wrong_type
    missing = await graph.execute(
        "mutation { importCourseCartridge { courseImport { id } } }",
        token=instructor.access_token,
    )
    assert error_codes(missing) == ["GRAPHQL_VALIDATION_FAILED"], missing
    unknown = await graph.execute(
        FOLLOW, {"id": "00000000-0000-0000-0000-000000000000"}, token=instructor.access_token
    )
    assert error_codes(unknown) == ["NOT_FOUND"]


async def test_an_item_with_an_error_fails_the_import_and_leaves_no_course(
    graph: GraphQLClient, http: httpx.AsyncClient, instructor: Account
) -> None:
    before = await graph.data(COUNT, {"i": instructor.id}, token=instructor.access_token)
    items = """
      <item identifier="M"><title>Module</title>
        <item identifier="good" identifierref="R_GOOD"><title>Fine lesson</title></item>
        <item identifier="missing" identifierref="R_MISSING"><title>Missing file</title></item>
        <item identifier="slip" identifierref="R_SLIP"><title>Zip slip</title></item>
        <item identifier="xxe" identifierref="R_XXE"><title>Entity link</title></item>
        <item identifier="huge" identifierref="R_HUGE"><title>Huge page</title></item>
        <item identifier="dangling" identifierref="NOWHERE"><title>Dangling</title></item>
      </item>"""
    resources = """
      <resource identifier="R_GOOD" type="webcontent" href="good.html"><file href="good.html"/></resource>
      <resource identifier="R_MISSING" type="webcontent" href="gone.html"><file href="gone.html"/></resource>
      <resource identifier="R_SLIP" type="webcontent" href="../../etc/passwd"><file href="../../etc/passwd"/></resource>
      <resource identifier="R_XXE" type="imswl_xmlv1p3" href="link.xml"><file href="link.xml"/></resource>
      <resource identifier="R_HUGE" type="webcontent" href="huge.html"><file href="huge.html"/></resource>"""
    data = package(
        {
            "imsmanifest.xml": _manifest(items, resources, "Broken Course"),
            "good.html": b"<p>fine</p>",
            "link.xml": XXE.replace(b"manifest", b"webLink"),
            "huge.html": b"<p>" + b"a" * 300_000 + b"</p>",
        }
    )
    job = await imported(graph, http, instructor.access_token, data)
    assert job["status"] == "FAILED"
    assert job["course"] is None
    assert "nothing was imported" in job["error"]
    errors: dict[str, Any] = {item["identifier"]: item["errors"] for item in job["items"]}
    assert errors["good"] == []
    assert "which the package does not hold" in errors["missing"][0]
    assert "unsafe path" in errors["slip"][0]
    assert "DTD" in errors["xxe"][0]
    assert "longer than" in errors["huge"][0]
    assert "NOWHERE" in errors["dangling"][0]
    assert not any(item["imported"] for item in job["items"])
    after = await graph.data(COUNT, {"i": instructor.id}, token=instructor.access_token)
    assert after == before
    again = await finished(graph, instructor.access_token, job["id"])
    assert again["status"] == "FAILED"


async def test_a_question_the_bank_refuses_takes_the_course_back_out(
    graph: GraphQLClient, http: httpx.AsyncClient, instructor: Account
) -> None:
    """The course's rows are written before its questions (the assessments subgraph needs the
    course); a question it refuses fails the job and the course is deleted again."""
    before = await graph.data(COUNT, {"i": instructor.id}, token=instructor.access_token)
    items = """
      <item identifier="M"><title>Module</title>
        <item identifier="good" identifierref="R_GOOD"><title>Fine lesson</title></item>
      </item>"""
    resources = """
      <resource identifier="R_GOOD" type="webcontent" href="good.html"><file href="good.html"/></resource>
      <resource identifier="Q_PICK" type="imsqti_xmlv2p1" href="q/pick.xml"><file href="q/pick.xml"/></resource>
      <resource identifier="Q_ORDER" type="imsqti_xmlv2p1" href="q/order.xml"><file href="q/order.xml"/></resource>"""
    data = package(
        {
            "imsmanifest.xml": _manifest(items, resources, "Course With Odd Questions"),
            "good.html": b"<p>fine</p>",
            "q/pick.xml": PICK_ITEM,
            "q/order.xml": ORDER_ITEM,
        }
    )
    job = await imported(graph, http, instructor.access_token, data)
    assert job["status"] == "FAILED", job
    assert job["course"] is None
    reports = {item["identifier"]: item for item in job["items"]}
    assert reports["Q_ORDER"]["errors"] == [
        "OrderInteraction has no equivalent question kind here."
    ]
    assert reports["Q_PICK"]["errors"] == []
    assert not any(item["imported"] for item in job["items"])
    after = await graph.data(COUNT, {"i": instructor.id}, token=instructor.access_token)
    assert after == before

    # Without the refused question, the same cartridge imports, its question in the bank.
    data = package(
        {
            "imsmanifest.xml": _manifest(
                items, resources.replace("Q_ORDER", "X").replace("order.xml", "pick.xml"), "Fine"
            ),
            "good.html": b"<p>fine</p>",
            "q/pick.xml": PICK_ITEM,
        }
    )
    job = await imported(graph, http, instructor.access_token, data)
    assert job["status"] == "SUCCEEDED", job
    bank = await graph.data(
        "query($c: ID!) { questionBank(courseId: $c) { edges { node { kind } } } }",
        {"c": job["course"]["id"]},
        token=instructor.access_token,
    )
    assert [edge["node"]["kind"] for edge in bank["questionBank"]["edges"]] == ["SINGLE_CHOICE"] * 2


async def test_an_import_whose_process_died_is_failed_and_its_course_removed(
    graph: GraphQLClient, instructor: Account, migrated: Settings
) -> None:
    """The course's id is recorded with the course; a job RUNNING for longer than any import
    takes is failed by the next loop, and its course deleted."""
    course = await create_course(graph, instructor, "Half Imported")
    job_id = uuid.uuid4()
    await as_courses_service(
        migrated,
        "INSERT INTO courses.course_imports (id, owner_id, filename, status, progress,"
        " course_id, started_at) VALUES ($1, $2, 'x.imscc', 'RUNNING', 0.9, $3,"
        " now() - interval '2 hours')",
        job_id,
        uuid.UUID(instructor.id),
        uuid.UUID(course["id"]),
    )
    job = await finished(graph, instructor.access_token, str(job_id))
    assert job["status"] == "FAILED"
    assert "interrupted" in job["error"]
    assert job["course"] is None
    gone = await graph.execute(
        "query($id: ID!) { course(id: $id) { id } }",
        {"id": course["id"]},
        token=instructor.access_token,
    )
    assert error_codes(gone) == ["NOT_FOUND"]
