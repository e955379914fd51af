"""Personal data exports (GDPR art. 15/20) through the router: every subgraph's part over
RabbitMQ, the archive behind a signed expiring link, and the hostile cases around it."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import time
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from common.db import create_engine, service_dsn
from common.settings import Settings
from common.signed_links import signature
from subgraphs.users.data_exports import PURPOSE, DataExports
from tests.accounts import Account, register
from tests.integration.assessments.conftest import (
    SUBMIT,
    TRUE_FALSE,
    assessment,
    course_with_learner,
    question,
    start,
)
from tests.integration.events.test_flows import titles
from tests.support import GraphQLClient, eventually

REQUEST = """
mutation($input: RequestDataExportInput) {
  requestDataExport(input: $input) { dataExport { id status requestedAt expiresAt } }
}
"""
EXPORTS_FIELDS = "id status requestedAt readyAt expiresAt failure sizeBytes downloadUrl"
MY_EXPORTS = f"query {{ me {{ dataExports {{ {EXPORTS_FIELDS} }} }} }}"
USER_EXPORTS = f"query($id: ID!) {{ user(id: $id) {{ dataExports {{ {EXPORTS_FIELDS} }} }} }}"
DELETE_USER = "mutation($id: ID!) { deleteUser(input: {userId: $id}) { deletedUserId } }"
PARTS = ("users", "courses", "enrollments", "assessments", "notifications", "analytics")


async def request_export(
    graph: GraphQLClient, caller: Account, user_id: str | None = None
) -> dict[str, Any]:
    variables = {"input": {"userId": user_id}} if user_id else {}
    return await graph.execute(REQUEST, variables, token=caller.access_token)


def code_of(body: dict[str, Any]) -> str:
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def my_exports(graph: GraphQLClient, account: Account) -> list[dict[str, Any]]:
    data = await graph.data(MY_EXPORTS, token=account.access_token)
    exports: list[dict[str, Any]] = data["me"]["dataExports"]
    return exports


async def export_of(graph: GraphQLClient, account: Account, export_id: str) -> dict[str, Any]:
    [found] = [e for e in await my_exports(graph, account) if e["id"] == export_id]
    return found


async def finished(
    graph: GraphQLClient, account: Account, export_id: str, within: float = 20.0
) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        export = await export_of(graph, account, export_id)
        return export if export["status"] != "REQUESTED" else None

    result: dict[str, Any] = await eventually(done, within=within)
    return result


async def exported(graph: GraphQLClient, account: Account) -> dict[str, Any]:
    """A new export of the account's data, once ready."""
    body = await request_export(graph, account)
    assert "errors" not in body, body["errors"]
    export = await finished(graph, account, body["data"]["requestDataExport"]["dataExport"]["id"])
    assert export["status"] == "READY", export
    return export


async def told(graph: GraphQLClient, account: Account, title: str) -> bool:
    return title in await titles(graph, account, "ACCOUNT")


async def archive_files(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    """Each JSON file of the archive the link serves, decoded (fetched with no session)."""
    response = await http.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {name: json.loads(archive.read(name)) for name in archive.namelist()}


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()} | changes
    return parts._replace(query=urlencode(query)).geturl()


def other_export(url: str, export_id: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path=f"/exports/{export_id}.zip").geturl()


@contextlib.asynccontextmanager
async def users_db(settings: Settings) -> AsyncIterator[AsyncConnection]:
    engine = create_engine(service_dsn(settings, "users"), pool_size=1)
    try:
        async with engine.begin() as connection:
            yield connection
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def notifications_held(settings: Settings) -> AsyncIterator[None]:
    """The notifications worker made slow: its notifications table locked until the block
    ends, so it cannot gather a user's notifications (nor store new ones) before then."""
    engine = create_engine(service_dsn(settings, "notifications"), pool_size=1)
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            await connection.execute(
                text("LOCK TABLE notifications.notifications IN ACCESS EXCLUSIVE MODE")
            )
            try:
                yield
            finally:
                await transaction.rollback()
    finally:
        await engine.dispose()


