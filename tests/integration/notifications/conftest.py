"""The notifications tests reuse the courses tests' accounts and course builders; their
student has a verified e-mail address, as only then does mail other than the verification
link go to it."""

import pytest

from tests.accounts import Account, register
from tests.email_links import verify_address
from tests.integration.courses.conftest import admin, graph, instructor, other_instructor
from tests.sinks import SmtpSink
from tests.support import GraphQLClient

__all__ = ["admin", "graph", "instructor", "other_instructor", "student"]


@pytest.fixture
async def student(graph: GraphQLClient, smtp_sink: SmtpSink) -> Account:
    account = await register(graph, name="Stu Student")
    await verify_address(graph, smtp_sink, account)
    return account
