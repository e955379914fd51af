"""QTI through the router: exporting a course's bank by signed link, importing it into
another course (every field back), who may do either, and hostile uploads."""

from __future__ import annotations

import io
import json
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
    course_with_learner,
    question,
)
from tests.integration.courses.conftest import published_course
from tests.support import GraphQLClient, error_codes

EXPORT = """
query($c: ID!, $v: QtiVersion!) {
  exportQuestionBank(courseId: $c, version: $v) { url expiresAt itemCount notes { identifier message } }
}
"""
IMPORT = """
mutation($c: ID!, $file: Upload!, $what: Boolean!) {
  importQuestions(courseId: $c, file: $file, importWhatMaps: $what) {
    imported { id }
    items { identifier title imported kind warnings errors }
  }
}
"""
BANK = """
query($c: ID!) {
  questionBank(courseId: $c) { edges { node {
    kind prompt points difficulty tags choices { text } rubric { criterion points }
    starterCode answerKey { choiceIds booleanValue numericAnswer tolerance
      acceptedAnswers { value match caseSensitive } tests { name code hidden } }
  } } }
}
"""
CODE: dict[str, Any] = {
    "kind": "CODE",
    "prompt": "Write double(x).",
    "starterCode": "def double(x):\n    pass\n",
    "tests": [{"name": "two", "code": "assert double(2) == 4"}],
    "difficulty": "HARD",
    "tags": ["functions", "code"],
}
MULTIPLE: dict[str, Any] = {
    "kind": "MULTIPLE_CHOICE",
    "prompt": "Which are <immutable> & hashable?",
    "points": 3,
    "choices": [
        {"text": "tuple", "correct": True},
        {"text": "str", "correct": True},
        {"text": "list"},
    ],
}


async def upload(
    http: httpx.AsyncClient, url: str, token: str, course_id: str, data: bytes, what: bool = False
) -> dict[str, Any]:
    variables = {"c": course_id, "file": None, "what": what}
    response = await http.post(
        url,
        data={
            "operations": json.dumps({"query": IMPORT, "variables": variables}),
            "map": json.dumps({"0": ["variables.file"]}),
        },
        files={"0": ("questions.zip", data, "application/zip")},
        headers={"Authorization": f"Bearer {token}", "Apollo-Require-Preflight": "true"},
    )
    body: dict[str, Any] = response.json()
    return body


def _bank(data: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [edge["node"] for edge in data["questionBank"]["edges"]]
    return sorted(nodes, key=lambda node: (node["kind"], node["prompt"]))


async def test_a_bank_exported_and_imported_elsewhere_keeps_every_field(
    graph: GraphQLClient,
    http: httpx.AsyncClient,
    instructor: Account,
    other_instructor: Account,
    admin: Account,
    student: Account,
) -> None:
    source = await course_with_learner(graph, instructor, admin, student, "QTI Source")
    for fields in (CHOICE, MULTIPLE, TRUE_FALSE, SHORT, NUMERIC, ESSAY, CODE):
        await question(graph, instructor, source["id"], fields)
    before = _bank(await graph.data(BANK, {"c": source["id"]}, token=instructor.access_token))
    for version in ("V2_1", "V3_0"):
        exported = (
            await graph.data(
                EXPORT, {"c": source["id"], "v": version}, token=instructor.access_token
            )
        )["exportQuestionBank"]
        assert exported["itemCount"] == 7
        assert len(exported["notes"]) == 2  # the pattern answer and the code question
        assert all("Not portable" in note["message"] for note in exported["notes"])
        package = await http.get(exported["url"])
        assert package.status_code == 200
        assert package.headers["content-type"] == "application/zip"
        url = exported["url"]
        other = url.replace("/2.1/", "/3.0/") if "/2.1/" in url else url.replace("/3.0/", "/2.1/")
        for forged in (other, url.replace("signature=", "signature=0")):
            assert (await http.get(forged)).status_code == 403

        target = await published_course(graph, instructor, admin, f"QTI Target {version}")
        body = await upload(http, graph.url, instructor.access_token, target["id"], package.content)
        report = body["data"]["importQuestions"]
        assert len(report["imported"]) == 7
        assert all(item["imported"] and not item["errors"] for item in report["items"])
        after = _bank(await graph.data(BANK, {"c": target["id"]}, token=instructor.access_token))
        assert after == before

    # Learners and other instructors may neither export nor import.
    for stranger in (student, other_instructor):
        refused = await graph.execute(
            EXPORT, {"c": source["id"], "v": "V2_1"}, token=stranger.access_token
        )
        assert error_codes(refused) == ["FORBIDDEN"]
        body = await upload(http, graph.url, stranger.access_token, source["id"], package.content)
        assert error_codes(body) == ["FORBIDDEN"]
    by_admin = await graph.data(EXPORT, {"c": source["id"], "v": "V3_0"}, token=admin.access_token)
    assert by_admin["exportQuestionBank"]["itemCount"] == 7


def _zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


MANIFEST = (
    b'<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" identifier="m"><resources>'
    b'<resource identifier="r" type="imsqti_item_xmlv2p1" href="%s"/></resources></manifest>'
)
ORDER_ITEM = (
    b'<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="order" '
    b'title="Order" adaptive="false" timeDependent="false">'
    b'<responseDeclaration identifier="RESPONSE" cardinality="ordered" baseType="identifier"/>'
    b'<itemBody><orderInteraction responseIdentifier="RESPONSE">'
    b'<simpleChoice identifier="a">A</simpleChoice></orderInteraction></itemBody></assessmentItem>'
)
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b"<assessmentItem>&lol3;</assessmentItem>"
)
PICK_ITEM = (
    b'<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="pick" '
    b'title="Pick" adaptive="false" timeDependent="false">'
    b'<responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">'
    b"<correctResponse><value>a</value></correctResponse></responseDeclaration>"
    b'<itemBody><p>Pick A</p><choiceInteraction responseIdentifier="RESPONSE" maxChoices="1">'
    b'<simpleChoice identifier="a">A</simpleChoice><simpleChoice identifier="b">B</simpleChoice>'
    b"</choiceInteraction></itemBody></assessmentItem>"
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1">&x;</assessmentItem>'
)