async def parts_in(settings: Settings, export_id: str) -> int:
    async with users_db(settings) as db:
        query = "SELECT count(*) FROM users.data_export_parts WHERE export_id = :e"
        return int((await db.execute(text(query), {"e": export_id})).scalar_one())


async def all_parts_but_one(settings: Settings, export_id: str) -> bool:
    return await parts_in(settings, export_id) == len(PARTS) - 1


async def test_an_export_holds_each_subgraphs_data_of_that_user_and_no_one_else(
    graph: GraphQLClient, instructor: Account, admin: Account, http: httpx.AsyncClient
) -> None:
    learner = await register(graph, name="Exa Export")
    neighbour = await register(graph, name="Nell Neighbour")
    course = await course_with_learner(graph, instructor, admin, learner, "Exported Course")
    await graph.data(
        "mutation($c: ID!) { enroll(input: {courseId: $c}) { enrollment { id } } }",
        {"c": course["id"]},
        token=neighbour.access_token,
    )
    qid = (await question(graph, instructor, course["id"], TRUE_FALSE))["id"]
    quiz = await assessment(
        graph, instructor, course["id"], [{"questionId": qid}], title="Quiz One"
    )
    attempts = {}
    for account in (learner, neighbour):
        attempt = await start(graph, account, quiz["id"])
        attempts[account.id] = attempt["id"]
        await graph.data(
            SUBMIT,
            {"id": attempt["id"], "answers": [{"questionId": qid, "booleanValue": True}]},
            token=account.access_token,
        )
        await eventually(functools.partial(titles, graph, account, "GRADE"))

    export = await exported(graph, learner)
    assert export["readyAt"] is not None
    assert export["failure"] is None
    assert export["sizeBytes"] > 0
    assert export["downloadUrl"].startswith("http")
    # The user is told, through the notifications they already get.
    await eventually(functools.partial(told, graph, learner, "Your data export is ready"))
    files = await archive_files(http, export["downloadUrl"])
    assert sorted(files) == sorted([f"{part}.json" for part in PARTS] + ["manifest.json"])
    manifest = files["manifest.json"]
    assert manifest["user_id"] == learner.id
    assert manifest["export_id"] == export["id"]
    assert set(manifest["files"]) == {f"{part}.json" for part in PARTS}
    assert all(files[f"{part}.json"]["user_id"] == learner.id for part in PARTS)

    [account] = files["users.json"]["account"]
    assert account["email"] == learner.email
    assert account["name"] == "Exa Export"
    assert "password_hash" not in account
    [enrollment] = files["enrollments.json"]["enrollments"]
    assert enrollment["course_id"] == course["id"]
    [attempt] = files["assessments.json"]["attempts"]
    assert attempt["id"] == attempts[learner.id]
    assert attempt["assessment_title"] == "Quiz One"
    [answer] = files["assessments.json"]["answers"]
    assert answer["attempt_id"] == attempts[learner.id]
    assert answer["question_id"] == qid
    notices = {n["title"] for n in files["notifications.json"]["notifications"]}
    assert "Quiz One has been graded" in notices
    assert files["courses.json"]["courses_taught"] == []
    statements = files["analytics.json"]["statements"]
    assert {"course_id": course["id"], "verb": "registered"} in [
        {"course_id": item["course_id"], "verb": item["verb"]} for item in statements
    ]
    # Nothing of anyone else: not the neighbour on the same course, nor the instructor.
    whole = json.dumps(files)
    for stranger in (neighbour.id, neighbour.email, attempts[neighbour.id], instructor.email):
        assert stranger not in whole

    # The instructor's export holds the course they authored, and the question they wrote.
    taught = await archive_files(http, (await exported(graph, instructor))["downloadUrl"])
    [owned] = taught["courses.json"]["courses_taught"]
    assert owned["id"] == course["id"]
    assert owned["owner"] is True
    assert [q["id"] for q in taught["assessments.json"]["questions_written"]] == [qid]
    assert learner.email not in json.dumps(taught)


