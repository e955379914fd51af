"""LTI 1.3 as a platform, end to end: pylti1p3 plays the tool (tests/lti_tool.py) on
loopback, the GraphQL calls go through the router, and the browser is an HTTP client that
follows the launch from the tool's login initiation to the tool's launch page.

1EdTech certification checks these cover (the suite cannot run offline): the OIDC login
initiation parameters, the authentication request's checks (redirect_uri registered,
response_type/mode, scope, prompt), nonce and state carried back, an RS256 ID token whose
kid is in the platform's JWKS, and the required resource-link claims (message_type,
version, deployment_id, target_link_uri, resource_link.id, roles, sub, aud/azp), plus
context and launch_presentation; replayed and cross-user login attempts are refused; the
AGS and NRPS services (membership container, roles, Link paging, the NRPS launch claim)
as pylti1p3's service clients use them, with their context and scope checks; Deep Linking
2.0 (the LtiDeepLinkingRequest's settings, the signed LtiDeepLinkingResponse with its data,
replay and foreign signatures refused); a graded placement's platform-made line item in the
launch's AGS claim (`lineitem`), scored by pylti1p3 without a line item of its own; line
item updates and deletion (PUT/DELETE), refused on a graded link's line item; a deep linking
content item's `lineItem` placed as a graded item (refused whole when one is bad).
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import math
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem

from common.infra.ports import free_port
from tests.accounts import Account, account_with_roles, register
from tests.integration.courses.conftest import add_module, create_course, published_course
from tests.lti_tool import AGS_CLAIM, NRPS_CLAIM, ContentItem, LtiTool, PlatformRegistration
from tests.support import GraphQLClient, error_codes, serve

PLATFORM = "{ ltiPlatform { issuer authorizationUrl jwksUrl } }"
REGISTER = """
mutation($input: RegisterLtiToolInput!) {
  registerLtiTool(input: $input) {
    tool { id name clientId deploymentIds loginUrl redirectUris targetLinkUri jwksUrl
           hasPublicKey sharesName sharesEmail }
  }
}
"""
ADD_LINK = """
mutation($input: AddLtiLinkInput!) {
  addLtiLink(input: $input) { link { id title courseId moduleId position deploymentId toolName } }
}
"""
LINKS = "query($c: ID!) { ltiLinks(courseId: $c) { id title toolName } }"
LAUNCH = """
mutation($input: LaunchLtiLinkInput!) {
  launchLtiLink(input: $input) { initiationUrl loginUrl parameters { name value } expiresIn }
}
"""
ENROLL = "mutation($c: ID!) { enroll(input: {courseId: $c}) { enrollment { id } } }"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
FORM_FIELD = re.compile(r'name="(\w+)" value="([^"]*)"')
FORM_ACTION = re.compile(r'action="([^"]*)"')


@dataclass
class World:
    tool: LtiTool
    tool_url: str
    registered: dict[str, Any]
    course: dict[str, Any]
    link: dict[str, Any]
    instructor: Account
    admin: Account
    learner: Account
    classmate: Account
    outsider: Account


@pytest.fixture(scope="module")
async def world(users: GraphQLClient, migrated: Any) -> AsyncIterator[World]:
    graph = users
    instructor = await account_with_roles(graph, migrated, ["INSTRUCTOR", "STUDENT"], "Ivy Tutor")
    admin = await account_with_roles(graph, migrated, ["ADMIN", "STUDENT"], "Al Admin")
    learner, classmate, outsider = [
        await register(graph, name=name) for name in ("Lea Learner", "Cal Mate", "Otto Side")
    ]
    course = await published_course(graph, instructor, admin, "LTI Course", lessons=1)
    for each in (learner, classmate):
        await graph.data(ENROLL, {"c": course["id"]}, token=each.access_token)
    tool = LtiTool()
    async with serve(tool.app(), free_port()) as tool_url:
        platform = (await graph.data(PLATFORM, token=admin.access_token))["ltiPlatform"]
        registered = (
            await graph.data(
                REGISTER,
                {
                    "input": {
                        "name": "Quiz Tool",
                        "loginUrl": f"{tool_url}/login",
                        "redirectUris": [f"{tool_url}/launch"],
                        "targetLinkUri": f"{tool_url}/launch",
                        "jwksUrl": f"{tool_url}/jwks",
                        "sharesName": True,
                    }
                },
                token=admin.access_token,
            )
        )["registerLtiTool"]["tool"]
        tool.registrations.append(PlatformRegistration.told(platform, registered))
        link = (
            await graph.data(
                ADD_LINK,
                {
                    "input": {
                        "moduleId": course["module"]["id"],
                        "toolId": registered["id"],
                        "title": "Chapter quiz",
                    }
                },
                token=instructor.access_token,
            )
        )["addLtiLink"]["link"]
        yield World(
            tool,
            tool_url,
            registered,
            course,
            link,
            instructor,
            admin,
            learner,
            classmate,
            outsider,
        )


async def start(
    graph: GraphQLClient, world: World, account: Account, link_id: str | None = None
) -> str:
    data = await graph.data(
        LAUNCH, {"input": {"id": link_id or world.link["id"]}}, token=account.access_token
    )
    initiation_url: str = data["launchLtiLink"]["initiationUrl"]
    return initiation_url


async def authorization_url(browser: httpx.AsyncClient, initiation_url: str) -> str:
    """The browser at the tool's login initiation: pylti1p3 answers the redirect to us."""
    response = await browser.get(initiation_url)
    assert response.status_code == 302, response.text
    return response.headers["location"]


def posted_form(response: httpx.Response) -> tuple[str, dict[str, str]]:
    assert response.status_code == 200, response.text
    action = FORM_ACTION.search(response.text)
    assert action is not None
    return html.unescape(action[1]), {
        k: html.unescape(v) for k, v in FORM_FIELD.findall(response.text)
    }


def with_parameter(address: str, name: str, value: str) -> str:
    parts = urlsplit(address)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query[name] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


