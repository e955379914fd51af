"""The SAML service provider's HTTP routes (saml_sign_in.py has the flow):

- ``GET /saml/metadata``: our SP metadata, for the IdP's administrators;
- ``POST /saml/acs``: the assertion consumer service (HTTP-POST binding). The IdP's
  Response is kept, unread, for the sign-in its RelayState names, and the browser goes
  back to the frontend with the state and a one-time code (303), as from an OpenID
  provider; ``completeExternalSignIn`` verifies the Response and answers its refusals as
  GraphQL errors. A RelayState that names no sign-in under way (unknown, expired, already
  answered, or missing: an unsolicited Response) is refused here with a JSON error of code
  UNAUTHENTICATED, as file routes refuse: there is no frontend page it may be sent to.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from common.errors import Unauthenticated
from common.signed_links import refusal
from subgraphs.users.services import UsersServices

FORM: Final = "application/x-www-form-urlencoded"
MAX_FORM_BYTES: Final = 512 * 1024


async def sp_metadata(request: Request) -> Response:
    services: UsersServices = request.app.state.service
    return Response(
        services.users.external.saml.metadata(),
        media_type="application/samlmetadata+xml",
        headers={"cache-control": "public, max-age=3600"},
    )


async def assertion_consumer_service(request: Request) -> Response:
    services: UsersServices = request.app.state.service
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
        return refusal(400, f"Post the SAML response as {FORM}.", "BAD_USER_INPUT")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return refusal(413, "The SAML response is too large.", "BAD_USER_INPUT")
    form = parse_qs(body.decode("latin-1"), max_num_fields=10)
    saml_response = form.get("SAMLResponse", [""])[0]
    if not saml_response:
        return refusal(400, "SAMLResponse is missing.", "BAD_USER_INPUT")
    try:
        location = await services.users.external.received_saml_response(
            form.get("RelayState", [""])[0], saml_response
        )
    except Unauthenticated as refused:
        return refusal(401, refused.message, "UNAUTHENTICATED")
    return RedirectResponse(location, status_code=303, headers={"cache-control": "no-store"})