async def test_links_refuse_tampering_other_exports_and_expiry(
    graph: GraphQLClient, migrated: Settings, http: httpx.AsyncClient
) -> None:
    owner = await register(graph, name="Linda Link")
    stranger = await register(graph, name="Sam Stranger")
    mine = await exported(graph, owner)
    theirs = await exported(graph, stranger)
    url = mine["downloadUrl"]

    async def refused(link: str, status: int, message: str) -> None:
        response = await http.get(link)
        assert response.status_code == status, response.text
        [error] = response.json()["errors"]
        assert error["message"] == message
        assert "Traceback" not in response.text

    invalid = "The download link is not valid."
    # my signature does not open their export, and neither does a forged one
    await refused(other_export(url, theirs["id"]), 403, invalid)
    await refused(with_query(url, signature="0" * 64), 403, invalid)
    await refused(with_query(url, signature=""), 403, invalid)
    # a later expiry under the same signature is not the link that was signed
    later = str(int(time.time()) + 30 * 24 * 3600)
    await refused(with_query(url, expires=later), 403, invalid)
    await refused(with_query(url, expires="soon"), 403, invalid)
    await refused(other_export(url, "not-an-id"), 404, "This data export does not exist.")
    # a link signed as the platform signs, but past its time: expired
    past = int(time.time()) - 1
    expired = with_query(
        url,
        expires=str(past),
        signature=signature(migrated.data_export_secret, PURPOSE, mine["id"], past),
    )
    await refused(expired, 403, "The download link has expired; ask for a new one.")
    # the real link still works, and only for its own export
    assert (await archive_files(http, url))["manifest.json"]["export_id"] == mine["id"]


async def test_learners_cannot_export_or_see_anyone_elses_data(
    graph: GraphQLClient, admin: Account, http: httpx.AsyncClient
) -> None:
    learner = await register(graph, name="Lea Learner")
    victim = await register(graph, name="Vic Victim")
    refused = await request_export(graph, learner, victim.id)
    assert code_of(refused) == "FORBIDDEN"
    assert await my_exports(graph, victim) == []
    peek = await graph.execute(USER_EXPORTS, {"id": victim.id}, token=learner.access_token)
    assert code_of(peek) == "FORBIDDEN"
    anonymous = await graph.execute(REQUEST, {})
    assert code_of(anonymous) == "UNAUTHENTICATED"
    # an administrator exports for the user; the user sees it, and so does the admin
    body = await request_export(graph, admin, victim.id)
    export_id = body["data"]["requestDataExport"]["dataExport"]["id"]
    assert (await finished(graph, victim, export_id))["status"] == "READY"
    seen = await graph.data(USER_EXPORTS, {"id": victim.id}, token=admin.access_token)
    assert [e["id"] for e in seen["user"]["dataExports"]] == [export_id]
    assert await my_exports(graph, admin) == []


async def test_one_pending_export_per_user_and_a_few_a_day(
    graph: GraphQLClient, migrated: Settings, admin: Account
) -> None:
    learner = await register(graph, name="Tess Throttle")
    async with notifications_held(migrated):
        first = await request_export(graph, learner)
        assert "errors" not in first, first
        again = await request_export(graph, learner)
        assert code_of(again) == "CONFLICT"
        by_admin = await request_export(graph, admin, learner.id)
        assert code_of(by_admin) == "CONFLICT"
    export_id = first["data"]["requestDataExport"]["dataExport"]["id"]
    assert (await finished(graph, learner, export_id))["status"] == "READY"
    for _ in range(migrated.data_exports_per_day - 1):
        await exported(graph, learner)
    over = await request_export(graph, learner)
    assert code_of(over) == "RATE_LIMITED"
    assert len(await my_exports(graph, learner)) == migrated.data_exports_per_day


