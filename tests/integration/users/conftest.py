"""Accounts for the users tests: each test gets fresh ones, so tests never share state."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from common.infra.ports import free_port
from common.infra.redis import RedisServer
from common.settings import Settings
from tests.accounts import Account, account_with_roles, register
from tests.identity_providers import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, ProviderPorts
from tests.oidc_provider import Misbehaviour, OpenIDProvider
from tests.saml_idp import IDP_ENTITY, TRUSTING_ENTITY, SamlFiles, SamlIdP
from tests.support import GraphQLClient, serve


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, to stop (it keeps nothing on disk: it comes back empty)."""
    with RedisServer(tmp_path / "redis", free_port(), fast=True) as server:
        yield server


@pytest.fixture
async def learner(users: GraphQLClient) -> Account:
    return await register(users)


@pytest.fixture
async def other_learner(users: GraphQLClient) -> Account:
    return await register(users, name="Other Learner")


@pytest.fixture
async def admin(users: GraphQLClient, migrated: Settings) -> Account:
    return await account_with_roles(users, migrated, ["ADMIN", "STUDENT"], "Test Admin")


@contextlib.asynccontextmanager
async def provider_on(port: int) -> AsyncIterator[OpenIDProvider]:
    """A provider on loopback at `port`, with the session's client registered."""
    provider = OpenIDProvider(f"http://127.0.0.1:{port}", CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
    async with serve(provider.app, port):
        yield provider


@pytest.fixture(scope="session")
async def identity_provider(provider_ports: ProviderPorts) -> AsyncIterator[OpenIDProvider]:
    """test-idp: a provider that keeps to the protocol (until a test says otherwise)."""
    async with provider_on(provider_ports.test) as provider:
        yield provider


@pytest.fixture(scope="session")
async def trusting_provider(provider_ports: ProviderPorts) -> AsyncIterator[OpenIDProvider]:
    """trusting-idp: well-behaved, and trusted to link first sign-ins by verified email."""
    async with provider_on(provider_ports.trusting) as provider:
        yield provider


@pytest.fixture(scope="session")
async def lying_provider(provider_ports: ProviderPorts) -> AsyncIterator[OpenIDProvider]:
    """liar-idp: its discovery document names another issuer than the configured one."""
    async with provider_on(provider_ports.liar) as provider:
        provider.misbehaviour = Misbehaviour(discovery_issuer="https://impostor.example")
        yield provider


@pytest.fixture
def provider(identity_provider: OpenIDProvider) -> Iterator[OpenIDProvider]:
    """The test provider, well-behaved again after each test."""
    identity_provider.misbehaviour = Misbehaviour()
    yield identity_provider
    identity_provider.misbehaviour = Misbehaviour()


async def saml_idp_for(
    saml_files: SamlFiles, users_url: str, http: httpx.AsyncClient, name: str, entity_id: str
) -> SamlIdP:
    """pysaml2's IdP, its metadata where the settings say, trusting our SP's metadata."""
    idp = SamlIdP(
        saml_files.directory, entity_id, want_signed_requests=name == "saml-idp", name=name
    )
    saml_files.metadata(name).write_text(idp.metadata_xml)
    response = await http.get(f"{users_url}/saml/metadata")
    assert response.status_code == 200, response.text
    idp.trust(response.text)
    return idp


@pytest.fixture(scope="session")
async def saml_idp(saml_files: SamlFiles, users_url: str, http: httpx.AsyncClient) -> SamlIdP:
    """saml-idp: our AuthnRequests to it are signed, and it checks them."""
    return await saml_idp_for(saml_files, users_url, http, "saml-idp", IDP_ENTITY)


@pytest.fixture(scope="session")
async def trusting_saml_idp(
    saml_files: SamlFiles, users_url: str, http: httpx.AsyncClient
) -> SamlIdP:
    """trusting-saml-idp: trusted to link first sign-ins by e-mail."""
    return await saml_idp_for(saml_files, users_url, http, "trusting-saml-idp", TRUSTING_ENTITY)
