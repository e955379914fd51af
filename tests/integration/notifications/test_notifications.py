"""Notifications through the router: sending, reading, preferences, channels, templates."""

from __future__ import annotations

import hashlib
import hmac
import json
from email.message import EmailMessage
from typing import Any

import httpx

from common.settings import Settings
from tests.accounts import Account, register
from tests.email_links import verify_address
from tests.integration.courses.conftest import published_course
from tests.sinks import SmtpSink, WebhookSink
from tests.support import GraphQLClient, error_codes, eventually, metric

ENROLL = "mutation($c: ID!) { enroll(input: {courseId: $c}) { enrollment { id } } }"
SEND = """
mutation($input: SendNotificationInput!) {
  sendNotification(input: $input) { batchId recipientCount }
}
"""
INBOX = """
query($unread: Boolean, $category: NotificationCategory) {
  notifications(unreadOnly: $unread, category: $category, first: 100) {
    totalCount
    edges { node { id category title body read data course { id } sender { id }
      deliveries { channel status attempts lastError digest } } }
  }
  unreadNotificationCount
}
"""
PREFERENCES = """
mutation($p: [PreferenceInput!]!) {
  updateNotificationPreferences(input: {preferences: $p}) {
    user { notificationPreferences { category channel frequency isDefault } }
  }
}
"""


PHONE = "+15550100999"


def phone_calls(sink: WebhookSink) -> int:
    return sum(1 for request in sink.requests if (request["json"] or {}).get("to") == PHONE)


async def inbox(
    graph: GraphQLClient, account: Account, unread: bool = False, category: str | None = None
) -> dict[str, Any]:
    """The account's notifications (of one category: flows such as the welcome notification
    arrive in the background and must not disturb counts)."""
    data: dict[str, Any] = await graph.data(
        INBOX, {"unread": unread, "category": category}, token=account.access_token
    )
    return data


async def test_instructor_announces_to_course_learners_by_app_and_email(
    graph: GraphQLClient,
    instructor: Account,
    other_instructor: Account,
    admin: Account,
    student: Account,
    smtp_sink: SmtpSink,
    http: httpx.AsyncClient,
    subgraph_urls: dict[str, str],
) -> None:
    metrics = f"{subgraph_urls['notifications']}/metrics"
    email = {"service": "notifications", "channel": "EMAIL", "state": "SENT"}
    emailed = await metric(http, metrics, "lms_notification_deliveries_total", **email)
    course = await published_course(graph, instructor, admin, "Announced Course", lessons=1)
    await graph.data(ENROLL, {"c": course["id"]}, token=student.access_token)
    outsider = await register(graph, name="Outside Olga")
    data = {"title": "Exam moved", "message": "The exam is now on Friday."}
    sent = await graph.data(
        SEND,
        {"input": {"category": "ANNOUNCEMENT", "courseId": course["id"], "data": data}},
        token=instructor.access_token,
    )
    assert sent["sendNotification"]["recipientCount"] == 1
    box = await inbox(graph, student, category="ANNOUNCEMENT")
    assert box["notifications"]["totalCount"] == 1
    node = box["notifications"]["edges"][0]["node"]
    assert (node["title"], node["body"]) == ("Exam moved", "The exam is now on Friday.")
    assert node["course"] == {"id": course["id"]}
    assert node["sender"] == {"id": instructor.id}
    mail: EmailMessage = await smtp_sink.wait_for(
        lambda m: m["Subject"] == "Exam moved" and student.email in m["To"]
    )
    text = mail.get_body(("plain",))
    assert text is not None
    assert "The exam is now on Friday." in text.get_content()
    delivered = await eventually(
        lambda: _delivery(graph, student, "EMAIL", "SENT"),
    )
    assert delivered["attempts"] == 1

    async def counted() -> bool:  # once the delivery's state is committed
        return await metric(http, metrics, "lms_notification_deliveries_total", **email) > emailed

    await eventually(counted)
    # SMS and push are off by default.
    channels = {
        d["channel"]: d
        for d in (await inbox(graph, student, category="ANNOUNCEMENT"))["notifications"]["edges"][
            0
        ]["node"]["deliveries"]
    }
    assert set(channels) == {"EMAIL"}

    # Hostile: a learner outside the course, another instructor, a student, unknown ids.
    for body in (
        await graph.execute(
            SEND,
            {
                "input": {
                    "category": "ANNOUNCEMENT",
                    "courseId": course["id"],
                    "userIds": [outsider.id],
                    "data": data,
                }
            },
            token=instructor.access_token,
        ),
        await graph.execute(
            SEND,
            {"input": {"category": "ANNOUNCEMENT", "courseId": course["id"], "data": data}},
            token=other_instructor.access_token,
        ),
        await graph.execute(
            SEND,
            {"input": {"category": "ANNOUNCEMENT", "userIds": [outsider.id], "data": data}},
            token=instructor.access_token,
        ),
        await graph.execute(
            SEND,
            {"input": {"category": "ANNOUNCEMENT", "courseId": course["id"], "data": data}},
            token=student.access_token,
        ),
    ):
        assert error_codes(body) == ["FORBIDDEN"], body
    assert (await inbox(graph, outsider, category="ANNOUNCEMENT"))["notifications"][
        "totalCount"
    ] == 0
    missing = await graph.execute(
        SEND,
        {
            "input": {
                "category": "ANNOUNCEMENT",
                "courseId": course["id"],
                "data": {"title": "No message"},
            }
        },
        token=instructor.access_token,
    )
    assert error_codes(missing) == ["BAD_USER_INPUT"]
    assert "message" in missing["errors"][0]["message"]


