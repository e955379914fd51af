"""LTI links in Common Cartridges, through the router: placed links go out as basic LTI
link files in their module's place and come back placed, in order, with the same tool, and
launch (pylti1p3 plays the tool); a link whose tool is not registered here, or whose launch
URL is not http(s), is reported on its item while the rest imports; a hostile link file
fails the import; a cartridge written by Tsugi imports with its link placed."""

from __future__ import annotations

import io
import secrets
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from common.infra.ports import free_port
from tests.accounts import Account
from tests.integration.courses.cartridges import CC13, EXPORT, imported, package
from tests.integration.courses.conftest import add_lesson, add_module, create_course
from tests.integration.courses.test_lti import (
    ADD_LINK,
    LAUNCH,
    PLATFORM,
    REGISTER,
    authorization_url,
    posted_form,
)
from tests.lti_tool import LtiTool, PlatformRegistration
from tests.support import GraphQLClient, serve

TSUGI = Path(__file__).parents[2] / "data" / "cartridges" / "tsugi-cc12"
BLTI = "http://www.imsglobal.org/xsd/imsbasiclti_v1p0"
LTICM = "http://www.imsglobal.org/xsd/imslticm_v1p0"
LINKS = """
query($c: ID!) { ltiLinks(courseId: $c) { id title moduleId position targetLinkUri toolName } }
"""
MODULES = "query($id: ID!) { course(id: $id) { modules { id title lessons { title } } } }"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<cartridge_basiclti_link xmlns="http://www.imsglobal.org/xsd/imslticc_v1p0">&lol2;</cartridge_basiclti_link>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE l [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<cartridge_basiclti_link xmlns="http://www.imsglobal.org/xsd/imslticc_v1p0">&x;</cartridge_basiclti_link>"""


async def register(graph: GraphQLClient, admin: Account, name: str, base: str) -> dict[str, Any]:
    tool: dict[str, Any] = (
        await graph.data(
            REGISTER,
            {
                "input": {
                    "name": name,
                    "loginUrl": f"{base}/login",
                    "redirectUris": [f"{base}/launch"],
                    "targetLinkUri": f"{base}/launch",
                    "jwksUrl": f"{base}/jwks",
                }
            },
            token=admin.access_token,
        )
    )["registerLtiTool"]["tool"]
    return tool


async def place(
    graph: GraphQLClient, owner: Account, module: str, tool: str, title: str, target: str | None
) -> None:
    link = {"moduleId": module, "toolId": tool, "title": title, "targetLinkUri": target}
    await graph.data(ADD_LINK, {"input": link}, token=owner.access_token)


async def links_of(graph: GraphQLClient, account: Account, course: str) -> list[dict[str, Any]]:
    links: list[dict[str, Any]] = (
        await graph.data(LINKS, {"c": course}, token=account.access_token)
    )["ltiLinks"]
    return links


async def modules_of(graph: GraphQLClient, account: Account, course: str) -> list[dict[str, Any]]:
    modules: list[dict[str, Any]] = (
        await graph.data(MODULES, {"id": course}, token=account.access_token)
    )["course"]["modules"]
    return modules


async def test_links_go_out_in_place_and_come_back_placed_in_order_and_launch(
    graph: GraphQLClient,
    http: httpx.AsyncClient,
    instructor: Account,
    other_instructor: Account,
    admin: Account,
) -> None:
    tool = LtiTool()
    async with serve(tool.app(), free_port()) as tool_url:
        registered = await register(graph, admin, "Cartridge Quiz Tool", tool_url)
        platform = (await graph.data(PLATFORM, token=admin.access_token))["ltiPlatform"]
        tool.registrations.append(PlatformRegistration.told(platform, registered))
        course = await create_course(graph, instructor, "Course With Tools")
        week1 = await add_module(graph, instructor, course["id"], "Week one")
        week2 = await add_module(graph, instructor, course["id"], "Week two")
        await add_lesson(graph, instructor, week1["id"], "Intro")
        await add_lesson(graph, instructor, week1["id"], "Reading")
        await place(graph, instructor, week1["id"], registered["id"], "Quiz A", None)
        chapter = f"{tool_url}/launch?chapter=2"
        await place(graph, instructor, week1["id"], registered["id"], "Quiz B & more", chapter)
        await place(graph, instructor, week2["id"], registered["id"], "Final quiz", None)

        export = (await graph.data(EXPORT, {"c": course["id"]}, token=instructor.access_token))[
            "exportCourseCartridge"
        ]
        assert any("LTI links travel" in note for note in export["notes"])
        served = await http.get(export["url"])
        assert served.status_code == 200
        archive = zipfile.ZipFile(io.BytesIO(served.content))
        manifest = ET.fromstring(archive.read("imsmanifest.xml"))
        resources = {r.get("identifier"): r for r in manifest.iter(f"{{{CC13}}}resource")}
        folders = manifest.findall(f".//{{{CC13}}}organization/{{{CC13}}}item/{{{CC13}}}item")
        outline = [
            [
                (
                    item.findtext(f"{{{CC13}}}title"),
                    resources[item.get("identifierref")].get("type"),
                )
                for item in folder.findall(f"{{{CC13}}}item")
            ]
            for folder in folders
        ]
        assert outline == [
            [
                ("Intro", "webcontent"),
                ("Reading", "webcontent"),
                ("Quiz A", "imsbasiclti_xmlv1p0"),
                ("Quiz B & more", "imsbasiclti_xmlv1p0"),
            ],
            [("Final quiz", "imsbasiclti_xmlv1p0")],
        ]
        second = resources["lti-1-2"].find(f"{{{CC13}}}file")
        assert second is not None
        link = ET.fromstring(archive.read(second.get("href", "")))
        assert link.tag == "{http://www.imsglobal.org/xsd/imslticc_v1p0}cartridge_basiclti_link"
        assert link.findtext(f"{{{BLTI}}}title") == "Quiz B & more"
        assert link.findtext(f"{{{BLTI}}}launch_url") == chapter
        assert link.find(f"{{{BLTI}}}secure_launch_url") is None  # http (loopback) only
        assert link.findtext(f"{{{BLTI}}}vendor/{{*}}name") == "Cartridge Quiz Tool"
        extension = link.find(f"{{{BLTI}}}extensions")
        assert extension is not None
        assert extension.get("platform") == platform["issuer"]
        facts = {p.get("name"): p.text for p in extension.iter(f"{{{LTICM}}}property")}
        assert facts == {
            "lti_version": "1.3.0",
            "client_id": registered["clientId"],
            "target_link_uri": f"{tool_url}/launch",
            "login_url": f"{tool_url}/login",
        }

        # Imported by another instructor on this platform (where the tool is registered).
        job = await imported(graph, http, other_instructor.access_token, served.content)
        assert job["status"] == "SUCCEEDED", job
        assert all(item["imported"] and not item["errors"] for item in job["items"]), job
        copy = job["course"]["id"]
        modules = await modules_of(graph, other_instructor, copy)
        assert [[lesson["title"] for lesson in m["lessons"]] for m in modules] == [
            ["Intro", "Reading"],
            [],
        ]
        order = [m["id"] for m in modules]  # ltiLinks lists by module id, then position
        placed = sorted(
            await links_of(graph, other_instructor, copy),
            key=lambda each: (order.index(each["moduleId"]), each["position"]),
        )
        assert [
            (each["title"], each["moduleId"], each["position"], each["targetLinkUri"])
            for each in placed
        ] == [
            ("Quiz A", modules[0]["id"], 0, f"{tool_url}/launch"),
            ("Quiz B & more", modules[0]["id"], 1, chapter),
            ("Final quiz", modules[1]["id"], 0, f"{tool_url}/launch"),
        ]
        assert {each["toolName"] for each in placed} == {"Cartridge Quiz Tool"}
        assert placed[0]["id"] not in {
            each["id"] for each in await links_of(graph, instructor, course["id"])
        }

        # The imported link launches: pylti1p3 validates the platform's ID token.
        started = await graph.data(
            LAUNCH, {"input": {"id": placed[1]["id"]}}, token=other_instructor.access_token
        )
        initiation = started["launchLtiLink"]["initiationUrl"]
        assert parse_qs(urlsplit(initiation).query)["client_id"] == [registered["clientId"]]
        async with httpx.AsyncClient() as browser:
            authorize = await authorization_url(browser, initiation)
            action, fields = posted_form(await browser.get(authorize))
            launched = await browser.post(action, data=fields)
        assert launched.status_code == 200, launched.text
        claims = launched.json()["launched"]
        assert claims[CLAIM + "target_link_uri"] == chapter
        assert claims[CLAIM + "resource_link"]["title"] == "Quiz B & more"


def _foreign(items: str, resources: str, files: dict[str, bytes]) -> bytes:
    """A CC 1.1 cartridge (links are the same imsbasiclti_xmlv1p0 in every version)."""
    manifest = f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="m" xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1">
  <metadata><schema>IMS Common Cartridge</schema><schemaversion>1.1.0</schemaversion></metadata>
  <organizations><organization identifier="o" structure="rooted-hierarchy">
    <item identifier="root">{items}</item></organization></organizations>
  <resources>{resources}</resources>
</manifest>"""
    return package({"imsmanifest.xml": manifest.encode(), **files})


def _link(title: str, launch: str, *, secure: str = "") -> bytes:
    secure_launch = f"<blti:secure_launch_url>{secure}</blti:secure_launch_url>" if secure else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<cartridge_basiclti_link xmlns="http://www.imsglobal.org/xsd/imslticc_v1p0"
  xmlns:blti="http://www.imsglobal.org/xsd/imsbasiclti_v1p0">
  <blti:title>{title}</blti:title><blti:launch_url>{launch}</blti:launch_url>{secure_launch}
</cartridge_basiclti_link>""".encode()


async def test_links_without_a_tool_here_are_reported_and_the_rest_imports(
    graph: GraphQLClient, http: httpx.AsyncClient, instructor: Account, admin: Account
) -> None:
    known = f"https://tools-{secrets.token_hex(4)}.example"
    unknown = f"https://other-{secrets.token_hex(4)}.example/lti/launch"
    await register(graph, admin, "Known Tool", f"{known}/lti")
    long_title = "Quiz " + "x" * 5000
    items = """
      <item identifier="unit"><title>Unit</title>
        <item identifier="page" identifierref="R_PAGE"><title>First page</title></item>
        <item identifier="known" identifierref="R_KNOWN"><title>Known quiz</title></item>
        <item identifier="unknown" identifierref="R_UNKNOWN"><title>Unknown tool</title></item>
        <item identifier="script" identifierref="R_SCRIPT"><title>Script link</title></item>
        <item identifier="plain" identifierref="R_PLAIN"><title>Plain http</title></item>
        <item identifier="long" identifierref="R_LONG"><title>{long_title}</title></item>
        <item identifier="last" identifierref="R_LAST"><title>Last page</title></item>
      </item>""".replace("{long_title}", long_title)
    resources = """
      <resource identifier="R_PAGE" type="webcontent" href="p1.html"><file href="p1.html"/></resource>
      <resource identifier="R_LAST" type="webcontent" href="p2.html"><file href="p2.html"/></resource>
      <resource identifier="R_KNOWN" type="imsbasiclti_xmlv1p0"><file href="known.xml"/></resource>
      <resource identifier="R_UNKNOWN" type="imsbasiclti_xmlv1p0"><file href="unknown.xml"/></resource>
      <resource identifier="R_SCRIPT" type="imsbasiclti_xmlv1p0"><file href="script.xml"/></resource>
      <resource identifier="R_PLAIN" type="imsbasiclti_xmlv1p0"><file href="plain.xml"/></resource>
      <resource identifier="R_LONG" type="imsbasiclti_xmlv1p0"><file href="long.xml"/></resource>
      <resource identifier="R_ASIDE" type="imsbasiclti_xmlv1p0"><file href="known.xml"/></resource>"""
    files = {
        "p1.html": b"<p>one</p>",
        "p2.html": b"<p>two</p>",
        "known.xml": _link("K", "http://x.example/", secure=f"{known}/lti/items/7"),
        "unknown.xml": _link("U", unknown),
        "script.xml": _link("S", "javascript:alert(document.cookie)"),
        "plain.xml": _link("P", f"{known.replace('https', 'http')}/lti/items/8"),
        "long.xml": _link("L", f"{known}/lti/items/{'9' * 3000}"),
    }
    job = await imported(graph, http, instructor.access_token, _foreign(items, resources, files))
    assert job["status"] == "SUCCEEDED", job
    report = {item["identifier"]: item for item in job["items"]}
    assert not any(item["errors"] for item in job["items"])
    assert report["page"]["imported"]
    assert report["last"]["imported"]
    assert report["known"]["imported"]
    assert "after the module's lessons" in report["known"]["warnings"][0]
    assert report["unknown"]["imported"] is False
    [problem] = report["unknown"]["warnings"]
    assert unknown in problem
    assert "an administrator must register the tool" in problem
    assert report["script"]["imported"] is False
    assert "not an http(s) URL" in report["script"]["warnings"][0]
    assert report["plain"]["imported"]  # matched by host; it launches the tool's https URL
    assert "the tool's own target link URI" in report["plain"]["warnings"][0]
    assert report["long"]["imported"]
    assert any("cut to 200" in text for text in report["long"]["warnings"])
    assert any("own target link URI" in text for text in report["long"]["warnings"])
    assert "in no module" in report["R_ASIDE"]["warnings"][0]
    course = job["course"]["id"]
    [unit] = await modules_of(graph, instructor, course)
    assert [lesson["title"] for lesson in unit["lessons"]] == ["First page", "Last page"]
    placed = await links_of(graph, instructor, course)
    assert [(each["title"], each["targetLinkUri"], each["toolName"]) for each in placed] == [
        ("Known quiz", f"{known}/lti/items/7", "Known Tool"),
        ("Plain http", f"{known}/lti/launch", "Known Tool"),
        (long_title[:200], f"{known}/lti/launch", "Known Tool"),
    ]

    # A link file with a DTD (external entity, billion laughs) fails the whole import.
    hostile = _foreign(
        items.replace("R_UNKNOWN", "R_XXE").replace("R_SCRIPT", "R_LAUGHS"),
        resources.replace('"R_UNKNOWN"', '"R_XXE"').replace('"R_SCRIPT"', '"R_LAUGHS"'),
        {**files, "unknown.xml": XXE, "script.xml": BILLION_LAUGHS},
    )
    failed = await imported(graph, http, instructor.access_token, hostile)
    assert failed["status"] == "FAILED"
    assert failed["course"] is None
    errors = {item["identifier"]: item["errors"] for item in failed["items"]}
    assert "DTD" in errors["unknown"][0]
    assert "DTD" in errors["script"][0]
    assert not any(item["imported"] for item in failed["items"])


async def test_a_cartridge_written_by_tsugi_imports_with_its_link_placed(
    graph: GraphQLClient, http: httpx.AsyncClient, instructor: Account, admin: Account
) -> None:
    """Tsugi's CC 1.2 writer: its manifest (a module with a sub-module), a web link and an
    LTI link carrying Tsugi's and Canvas's extensions (tests/data/cartridges/tsugi-cc12)."""
    files = {
        str(path.relative_to(TSUGI)): path.read_bytes() for path in sorted(TSUGI.rglob("*.xml"))
    }
    data = package(files)
    before = await imported(graph, http, instructor.access_token, data)
    assert before["status"] == "SUCCEEDED", before
    [lti] = [item for item in before["items"] if item["identifier"] == "T_000004"]
    assert lti["kind"] == "imsbasiclti_xmlv1p0"
    assert lti["imported"] is False
    assert "https://www.php-intro.com/tools/sql/index.php" in lti["warnings"][0]

    await register(graph, admin, "PHP Intro SQL", "https://www.php-intro.com/tools/sql")
    job = await imported(graph, http, instructor.access_token, data)
    assert job["status"] == "SUCCEEDED", job
    assert all(item["imported"] and not item["errors"] for item in job["items"]), job["items"]
    course = job["course"]["id"]
    modules = await modules_of(graph, instructor, course)
    assert [(m["title"], [lesson["title"] for lesson in m["lessons"]]) for m in modules] == [
        ("Week 1", ["Video: Introducting SQL"])
    ]
    [link] = await links_of(graph, instructor, course)
    assert link["title"] == "Autograder: Single Table SQL"
    assert link["moduleId"] == modules[0]["id"]
    assert link["targetLinkUri"] == "https://www.php-intro.com/tools/sql/index.php"
    assert link["toolName"] == "PHP Intro SQL"
