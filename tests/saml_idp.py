"""A real SAML 2.0 identity provider for tests: pysaml2's IdP (``saml2.server.Server``), with
keys and self-signed certificates made here with `cryptography`.

Two IdPs are configured in the session's settings (tests/conftest.py): ``saml-idp``, to
which our AuthnRequests are signed (it checks them), mapping ``eduPersonAffiliation`` to
roles; and ``trusting-saml-idp``, trusted to link first sign-ins by e-mail. Their metadata
files are written when a test first needs them, before the users subgraph reads them.

`SamlIdP.answer` plays the browser at the IdP: it reads the AuthnRequest from the URL the
sign-in started with, and answers it with a Response as pysaml2 builds it, which a test may
then edit (`edit`: before signing, as a misbehaving IdP would; `wrap`: after, as an attacker
would) and have signed by another key (`signer`: a forger).
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import uuid
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="CFB has been moved")  # as saml_sign_in.py
    from saml2 import BINDING_HTTP_REDIRECT
    from saml2.config import IdPConfig
    from saml2.metadata import create_metadata_string
    from saml2.saml import AUTHN_PASSWORD_PROTECTED, NAMEID_FORMAT_PERSISTENT, NameID
    from saml2.server import Server
    from saml2.sigver import get_xmlsec_binary, pre_signature_part
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

SAML: Final = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP: Final = "urn:oasis:names:tc:SAML:2.0:protocol"
DS: Final = "http://www.w3.org/2000/09/xmldsig#"
IDP_ENTITY: Final = "https://idp.university.test/saml"
TRUSTING_ENTITY: Final = "https://trusting.university.test/saml"
ROLES: Final = "faculty=INSTRUCTOR,member=STUDENT"

ET.register_namespace("saml", SAML)
ET.register_namespace("samlp", SAMLP)
ET.register_namespace("ds", DS)


def key_and_certificate(
    directory: Path, name: str, addresses: Sequence[str] = ()
) -> tuple[Path, Path]:
    """A new RSA key and a self-signed certificate for it, as PEM files; valid for TLS on
    the IP `addresses` given."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
    )
    if addresses:
        names = [x509.IPAddress(ipaddress.ip_address(address)) for address in addresses]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    certificate = builder.sign(key, hashes.SHA256())
    key_file, cert_file = directory / f"{name}-key.pem", directory / f"{name}-cert.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


@dataclass(frozen=True, slots=True)
class SamlFiles:
    """Where the session's SAML keys and metadata live."""

    directory: Path

    @classmethod
    def pick(cls, directory: Path) -> SamlFiles:
        key_and_certificate(directory, "sp")  # the key our AuthnRequests are signed with
        return cls(directory)

    def metadata(self, name: str) -> Path:
        return self.directory / f"{name}-metadata.xml"

    def environment(self) -> dict[str, str]:
        """The LMS_SAML_* variables naming the two IdPs."""
        return {
            "LMS_SAML_IDPS": "saml-idp,trusting-saml-idp",
            "LMS_SAML_SP_KEY_FILE": str(self.directory / "sp-key.pem"),
            "LMS_SAML_SP_CERT_FILE": str(self.directory / "sp-cert.pem"),
            "LMS_SAML_SAML_IDP_METADATA": str(self.metadata("saml-idp")),
            "LMS_SAML_SAML_IDP_ENTITY_ID": IDP_ENTITY,
            "LMS_SAML_SAML_IDP_DISPLAY_NAME": "University",
            "LMS_SAML_SAML_IDP_SIGN_REQUESTS": "true",
            "LMS_SAML_SAML_IDP_ROLES_ATTRIBUTE": "eduPersonAffiliation",
            "LMS_SAML_SAML_IDP_ROLES": ROLES,
            "LMS_SAML_TRUSTING_SAML_IDP_METADATA": str(self.metadata("trusting-saml-idp")),
            "LMS_SAML_TRUSTING_SAML_IDP_ENTITY_ID": TRUSTING_ENTITY,
            "LMS_SAML_TRUSTING_SAML_IDP_LINK_BY_EMAIL": "true",
        }


@dataclass(frozen=True, slots=True)
class SamlUser:
    subject: str
    email: str | None
    name: str = "Grace Institutional"
    affiliations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IdPAnswer:
    """What the browser posts to the ACS."""

    acs_url: str
    relay_state: str
    saml_response: str
    request_id: str
    assertion_id: str
    request_signature_algorithm: str | None  # of the AuthnRequest (HTTP-Redirect binding)


Edit = Callable[[ET.Element], None]