async def test_hostile_and_foreign_files_are_refused_with_a_reason(
    graph: GraphQLClient, http: httpx.AsyncClient, instructor: Account, admin: Account
) -> None:
    course = await published_course(graph, instructor, admin, "QTI Hostile")
    cases = {
        "xxe": (XXE, "DTD"),
        "billion laughs": (LAUGHS, "DTD"),
        "zip slip": (_zip({"imsmanifest.xml": MANIFEST % b"../../etc/passwd"}), "unsafe"),
        "slip entry": (_zip({"../evil.xml": b"<a/>", "imsmanifest.xml": b"<a/>"}), "unsafe name"),
        "zip bomb": (_zip({"imsmanifest.xml": b"<" + b" " * (20 * 1024 * 1024)}), "expands"),
        "not a zip": (b"\x89PNG\r\n\x1a\n\x00\x00", "neither"),
        "no manifest": (_zip({"item.xml": b"<a/>"}), "imsmanifest"),
        "wrong content": (b"<html><body>hi</body></html>", "not a QTI"),
        "too many files": (_zip({f"f{i}": b"" for i in range(2001)}), "more than"),
    }
    for case, (data, reason) in cases.items():
        body = await upload(http, graph.url, instructor.access_token, course["id"], data)
        assert error_codes(body) == ["BAD_USER_INPUT"], case
        assert reason in body["errors"][0]["message"], (case, body["errors"][0]["message"])

    # An interaction we lack is reported by item; by default nothing is imported.
    ours = await graph.data(EXPORT, {"c": course["id"], "v": "V2_1"}, token=instructor.access_token)
    assert ours["exportQuestionBank"]["itemCount"] == 0
    manifest = (
        b'<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" identifier="m"><resources>'
        b'<resource identifier="r" type="imsqti_item_xmlv2p1" href="order.xml"/>'
        b'<resource identifier="s" type="imsqti_item_xmlv2p1" href="pick.xml"/>'
        b"</resources></manifest>"
    )
    mixed = _zip({"imsmanifest.xml": manifest, "order.xml": ORDER_ITEM, "pick.xml": PICK_ITEM})
    body = await upload(http, graph.url, instructor.access_token, course["id"], mixed)
    report = body["data"]["importQuestions"]
    assert report["imported"] == []
    by_id = {item["identifier"]: item for item in report["items"]}
    assert by_id["order"]["errors"] == ["OrderInteraction has no equivalent question kind here."]
    assert by_id["pick"]["kind"] == "SINGLE_CHOICE"
    assert not by_id["pick"]["imported"]
    assert not by_id["pick"]["errors"]
    body = await upload(http, graph.url, instructor.access_token, course["id"], mixed, what=True)
    report = body["data"]["importQuestions"]
    assert len(report["imported"]) == 1
    assert {item["identifier"]: item["imported"] for item in report["items"]} == {
        "order": False,
        "pick": True,
    }