async def test_a_learner_launches_a_placed_tool_and_pylti1p3_accepts_it(
    users: GraphQLClient, world: World
) -> None:
    async with httpx.AsyncClient() as browser:
        initiation = await start(users, world, world.learner)
        sent = parse_qs(urlsplit(initiation).query)
        assert sent["client_id"] == [world.registered["clientId"]]
        assert sent["lti_deployment_id"] == world.registered["deploymentIds"]
        authorize = await authorization_url(browser, initiation)
        action, fields = posted_form(await browser.get(authorize))
        assert action == f"{world.tool_url}/launch"
        launched = await browser.post(action, data=fields)
        assert launched.status_code == 200, launched.text
        claims = launched.json()["launched"]
        # the same authorization request again: the launch was single-use
        replay = await browser.get(authorize)
        assert replay.status_code == 400
        assert error_codes(replay.json()) == ["BAD_USER_INPUT"]
    assert claims[CLAIM + "message_type"] == "LtiResourceLinkRequest"
    assert claims[CLAIM + "version"] == "1.3.0"
    assert claims[CLAIM + "deployment_id"] == world.registered["deploymentIds"][0]
    assert claims[CLAIM + "resource_link"] == {"id": world.link["id"], "title": "Chapter quiz"}
    assert claims[CLAIM + "roles"] == [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student",
    ]
    context = claims[CLAIM + "context"]
    assert (context["id"], context["title"]) == (world.course["id"], "LTI Course")
    assert claims["aud"] == claims["azp"] == world.registered["clientId"]
    assert claims["name"] == "Lea Learner"  # the tool may see names, not emails
    assert "email" not in claims
    assert world.learner.id not in str(claims)  # sub is opaque
    assert len(claims["sub"]) == 32


async def launch(
    users: GraphQLClient, world: World, account: Account, link_id: str | None = None
) -> dict[str, Any]:
    """A whole launch by `account` (of the world's link, or `link_id`): the claims the tool
    accepted."""
    async with httpx.AsyncClient() as browser:
        authorize = await authorization_url(browser, await start(users, world, account, link_id))
        action, fields = posted_form(await browser.get(authorize))
        launched = await browser.post(action, data=fields)
        assert launched.status_code == 200, launched.text
        claims: dict[str, Any] = launched.json()["launched"]
        return claims


async def test_an_instructor_launches_as_instructor_with_a_stable_subject(
    users: GraphQLClient, world: World
) -> None:
    subjects = []
    for _ in range(2):
        async with httpx.AsyncClient() as browser:
            authorize = await authorization_url(
                browser, await start(users, world, world.instructor)
            )
            action, fields = posted_form(await browser.get(authorize))
            claims = (await browser.post(action, data=fields)).json()["launched"]
            subjects.append(claims["sub"])
    assert subjects[0] == subjects[1]
    assert claims[CLAIM + "roles"][0] == (
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
    )


async def test_authorization_requests_that_do_not_match_are_refused(
    users: GraphQLClient, world: World
) -> None:
    async with httpx.AsyncClient() as browser:
        authorize = await authorization_url(browser, await start(users, world, world.learner))
        # a redirect_uri the tool did not register: refused, never redirected there
        stolen = await browser.get(
            with_parameter(authorize, "redirect_uri", "https://evil.example/")
        )
        assert stolen.status_code == 400
        assert "evil" not in stolen.headers.get("location", "")
        for name, value in (("response_type", "code"), ("scope", "profile"), ("prompt", "login")):
            refused = await browser.get(with_parameter(authorize, name, value))
            assert refused.status_code == 400, name
        # another tool's client id
        other = await browser.get(with_parameter(authorize, "client_id", "not-a-tool"))
        assert other.status_code == 400
        # missing and oversized parameters
        parts = urlsplit(authorize)
        bare = urlunsplit(parts._replace(query="client_id=" + world.registered["clientId"]))
        assert (await browser.get(bare)).status_code == 400
        huge = await browser.get(with_parameter(authorize, "nonce", "n" * 5000))
        assert huge.status_code == 400
        # none of these used the launch up
        action, fields = posted_form(await browser.get(authorize))
        assert (await browser.post(action, data=fields)).status_code == 200


async def test_a_login_hint_of_another_user_is_refused(users: GraphQLClient, world: World) -> None:
    async with httpx.AsyncClient() as browser:
        mine = parse_qs(urlsplit(await start(users, world, world.learner)).query)
        theirs = await authorization_url(browser, await start(users, world, world.classmate))
        swapped = with_parameter(theirs, "login_hint", mine["login_hint"][0])
        refused = await browser.get(swapped)
        assert refused.status_code == 403
        assert error_codes(refused.json()) == ["FORBIDDEN"]
        # the hint was spent by the attempt: the genuine request cannot follow it
        assert (await browser.get(theirs)).status_code == 400


async def test_only_the_course_may_launch_and_only_administrators_register(
    users: GraphQLClient, world: World
) -> None:
    outsider = await users.execute(
        LAUNCH, {"input": {"id": world.link["id"]}}, token=world.outsider.access_token
    )
    assert error_codes(outsider) == ["FORBIDDEN"]
    unknown = await users.execute(
        LAUNCH,
        {"input": {"id": "00000000-0000-0000-0000-000000000000"}},
        token=world.learner.access_token,
    )
    assert error_codes(unknown) == ["NOT_FOUND"]
    assert error_codes(
        await users.execute(LAUNCH, {"input": {"id": "x"}}, token=world.learner.access_token)
    ) == ["BAD_USER_INPUT"]
    assert error_codes(await users.execute(LAUNCH, {"input": {"id": world.link["id"]}})) == [
        "UNAUTHENTICATED"
    ]
    tool_input = {
        "name": "Mine",
        "loginUrl": "https://tool.example/login",
        "redirectUris": ["https://tool.example/launch"],
        "targetLinkUri": "https://tool.example/launch",
        "jwksUrl": "https://tool.example/jwks",
    }
    learner = await users.execute(REGISTER, {"input": tool_input}, token=world.learner.access_token)
    assert error_codes(learner) == ["FORBIDDEN"]
    instructor = await users.execute(
        REGISTER, {"input": tool_input}, token=world.instructor.access_token
    )
    assert error_codes(instructor) == ["FORBIDDEN"]
    hostile: list[dict[str, Any]] = [
        {"loginUrl": "javascript:alert(1)"},
        {"redirectUris": []},
        {"redirectUris": ["https://tool.example/" + "a" * 3000]},
        {"jwksUrl": None},  # neither a JWKS URL nor a key
        {
            "jwksUrl": None,
            "publicKey": "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----",
        },
        {"jwksUrl": None, "publicKey": world.tool.key.as_pem(private=True).decode()},
        {"deploymentIds": ["has space"]},
        {"name": ""},
    ]
    for change in hostile:
        refused = await users.execute(
            REGISTER, {"input": {**tool_input, **change}}, token=world.admin.access_token
        )
        assert error_codes(refused) == ["BAD_USER_INPUT"], change
    wrong_type = await users.execute(
        REGISTER, {"input": {**tool_input, "redirectUris": 5}}, token=world.admin.access_token
    )
    assert error_codes(wrong_type) == ["BAD_USER_INPUT"]
    by_key = await users.execute(
        REGISTER,
        {
            "input": {
                **tool_input,
                "jwksUrl": None,
                "publicKey": world.tool.key.as_pem(private=False).decode(),
            }
        },
        token=world.admin.access_token,
    )
    assert by_key["data"]["registerLtiTool"]["tool"]["hasPublicKey"] is True


