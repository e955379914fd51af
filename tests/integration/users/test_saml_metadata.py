"""An IdP's metadata from a URL (served on loopback here), and metadata that cannot be used.

The sign-in flow itself is tested through the router in test_saml_sign_in.py; these tests
drive the users subgraph's SAML service provider directly, with the session's Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from common.errors import Unavailable
from common.infra.ports import free_port
from common.saml_settings import SamlIdentityProvider, SamlServiceProvider
from common.settings import Settings
from subgraphs.users.saml_sign_in import SamlSignIn
from tests.saml_idp import SamlIdP, SamlUser
from tests.support import serve

ENTITY = "https://url-idp.university.test/saml"


class MetadataHost:
    """Serves an IdP's metadata at /metadata.xml; what it serves can change."""

    def __init__(self) -> None:
        self.xml = ""
        self.app = Starlette(routes=[Route("/metadata.xml", self._metadata)])

    async def _metadata(self, _: Request) -> Response:
        return Response(self.xml, media_type="application/samlmetadata+xml")


@pytest.fixture
async def redis(migrated: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(migrated.redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def host() -> AsyncIterator[tuple[MetadataHost, str]]:
    served = MetadataHost()
    async with serve(served.app, free_port()) as url:
        yield served, f"{url}/metadata.xml"


def service_provider(idp: SamlIdentityProvider) -> SamlServiceProvider:
    return SamlServiceProvider(
        entity_id="http://127.0.0.1:1/saml/metadata",
        acs_url="http://127.0.0.1:1/saml/acs",
        identity_providers=(idp,),
    )


async def test_metadata_from_a_url_signs_a_person_in(
    host: tuple[MetadataHost, str], redis: Redis, tmp_path: Path
) -> None:
    served, url = host
    idp = SamlIdP(tmp_path, ENTITY, want_signed_requests=False, name="url-idp")
    served.xml = idp.metadata_xml
    config = SamlIdentityProvider("url-idp", "URL IdP", url, ENTITY)
    sign_in = SamlSignIn(service_provider(config), 30, redis)
    idp.trust(sign_in.metadata())

    request = await sign_in.authn_request(config, "relay-state")
    answer = idp.answer(request.url, SamlUser(subject="pid-url", email="Url@University.test"))
    said = await sign_in.verify(config, answer.saml_response, request.request_id)
    assert (said.subject, said.email) == ("pid-url", "url@university.test")


@pytest.mark.parametrize(
    "xml",
    [
        '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><m>&x;</m>',
        "not xml at all",
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>',
    ],
    ids=["external entity", "not xml", "another entity"],
)
async def test_unusable_metadata_is_service_unavailable(
    host: tuple[MetadataHost, str], redis: Redis, xml: str
) -> None:
    served, url = host
    served.xml = xml
    config = SamlIdentityProvider("url-idp", "URL IdP", url, ENTITY)
    sign_in = SamlSignIn(service_provider(config), 30, redis)
    with pytest.raises(Unavailable, match="SAML metadata of URL IdP"):
        await sign_in.authn_request(config, "relay-state")


async def test_metadata_that_cannot_be_read_is_service_unavailable(
    redis: Redis, tmp_path: Path
) -> None:
    config = SamlIdentityProvider("gone", "Gone IdP", str(tmp_path / "missing.xml"), ENTITY)
    sign_in = SamlSignIn(service_provider(config), 30, redis)
    with pytest.raises(Unavailable, match="cannot be read just now"):
        await sign_in.authn_request(config, "relay-state")
    offline = replace(config, metadata=f"http://127.0.0.1:{free_port()}/metadata.xml")
    with pytest.raises(Unavailable, match="cannot be read just now"):
        await SamlSignIn(service_provider(offline), 30, redis).authn_request(offline, "r")