async def _count(
    graph: GraphQLClient, account: Account, unread: bool = False, category: str | None = None
) -> int:
    count: int = (await inbox(graph, account, unread, category))["notifications"]["totalCount"]
    return count


async def _delivery(
    graph: GraphQLClient, account: Account, channel: str, status: str
) -> dict[str, Any] | None:
    for edge in (await inbox(graph, account))["notifications"]["edges"]:
        for delivery in edge["node"]["deliveries"]:
            if delivery["channel"] == channel and delivery["status"] == status:
                found: dict[str, Any] = delivery
                return found
    return None


async def test_read_unread_delete_and_privacy(
    graph: GraphQLClient, admin: Account, student: Account
) -> None:
    other = await register(graph, name="Other Oscar")
    # The welcome notification (user.registered) arrives in the background; wait for it so
    # that the counts below are the reminders' and the welcome's only.
    await eventually(
        lambda: _count(graph, student, category="ACCOUNT"),
    )
    await graph.data(
        "mutation { markAllNotificationsRead { updated } }", token=student.access_token
    )
    for index in range(3):
        await graph.data(
            SEND,
            {
                "input": {
                    "category": "REMINDER",
                    "userIds": [student.id],
                    "data": {"title": f"R{index}", "message": "Due soon"},
                }
            },
            token=admin.access_token,
        )
    box = await inbox(graph, student, category="REMINDER")
    assert box["unreadNotificationCount"] == 3
    first = box["notifications"]["edges"][0]["node"]["id"]
    mark = "mutation($id: ID!) { markNotificationRead(input: {id: $id}) { notification { read } } }"
    assert (await graph.data(mark, {"id": first}, token=student.access_token))[
        "markNotificationRead"
    ]["notification"]["read"]
    assert await _count(graph, student, unread=True, category="REMINDER") == 2
    # Another user cannot read, mark or delete it, and learns nothing about it.
    assert error_codes(await graph.execute(mark, {"id": first}, token=other.access_token)) == [
        "NOT_FOUND"
    ]
    delete = "mutation($id: ID!) { deleteNotification(input: {id: $id}) { deletedId } }"
    assert error_codes(await graph.execute(delete, {"id": first}, token=other.access_token)) == [
        "NOT_FOUND"
    ]
    peek = await graph.execute(
        "query($id: ID!) { user(id: $id) { notifications { totalCount } } }",
        {"id": student.id},
        token=other.access_token,
    )
    assert "FORBIDDEN" in error_codes(peek)
    all_read = "mutation { markAllNotificationsRead(input: {category: REMINDER}) { updated } }"
    assert (await graph.data(all_read, token=student.access_token))["markAllNotificationsRead"][
        "updated"
    ] == 2
    await graph.data(delete, {"id": first}, token=student.access_token)
    box = await inbox(graph, student, category="REMINDER")
    assert box["notifications"]["totalCount"] == 2
    assert box["unreadNotificationCount"] == 0
    me = await graph.data("query { me { unreadNotificationCount } }", token=student.access_token)
    assert me["me"]["unreadNotificationCount"] == 0
    unauthenticated = await graph.execute(INBOX, {"unread": False})
    # Both root fields are nullable (shown beside other pages): each is refused on its own.
    assert error_codes(unauthenticated) == ["UNAUTHENTICATED", "UNAUTHENTICATED"]
    assert unauthenticated["data"] == {"notifications": None, "unreadNotificationCount": None}