async def test_only_the_courses_instructors_place_tools(
    users: GraphQLClient, world: World, migrated: Any
) -> None:
    placement = {
        "moduleId": world.course["module"]["id"],
        "toolId": world.registered["id"],
        "title": "Sneaky",
    }
    other = await account_with_roles(users, migrated, ["INSTRUCTOR", "STUDENT"], "Other Tutor")
    for account in (world.learner, other):
        refused = await users.execute(ADD_LINK, {"input": placement}, token=account.access_token)
        assert error_codes(refused) == ["FORBIDDEN"], account.email
    wrong_deployment = await users.execute(
        ADD_LINK,
        {"input": {**placement, "deploymentId": "elsewhere"}},
        token=world.instructor.access_token,
    )
    assert error_codes(wrong_deployment) == ["BAD_USER_INPUT"]
    links = await users.data(LINKS, {"c": world.course["id"]}, token=world.learner.access_token)
    assert [(each["title"], each["toolName"]) for each in links["ltiLinks"]] == [
        ("Chapter quiz", "Quiz Tool")
    ]


GRADES = """
query($c: ID!) {
  ltiGrades(courseId: $c) { label linkId userId scoreGiven scoreMaximum percent comment gradingProgress }
}
"""
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"


def assertion(key: RSAKey, client_id: str, audience: str, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_hex(8),
        **changes,
    }
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


async def test_scores_a_tool_posts_back_become_grades_the_learner_and_instructor_see(
    users: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    learner_launch = await launch(users, world, world.learner)
    endpoint = learner_launch[AGS_CLAIM]
    assert endpoint["lineitems"].endswith(f"/lti/contexts/{world.course['id']}/lineitems")
    assert set(endpoint["scope"]) >= {AGS + "score", AGS + "lineitem"}
    classmate_sub = (await launch(users, world, world.classmate))["sub"]
    ags = world.tool.grades(learner_launch)
    wanted = (
        LineItem()
        .set_tag("quiz")
        .set_label("Chapter quiz")
        .set_score_maximum(10)
        .set_resource_link_id(world.link["id"])
    )
    item = await asyncio.to_thread(ags.find_or_create_lineitem, wanted)
    assert str(item.get_id()).startswith(endpoint["lineitems"])

    def grade(user: str, given: float, progress: str, at: str) -> Grade:
        return (
            Grade()
            .set_user_id(user)
            .set_score_given(given)
            .set_score_maximum(10)
            .set_activity_progress("Completed")
            .set_grading_progress(progress)
            .set_timestamp(at)
            .set_comment("Well done")
        )

    await asyncio.to_thread(
        ags.put_grade,
        grade(learner_launch["sub"], 7, "FullyGraded", "2026-12-03T10:00:00+00:00"),
        item,
    )
    await asyncio.to_thread(
        ags.put_grade, grade(classmate_sub, 4, "PendingManual", "2026-12-03T10:00:00+00:00"), item
    )
    # an older score than the recorded one is refused, and changes nothing
    with pytest.raises(LtiServiceException) as stale:
        await asyncio.to_thread(
            ags.put_grade,
            grade(learner_launch["sub"], 1, "FullyGraded", "2026-12-03T09:00:00+00:00"),
            item,
        )
    assert stale.value.response.status_code == 409
    results = await asyncio.to_thread(ags.get_grades, item)
    assert sorted(r["resultScore"] for r in results) == [4.0, 7.0]
    mine = await users.data(GRADES, {"c": world.course["id"]}, token=world.learner.access_token)
    assert mine["ltiGrades"] == [
        {
            "label": "Chapter quiz",
            "linkId": world.link["id"],
            "userId": world.learner.id,
            "scoreGiven": 7.0,
            "scoreMaximum": 10.0,
            "percent": 70.0,
            "comment": "Well done",
            "gradingProgress": "FullyGraded",
        }
    ]
    # a grade still being graded is not the learner's to see yet; the instructor sees both
    pending = await users.data(
        GRADES, {"c": world.course["id"]}, token=world.classmate.access_token
    )
    assert pending["ltiGrades"] == []
    taught = await users.data(
        GRADES, {"c": world.course["id"]}, token=world.instructor.access_token
    )
    assert sorted(g["percent"] for g in taught["ltiGrades"]) == [40.0, 70.0]
    outsider = await users.execute(
        GRADES, {"c": world.course["id"]}, token=world.outsider.access_token
    )
    assert error_codes(outsider) == ["FORBIDDEN"]

    # Hostile tools and assertions, at the token endpoint and the services
    issuer = learner_launch["iss"]
    token_url = f"{issuer}/lti/token"
    client_id = world.registered["clientId"]

    async def token(signed: str, scope: str = AGS + "score") -> httpx.Response:
        return await http.post(
            token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": signed,
                "scope": scope,
            },
        )

    good = assertion(world.tool.key, client_id, token_url)
    assert (await token(good)).status_code == 200
    replayed = await token(good)
    assert (replayed.status_code, replayed.json()["error"]) == (401, "invalid_client")
    expired = assertion(world.tool.key, client_id, token_url, exp=int(time.time()) - 120)
    assert (await token(expired)).status_code == 401
    foreign_key = RSAKey.generate_key(2048, {"use": "sig", "alg": "RS256"}, private=True)
    foreign_key.ensure_kid()
    assert (await token(assertion(foreign_key, client_id, token_url))).status_code == 401
    # a foreign key claiming the tool's kid: the signature does not verify
    forged = jwt.encode(
        {"alg": "RS256", "kid": world.tool.key.kid},
        {
            "iss": client_id,
            "sub": client_id,
            "aud": token_url,
            "exp": int(time.time()) + 60,
            "jti": "x1",
        },
        foreign_key,
    )
    assert (await token(forged)).status_code == 401
    assert (
        await token(assertion(world.tool.key, client_id, "https://elsewhere/token"))
    ).status_code == 401
    assert (
        await token(assertion(world.tool.key, client_id, token_url), scope="admin")
    ).status_code == 400
    assert (await token("not.a.jwt")).status_code == 401

    # a token with read-only scopes cannot post a score
    read_only = (
        await token(assertion(world.tool.key, client_id, token_url), AGS + "lineitem.readonly")
    ).json()
    score = {
        "userId": learner_launch["sub"],
        "scoreGiven": 10,
        "scoreMaximum": 10,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": "2026-12-03T11:00:00+00:00",
    }
    scores_url = f"{item.get_id()}/scores"
    refused = await http.post(
        scores_url, json=score, headers={"Authorization": f"Bearer {read_only['access_token']}"}
    )
    assert refused.status_code == 403
    assert (await http.post(scores_url, json=score)).status_code == 401
    hostile_bodies = [
        {**score, "scoreGiven": "ten"},
        {**score, "gradingProgress": "Done"},
        {**score, "userId": "nobody"},
        {**score, "timestamp": "yesterday"},
    ]
    writer = (await token(assertion(world.tool.key, client_id, token_url), AGS + "score")).json()
    bearer = {"Authorization": f"Bearer {writer['access_token']}"}
    for body in hostile_bodies:
        assert (await http.post(scores_url, json=body, headers=bearer)).status_code == 400, body
    assert (await http.post(scores_url, content=b"[", headers=bearer)).status_code == 400

    # another registration (another client id and deployment), not placed in this course:
    # neither the course's line items nor a score on them are within its reach
    other = (
        await users.data(
            REGISTER,
            {
                "input": {
                    "name": "Other Tool",
                    "loginUrl": f"{world.tool_url}/login",
                    "redirectUris": [f"{world.tool_url}/launch"],
                    "targetLinkUri": f"{world.tool_url}/launch",
                    "jwksUrl": f"{world.tool_url}/jwks",
                }
            },
            token=world.admin.access_token,
        )
    )["registerLtiTool"]["tool"]
    other_token = (
        await token(
            assertion(world.tool.key, other["clientId"], token_url),
            AGS + "score " + AGS + "lineitem",
        )
    ).json()
    other_bearer = {"Authorization": f"Bearer {other_token['access_token']}"}
    assert (await http.get(endpoint["lineitems"], headers=other_bearer)).status_code == 404
    assert (await http.post(scores_url, json=score, headers=other_bearer)).status_code == 404
    results_after = await asyncio.to_thread(ags.get_grades, item)
    assert sorted(r["resultScore"] for r in results_after) == [4.0, 7.0]


NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
DROP = "mutation($id: ID!) { dropEnrollment(input: {id: $id}) { enrollment { id } } }"


async def test_a_tool_lists_the_courses_members_page_by_page_and_only_its_own_context(
    users: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    # a learner who enrolled and dropped is no member
    dropper = await register(users, name="Drew Dropped")
    enrolled = await users.data(ENROLL, {"c": world.course["id"]}, token=dropper.access_token)
    await users.data(
        DROP, {"id": enrolled["enroll"]["enrollment"]["id"]}, token=dropper.access_token
    )
    learner_launch = await launch(users, world, world.learner)
    instructor_launch = await launch(users, world, world.instructor)
    service = learner_launch[NRPS_CLAIM]
    memberships_url = f"{learner_launch['iss']}/lti/contexts/{world.course['id']}/memberships"
    assert service == {"context_memberships_url": memberships_url, "service_versions": ["2.0"]}

    roster = world.tool.roster(learner_launch)
    members = await asyncio.to_thread(roster.get_members)
    # one member a page: pylti1p3 follows our Link rel="next" headers through all of them
    paged = world.tool.roster(
        {**learner_launch, NRPS_CLAIM: {"context_memberships_url": memberships_url + "?limit=1"}}
    )
    assert await asyncio.to_thread(paged.get_members) == members
    first_page, following = await asyncio.to_thread(paged.get_members_page)
    assert len(first_page) == 1
    assert following is not None
    assert "cursor=" in following
    assert (await asyncio.to_thread(roster.get_context))["id"] == world.course["id"]

    by_name = {member["name"]: member for member in members}
    assert sorted(by_name) == ["Cal Mate", "Ivy Tutor", "Lea Learner"]
    assert by_name["Ivy Tutor"]["roles"] == [MEMBERSHIP + "Instructor"]
    assert by_name["Lea Learner"]["roles"] == [MEMBERSHIP + "Learner"]
    # the subject the launches carry; opaque, and no e-mail (the tool is not given them)
    assert by_name["Lea Learner"]["user_id"] == learner_launch["sub"]
    assert by_name["Ivy Tutor"]["user_id"] == instructor_launch["sub"]
    assert {member["status"] for member in members} == {"Active"}
    assert not [member for member in members if "email" in member]
    assert world.learner.id not in str(members)

    # a draft the tool is placed in: its instructor, read as courses itself (no learners yet)
    draft = await create_course(users, world.instructor, "LTI Draft")
    draft_module = await add_module(users, world.instructor, draft["id"])
    await users.data(
        ADD_LINK,
        {"input": {"moduleId": draft_module["id"], "toolId": world.registered["id"], "title": "D"}},
        token=world.instructor.access_token,
    )
    draft_url = memberships_url.replace(world.course["id"], draft["id"])
    draft_roster = world.tool.roster(
        {**learner_launch, NRPS_CLAIM: {"context_memberships_url": draft_url}}
    )
    drafted = await asyncio.to_thread(draft_roster.get_members)
    assert [(m["name"], m["roles"]) for m in drafted] == [
        ("Ivy Tutor", [MEMBERSHIP + "Instructor"])
    ]

    # another registration, not placed in this course: NOT_FOUND, as for grades
    other = (
        await users.data(
            REGISTER,
            {
                "input": {
                    "name": "Roster Reader",
                    "loginUrl": f"{world.tool_url}/login",
                    "redirectUris": [f"{world.tool_url}/launch"],
                    "targetLinkUri": f"{world.tool_url}/launch",
                    "jwksUrl": f"{world.tool_url}/jwks",
                    "sharesName": True,
                    "sharesEmail": True,
                }
            },
            token=world.admin.access_token,
        )
    )["registerLtiTool"]["tool"]
    mine = world.tool.registrations[0]
    world.tool.registrations.append(
        PlatformRegistration(**{**mine.__dict__, "client_id": other["clientId"]})
    )
    foreign = world.tool.roster(learner_launch, mine.issuer, other["clientId"])
    with pytest.raises(LtiServiceException) as refused:
        await asyncio.to_thread(foreign.get_members)
    assert refused.value.response.status_code == 404

    # a token without the membership scope: FORBIDDEN; none at all: UNAUTHENTICATED
    token_url = f"{mine.issuer}/lti/token"
    graded = await http.post(
        token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion(world.tool.key, mine.client_id, token_url),
            "scope": AGS + "score",
        },
    )
    bearer = {"Authorization": f"Bearer {graded.json()['access_token']}"}
    forbidden = await http.get(memberships_url, headers=bearer)
    assert forbidden.status_code == 403
    assert error_codes(forbidden.json()) == ["FORBIDDEN"]
    assert (await http.get(memberships_url)).status_code == 401
    # hostile paging: refused as bad input, never a 500
    reader = await http.post(
        token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion(world.tool.key, mine.client_id, token_url),
            "scope": NRPS,
        },
    )
    reading = {"Authorization": f"Bearer {reader.json()['access_token']}"}
    made_up = [
        base64.b32encode(json.dumps(payload).encode()).decode()
        for payload in (["t", -1], ["t", "1"], ["l", "forged"], ["l", 5], ["x", 1], {"t": 1})
    ]
    for query in ("limit=-1", "limit=x", "limit=100000", "cursor=garbage!", "cursor=%00"):
        answer = await http.get(f"{memberships_url}?{query}", headers=reading)
        assert answer.status_code == 400, query
        assert error_codes(answer.json()) == ["BAD_USER_INPUT"]
    for cursor in made_up:
        answer = await http.get(memberships_url, params={"cursor": cursor}, headers=reading)
        assert answer.status_code == 400, cursor
        assert "follow the next link" in answer.json()["errors"][0]["message"]

    # keyset pages, one member each: three pages, every member once, then no next link
    seen: list[str] = []
    url: str | None = f"{memberships_url}?limit=1"
    pages = 0
    while url is not None:
        answer = await http.get(url, headers=reading)
        assert answer.status_code == 200, answer.text
        seen += [member["user_id"] for member in answer.json()["members"]]
        pages += 1
        url = answer.links.get("next", {}).get("url")
    assert pages == 3
    assert sorted(seen) == sorted(member["user_id"] for member in members)


