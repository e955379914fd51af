"""An LTI 1.3 tool for tests, built on pylti1p3 (the tool library many Python tools use).

pylti1p3 does the protocol: the OIDC login initiation (state cookie, nonce, the redirect to
the platform's authorization endpoint) and the launch validation (state, the ID token's
signature against the platform's JWKS, issuer, audience, deployment, nonce, message
claims). This module only adapts it to Starlette, as its Flask and Django adapters do, and
keeps sessions in memory. pylti1p3 is synchronous (it fetches the JWKS with `requests`), so
it runs in a worker thread, never blocking the loop the platform's servers share.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from joserfc.jwk import RSAKey
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.cookie import CookieService
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.oidc_login import OIDCLogin
from pylti1p3.redirect import Redirect
from pylti1p3.registration import Registration
from pylti1p3.request import Request as LtiRequest
from pylti1p3.service_connector import ServiceConnector
from pylti1p3.session import SessionService
from pylti1p3.tool_config.dict import ToolConfDict
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

SESSION_COOKIE = "tool-session"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"


class ContentItem(DeepLinkResource):
    """A content item as pylti1p3 writes it, with `extra` properties laid over it: those
    pylti1p3 does not model (`available`, `submission`, a lineItem's `gradesReleased`),
    or values a well-behaved tool never sends (a hostile tool's)."""

    def __init__(self, title: str, **extra: object) -> None:
        self.set_title(title)
        self.extra = extra

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), **self.extra}


class ToolRequest(LtiRequest):
    def __init__(self, params: dict[str, str], cookies: dict[str, str], session: dict[str, Any]):
        self._params = params
        self._cookies = cookies
        self._session = session

    @property
    def session(self) -> dict[str, Any]:
        return self._session

    def is_secure(self) -> bool:
        return False

    def get_param(self, key: str) -> str:
        return self._params.get(key)  # type: ignore[return-value]

    def get_cookie(self, key: str) -> str | None:
        return self._cookies.get(key)


class ToolCookies(CookieService):
    def __init__(self, request: ToolRequest) -> None:
        self._request = request
        self.to_set: dict[str, tuple[str, int]] = {}

    def get_cookie(self, name: str) -> str | None:
        return self._request.get_cookie(f"{self._cookie_prefix}-{name}")

    def set_cookie(self, name: str, value: str | int, exp: int | None = 3600) -> None:
        self.to_set[f"{self._cookie_prefix}-{name}"] = (str(value), exp or 3600)

    def apply(self, response: Response) -> Response:
        for key, (value, age) in self.to_set.items():
            response.set_cookie(key, value, max_age=age, httponly=True, path="/")
        return response


class ToolRedirect(Redirect[Response]):
    def __init__(self, location: str, cookies: ToolCookies) -> None:
        self._location = location
        self._cookies = cookies

    def do_redirect(self) -> Response:
        return self._cookies.apply(RedirectResponse(self._location, status_code=302))

    def do_js_redirect(self) -> Response:
        return self.do_redirect()

    def set_redirect_url(self, location: str) -> None:
        self._location = location

    def get_redirect_url(self) -> str:
        return self._location


class ToolLogin(OIDCLogin):  # type: ignore[type-arg]
    def get_redirect(self, url: str) -> ToolRedirect:
        return ToolRedirect(url, self._cookie_service)


class ToolLaunch(MessageLaunch):  # type: ignore[type-arg]
    def _get_request_param(self, key: str) -> str:
        return self._request.get_param(key)  # type: ignore[no-any-return]


@dataclass
class PlatformRegistration:
    """What the platform told the tool's administrator at registration."""

    issuer: str
    client_id: str
    deployment_ids: list[str]
    auth_login_url: str
    auth_token_url: str
    key_set_url: str

    @classmethod
    def told(cls, platform: dict[str, Any], tool: dict[str, Any]) -> PlatformRegistration:
        """From the platform's `ltiPlatform` and the tool's `registerLtiTool` answer."""
        return cls(
            issuer=platform["issuer"],
            client_id=tool["clientId"],
            deployment_ids=tool["deploymentIds"],
            auth_login_url=platform["authorizationUrl"],
            auth_token_url=f"{platform['issuer']}/lti/token",
            key_set_url=platform["jwksUrl"],
        )


