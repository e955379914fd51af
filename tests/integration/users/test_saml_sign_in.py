"""SAML 2.0 single sign-on, through the router and our ACS, against pysaml2 as the IdP.

The IdP (tests/saml_idp.py) is pysaml2's own, with keys made here: it reads our
AuthnRequest from the URL the sign-in starts with (checking its signature for
``saml-idp``) and answers it with a signed Response. A test plays the frontend (the
GraphQL calls, through the router), the browser (posting the IdP's form to the ACS and
following its redirect) and, for the hostile cases, the IdP that misbehaves or the attacker
who edits what it sent.
"""

from __future__ import annotations

import base64
import copy
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from common.settings import Settings
from tests.accounts import Account, account_with_roles
from tests.identity_providers import REDIRECT_URI
from tests.integration.users.second_factor import enable_mfa
from tests.integration.users.test_external_sign_in import (
    ME,
    START,
    START_LINK,
    accounts_named,
    audit_kinds,
    complete,
    link,
    linked_providers,
    signed_in,
)
from tests.saml_idp import SAML, SAMLP, IdPAnswer, SamlIdP, SamlUser, post_form
from tests.support import GraphQLClient, error_codes

Edit = Callable[[ET.Element], None]


def someone(*, email: str | None = "", affiliations: tuple[str, ...] = ()) -> SamlUser:
    address = f"saml-{uuid.uuid4().hex[:12]}@university.test" if email == "" else email
    return SamlUser(subject=f"pid-{uuid.uuid4().hex}", email=address, affiliations=affiliations)


async def at_idp(
    users: GraphQLClient,
    idp: SamlIdP,
    who: SamlUser,
    name: str,
    *,
    linking: Account | None = None,
    **answer: Any,
) -> tuple[str, IdPAnswer]:
    """Start a sign-in through the router (with `linking`: a link to that account, started
    signed in to it); the IdP's answer to its request."""
    body = await users.execute(
        START if linking is None else START_LINK,
        {"input": {"provider": name, "redirectUri": REDIRECT_URI}},
        token=None if linking is None else linking.access_token,
    )
    assert "errors" not in body, body
    [started] = body["data"].values()
    return started["state"], idp.answer(started["authorizationUrl"], who, **answer)


async def post_to_acs(http: httpx.AsyncClient, answer: IdPAnswer) -> httpx.Response:
    """The browser posting the IdP's form (HTTP-POST binding)."""
    return await http.post(answer.acs_url, data=post_form(answer), follow_redirects=False)


async def back_at_frontend(http: httpx.AsyncClient, answer: IdPAnswer, state: str) -> str:
    """Post to the ACS; it sends the browser to our frontend with the state and a code."""
    response = await post_to_acs(http, answer)
    assert response.status_code == 303, response.text
    location = urlparse(response.headers["location"])
    query = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    assert query["state"] == state  # the frontend's check, as for an OpenID provider
    return query["code"]


async def saml_sign_in(
    users: GraphQLClient,
    http: httpx.AsyncClient,
    idp: SamlIdP,
    who: SamlUser,
    name: str = "saml-idp",
    **answer: Any,
) -> dict[str, Any]:
    state, said = await at_idp(users, idp, who, name, **answer)
    code = await back_at_frontend(http, said, state)
    return await complete(users, state, code)


def refused_with(body: dict[str, Any], *reason: str) -> None:
    assert error_codes(body) == ["UNAUTHENTICATED"], body
    assert body["data"] is None
    message = body["errors"][0]["message"]
    assert all(part in message for part in reason), message