async def test_preferences_route_channels_and_digests(
    graph: GraphQLClient,
    admin: Account,
    student: Account,
    smtp_sink: SmtpSink,
    webhook_sink: WebhookSink,
    migrated: Settings,
) -> None:
    await graph.data(
        'mutation { updateNotificationContact(input: {phone: "+15550100200", pushToken: "device-1"}) { phone } }',
        token=student.access_token,
    )
    prefs = await graph.data(
        PREFERENCES,
        {
            "p": [
                {"category": "REMINDER", "channel": "EMAIL", "frequency": "DAILY_DIGEST"},
                {"category": "REMINDER", "channel": "SMS", "frequency": "IMMEDIATE"},
                {"category": "REMINDER", "channel": "PUSH", "frequency": "IMMEDIATE"},
            ]
        },
        token=student.access_token,
    )
    chosen = {
        (p["category"], p["channel"]): (p["frequency"], p["isDefault"])
        for p in prefs["updateNotificationPreferences"]["user"]["notificationPreferences"]
    }
    assert chosen[("REMINDER", "EMAIL")] == ("DAILY_DIGEST", False)
    assert chosen[("GRADE", "EMAIL")] == ("IMMEDIATE", True)
    bad = await graph.execute(
        PREFERENCES,
        {"p": [{"category": "REMINDER", "channel": "IN_APP", "frequency": "OFF"}]},
        token=student.access_token,
    )
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    for title in ("Quiz tomorrow", "Lab due"):
        await graph.data(
            SEND,
            {
                "input": {
                    "category": "REMINDER",
                    "userIds": [student.id],
                    "data": {"title": title, "message": "Prepare."},
                }
            },
            token=admin.access_token,
        )
    sms = await webhook_sink.wait_for(
        lambda r: r["path"].endswith("/sms") and r["json"]["subject"] == "Lab due"
    )
    assert sms["json"]["to"] == "+15550100200"
    signature = hmac.new(b"test-webhook-secret", sms["body"], hashlib.sha256).hexdigest()
    assert sms["headers"]["x-lms-signature"] == f"sha256={signature}"
    await webhook_sink.wait_for(
        lambda r: r["path"].endswith("/push") and r["json"]["to"] == "device-1"
    )
    assert await _delivery(graph, student, "EMAIL", "PENDING")  # waiting for the digest
    digest = await graph.data(
        "mutation { sendNotificationDigests(frequency: DAILY_DIGEST) { messagesSent } }",
        token=admin.access_token,
    )
    assert digest["sendNotificationDigests"]["messagesSent"] >= 1
    mail = await smtp_sink.wait_for(
        lambda m: "digest" in str(m["Subject"]) and student.email in m["To"]
    )
    body = mail.get_body(("plain",))
    assert body is not None
    assert "Quiz tomorrow" in body.get_content()
    assert "Lab due" in body.get_content()
    assert await _delivery(graph, student, "EMAIL", "SENT")
    refused = await graph.execute(
        "mutation { sendNotificationDigests(frequency: DAILY_DIGEST) { messagesSent } }",
        token=student.access_token,
    )
    assert error_codes(refused) == ["FORBIDDEN"]


async def test_failed_deliveries_retry_then_fail_with_the_reason(
    graph: GraphQLClient, admin: Account, smtp_sink: SmtpSink, webhook_sink: WebhookSink
) -> None:
    learner = await register(graph, name="Retry Rita")
    await verify_address(graph, smtp_sink, learner)
    await graph.data(
        'mutation { updateNotificationContact(input: {phone: "+15550100999"}) { phone } }',
        token=learner.access_token,
    )
    await graph.data(
        PREFERENCES,
        {"p": [{"category": "GRADE", "channel": "SMS", "frequency": "IMMEDIATE"}]},
        token=learner.access_token,
    )
    # Its welcome email goes first (held until the address was verified, in the background).
    await smtp_sink.wait_for(
        lambda m: learner.email in str(m["To"]) and "Welcome" in str(m["Subject"])
    )
    webhook_sink.respond_with(503, times=1, to=PHONE)  # one transient failure, then success
    smtp_sink.refuse_next(550, times=1, recipient=learner.email)  # permanent: no retry
    await graph.data(
        SEND,
        {
            "input": {
                "category": "GRADE",
                "userIds": [learner.id],
                "data": {"assessment_title": "Quiz 1", "score": "9/10"},
            }
        },
        token=admin.access_token,
    )
    sms = await eventually(lambda: _delivery(graph, learner, "SMS", "SENT"))
    assert sms["attempts"] == 2
    email = await eventually(lambda: _delivery(graph, learner, "EMAIL", "FAILED"))
    assert email["attempts"] == 1
    assert "550" in email["lastError"]
    box = await inbox(graph, learner, category="GRADE")
    assert box["notifications"]["edges"][0]["node"]["title"] == "Quiz 1 has been graded"
    # A provider that keeps failing: retried with backoff up to the limit, then FAILED.
    webhook_sink.respond_with(500, times=10, to=PHONE)
    await graph.data(
        SEND,
        {
            "input": {
                "category": "GRADE",
                "userIds": [learner.id],
                "data": {"assessment_title": "Quiz 2", "score": "5/10"},
            }
        },
        token=admin.access_token,
    )

    async def gave_up() -> dict[str, Any] | None:
        for edge in (await inbox(graph, learner))["notifications"]["edges"]:
            if edge["node"]["title"].startswith("Quiz 2"):
                for delivery in edge["node"]["deliveries"]:
                    if delivery["channel"] == "SMS" and delivery["status"] == "FAILED":
                        found: dict[str, Any] = delivery
                        return found
        return None

    failed = await eventually(gave_up, within=15)
    assert failed["attempts"] == 3
    assert "gave up" in failed["lastError"]
    webhook_sink.respond_with(200, times=0)
    assert phone_calls(webhook_sink) >= 5


