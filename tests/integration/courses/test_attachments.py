"""Lesson attachments over the GraphQL multipart request spec: limits, types, signed links.

Every upload goes through the router, which forwards the files to the courses subgraph.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx

from tests.accounts import Account
from tests.integration.courses.conftest import published_course
from tests.support import GraphQLClient, error_codes

UPLOAD = """
mutation($input: AddAttachmentInput!) {
  addLessonAttachment(input: $input) { attachment { id filename contentType size sha256 downloadUrl } }
}
"""
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def upload(
    http: httpx.AsyncClient, url: str, token: str, lesson_id: str, name: str, data: bytes
) -> dict[str, Any]:
    operations = {"query": UPLOAD, "variables": {"input": {"lessonId": lesson_id, "file": None}}}
    response = await http.post(
        url,
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": (name, data, "application/octet-stream")},
        headers={"Authorization": f"Bearer {token}", "Apollo-Require-Preflight": "true"},
    )
    body: dict[str, Any] = response.json()
    return body


async def test_attachments_are_checked_stored_and_served_by_signed_link(
    graph: GraphQLClient,
    http: httpx.AsyncClient,
    instructor: Account,
    other_instructor: Account,
    admin: Account,
) -> None:
    url = graph.url  # the router
    course = await published_course(graph, instructor, admin, "With Files", lessons=1)
    lesson_id = course["lessons"][0]["id"]
    body = await upload(http, url, instructor.access_token, lesson_id, "../../diagram.png", PNG)
    attachment = body["data"]["addLessonAttachment"]["attachment"]
    assert attachment["filename"] == "diagram.png"  # no path survives
    assert attachment["contentType"] == "image/png"
    assert attachment["sha256"] == hashlib.sha256(PNG).hexdigest()
    served = await http.get(attachment["downloadUrl"])
    assert served.status_code == 200
    assert served.content == PNG
    assert served.headers["x-content-type-options"] == "nosniff"
    tampered = await http.get(attachment["downloadUrl"].replace("signature=", "signature=0"))
    assert tampered.status_code == 403
    listed = await graph.data(
        "query($id: ID!) { lesson(id: $id) { attachments { filename size } } }",
        {"id": lesson_id},
        token=instructor.access_token,
    )
    assert listed["lesson"]["attachments"] == [{"filename": "diagram.png", "size": len(PNG)}]
    for name, data in (
        ("evil.exe", b"MZ\x90\x00"),
        ("fake.png", b"<html>not a png</html>"),
        ("empty.pdf", b""),
        ("big.pdf", b"%PDF-" + b"0" * (256 * 1024)),
        ("notes.txt", b"\xff\xfe\x00bad utf8"),
    ):
        refused = await upload(http, url, instructor.access_token, lesson_id, name, data)
        assert error_codes(refused) in (["BAD_USER_INPUT"], ["PAYLOAD_TOO_LARGE"]), name
    stranger = await upload(http, url, other_instructor.access_token, lesson_id, "a.png", PNG)
    assert error_codes(stranger) == ["FORBIDDEN"]
    anonymous = await http.post(
        url,
        data={
            "operations": json.dumps(
                {"query": UPLOAD, "variables": {"input": {"lessonId": lesson_id, "file": None}}}
            ),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": ("a.png", PNG, "image/png")},
        headers={"Apollo-Require-Preflight": "true"},
    )
    assert error_codes(anonymous.json()) == ["UNAUTHENTICATED"]


async def test_uploads_without_csrf_header_or_over_the_limit_are_refused_at_the_router(
    graph: GraphQLClient, http: httpx.AsyncClient, instructor: Account, admin: Account
) -> None:
    course = await published_course(graph, instructor, admin, "Guarded Files", lessons=1)
    lesson_id = course["lessons"][0]["id"]
    operations = {"query": UPLOAD, "variables": {"input": {"lessonId": lesson_id, "file": None}}}
    form = {
        "operations": json.dumps(operations),
        "map": json.dumps({"0": ["variables.input.file"]}),
    }
    no_preflight = await http.post(
        graph.url,
        data=form,
        files={"0": ("a.png", PNG, "image/png")},
        headers={"Authorization": f"Bearer {instructor.access_token}"},
    )
    assert no_preflight.status_code == 400
    assert error_codes(no_preflight.json()) == ["BAD_REQUEST"]
    # Far over the subgraph's attachment limit: refused, and nothing is stored.
    huge = await upload(
        http, graph.url, instructor.access_token, lesson_id, "huge.pdf", b"%PDF-" + b"0" * 2**21
    )
    assert error_codes(huge) in (["BAD_USER_INPUT"], ["PAYLOAD_TOO_LARGE"])
    listed = await graph.data(
        "query($id: ID!) { lesson(id: $id) { attachments { filename } } }",
        {"id": lesson_id},
        token=instructor.access_token,
    )
    assert listed["lesson"]["attachments"] == []