async def test_our_sp_metadata_names_the_entity_id_the_acs_and_the_signing_key(
    http: httpx.AsyncClient, users_url: str, migrated: Settings
) -> None:
    response = await http.get(f"{users_url}/saml/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/samlmetadata+xml")
    root = ET.fromstring(response.text)
    assert root.get("entityID") == migrated.saml.entity_id
    md = "urn:oasis:names:tc:SAML:2.0:metadata"
    [acs] = list(root.iter(f"{{{md}}}AssertionConsumerService"))
    assert acs.get("Location") == f"{users_url}/saml/acs"
    assert acs.get("Binding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    [descriptor] = list(root.iter(f"{{{md}}}SPSSODescriptor"))
    assert descriptor.get("AuthnRequestsSigned") == "true"
    assert [key.get("use") for key in root.iter(f"{{{md}}}KeyDescriptor")] == ["signing"]


async def test_a_new_person_gets_an_account_with_the_mapped_attributes(
    users: GraphQLClient, http: httpx.AsyncClient, saml_idp: SamlIdP, admin: Account
) -> None:
    who = someone(affiliations=("faculty", "alum"))
    state, said = await at_idp(users, saml_idp, who, "saml-idp")
    # signed (saml-idp checked the signature with our metadata's certificate)
    assert said.request_signature_algorithm == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    code = await back_at_frontend(http, said, state)
    first = signed_in(await complete(users, state, code))
    assert first["user"]["email"] == who.email
    assert first["user"]["name"] == who.name
    assert first["user"]["roles"] == ["INSTRUCTOR", "STUDENT"]  # faculty; alum maps to none

    me = (await users.data(ME, token=first["accessToken"]))["me"]
    [link] = me["linkedIdentities"]
    assert (link["provider"], link["email"]) == ("saml-idp", who.email)

    again = signed_in(await saml_sign_in(users, http, saml_idp, who))
    assert again["user"]["id"] == first["user"]["id"]
    assert await accounts_named(users, admin, who.email or "") == 1
    kinds = await audit_kinds(users, admin, first["user"]["id"])
    assert kinds.count("USER_REGISTERED") == 1
    assert kinds.count("EXTERNAL_IDENTITY_LINKED") == 1
    assert kinds.count("SIGN_IN_SUCCEEDED") == 2


async def test_a_response_signed_as_a_whole_is_accepted(
    users: GraphQLClient, http: httpx.AsyncClient, trusting_saml_idp: SamlIdP
) -> None:
    who = someone()
    body = await saml_sign_in(
        users, http, trusting_saml_idp, who, "trusting-saml-idp", sign="response"
    )
    assert signed_in(body)["user"]["email"] == who.email
    assert signed_in(body)["user"]["roles"] == ["STUDENT"]


async def test_a_trusted_idps_email_links_to_a_students_account(
    users: GraphQLClient, http: httpx.AsyncClient, trusting_saml_idp: SamlIdP, learner: Account
) -> None:
    who = someone(email=learner.email)
    body = await saml_sign_in(users, http, trusting_saml_idp, who, "trusting-saml-idp")
    assert signed_in(body)["user"]["id"] == learner.id
    assert await linked_providers(users, learner) == ["trusting-saml-idp"]


async def test_by_default_an_idps_email_does_not_link_an_existing_account(
    users: GraphQLClient, http: httpx.AsyncClient, saml_idp: SamlIdP, learner: Account
) -> None:
    body = await saml_sign_in(users, http, saml_idp, someone(email=learner.email))
    assert error_codes(body) == ["ACCOUNT_LINK_REQUIRED"]
    assert body["errors"][0]["extensions"]["provider"] == "saml-idp"
    assert await linked_providers(users, learner) == []


@pytest.mark.parametrize("roles", [["ADMIN", "STUDENT"], ["INSTRUCTOR", "STUDENT"]])
async def test_an_idp_claiming_a_privileged_accounts_email_gets_no_session(
    users: GraphQLClient,
    http: httpx.AsyncClient,
    trusting_saml_idp: SamlIdP,
    migrated: Settings,
    admin: Account,
    roles: list[str],
) -> None:
    boss = await account_with_roles(users, migrated, roles, "Privileged")
    who = someone(email=boss.email, affiliations=("faculty",))
    body = await saml_sign_in(users, http, trusting_saml_idp, who, "trusting-saml-idp")
    assert error_codes(body) == ["ACCOUNT_LINK_REQUIRED"]
    assert await linked_providers(users, boss) == []
    assert await accounts_named(users, admin, boss.email) == 1


def set_on(tag: str, attribute: str, value: str) -> Edit:
    def edit(root: ET.Element) -> None:
        for element in root.iter(f"{{{SAML}}}{tag}"):
            element.set(attribute, value)

    return edit


def audience(root: ET.Element) -> None:
    for element in root.iter(f"{{{SAML}}}Audience"):
        element.text = "https://another-sp.example/saml"


def unsolicited(root: ET.Element) -> None:
    for element in root.iter():
        element.attrib.pop("InResponseTo", None)


def unsigned_copy(assertion: ET.Element, subject: str) -> ET.Element:
    evil = copy.deepcopy(assertion)
    evil.set("ID", f"evil-{uuid.uuid4().hex}")
    for child in list(evil):
        if child.tag.endswith("}Signature"):
            evil.remove(child)
    for name_id in evil.iter(f"{{{SAML}}}NameID"):
        name_id.text = subject
    return evil


def injected_before(root: ET.Element) -> None:
    """XSW: an unsigned assertion beside the signed one, first in document order."""
    [signed] = list(root.iter(f"{{{SAML}}}Assertion"))
    root.insert(list(root).index(signed), unsigned_copy(signed, "victim"))


def signed_one_moved_away(root: ET.Element) -> None:
    """XSW: the signed assertion tucked into Extensions, an unsigned one in its place."""
    [signed] = list(root.iter(f"{{{SAML}}}Assertion"))
    root.remove(signed)
    ET.SubElement(root, f"{{{SAMLP}}}Extensions").append(signed)
    root.append(unsigned_copy(signed, "victim"))


def response_wrapped(root: ET.Element) -> None:
    """XSW on a signed response: the signed Response itself inside a new one."""
    original = copy.deepcopy(root)
    for child in list(root):
        root.remove(child)
    root.set("ID", f"evil-{uuid.uuid4().hex}")
    ET.SubElement(root, f"{{{SAMLP}}}Extensions").append(original)


PAST = "2020-01-01T00:00:00Z"
FUTURE = "2099-01-01T00:00:00Z"
HOSTILE: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "unsigned": ({"sign": "none"}, ("Neither the response nor the assertions are signed",)),
    "expired": ({"edit": set_on("Conditions", "NotOnOrAfter", PAST)}, ("Condition not OK",)),
    "expired confirmation": (
        {"edit": set_on("SubjectConfirmationData", "NotOnOrAfter", PAST)},
        ("too old",),
    ),
    "not yet valid": ({"edit": set_on("Conditions", "NotBefore", FUTURE)}, ("Condition",)),
    "wrong audience": ({"edit": audience}, ("AudienceRestrictions",)),
    "wrong recipient": (
        {"edit": set_on("SubjectConfirmationData", "Recipient", "https://evil.example/acs")},
        ("No valid recipient",),
    ),
    "unsolicited": ({"edit": unsolicited}, ("Unsolicited",)),
    "XSW injected assertion": ({"wrap": injected_before}, ("exactly one Assertion",)),
    "XSW signed assertion moved": ({"wrap": signed_one_moved_away}, ("exactly one Assertion",)),
    "XSW wrapped response": (
        {"sign": "response", "wrap": response_wrapped},
        ("exactly one Assertion",),
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
async def test_a_hostile_response_signs_nobody_in_and_opens_no_account(
    users: GraphQLClient,
    http: httpx.AsyncClient,
    saml_idp: SamlIdP,
    admin: Account,
    case: str,
) -> None:
    answer, reason = HOSTILE[case]
    who = someone()
    body = await saml_sign_in(users, http, saml_idp, who, **answer)
    refused_with(body, *reason)
    assert await accounts_named(users, admin, who.email or "") == 0


async def test_an_assertion_signed_by_another_key_is_refused(
    users: GraphQLClient,
    http: httpx.AsyncClient,
    saml_idp: SamlIdP,
    saml_files: Any,
    admin: Account,
) -> None:
    who = someone()
    forger = saml_idp.forger(saml_files.directory)
    refused_with(await saml_sign_in(users, http, saml_idp, who, signer=forger), "did not verify")
    assert await accounts_named(users, admin, who.email or "") == 0


def with_doctype(answer: IdPAnswer, doctype: str, entity: str) -> IdPAnswer:
    xml = base64.b64decode(answer.saml_response).decode()
    body = xml.split("?>", 1)[1] if xml.startswith("<?xml") else xml
    body = body.replace("Grace Institutional", entity, 1)
    poisoned = f'<?xml version="1.0"?>{doctype}{body}'
    return replace(answer, saml_response=base64.b64encode(poisoned.encode()).decode())


LAUGHS = (
    '<!DOCTYPE r [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>'
)
EXTERNAL = '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize(
    ("doctype", "entity"), [(LAUGHS, "&lol2;"), (EXTERNAL, "&xxe;")], ids=["laughs", "xxe"]
)
async def test_xml_with_a_dtd_or_entities_is_refused(
    users: GraphQLClient,
    http: httpx.AsyncClient,
    saml_idp: SamlIdP,
    admin: Account,
    doctype: str,
    entity: str,
) -> None:
    who = someone()
    state, said = await at_idp(users, saml_idp, who, "saml-idp")
    code = await back_at_frontend(http, with_doctype(said, doctype, entity), state)
    body = await complete(users, state, code)
    refused_with(body, "a DTD or entities are refused")
    assert await accounts_named(users, admin, who.email or "") == 0


async def test_an_assertion_id_is_accepted_once(
    users: GraphQLClient, http: httpx.AsyncClient, saml_idp: SamlIdP
) -> None:
    """Two sign-ins, each answered in time to its own request, with one assertion id."""
    assertion_id = f"id-{uuid.uuid4().hex}"
    first = await saml_sign_in(users, http, saml_idp, someone(), assertion_id=assertion_id)
    assert "errors" not in first, first
    second = await saml_sign_in(users, http, saml_idp, someone(), assertion_id=assertion_id)
    refused_with(second, "already used")


async def test_a_response_posted_again_is_refused_at_the_acs(
    users: GraphQLClient, http: httpx.AsyncClient, saml_idp: SamlIdP
) -> None:
    """The RelayState is single-use: a Response replayed to the ACS finds no sign-in."""
    state, said = await at_idp(users, saml_idp, someone(), "saml-idp")
    code = await back_at_frontend(http, said, state)
    again = await post_to_acs(http, said)
    assert again.status_code == 401
    [error] = again.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    # the sign-in is spent by a second post, as by a wrong code: nobody completes it
    body = await complete(users, state, code)
    refused_with(body, "unknown, expired")


async def test_a_wrong_code_spends_the_sign_in(
    users: GraphQLClient, http: httpx.AsyncClient, saml_idp: SamlIdP
) -> None:
    state, said = await at_idp(users, saml_idp, someone(), "saml-idp")
    code = await back_at_frontend(http, said, state)
    wrong = await complete(users, state, code + "x")
    refused_with(wrong, "unknown, expired")
    right = await complete(users, state, code)
    refused_with(right, "unknown, expired")


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        ({"SAMLResponse": "PHg+", "RelayState": "made-up"}, 401, "UNAUTHENTICATED"),
        ({"SAMLResponse": "PHg+"}, 401, "UNAUTHENTICATED"),  # unsolicited: no RelayState
        ({"RelayState": "made-up"}, 400, "BAD_USER_INPUT"),
    ],
    ids=["unknown relay state", "no relay state", "no response"],
)
async def test_the_acs_refuses_what_no_sign_in_asked_for(
    http: httpx.AsyncClient, users_url: str, form: dict[str, str], status: int, code: str
) -> None:
    response = await http.post(f"{users_url}/saml/acs", data=form, follow_redirects=False)
    assert response.status_code == status
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == code


