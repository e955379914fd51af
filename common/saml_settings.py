"""SAML 2.0 identity providers and our service provider, as settings name them (read by
common/settings.py; used by subgraphs/users/saml_sign_in.py).

``LMS_SAML_IDPS`` names the identity providers (a-z, 0-9, dashes; one namespace with
``LMS_OIDC_PROVIDERS``); each is configured by ``LMS_SAML_<NAME>_…``:

- ``METADATA``: the IdP's metadata, a file path or an https URL (its signing certificates
  and single sign-on endpoint come from there; read again after an hour, so that a
  rotated certificate is taken up);
- ``ENTITY_ID``: the IdP's entity id in that metadata;
- ``DISPLAY_NAME``;
- ``EMAIL_ATTRIBUTE`` (``mail``), ``NAME_ATTRIBUTE`` (``displayName``) and
  ``ROLES_ATTRIBUTE`` (none): which attributes give the e-mail, the name and the roles;
- ``ROLES``: values of the roles attribute and the role each gives a new account,
  ``faculty=INSTRUCTOR,staff=INSTRUCTOR`` (STUDENT or INSTRUCTOR: an IdP never makes an
  administrator);
- ``SIGN_REQUESTS``: sign our AuthnRequests (when the IdP's metadata asks for it);
- ``LINK_BY_EMAIL``: as for OpenID providers, link a first sign-in to a student's account
  of the same e-mail.

The service provider: ``LMS_SAML_SP_ENTITY_ID`` and ``LMS_SAML_ACS_URL`` (by default the
users subgraph's ``/saml/metadata`` and ``/saml/acs``), and ``LMS_SAML_SP_KEY_FILE`` and
``LMS_SAML_SP_CERT_FILE``, the key and certificate requests are signed with (needed once
an IdP signs requests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

MAX_ROLES: Final = 20
LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})
GRANTABLE_ROLES: Final = frozenset({"STUDENT", "INSTRUCTOR"})


@dataclass(frozen=True, slots=True)
class SamlIdentityProvider:
    name: str
    display_name: str
    metadata: str  # a file path or an https URL
    entity_id: str
    email_attribute: str = "mail"
    name_attribute: str = "displayName"
    roles_attribute: str = ""
    roles: tuple[tuple[str, str], ...] = ()  # (attribute value, role)
    sign_requests: bool = False
    link_by_email: bool = False

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class SamlServiceProvider:
    entity_id: str
    acs_url: str
    key_file: str = ""
    cert_file: str = ""
    identity_providers: tuple[SamlIdentityProvider, ...] = ()

    def __str__(self) -> str:
        return ",".join(idp.name for idp in self.identity_providers)  # as `lms settings` shows


class Reader:
    """The settings module's readers, passed in (so that this module imports nothing of it)."""

    def __init__(
        self,
        env: Callable[[str, str], str],
        flag: Callable[[str, str], bool],
        fail: Callable[[str], Exception],
    ) -> None:
        self.env, self.flag, self.fail = env, flag, fail


def service_provider(
    read: Reader,
    names: tuple[str, ...],
    users_base_url: str,
    is_name: Callable[[str], bool],
    oidc_names: tuple[str, ...],
) -> SamlServiceProvider:
    for name in names:
        if name in oidc_names:
            raise read.fail(f"LMS_SAML_IDPS: {name!r} is already an OpenID provider's name")
    idps = tuple(_identity_provider(read, name, is_name) for name in names)
    sp = SamlServiceProvider(
        entity_id=read.env("LMS_SAML_SP_ENTITY_ID", f"{users_base_url}/saml/metadata"),
        acs_url=read.env("LMS_SAML_ACS_URL", f"{users_base_url}/saml/acs"),
        key_file=read.env("LMS_SAML_SP_KEY_FILE", ""),
        cert_file=read.env("LMS_SAML_SP_CERT_FILE", ""),
        identity_providers=idps,
    )
    if any(idp.sign_requests for idp in idps) and not (sp.key_file and sp.cert_file):
        raise read.fail(
            "LMS_SAML_SP_KEY_FILE and LMS_SAML_SP_CERT_FILE must be set to sign SAML requests"
        )
    return sp


def _identity_provider(
    read: Reader, name: str, is_name: Callable[[str], bool]
) -> SamlIdentityProvider:
    if not is_name(name):
        raise read.fail(f"LMS_SAML_IDPS: {name!r} is not a provider name (a-z, 0-9 and dashes)")
    prefix = f"LMS_SAML_{name.upper().replace('-', '_')}_"
    metadata = read.env(prefix + "METADATA", "")
    entity_id = read.env(prefix + "ENTITY_ID", "")
    for variable, value in (("METADATA", metadata), ("ENTITY_ID", entity_id)):
        if not value:
            raise read.fail(f"{prefix}{variable} must be set for SAML IdP {name}")
    if metadata.startswith("http://") and urlsplit(metadata).hostname not in LOOPBACK:
        raise read.fail(f"{prefix}METADATA must be a file or an https URL (http: loopback only)")
    return SamlIdentityProvider(
        name=name,
        display_name=read.env(prefix + "DISPLAY_NAME", name),
        metadata=metadata,
        entity_id=entity_id,
        email_attribute=read.env(prefix + "EMAIL_ATTRIBUTE", "mail"),
        name_attribute=read.env(prefix + "NAME_ATTRIBUTE", "displayName"),
        roles_attribute=read.env(prefix + "ROLES_ATTRIBUTE", ""),
        roles=_role_map(read, prefix + "ROLES"),
        sign_requests=read.flag(prefix + "SIGN_REQUESTS", "false"),
        link_by_email=read.flag(prefix + "LINK_BY_EMAIL", "false"),
    )


def _role_map(read: Reader, variable: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in read.env(variable, "").split(","):
        if not item.strip():
            continue
        value, _, role = item.partition("=")
        if not value.strip() or role.strip() not in GRANTABLE_ROLES:
            raise read.fail(
                f"{variable} must be value=ROLE pairs, ROLE one of STUDENT or INSTRUCTOR; "
                f"got {item.strip()!r}"
            )
        pairs.append((value.strip(), role.strip()))
    if len(pairs) > MAX_ROLES:
        raise read.fail(f"{variable} maps at most {MAX_ROLES} values")
    return tuple(pairs)