@dataclass
class LtiTool:
    """The tool's state: its key pair, its registrations with platforms, its sessions, and
    every launch it accepted (what the tool's page would show)."""

    key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(
            2048, {"use": "sig", "alg": "RS256"}, private=True
        )
    )
    registrations: list[PlatformRegistration] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    launches: list[dict[str, Any]] = field(default_factory=list)
    # what an instructor picks in the tool when it is launched for deep linking
    picked: list[DeepLinkResource] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key.ensure_kid()

    def config(self) -> ToolConfDict:
        by_issuer: dict[str, list[dict[str, Any]]] = {}
        for each in self.registrations:
            by_issuer.setdefault(each.issuer, []).append(
                {
                    "default": False,
                    "client_id": each.client_id,
                    "auth_login_url": each.auth_login_url,
                    "auth_token_url": each.auth_token_url,
                    "auth_audience": None,
                    "key_set_url": each.key_set_url,
                    "key_set": None,
                    "deployment_ids": each.deployment_ids,
                }
            )
        conf = ToolConfDict(by_issuer)  # type: ignore[arg-type]
        private = self.key.as_pem(private=True).decode()
        public = self.key.as_pem(private=False).decode()
        for each in self.registrations:
            conf.set_private_key(each.issuer, private, client_id=each.client_id)
            conf.set_public_key(each.issuer, public, client_id=each.client_id)
        return conf

    def public_jwks(self) -> dict[str, Any]:
        """The tool's JWKS as pylti1p3 publishes it (kid: the key's RFC 7638 thumbprint)."""
        return {"keys": [Registration.get_jwk(self.key.as_pem(private=False).decode())]}

    def connector(self, issuer: str, client_id: str) -> ServiceConnector:
        """pylti1p3's client of the platform's services for one registration (synchronous:
        call it in a thread)."""
        registration = self.config().find_registration_by_params(issuer, client_id)
        return ServiceConnector(registration)

    def grades(self, launch: dict[str, Any]) -> AssignmentsGradesService:
        """The Assignment and Grade Services of a launch, as a tool uses them."""
        return AssignmentsGradesService(
            self.connector(launch["iss"], launch["aud"]), launch[AGS_CLAIM]
        )

    def roster(
        self, launch: dict[str, Any], issuer: str | None = None, client_id: str | None = None
    ) -> NamesRolesProvisioningService:
        """The Names and Role Provisioning Services of a launch, as a tool uses them (with
        another registration's credentials when `issuer` and `client_id` are given)."""
        connector = self.connector(issuer or launch["iss"], client_id or launch["aud"])
        return NamesRolesProvisioningService(connector, launch[NRPS_CLAIM])

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/login", self._login, methods=["GET", "POST"]),
                Route("/launch", self._launch, methods=["POST"]),
                Route("/jwks", self._jwks),
            ]
        )

    async def _request(self, request: Request) -> tuple[ToolRequest, str]:
        params = dict(request.query_params)
        if request.method == "POST":
            params.update({k: v for k, v in (await request.form()).items() if isinstance(v, str)})
        session_id = request.cookies.get(SESSION_COOKIE) or secrets.token_hex(16)
        session = self.sessions.setdefault(session_id, {})
        return ToolRequest(params, dict(request.cookies), session), session_id

    async def _login(self, request: Request) -> Response:
        tool_request, session_id = await self._request(request)
        launch_url = f"{str(request.base_url).rstrip('/')}/launch"

        def login() -> Response:
            cookies = ToolCookies(tool_request)
            oidc = ToolLogin(tool_request, self.config(), SessionService(tool_request), cookies)
            response: Response = oidc.redirect(launch_url)
            return response

        try:
            response = await run_in_threadpool(login)
        except (LtiException, OIDCException) as error:
            return JSONResponse({"error": str(error)}, 400)
        response.set_cookie(SESSION_COOKIE, session_id, httponly=True, path="/")
        return response

    async def _launch(self, request: Request) -> Response:
        tool_request, _ = await self._request(request)

        def launch() -> tuple[dict[str, Any], str | None]:
            message = ToolLaunch(
                tool_request, self.config(), SessionService(tool_request), ToolCookies(tool_request)
            )
            data = dict(message.get_launch_data())
            if not message.is_deep_link_launch():
                return data, None
            # the instructor picked `self.picked`: pylti1p3 signs the response and answers
            # the page that posts it back to the platform's deep_link_return_url
            return data, message.get_deep_link().output_response_form(self.picked)

        try:
            data, deep_link_form = await run_in_threadpool(launch)
        except (LtiException, OIDCException) as error:
            return JSONResponse({"error": str(error)}, 400)
        self.launches.append(data)
        if deep_link_form is not None:
            return HTMLResponse(deep_link_form)
        return JSONResponse({"launched": data})

    async def _jwks(self, _: Request) -> Response:
        return JSONResponse(self.public_jwks())