class SamlIdP:
    """pysaml2's IdP with its own key; `metadata_xml` is what the SP is configured with."""

    def __init__(
        self, directory: Path, entity_id: str, *, want_signed_requests: bool, name: str
    ) -> None:
        self.entity_id = entity_id
        self.sso_url = f"{entity_id}/sso/redirect"
        self.key_file, self.cert_file = key_and_certificate(directory, name)
        self._want_signed = want_signed_requests
        self.metadata_xml = _text(
            create_metadata_string(None, config=self._config(sp_metadata=None), valid=24)
        )
        self._server: Server | None = None

    def trust(self, sp_metadata: str) -> None:
        """Know the SP (its ACS and request-signing certificate) from its metadata."""
        self._server = Server(config=self._config(sp_metadata))

    def forger(self, directory: Path) -> SamlIdP:
        """An IdP of the same entity id with a key of its own, which the SP never trusted."""
        forger = SamlIdP(
            directory,
            self.entity_id,
            want_signed_requests=self._want_signed,
            name=f"forger-{uuid.uuid4().hex[:8]}",
        )
        forger._server = Server(config=forger._config(self._sp_metadata))
        return forger

    @property
    def server(self) -> Server:
        assert self._server is not None, "trust(sp_metadata) first"
        return self._server

    def request_of(self, authorization_url: str) -> tuple[Any, dict[str, str]]:
        """The AuthnRequest the URL carries, its redirect signature checked when wanted."""
        url = urlparse(authorization_url)
        assert f"{url.scheme}://{url.netloc}{url.path}" == self.sso_url
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        request = self.server.parse_authn_request(
            query["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState"),
            sigalg=query.get("SigAlg"),
            signature=query.get("Signature"),
        )
        assert request is not None
        return request.message, query

    def answer(
        self,
        authorization_url: str,
        who: SamlUser,
        *,
        edit: Edit | None = None,
        wrap: Edit | None = None,
        sign: str = "assertion",  # "assertion", "response" or "none"
        signer: SamlIdP | None = None,
        assertion_id: str | None = None,
    ) -> IdPAnswer:
        """Sign `who` in and answer the request the URL carries, as a Response for the ACS."""
        request, query = self.request_of(authorization_url)
        ava: dict[str, list[str]] = {"displayName": [who.name]}
        if who.email is not None:
            ava["mail"] = [who.email]
        if who.affiliations:
            ava["eduPersonAffiliation"] = list(who.affiliations)
        unsigned = self.server.create_authn_response(
            identity=ava,
            in_response_to=request.id,
            destination=request.assertion_consumer_service_url,
            sp_entity_id=request.issuer.text,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=who.subject),
            authn={"class_ref": AUTHN_PASSWORD_PROTECTED, "authn_auth": self.entity_id},
            sign_assertion=False,
            sign_response=False,
        )
        root = ET.fromstring(_text(unsigned))
        assertion = _one(root, f"{{{SAML}}}Assertion")
        if assertion_id is not None:
            assertion.set("ID", assertion_id)
        if edit is not None:
            edit(root)
        xml = ET.tostring(root, encoding="unicode")
        if sign != "none":
            xml = (signer or self).sign(xml, root if sign == "response" else assertion)
        if wrap is not None:
            signed = ET.fromstring(xml)
            wrap(signed)
            xml = ET.tostring(signed, encoding="unicode")
        return IdPAnswer(
            acs_url=request.assertion_consumer_service_url,
            relay_state=query["RelayState"],
            saml_response=base64.b64encode(xml.encode()).decode(),
            request_id=request.id,
            assertion_id=assertion.get("ID", ""),
            request_signature_algorithm=query.get("SigAlg"),
        )

    def sign(self, xml: str, element: ET.Element) -> str:
        """`xml` with `element` (the root Response or its Assertion) signed with our key."""
        root = ET.fromstring(xml)
        node_id = element.get("ID", "")
        target = next(node for node in root.iter() if node.get("ID") == node_id)
        template = pre_signature_part(
            ident=node_id,
            public_key=self.server.sec.my_cert,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
        target.insert(1, ET.fromstring(str(template)))  # after the Issuer
        local = target.tag.rpartition("}")[2]
        namespace = SAMLP if local == "Response" else SAML
        signed: str = self.server.sec.sign_statement(
            ET.tostring(root, encoding="unicode"), f"{namespace}:{local}", node_id=node_id
        )
        return signed

    _sp_metadata: str | None = None

    def _config(self, sp_metadata: str | None) -> IdPConfig:
        self._sp_metadata = sp_metadata
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [(self.sso_url, BINDING_HTTP_REDIRECT)]
                        },
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "want_authn_requests_signed": self._want_signed,
                        "policy": {"default": {"lifetime": {"minutes": 5}}},
                    }
                },
                "key_file": str(self.key_file),
                "cert_file": str(self.cert_file),
                "xmlsec_binary": get_xmlsec_binary(),
                "metadata": {"inline": [sp_metadata]} if sp_metadata else {},
            }
        )
        return config


def _one(root: ET.Element, tag: str) -> ET.Element:
    [found] = list(root.iter(tag))
    return found


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def post_form(answer: IdPAnswer) -> dict[str, str]:
    """The form the IdP's page posts to the ACS (HTTP-POST binding)."""
    return {"SAMLResponse": answer.saml_response, "RelayState": answer.relay_state}
