"""SAML 2.0 Web Browser SSO as a service provider, with pysaml2 (and the xmlsec1 program it
signs and verifies with).

The flow is the external sign-in's (external_sign_in.py), with a SAML identity provider in
the OpenID provider's place:

1. ``startExternalSignIn(provider, redirectUri)`` answers the IdP's single sign-on URL with
   an AuthnRequest (HTTP-Redirect binding, signed when the IdP is configured or asks to be)
   and a RelayState, which is the sign-in's ``state``; the request id is kept with it.
2. The IdP posts its Response to our assertion consumer service (``POST /saml/acs``,
   saml_route.py), which spends the RelayState, keeps the Response (unread) for the
   sign-in and sends the browser to ``redirectUri?state=…&code=…``.
3. ``completeExternalSignIn(state, code)`` verifies the Response here, once, and signs the
   person in as for an OpenID provider; refusals are its GraphQL errors.

A Response counts only when: its XML has no DTD (no entity expansion, no external
entities: defusedxml refuses it before xmlsec1 or pysaml2 read a byte) and holds exactly one
Assertion (what a signature-wrapping attack adds is a second one, or a second Response);
the assertion, or the response holding it, is signed by a certificate of the IdP's
metadata; the response answers the request kept with this sign-in (InResponseTo:
unsolicited responses are refused); its audience is our entity id and its recipient and
destination our ACS URL; now is inside NotBefore/NotOnOrAfter, give or take
``LMS_CLOCK_SKEW``; and its assertion id was never seen before (kept in Redis until the
assertion expires).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import calendar
import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from xml.etree.ElementTree import ParseError

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from redis.asyncio import Redis

with warnings.catch_warnings():
    # pysaml2 names cryptography's CFB mode where cryptography has deprecated it (for its
    # encrypted assertions, which we do not take), and cryptography says so on import
    warnings.filterwarnings("ignore", message="CFB has been moved")
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, time_util
    from saml2.client import Saml2Client
    from saml2.config import SPConfig
    from saml2.metadata import create_metadata_string
    from saml2.saml import NAMEID_FORMAT_PERSISTENT
    from saml2.sigver import get_xmlsec_binary
    from saml2.xmldsig import SIG_RSA_SHA256

from common.errors import BadUserInput, Unauthenticated, Unavailable
from common.saml_settings import SamlIdentityProvider, SamlServiceProvider
from subgraphs.users.passwords import digest

MAX_RESPONSE: Final = 256 * 1024  # characters of the base64 SAMLResponse
MAX_METADATA: Final = 1024 * 1024
REPLAY_CAP_SECONDS: Final = 24 * 3600
METADATA_SECONDS: Final = 3600  # an IdP's metadata is read again after this long
# pysaml2 logs refusals with the XML (names, e-mails) in them; ours say why, without it
logging.getLogger("saml2").setLevel(logging.CRITICAL)

ASSERTION: Final = "{urn:oasis:names:tc:SAML:2.0:assertion}Assertion"
RESPONSE: Final = "{urn:oasis:names:tc:SAML:2.0:protocol}Response"


@dataclass(frozen=True, slots=True)
class SamlAssertion:
    """What a verified assertion says: who, at which IdP, with which attributes."""

    subject: str
    email: str | None
    name: str | None
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AuthnRequest:
    url: str  # the IdP's SSO endpoint, with SAMLRequest, RelayState (and signature)
    request_id: str


class SamlSignIn:
    """The configured SAML identity providers: requests to them, responses from them."""

    def __init__(self, sp: SamlServiceProvider, clock_skew: int, redis: Redis) -> None:
        self.sp = sp
        self._idps = {idp.name: idp for idp in sp.identity_providers}
        self._clock_skew = clock_skew
        self._redis = redis
        # by IdP, once its metadata has loaded: (config, when it loaded)
        self._configs: dict[str, tuple[SPConfig, float]] = {}

    @property
    def providers(self) -> list[SamlIdentityProvider]:
        return list(self._idps.values())

    def get(self, name: str) -> SamlIdentityProvider | None:
        return self._idps.get(name)

    def metadata(self) -> str:
        """Our SP metadata: entity id, ACS (HTTP-POST), signing certificate if any."""
        xml: bytes | str = create_metadata_string(None, config=self._config(None), valid=24)
        return xml.decode() if isinstance(xml, bytes) else xml

    async def authn_request(self, idp: SamlIdentityProvider, relay_state: str) -> AuthnRequest:
        config = await self._loaded(idp)
        client = Saml2Client(config=config)
        request_id, info = await asyncio.to_thread(
            client.prepare_for_authenticate,
            entityid=idp.entity_id,
            relay_state=relay_state,
            binding=BINDING_HTTP_REDIRECT,
            nameid_format=NAMEID_FORMAT_PERSISTENT,
            sign=idp.sign_requests,
            sigalg=SIG_RSA_SHA256 if idp.sign_requests else None,
        )
        location = dict(info["headers"])["Location"]
        return AuthnRequest(url=location, request_id=str(request_id))

    async def verify(
        self, idp: SamlIdentityProvider, saml_response: str, request_id: str
    ) -> SamlAssertion:
        """The assertion of a Response to the request, once; Unauthenticated otherwise."""
        _refuse_hostile_xml(idp, saml_response)
        config = await self._loaded(idp)
        client = Saml2Client(config=config)
        try:
            response = await asyncio.to_thread(
                client.parse_authn_request_response,
                saml_response,
                BINDING_HTTP_POST,
                outstanding={request_id: "/"},
                # without it pysaml2 takes any SubjectConfirmationData Recipient: with it,
                # only this one (or another of our ACS URLs, of which there are none)
                conv_info={"entity_id": self.sp.acs_url},
            )
        except Exception as error:  # pysaml2 and xmlsec1 refuse in many ways; each is a no
            refusal = Unauthenticated(
                f"The SAML response from {idp.display_name} did not verify "
                f"({_reason(error)}); start again."
            )
            _drop_frames(error)
            raise refusal from None
        if response is None or response.assertion is None:
            raise Unauthenticated(
                f"The SAML response from {idp.display_name} holds no usable assertion; start again."
            )
        issuers = {response.assertion.issuer.text if response.assertion.issuer else None}
        if response.response.issuer is not None:  # optional on the Response
            issuers.add(response.response.issuer.text)
        if issuers != {idp.entity_id}:
            raise Unauthenticated(f"The SAML response names another issuer than {idp.entity_id}.")
        await self._first_use(idp, response.assertion)
        return _assertion_of(idp, response)

    async def _first_use(self, idp: SamlIdentityProvider, assertion: Any) -> None:
        """Remember the assertion id until the assertion expires; refuse one seen before."""
        expires = assertion.conditions.not_on_or_after if assertion.conditions else None
        seconds = REPLAY_CAP_SECONDS
        if expires:
            left = calendar.timegm(time_util.str_to_time(expires)) - int(time.time())
            seconds = min(max(left, 0) + self._clock_skew + 60, REPLAY_CAP_SECONDS)
        key = f"lms:users:saml-assertion:{digest(idp.entity_id + ' ' + str(assertion.id))}"
        if not await self._redis.set(key, "1", nx=True, ex=seconds):
            raise Unauthenticated(
                f"This SAML assertion from {idp.display_name} was already used; start again."
            )

    async def _loaded(self, idp: SamlIdentityProvider) -> SPConfig:
        known = self._configs.get(idp.name)
        if known is not None and time.monotonic() - known[1] < METADATA_SECONDS:
            return known[0]
        try:
            return await self._load(idp)
        except Unavailable:
            if known is None:
                raise
            return known[0]  # the metadata we had, until a reading works again

    async def _load(self, idp: SamlIdentityProvider) -> SPConfig:
        xml = await self._metadata_of(idp)
        try:
            config = await asyncio.to_thread(self._config, (idp, xml))
            endpoints = config.metadata.single_sign_on_service(idp.entity_id, BINDING_HTTP_REDIRECT)
        except Exception as error:  # pysaml2 reading metadata it does not like
            raise Unavailable(
                f"The SAML metadata of {idp.display_name} cannot be used ({_reason(error)})."
            ) from error
        if not endpoints:
            raise Unavailable(
                f"The SAML metadata of {idp.display_name} has no HTTP-Redirect single "
                f"sign-on service for {idp.entity_id}."
            )
        self._configs[idp.name] = (config, time.monotonic())
        return config

    async def _metadata_of(self, idp: SamlIdentityProvider) -> str:
        try:
            if idp.metadata.startswith(("https://", "http://")):  # http: loopback only
                async with httpx.AsyncClient(timeout=10.0) as http:
                    response = await http.get(idp.metadata)
                    response.raise_for_status()
                    xml = response.text
            else:
                xml = await asyncio.to_thread(Path(idp.metadata).read_text, encoding="utf-8")
        except (httpx.HTTPError, OSError, UnicodeDecodeError) as error:
            raise Unavailable(
                f"The SAML metadata of {idp.display_name} cannot be read just now; try later."
            ) from error
        if len(xml) > MAX_METADATA:
            raise Unavailable(f"The SAML metadata of {idp.display_name} is too large.")
        try:
            fromstring(xml, forbid_dtd=True)
        except (DefusedXmlException, ParseError) as error:
            raise Unavailable(
                f"The SAML metadata of {idp.display_name} is not acceptable XML."
            ) from error
        return xml

    def _config(self, with_idp: tuple[SamlIdentityProvider, str] | None) -> SPConfig:
        sp = self.sp
        service: dict[str, Any] = {
            "endpoints": {"assertion_consumer_service": [(sp.acs_url, BINDING_HTTP_POST)]},
            "allow_unsolicited": False,
            # our metadata says whether any IdP gets signed requests; one IdP's, whether it does
            "authn_requests_signed": (
                with_idp[0].sign_requests
                if with_idp
                else any(idp.sign_requests for idp in sp.identity_providers)
            ),
            "want_assertions_signed": False,
            "want_response_signed": False,
            "want_assertions_or_response_signed": True,
            "name_id_format": [NAMEID_FORMAT_PERSISTENT],
        }
        settings: dict[str, Any] = {
            "entityid": sp.entity_id,
            "service": {"sp": service},
            "accepted_time_diff": self._clock_skew,
            "xmlsec_binary": get_xmlsec_binary(),
            "allow_unknown_attributes": True,
            "metadata": {"inline": [with_idp[1]]} if with_idp else {},
        }
        if sp.key_file and sp.cert_file:
            settings["key_file"] = sp.key_file
            settings["cert_file"] = sp.cert_file
        config = SPConfig()
        config.load(settings)
        return config


def _refuse_hostile_xml(idp: SamlIdentityProvider, saml_response: str) -> None:
    """No DTD at all (so no entity of any kind) and one Response holding one Assertion."""
    if not saml_response or len(saml_response) > MAX_RESPONSE:
        raise BadUserInput("The SAML response is missing or too large.")
    try:
        xml = base64.b64decode(saml_response, validate=False)
        root = fromstring(xml, forbid_dtd=True)
    except (binascii.Error, ValueError, ParseError, DefusedXmlException) as error:
        raise Unauthenticated(
            f"The SAML response from {idp.display_name} is not acceptable XML (a DTD or "
            "entities are refused); start again."
        ) from error
    assertions = list(root.iter(ASSERTION))
    if root.tag != RESPONSE or len(list(root.iter(RESPONSE))) != 1 or len(assertions) != 1:
        raise Unauthenticated(
            f"The SAML response from {idp.display_name} must be one Response with exactly one "
            "Assertion; start again."
        )


def _assertion_of(idp: SamlIdentityProvider, response: Any) -> SamlAssertion:
    name_id = response.name_id
    subject = getattr(name_id, "text", None)
    if not subject:
        raise Unauthenticated(f"The SAML assertion from {idp.display_name} names nobody.")
    attributes: dict[str, list[Any]] = response.ava or {}
    email = _first(attributes, idp.email_attribute)
    granted = dict(idp.roles)
    values = attributes.get(idp.roles_attribute, []) if idp.roles_attribute else []
    return SamlAssertion(
        subject=subject.strip(),
        email=email.strip().lower() if email and email.strip() else None,
        name=_first(attributes, idp.name_attribute),
        roles=tuple(sorted({granted[value] for value in values if value in granted})),
    )


def _first(attributes: dict[str, list[Any]], name: str) -> str | None:
    values = attributes.get(name) or []
    return values[0] if values and isinstance(values[0], str) else None


def _drop_frames(error: BaseException | None) -> None:
    """Let pysaml2's frames go now: a refusal's traceback keeps the temporary certificate
    files it opened (and never closes) until a garbage collection finds them, which then
    closes them with a ResourceWarning."""
    while error is not None:
        error.__traceback__ = None
        error = error.__cause__ or error.__context__


def _reason(error: Exception) -> str:
    """A short reason, without the XML a message may quote."""
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text[:120]}" if text else type(error).__name__
