"""No e-mail but the verification link goes to an unverified address: the welcome (and any
other e-mail) waits, PENDING, until the address is verified, then goes out."""

from __future__ import annotations

from typing import Any

from tests.accounts import Account, register
from tests.email_links import VERIFY, tokens_in, verify_address
from tests.integration.notifications.test_notifications import inbox
from tests.sinks import SmtpSink
from tests.support import GraphQLClient, eventually

WAITING = "Waiting for the e-mail address to be verified."


async def welcome_email(graph: GraphQLClient, account: Account) -> dict[str, Any] | None:
    box = await inbox(graph, account, category="ACCOUNT")
    for edge in box["notifications"]["edges"]:
        for delivery in edge["node"]["deliveries"]:
            if delivery["channel"] == "EMAIL":
                found: dict[str, Any] = delivery
                return found
    return None


async def test_the_welcome_email_waits_for_the_address_to_be_verified(
    graph: GraphQLClient, smtp_sink: SmtpSink
) -> None:
    learner = await register(graph, name="Una Verified")

    async def held() -> bool:
        delivery = await welcome_email(graph, learner)
        return delivery is not None and delivery["lastError"] == WAITING

    await eventually(held, within=30)
    delivery = await welcome_email(graph, learner)
    assert delivery is not None
    assert (delivery["status"], delivery["attempts"]) == ("PENDING", 0)
    to_learner = [m for m in smtp_sink.messages if str(m["To"]) == learner.email]
    assert len(to_learner) == len(tokens_in(smtp_sink, learner.email, VERIFY)) == 1
    await verify_address(graph, smtp_sink, learner)
    await smtp_sink.wait_for(
        lambda m: str(m["To"]) == learner.email and "Welcome" in str(m["Subject"]), within=30
    )

    async def sent() -> bool:
        delivery = await welcome_email(graph, learner)
        return delivery is not None and delivery["status"] == "SENT"

    await eventually(sent, within=30)
