"""Steps shared by the Common Cartridge tests: uploading a cartridge through the router,
following its import to the end, reading a whole course back, and building packages."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import asyncpg
import httpx

from common.db.engine import dsn, role_name
from common.settings import Settings
from tests.support import GraphQLClient, eventually

IMPORT = """
mutation($file: Upload!) {
  importCourseCartridge(file: $file) { courseImport { id status progress filename } }
}
"""
FOLLOW = """
query($id: ID!) {
  courseImport(id: $id) {
    id status progress error finishedAt
    items { identifier title kind imported warnings errors }
    course { id title status instructor { id } }
  }
}
"""
EXPORT = "query($c: ID!) { exportCourseCartridge(courseId: $c) { url expiresAt notes } }"
WHOLE_COURSE = """
query($id: ID!) {
  course(id: $id) {
    title description descriptionFormat language level tags status instructor { id }
    modules { title position lessons {
      title position required durationMinutes body bodyFormat bodyHtml
      attachments { filename contentType size sha256 }
    } }
  }
}
"""
CC13 = "http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1"


async def send_cartridge(
    http: httpx.AsyncClient, url: str, token: str, data: bytes, name: str = "course.imscc"
) -> dict[str, Any]:
    operations = {"query": IMPORT, "variables": {"file": None}}
    response = await http.post(
        url,
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.file"]}),
        },
        files={"0": (name, data, "application/zip")},
        headers={"Authorization": f"Bearer {token}", "Apollo-Require-Preflight": "true"},
    )
    body: dict[str, Any] = response.json()
    return body


async def finished(graph: GraphQLClient, token: str, import_id: str) -> dict[str, Any]:
    """The import once it left QUEUED and RUNNING (polled; the job runs in the background)."""

    async def done() -> dict[str, Any] | None:
        data = await graph.data(FOLLOW, {"id": import_id}, token=token)
        job: dict[str, Any] = data["courseImport"]
        return job if job["status"] in {"SUCCEEDED", "FAILED"} else None

    job: dict[str, Any] = await eventually(done, within=30.0, every=0.1)
    return job


async def imported(
    graph: GraphQLClient, http: httpx.AsyncClient, token: str, data: bytes
) -> dict[str, Any]:
    body = await send_cartridge(http, graph.url, token, data)
    assert "errors" not in body, body
    queued = body["data"]["importCourseCartridge"]["courseImport"]
    assert queued["status"] in {"QUEUED", "RUNNING", "SUCCEEDED"}
    return await finished(graph, token, queued["id"])


def package(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


async def as_courses_service(settings: Settings, statement: str, *arguments: object) -> None:
    """One SQL statement as the courses subgraph's database role (to set up what no API
    does: a job whose process died)."""
    url = dsn(settings, role_name("courses"), settings.pg_password("courses"), driver="postgresql")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement, *arguments)
    finally:
        await conn.close()