async def test_templates_are_sandboxed_and_variables_are_data(
    graph: GraphQLClient, admin: Account, student: Account
) -> None:
    save = """
    mutation($i: SaveTemplateInput!) { saveNotificationTemplate(input: $i) { id locale } }
    """
    hostile = await graph.execute(
        save,
        {
            "i": {
                "category": "REMINDER",
                "channel": "IN_APP",
                "locale": "fr",
                "subject": "{{ title",
                "body": "x",
            }
        },
        token=admin.access_token,
    )
    assert error_codes(hostile) == ["BAD_USER_INPUT"]
    forbidden = await graph.execute(
        save,
        {
            "i": {
                "category": "REMINDER",
                "channel": "IN_APP",
                "locale": "en",
                "subject": "{{ title }}",
                "body": "b",
            }
        },
        token=student.access_token,
    )
    assert error_codes(forbidden) == ["FORBIDDEN"]
    # What can be seen without running the template is refused when it is saved...
    dunder = await graph.execute(
        save,
        {
            "i": {
                "category": "REMINDER",
                "channel": "IN_APP",
                "locale": "de",
                "subject": "Erinnerung: {{ title }}",
                "body": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
            }
        },
        token=admin.access_token,
    )
    assert error_codes(dunder) == ["BAD_USER_INPUT"]
    assert "names starting with _" in dunder["errors"][0]["message"]
    # ...and what only shows when it runs is refused by the sandbox, before anything is stored.
    await graph.data(
        save,
        {
            "i": {
                "category": "REMINDER",
                "channel": "IN_APP",
                "locale": "de",
                "subject": "Erinnerung: {{ title }}",
                "body": "{{ message|attr('__class__') }}",
            }
        },
        token=admin.access_token,
    )
    german = await register(graph, name="Greta German")
    await graph.data(
        'mutation { updateProfile(input: {locale: "de-AT"}) { user { locale } } }',
        token=german.access_token,
    )
    escape = await graph.execute(
        SEND,
        {
            "input": {
                "category": "REMINDER",
                "userIds": [german.id],
                "data": {"title": "T", "message": "m"},
            }
        },
        token=admin.access_token,
    )
    assert error_codes(escape) == ["BAD_USER_INPUT"]
    await graph.data(
        save,
        {
            "i": {
                "category": "REMINDER",
                "channel": "IN_APP",
                "locale": "de",
                "subject": "Erinnerung: {{ title }}",
                "body": "{{ message }}",
            }
        },
        token=admin.access_token,
    )
    await graph.data(
        SEND,
        {
            "input": {
                "category": "REMINDER",
                "userIds": [german.id, student.id],
                "data": {"title": "{{ 7*7 }}", "message": "{% raw %}x"},
            }
        },
        token=admin.access_token,
    )
    german_box = await inbox(graph, german, category="REMINDER")
    node = german_box["notifications"]["edges"][0]["node"]
    assert node["title"] == "Erinnerung: {{ 7*7 }}"  # values are data, never templates
    assert node["body"] == "{% raw %}x"
    english = (await inbox(graph, student, category="REMINDER"))["notifications"]["edges"][-1][
        "node"
    ]
    assert english["title"] == "{{ 7*7 }}"  # the built-in English template
    assert json.loads(json.dumps(node["data"]))["title"] == "{{ 7*7 }}"