DEEP_LINK = """
mutation($input: StartLtiDeepLinkingInput!) { startLtiDeepLinking(input: $input) { initiationUrl } }
"""


async def deep_linking(
    users: GraphQLClient, world: World, account: Account, **settings: Any
) -> tuple[str, dict[str, str]]:
    """A deep linking launch by `account` through pylti1p3 (into the world's module, or the
    `moduleId` among `settings`): the form its page posts back."""
    started = {"moduleId": world.course["module"]["id"], "toolId": world.registered["id"]}
    data = await users.data(
        DEEP_LINK, {"input": {**started, **settings}}, token=account.access_token
    )
    async with httpx.AsyncClient() as browser:
        initiation = data["startLtiDeepLinking"]["initiationUrl"]
        action, fields = posted_form(
            await browser.get(await authorization_url(browser, initiation))
        )
        return posted_form(await browser.post(action, data=fields))


async def test_an_instructor_adds_content_picked_in_the_tool_by_deep_linking(
    users: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    world.tool.picked = [
        DeepLinkResource().set_url(f"{world.tool_url}/launch?quiz=2").set_title("Quiz two"),
        DeepLinkResource().set_title("Quiz three"),
    ]
    return_url, form = await deep_linking(users, world, world.instructor)
    request = world.tool.launches[-1]
    assert request[CLAIM + "message_type"] == "LtiDeepLinkingRequest"
    settings = request["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]
    assert settings["accept_types"] == ["ltiResourceLink"]
    assert settings["accept_multiple"] is True
    assert (
        return_url
        == settings["deep_link_return_url"]
        == f"{request['iss']}/lti/deep-linking/return"
    )
    assert set(form) == {"JWT"}

    added = await http.post(return_url, data=form)
    assert added.status_code == 200, added.text
    assert "2 link(s) added" in added.text
    links = await users.data(LINKS, {"c": world.course["id"]}, token=world.learner.access_token)
    titles = [link["title"] for link in links["ltiLinks"]]
    assert titles[-2:] == ["Quiz two", "Quiz three"]
    # the same response again: its nonce and data were single-use
    replayed = await http.post(return_url, data=form)
    assert replayed.status_code == 400
    assert error_codes(replayed.json()) == ["BAD_USER_INPUT"]

    # one bad item among good ones: nothing is placed
    world.tool.picked = [
        DeepLinkResource().set_title("Quiz good"),
        DeepLinkResource().set_url("javascript:alert(1)").set_title("Quiz bad"),
    ]
    _, form = await deep_linking(users, world, world.instructor)
    partial = await http.post(return_url, data=form)
    assert partial.status_code == 400
    assert error_codes(partial.json()) == ["BAD_USER_INPUT"]
    after = await users.data(LINKS, {"c": world.course["id"]}, token=world.learner.access_token)
    assert after == links

    # a response re-signed by another key (same kid): refused, and the real one still works
    world.tool.picked = [DeepLinkResource().set_title("Quiz four")]
    _, form = await deep_linking(users, world, world.instructor)
    claims = jwt.decode(form["JWT"], world.tool.key).claims
    foreign = RSAKey.generate_key(2048, private=True)
    forged = jwt.encode({"alg": "RS256", "kid": world.tool.key.kid}, claims, foreign)
    refused = await http.post(return_url, data={"JWT": forged})
    assert refused.status_code == 401
    assert error_codes(refused.json()) == ["UNAUTHENTICATED"]
    for hostile in ({"JWT": "x"}, {"JWT": "a.b.c"}, {}, {"JWT": "x" * 70_000}):
        answer = await http.post(return_url, data=hostile)
        assert answer.status_code == 400, hostile
        assert error_codes(answer.json()) == ["BAD_USER_INPUT"]
    assert (await http.post(return_url, data=form)).status_code == 200
    links = await users.data(LINKS, {"c": world.course["id"]}, token=world.learner.access_token)
    assert [link["title"] for link in links["ltiLinks"]][-1] == "Quiz four"

    # only the course's instructors start deep linking
    for account in (world.learner, world.outsider):
        denied = await users.execute(
            DEEP_LINK,
            {"input": {"moduleId": world.course["module"]["id"], "toolId": world.registered["id"]}},
            token=account.access_token,
        )
        assert error_codes(denied) == ["FORBIDDEN"]
    missing = await users.execute(
        DEEP_LINK,
        {"input": {"moduleId": world.course["id"], "toolId": world.registered["id"]}},
        token=world.instructor.access_token,
    )
    assert error_codes(missing) == ["NOT_FOUND"]


GRADED_LINK = """
mutation($input: AddLtiLinkInput!) {
  addLtiLink(input: $input) {
    link { id title graded dueAt releaseGradesImmediately gradesReleasedAt
           lineItem { id label scoreMaximum } }
  }
}
"""
RELEASE = """
mutation($id: ID!) { releaseLtiGrades(input: {linkId: $id}) { link { id gradesReleasedAt } } }
"""
NAN_LINK = """
mutation($moduleId: ID!, $toolId: ID!, $x: Float!) {
  addLtiLink(input: {moduleId: $moduleId, toolId: $toolId, title: "NaN", grading: {scoreMaximum: $x}}) {
    link { id }
  }
}
"""
MY_GRADES = """
query($c: ID!) {
  ltiLinks(courseId: $c) { title dueAt myGrade { scoreGiven scoreMaximum points percent late } }
}
"""


def graded_score(subject: str, given: float, maximum: float, progress: str, at: str) -> Grade:
    return (
        Grade()
        .set_user_id(subject)
        .set_score_given(given)
        .set_score_maximum(maximum)
        .set_activity_progress("Completed")
        .set_grading_progress(progress)
        .set_timestamp(at)
    )


async def test_a_tool_placed_as_a_graded_item_posts_to_its_line_item_and_grades_wait_for_release(
    users: GraphQLClient, world: World, http: httpx.AsyncClient, migrated: Any
) -> None:
    # a course of its own, so the other tests' links and grades are not in its lists
    course = await published_course(users, world.instructor, world.admin, "Graded LTI", lessons=1)
    for each in (world.learner, world.classmate):
        await users.data(ENROLL, {"c": course["id"]}, token=each.access_token)
    placement = {"moduleId": course["module"]["id"], "toolId": world.registered["id"]}

    async def place(title: str, grading: dict[str, Any], account: Account) -> dict[str, Any]:
        return await users.execute(
            GRADED_LINK,
            {"input": {**placement, "title": title, "grading": grading}},
            token=account.access_token,
        )

    held = await place(
        "Lab report",
        {"scoreMaximum": 20, "releaseImmediately": False, "dueAt": "2026-12-03T12:00:00+00:00"},
        world.instructor,
    )
    held_link = held["data"]["addLtiLink"]["link"]
    assert {k: v for k, v in held_link.items() if k not in ("id", "lineItem")} == {
        "title": "Lab report",
        "graded": True,
        "dueAt": "2026-12-03T12:00:00+00:00",
        "releaseGradesImmediately": False,
        "gradesReleasedAt": None,
    }
    assert held_link["lineItem"]["label"] == "Lab report"  # the title, by default
    assert held_link["lineItem"]["scoreMaximum"] == 20.0
    shown = (await place("Warm-up", {"scoreMaximum": 10, "label": "Warm-up (10)"}, world.admin))[
        "data"
    ]["addLtiLink"]["link"]
    assert (shown["releaseGradesImmediately"], shown["lineItem"]["label"]) == (
        True,
        "Warm-up (10)",
    )

    # the launch carries the link's own line item: pylti1p3 posts with no line item of its own
    learner_launch = await launch(users, world, world.learner, held_link["id"])
    endpoint = learner_launch[AGS_CLAIM]
    assert endpoint["lineitem"] == f"{endpoint['lineitems']}/{held_link['lineItem']['id']}"
    assert set(endpoint["scope"]) >= {AGS + "score", AGS + "lineitem", AGS + "result.readonly"}
    ags = world.tool.grades(learner_launch)
    line_item = await asyncio.to_thread(ags.get_lineitem)
    assert (line_item.get_score_maximum(), line_item.get_resource_link_id()) == (
        20.0,
        held_link["id"],
    )
    # after the due date: kept, shown as late
    late_score = graded_score(
        learner_launch["sub"], 15, 20, "FullyGraded", "2026-12-03T13:00:00+00:00"
    )
    await asyncio.to_thread(ags.put_grade, late_score)

    async def my_grades(account: Account) -> dict[str, Any]:
        data = await users.data(MY_GRADES, {"c": course["id"]}, token=account.access_token)
        return {link["title"]: link["myGrade"] for link in data["ltiLinks"]}

    async def course_grades(account: Account) -> list[tuple[str, float | None]]:
        data = await users.data(GRADES, {"c": course["id"]}, token=account.access_token)
        return sorted((g["label"], g["scoreGiven"]) for g in data["ltiGrades"])

    # not released: the learner sees nothing of it; the instructor sees it
    assert await my_grades(world.learner) == {"Lab report": None, "Warm-up": None}
    assert await course_grades(world.learner) == []
    assert await course_grades(world.instructor) == [("Lab report", 15.0)]

    # only the course's instructors and administrators release
    for account in (world.learner, world.outsider):
        denied = await users.execute(RELEASE, {"id": held_link["id"]}, token=account.access_token)
        assert error_codes(denied) == ["FORBIDDEN"], account.email
    rival = await account_with_roles(users, migrated, ["INSTRUCTOR"], "Rival Tutor")
    denied = await users.execute(RELEASE, {"id": held_link["id"]}, token=rival.access_token)
    assert error_codes(denied) == ["FORBIDDEN"]
    for hostile, code in (
        (world.link["id"], "BAD_USER_INPUT"),  # not graded
        ("00000000-0000-0000-0000-000000000000", "NOT_FOUND"),
        ("x", "BAD_USER_INPUT"),
    ):
        refused = await users.execute(RELEASE, {"id": hostile}, token=world.instructor.access_token)
        assert error_codes(refused) == [code], hostile
    assert await my_grades(world.learner) == {"Lab report": None, "Warm-up": None}

    released = await users.data(
        RELEASE, {"id": held_link["id"]}, token=world.instructor.access_token
    )
    assert released["releaseLtiGrades"]["link"]["gradesReleasedAt"] is not None
    assert (await my_grades(world.learner))["Lab report"] == {
        "scoreGiven": 15.0,
        "scoreMaximum": 20.0,
        "points": 15.0,
        "percent": 75.0,
        "late": True,
    }
    assert await my_grades(world.classmate) == {"Lab report": None, "Warm-up": None}

    # released immediately: seen once the tool says FullyGraded; above the maximum is extra
    # credit (AGS lets scoreGiven exceed scoreMaximum), kept as given
    classmate_launch = await launch(users, world, world.classmate, shown["id"])
    warm_up = world.tool.grades(classmate_launch)
    subject = classmate_launch["sub"]
    await asyncio.to_thread(
        warm_up.put_grade,
        graded_score(subject, 5, 10, "PendingManual", "2026-12-03T10:00:00+00:00"),
    )
    assert (await my_grades(world.classmate))["Warm-up"] is None
    await asyncio.to_thread(
        warm_up.put_grade,
        graded_score(subject, 6, 5, "FullyGraded", "2026-12-03T10:05:00+00:00"),
    )
    assert (await my_grades(world.classmate))["Warm-up"] == {
        "scoreGiven": 6.0,
        "scoreMaximum": 5.0,
        "points": 12.0,
        "percent": 120.0,
        "late": False,
    }
    assert await course_grades(world.instructor) == [("Lab report", 15.0), ("Warm-up (10)", 6.0)]

    # another tool placed in the same course cannot reach this line item; the tool may not
    # change the label, maximum or link of the one the platform made, nor delete it
    other = (
        await users.data(
            REGISTER,
            {
                "input": {
                    "name": "Neighbour Tool",
                    "loginUrl": f"{world.tool_url}/login",
                    "redirectUris": [f"{world.tool_url}/launch"],
                    "targetLinkUri": f"{world.tool_url}/launch",
                    "jwksUrl": f"{world.tool_url}/jwks",
                }
            },
            token=world.admin.access_token,
        )
    )["registerLtiTool"]["tool"]
    await users.data(
        ADD_LINK,
        {"input": {**placement, "toolId": other["id"], "title": "Neighbour"}},
        token=world.instructor.access_token,
    )
    token_url = f"{learner_launch['iss']}/lti/token"

    async def bearer(client_id: str) -> dict[str, str]:
        answer = await http.post(
            token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion(world.tool.key, client_id, token_url),
                "scope": f"{AGS}score {AGS}lineitem",
            },
        )
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    foreign = await bearer(other["clientId"])
    body = {
        **json.loads(late_score.get_value()),
        "scoreGiven": 0,
        "timestamp": "2026-12-03T14:00:00+00:00",
    }
    posted = await http.post(f"{endpoint['lineitem']}/scores", json=body, headers=foreign)
    assert posted.status_code == 404
    assert error_codes(posted.json()) == ["NOT_FOUND"]
    assert (await http.get(endpoint["lineitem"], headers=foreign)).status_code == 404
    owner = await bearer(world.registered["clientId"])
    as_set = {"label": "Lab report", "scoreMaximum": 20}
    for change in ({"label": "Mine now"}, {"scoreMaximum": 1000}, {"resourceLinkId": shown["id"]}):
        answer = await http.put(endpoint["lineitem"], json={**as_set, **change}, headers=owner)
        assert (answer.status_code, error_codes(answer.json())) == (403, ["FORBIDDEN"]), change
    assert (await http.delete(endpoint["lineitem"], headers=owner)).status_code == 403
    assert (await http.put(endpoint["lineitem"], json=as_set, headers=foreign)).status_code == 404
    assert (await http.delete(endpoint["lineitem"], headers=foreign)).status_code == 404
    tagged = await http.put(endpoint["lineitem"], json={**as_set, "tag": "lab"}, headers=owner)
    assert tagged.status_code == 200
    assert (tagged.json()["tag"], tagged.json()["resourceLinkId"]) == ("lab", held_link["id"])
    assert (await my_grades(world.learner))["Lab report"]["scoreGiven"] == 15.0
    # a line item the tool made itself is its own to change and delete (as Canvas allows)
    wanted = LineItem().set_tag("extra").set_label("Extra").set_score_maximum(5)
    own = str((await asyncio.to_thread(ags.find_or_create_lineitem, wanted)).get_id())
    renamed = await http.put(own, json={"label": "Bonus", "scoreMaximum": 8}, headers=owner)
    assert renamed.status_code == 200
    assert (renamed.json()["label"], renamed.json()["scoreMaximum"]) == ("Bonus", 8.0)
    for bad in ({"label": "", "scoreMaximum": 8}, {"label": "Bonus", "scoreMaximum": -1}):
        assert (await http.put(own, json=bad, headers=owner)).status_code == 400, bad
    assert (await http.delete(own, headers=owner)).status_code == 204
    assert (await http.get(own, headers=owner)).status_code == 404

    # placing graded items is the course's instructors'; the grading part is checked
    assert error_codes(await place("Sneaky", {"scoreMaximum": 10}, world.learner)) == ["FORBIDDEN"]
    assert error_codes(await place("Sneaky", {"scoreMaximum": 10}, rival)) == ["FORBIDDEN"]
    for grading in (
        {"scoreMaximum": 0},
        {"scoreMaximum": -5},
        {"scoreMaximum": 1e300},
        {"scoreMaximum": "ten"},
        {},
        {"scoreMaximum": 10, "label": ""},
        {"scoreMaximum": 10, "label": "x" * 201},
        {"scoreMaximum": 10, "dueAt": "2026-12-24T12:00:00"},  # no time zone
        {"scoreMaximum": 10, "dueAt": "soon"},
    ):
        refused = await place("Bad", grading, world.instructor)
        assert error_codes(refused) == ["BAD_USER_INPUT"], grading
    # NaN is not JSON (though Python's json module writes it): the router refuses the body
    nan = {"query": NAN_LINK, "variables": {**placement, "x": math.nan}}
    not_a_number = await http.post(
        users.url,
        content=json.dumps(nan),
        headers={
            "Authorization": f"Bearer {world.instructor.access_token}",
            "Content-Type": "application/json",
        },
    )
    assert (not_a_number.status_code, error_codes(not_a_number.json())) == (400, ["BAD_REQUEST"])
    titles = (await my_grades(world.instructor)).keys()
    assert sorted(titles) == ["Lab report", "Neighbour", "Warm-up"]


DEEP_LINKED = """
query($c: ID!) {
  ltiLinks(courseId: $c) {
    id title graded dueAt releaseGradesImmediately lineItem { id label scoreMaximum }
    myGrade { scoreGiven points late }
  }
}
"""


async def test_deep_linked_items_with_a_line_item_become_graded_links(
    users: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    course = await published_course(users, world.instructor, world.admin, "Deep Graded", lessons=1)
    for each in (world.learner, world.classmate):
        await users.data(ENROLL, {"c": course["id"]}, token=each.access_token)
    into = {"moduleId": course["module"]["id"]}

    async def links(account: Account) -> dict[str, dict[str, Any]]:
        data = await users.data(DEEP_LINKED, {"c": course["id"]}, token=account.access_token)
        return {link["title"]: link for link in data["ltiLinks"]}

    # one response: a graded item (pylti1p3's own lineItem, with a submission window), an
    # ungraded one, and one the tool asks to hold (gradesReleased: false)
    essay = (
        LineItem()
        .set_score_maximum(25)
        .set_label("Essay (25)")
        .set_resource_id("essay-1")
        .set_tag("essay")
    )
    world.tool.picked = [
        ContentItem(
            "Essay",
            submission={"endDateTime": "2026-12-03T12:00:00+00:00"},
            available={"startDateTime": "2026-12-01T08:00:00Z"},
        ).set_lineitem(essay),
        ContentItem("Reading"),
        ContentItem("Held quiz", lineItem={"scoreMaximum": 10, "gradesReleased": False}),
    ]
    return_url, form = await deep_linking(users, world, world.instructor, **into)
    added = await http.post(return_url, data=form)
    assert added.status_code == 200, added.text
    assert "3 link(s) added" in added.text
    placed = await links(world.instructor)
    assert list(placed) == ["Essay", "Reading", "Held quiz"]
    shape = ("graded", "dueAt", "releaseGradesImmediately")
    assert [tuple(link[key] for key in shape) for link in placed.values()] == [
        (True, "2026-12-03T12:00:00+00:00", True),
        (False, None, True),
        (True, None, False),
    ]
    assert placed["Essay"]["lineItem"]["label"] == "Essay (25)"
    assert placed["Essay"]["lineItem"]["scoreMaximum"] == 25.0
    assert placed["Reading"]["lineItem"] is None
    assert placed["Held quiz"]["lineItem"]["label"] == "Held quiz"  # the title, by default

    # the learner's launch carries the item's line item; pylti1p3 reads it (resourceId and
    # tag as the tool sent them) and posts to it, after the due date
    learner_launch = await launch(users, world, world.learner, placed["Essay"]["id"])
    endpoint = learner_launch[AGS_CLAIM]
    assert endpoint["lineitem"] == f"{endpoint['lineitems']}/{placed['Essay']['lineItem']['id']}"
    ags = world.tool.grades(learner_launch)
    line_item = await asyncio.to_thread(ags.get_lineitem)
    assert (
        line_item.get_score_maximum(),
        line_item.get_label(),
        line_item.get_resource_id(),
        line_item.get_tag(),
        line_item.get_resource_link_id(),
    ) == (25.0, "Essay (25)", "essay-1", "essay", placed["Essay"]["id"])
    subject = learner_launch["sub"]
    await asyncio.to_thread(
        ags.put_grade, graded_score(subject, 20, 25, "FullyGraded", "2026-12-03T13:00:00+00:00")
    )
    # released at once (the instructor's default): the learner sees it, shown late
    mine = await links(world.learner)
    assert mine["Essay"]["myGrade"] == {"scoreGiven": 20.0, "points": 20.0, "late": True}
    assert mine["Reading"]["myGrade"] is None
    taught = await users.data(GRADES, {"c": course["id"]}, token=world.instructor.access_token)
    assert [(g["label"], g["scoreGiven"]) for g in taught["ltiGrades"]] == [("Essay (25)", 20.0)]

    # the instructor holds this response's grades: the tool's gradesReleased: true does not
    # release them; releaseLtiGrades does
    world.tool.picked = [
        ContentItem("Project", lineItem={"scoreMaximum": 40, "gradesReleased": True})
    ]
    return_url, form = await deep_linking(
        users, world, world.instructor, **into, releaseGradesImmediately=False
    )
    assert (await http.post(return_url, data=form)).status_code == 200
    project = (await links(world.instructor))["Project"]
    assert (project["graded"], project["releaseGradesImmediately"]) == (True, False)
    classmate_launch = await launch(users, world, world.classmate, project["id"])
    await asyncio.to_thread(
        world.tool.grades(classmate_launch).put_grade,
        graded_score(classmate_launch["sub"], 30, 40, "FullyGraded", "2026-12-03T10:00:00+00:00"),
    )
    assert (await links(world.classmate))["Project"]["myGrade"] is None
    await users.data(RELEASE, {"id": project["id"]}, token=world.instructor.access_token)
    assert (await links(world.classmate))["Project"]["myGrade"] == {
        "scoreGiven": 30.0,
        "points": 30.0,
        "late": False,
    }

    # one bad graded item among good ones: the whole response is refused, nothing placed
    before = await links(world.instructor)
    maximum, dates = "lineItem.scoreMaximum", "submission.endDateTime"
    hostile: list[tuple[dict[str, Any], str]] = [
        ({"lineItem": {"scoreMaximum": -1}}, maximum),
        ({"lineItem": {"scoreMaximum": "ten"}}, maximum),
        ({"lineItem": {"scoreMaximum": float("1e309")}}, maximum),  # written as Infinity
        ({"lineItem": {"scoreMaximum": math.nan}}, maximum),
        ({"lineItem": {"scoreMaximum": 10**400}}, maximum),
        ({"lineItem": {"label": "No maximum"}}, maximum),
        ({"lineItem": {"scoreMaximum": 10, "label": "x" * 201}}, "lineItem.label"),
        ({"lineItem": {"scoreMaximum": 10, "tag": 7}}, "lineItem.tag"),
        ({"lineItem": {"scoreMaximum": 10, "gradesReleased": "yes"}}, "lineItem.gradesReleased"),
        ({"lineItem": "graded"}, "lineItem"),
        ({"lineItem": {"scoreMaximum": 10}, "submission": {"endDateTime": "next friday"}}, dates),
        ({"lineItem": {"scoreMaximum": 10}, "submission": {"endDateTime": "2026-12-24"}}, dates),
    ]
    for bad, field in hostile:
        world.tool.picked = [
            ContentItem("Fine", lineItem={"scoreMaximum": 5}),
            ContentItem("Bad", **bad),
            ContentItem("Also fine"),
        ]
        return_url, form = await deep_linking(users, world, world.instructor, **into)
        refused = await http.post(return_url, data=form)
        assert refused.status_code == 400, bad
        assert error_codes(refused.json()) == ["BAD_USER_INPUT"], bad
        message = refused.json()["errors"][0]["message"]
        assert message.startswith(f"Content item 2: {field} "), (bad, message)
    assert await links(world.instructor) == before
