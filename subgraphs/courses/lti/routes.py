"""HTTP routes of the LTI platform: the OIDC authorization endpoint (``/lti/authorize``)
and the Deep Linking return (``/lti/deep-linking/return``), both reached by the browser.

The platform's public keys are the courses subgraph's ``/.well-known/jwks.json``."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from common.errors import ErrorCode
from common.signed_links import refusal
from subgraphs.courses.lti.launch import MAX_PARAMETER, Answer, LaunchRefused

REQUIRED = ("client_id", "redirect_uri", "login_hint", "lti_message_hint", "nonce", "state")
KNOWN = (*REQUIRED, "scope", "response_type", "response_mode", "prompt")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def _parameters(request: Request) -> dict[str, str]:
    """The request's parameters (query for GET, form for POST), each once and bounded."""
    source: dict[str, list[object]]
    if request.method == "POST":
        form = await request.form(max_files=0, max_fields=50)
        source = {key: list(form.getlist(key)) for key in form}
    else:
        source = {key: list(request.query_params.getlist(key)) for key in request.query_params}
    found: dict[str, str] = {}
    for name in KNOWN:
        values = source.get(name, [])
        if len(values) > 1:
            raise LaunchRefused(400, ErrorCode.BAD_USER_INPUT, f"{name} is given twice.")
        if values:
            value = values[0]
            if not isinstance(value, str) or not 0 < len(value) <= MAX_PARAMETER:
                raise LaunchRefused(
                    400,
                    ErrorCode.BAD_USER_INPUT,
                    f"{name} must be 1 to {MAX_PARAMETER} characters.",
                )
            found[name] = value
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        raise LaunchRefused(400, ErrorCode.BAD_USER_INPUT, f"Missing {', '.join(missing)}.")
    return found


def auto_post(answer: Answer) -> HTMLResponse:
    """The form_post response mode: a page that posts id_token and state to the tool."""
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Launching…</title></head>
<body onload="document.forms[0].submit()">
<form method="post" action="{escape(answer.redirect_uri)}">
<input type="hidden" name="id_token" value="{escape(answer.id_token)}">
<input type="hidden" name="state" value="{escape(answer.state)}">
<noscript><button type="submit">Continue</button></noscript>
</form></body></html>"""
    return HTMLResponse(page, headers={**NO_STORE, "Referrer-Policy": "no-referrer"})


async def authorize(request: Request) -> Response:
    services = request.app.state.service
    try:
        parameters = await _parameters(request)
        tool = await services.lti_tools.by_client_id(parameters["client_id"])
        answer = await services.lti_launches.complete(tool, parameters)
    except LaunchRefused as refused:
        response = refusal(refused.status, refused.message, refused.error_code.value)
        response.headers.update(NO_STORE)
        return response
    return auto_post(answer)


async def deep_linking_return(request: Request) -> Response:
    """The tool's LtiDeepLinkingResponse, posted by the browser as the form field ``JWT``."""
    try:
        form = await request.form(max_files=0, max_fields=10)
        response = form.get("JWT")
        placed = await request.app.state.service.lti_deep_links.receive(
            response if isinstance(response, str) else ""
        )
    except LaunchRefused as refused:
        answer = refusal(refused.status, refused.message, refused.error_code.value)
        answer.headers.update(NO_STORE)
        return answer
    items = "".join(f"<li>{escape(link.title)}</li>" for link in placed)
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Content added</title></head>
<body><p>{len(placed)} link(s) added to the module.</p><ul>{items}</ul></body></html>"""
    return HTMLResponse(page, headers={**NO_STORE, "Referrer-Policy": "no-referrer"})


ROUTES = [
    Route("/lti/authorize", authorize, methods=["GET", "POST"]),
    Route("/lti/deep-linking/return", deep_linking_return, methods=["POST"]),
]