async def test_a_sign_in_not_yet_answered_by_the_idp_does_not_complete(
    users: GraphQLClient, saml_idp: SamlIdP
) -> None:
    state, _ = await at_idp(users, saml_idp, someone(), "saml-idp")
    body = await complete(users, state, "guess")
    refused_with(body, "unknown, expired")


async def test_the_owner_links_an_idp_signed_in_and_its_second_factor_still_applies(
    users: GraphQLClient, http: httpx.AsyncClient, saml_idp: SamlIdP, admin: Account
) -> None:
    """An administrator links the IdP from the account (never by e-mail); signing in with it
    then reaches that account, which asks for its second factor."""
    await enable_mfa(users, admin)
    who = someone(email=admin.email)
    state, said = await at_idp(users, saml_idp, who, "saml-idp", linking=admin)
    code = await back_at_frontend(http, said, state)
    as_sign_in = await complete(users, state, code)
    refused_with(as_sign_in, "started to link")  # a link never completes as a sign-in

    state, said = await at_idp(users, saml_idp, who, "saml-idp", linking=admin)
    code = await back_at_frontend(http, said, state)
    assert "errors" not in await link(users, state, code, admin)
    assert await linked_providers(users, admin) == ["saml-idp"]

    body = await saml_sign_in(users, http, saml_idp, who)
    assert error_codes(body) == ["MFA_REQUIRED"]
    assert body["data"] is None