async def test_a_slow_subgraph_worker_delays_the_export_until_its_part_arrives(
    graph: GraphQLClient, migrated: Settings, http: httpx.AsyncClient
) -> None:
    learner = await register(graph, name="Sly Slow")
    await eventually(lambda: titles(graph, learner, "ACCOUNT"))  # the welcome is in
    async with notifications_held(migrated):
        body = await request_export(graph, learner)
        export_id = body["data"]["requestDataExport"]["dataExport"]["id"]
        # every other part arrives; the export waits for the last one
        await eventually(lambda: all_parts_but_one(migrated, export_id), within=20.0)
        waiting = await export_of(graph, learner, export_id)
        assert waiting["status"] == "REQUESTED"
        assert waiting["downloadUrl"] is None
    export = await finished(graph, learner, export_id)
    assert export["status"] == "READY"
    files = await archive_files(http, export["downloadUrl"])
    assert [n["title"] for n in files["notifications.json"]["notifications"]] == [
        "Welcome to LMS Platform"
    ]


async def test_late_exports_fail_and_expired_ones_are_deleted(
    graph: GraphQLClient, migrated: Settings, http: httpx.AsyncClient
) -> None:
    learner = await register(graph, name="Tim Timeout")
    engine = create_engine(service_dsn(migrated, "users"), pool_size=2)
    exports = DataExports(async_sessionmaker(engine, expire_on_commit=False), migrated)
    try:
        async with notifications_held(migrated):
            body = await request_export(graph, learner)
            late_id = body["data"]["requestDataExport"]["dataExport"]["id"]
            await eventually(lambda: all_parts_but_one(migrated, late_id), within=20.0)
            # the sweep, as the users worker runs it, past the timeout
            past_timeout = datetime.now().astimezone() + timedelta(
                seconds=migrated.data_export_timeout + 1
            )
            assert (await exports.sweep(past_timeout))[0] >= 1
        failed = await export_of(graph, learner, late_id)
        assert failed["status"] == "FAILED"
        assert failed["downloadUrl"] is None
        assert failed["failure"] == "Not every part arrived in time (missing: notifications)."
        assert await parts_in(migrated, late_id) == 0
        # the late part, once it comes, does not revive it; a new export works again
        ready = await exported(graph, learner)
        assert (await export_of(graph, learner, late_id))["status"] == "FAILED"

        # Expiry: the archive is past its time (as if a week went by)
        async with users_db(migrated) as db:
            await db.execute(
                text(
                    "UPDATE users.data_exports SET expires_at = now() - interval '1 second' "
                    "WHERE id = :e"
                ),
                {"e": ready["id"]},
            )
        expired = await export_of(graph, learner, ready["id"])
        assert expired["status"] == "EXPIRED"
        assert expired["downloadUrl"] is None
        # the link handed out before still carries a valid signature, but opens nothing
        replay = await http.get(ready["downloadUrl"])
        assert replay.status_code == 404
        assert replay.json()["errors"][0]["message"] == "This data export no longer exists."
        # the sweep deletes it (and, a week after, the failed one)
        await exports.sweep()
        assert ready["id"] not in {e["id"] for e in await my_exports(graph, learner)}
        await exports.sweep(datetime.now().astimezone() + timedelta(days=8))
        assert await my_exports(graph, learner) == []
    finally:
        await engine.dispose()


async def test_deleting_a_user_deletes_their_exports(
    graph: GraphQLClient, migrated: Settings, admin: Account, http: httpx.AsyncClient
) -> None:
    learner = await register(graph, name="Del Deleted")
    export = await exported(graph, learner)
    await graph.data(DELETE_USER, {"id": learner.id}, token=admin.access_token)
    async with users_db(migrated) as db:
        query = "SELECT count(*) FROM users.data_exports WHERE user_id = :u"
        assert (await db.execute(text(query), {"u": learner.id})).scalar_one() == 0
    gone = await http.get(export["downloadUrl"])
    assert gone.status_code == 404
    again = await request_export(graph, admin, learner.id)
    assert code_of(again) == "NOT_FOUND"
