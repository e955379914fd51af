"""The external OpenID providers of a test session, and a browser's part in signing in.

Four providers are configured in the session's settings (tests/conftest.py):
``test-idp``, a well-behaved provider (tests/oidc_provider.py, built from Authlib's server
components); ``trusting-idp``, another, trusted to link first sign-ins by verified email
(``LMS_OIDC_TRUSTING_IDP_LINK_BY_EMAIL``); ``liar-idp``, one whose discovery document names
another issuer; and ``offline-idp``, an issuer on a port where nothing listens.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import httpx

from common.infra.ports import free_port

CLIENT_ID = "lms-test-client"
CLIENT_SECRET = "test-idp-client-secret"
REDIRECT_URI = "http://127.0.0.1:5173/auth/callback"  # the frontend page, never loaded here


@dataclass(frozen=True, slots=True)
class ProviderPorts:
    test: int
    trusting: int
    liar: int
    offline: int

    @classmethod
    def pick(cls) -> ProviderPorts:
        return cls(free_port(), free_port(), free_port(), free_port())

    def environment(self) -> dict[str, str]:
        """The LMS_OIDC_* variables naming the four providers."""
        variables = {
            "LMS_OIDC_PROVIDERS": "test-idp,trusting-idp,liar-idp,offline-idp",
            "LMS_OIDC_REDIRECT_URIS": f"{REDIRECT_URI},http://127.0.0.1:5173/other",
            "LMS_OIDC_TEST_IDP_DISPLAY_NAME": "Test IdP",
            "LMS_OIDC_TRUSTING_IDP_LINK_BY_EMAIL": "true",
        }
        ports = (
            ("TEST", self.test),
            ("TRUSTING", self.trusting),
            ("LIAR", self.liar),
            ("OFFLINE", self.offline),
        )
        for name, port in ports:
            variables[f"LMS_OIDC_{name}_IDP_ISSUER"] = f"http://127.0.0.1:{port}"
            variables[f"LMS_OIDC_{name}_IDP_CLIENT_ID"] = CLIENT_ID
            variables[f"LMS_OIDC_{name}_IDP_CLIENT_SECRET"] = CLIENT_SECRET
        return variables


@dataclass(frozen=True, slots=True)
class ProviderAnswer:
    """Where the provider sent the browser back, and what it said."""

    redirect_uri: str
    code: str | None
    state: str | None
    error: str | None


async def browse(
    http: httpx.AsyncClient, authorization_url: str, login_hint: str
) -> ProviderAnswer:
    """What a browser does at the provider: open its sign-in page, sign in as login_hint
    (our provider takes the standard login_hint in place of a login form), come back."""
    url = httpx.URL(authorization_url).copy_add_param("login_hint", login_hint)
    response = await http.get(url, follow_redirects=False)
    assert response.status_code == 302, (response.status_code, response.text)
    location = urlparse(response.headers["location"])
    query = {name: values[0] for name, values in parse_qs(location.query).items()}
    return ProviderAnswer(
        redirect_uri=f"{location.scheme}://{location.netloc}{location.path}",
        code=query.get("code"),
        state=query.get("state"),
        error=query.get("error"),
    )
