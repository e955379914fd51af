"""HTTP routes of LTI Advantage services: the token endpoint, Assignment and Grade
Services (line items, scores, results) and Names and Role Provisioning Services
(memberships), JSON in the media types 1EdTech names."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from common.auth.service_identity import ServiceTokenUnavailable
from common.graphql.peers import PeerUnavailable
from subgraphs.courses.lti.grades import ServiceRefused
from subgraphs.courses.lti.models import LtiLineItemRow
from subgraphs.courses.lti.service_tokens import ServiceGrant, ServiceTokens, TokenRefused

LINE_ITEM = "application/vnd.ims.lis.v2.lineitem+json"
LINE_ITEMS = "application/vnd.ims.lis.v2.lineitemcontainer+json"
RESULTS = "application/vnd.ims.lis.v2.resultcontainer+json"
MEMBERSHIPS = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_BODY = 64 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _refused(status: int, code: str, message: str) -> Response:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status, headers=NO_STORE
    )


async def token(request: Request) -> Response:
    """RFC 6749 §4.4 with an RFC 7523 client assertion; errors as RFC 6749 §5.2."""
    try:
        form = await request.form(max_files=0, max_fields=20)
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        answer = await request.app.state.service.lti_service_tokens.issue(fields)
    except TokenRefused as refused:
        headers = {**NO_STORE, **({"WWW-Authenticate": "Bearer"} if refused.status == 401 else {})}
        body = {"error": refused.error, "error_description": refused.description}
        return JSONResponse(body, refused.status, headers=headers)
    return JSONResponse(answer, headers=NO_STORE)


def item_url(request: Request, item: LtiLineItemRow) -> str:
    base = request.app.state.runtime.settings.public_service_url("courses")
    return f"{base}/lti/contexts/{item.course_id}/lineitems/{item.id}"


def item_json(request: Request, item: LtiLineItemRow) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": item_url(request, item),
        "label": item.label,
        "scoreMaximum": item.score_maximum,
    }
    if item.link_id is not None:
        found["resourceLinkId"] = str(item.link_id)
    for key, value in (("resourceId", item.resource_id), ("tag", item.tag)):
        if value is not None:
            found[key] = value
    return found


async def _grant(request: Request) -> ServiceGrant:
    tokens: ServiceTokens = request.app.state.service.lti_service_tokens
    grant = await tokens.grant(request.headers.get("authorization"))
    if grant is None:
        raise ServiceRefused(401, "UNAUTHENTICATED", "A valid LTI service token is needed.")
    return grant


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ServiceRefused(413, "BAD_USER_INPUT", "The body is too large.")
    try:
        body = json.loads(raw)
    except ValueError:
        raise ServiceRefused(400, "BAD_USER_INPUT", "The body must be JSON.") from None
    if not isinstance(body, dict):
        raise ServiceRefused(400, "BAD_USER_INPUT", "The body must be a JSON object.")
    return body


async def line_items(request: Request) -> Response:
    grades = request.app.state.service.lti_grades
    course = request.path_params["course_id"]
    try:
        grant = await _grant(request)
        if request.method == "POST":
            item = await grades.create_line_item(grant, course, await _body(request))
            return JSONResponse(item_json(request, item), 201, media_type=LINE_ITEM)
        filters = {
            key: value
            for key, value in request.query_params.items()
            if key in ("resource_link_id", "tag", "resource_id")
        }
        items = await grades.line_items(grant, course, filters)
    except ServiceRefused as refused:
        return _refused(refused.status, refused.code, refused.message)
    return JSONResponse([item_json(request, each) for each in items], media_type=LINE_ITEMS)


async def line_item(request: Request) -> Response:
    grades = request.app.state.service.lti_grades
    course, item_id = request.path_params["course_id"], request.path_params["item_id"]
    try:
        grant = await _grant(request)
        if request.method == "DELETE":
            await grades.delete_line_item(grant, course, item_id)
            return Response(status_code=204)
        if request.method == "PUT":
            item = await grades.update_line_item(grant, course, item_id, await _body(request))
        else:
            item = await grades.line_item(grant, course, item_id)
    except ServiceRefused as refused:
        return _refused(refused.status, refused.code, refused.message)
    return JSONResponse(item_json(request, item), media_type=LINE_ITEM)


async def scores(request: Request) -> Response:
    grades = request.app.state.service.lti_grades
    params = request.path_params
    try:
        grant = await _grant(request)
        await grades.post_score(grant, params["course_id"], params["item_id"], await _body(request))
    except ServiceRefused as refused:
        return _refused(refused.status, refused.code, refused.message)
    return Response(status_code=204)


async def results(request: Request) -> Response:
    grades = request.app.state.service.lti_grades
    params = request.path_params
    try:
        item, found = await grades.results(
            await _grant(request), params["course_id"], params["item_id"]
        )
    except ServiceRefused as refused:
        return _refused(refused.status, refused.code, refused.message)
    url = item_url(request, item)
    answer = []
    for score, subject in found:
        result: dict[str, Any] = {
            "id": f"{url}/results/{subject}",
            "scoreOf": url,
            "userId": subject,
        }
        if score.score_given is not None and score.score_maximum:
            result["resultScore"] = score.score_given / score.score_maximum * item.score_maximum
            result["resultMaximum"] = item.score_maximum
        if score.comment is not None:
            result["comment"] = score.comment
        answer.append(result)
    return JSONResponse(answer, media_type=RESULTS)


async def memberships(request: Request) -> Response:
    """NRPS 2.0 §2: one page of the context's members, the next page's URL in `Link`."""
    course = request.path_params["course_id"]
    try:
        grant = await _grant(request)
        page = await request.app.state.service.lti_memberships.page(
            grant, course, dict(request.query_params)
        )
    except ServiceRefused as refused:
        return _refused(refused.status, refused.code, refused.message)
    except (PeerUnavailable, ServiceTokenUnavailable):
        return _refused(503, "SERVICE_UNAVAILABLE", "The roster is unavailable; try again.")
    base = request.app.state.runtime.settings.public_service_url("courses")
    url = f"{base}/lti/contexts/{course}/memberships"
    headers = {}
    if page.following is not None:
        limit = request.query_params.get("limit")
        query = urlencode(
            {**({"limit": limit} if limit else {}), "cursor": page.following.encode()}
        )
        headers["Link"] = f'<{url}?{query}>; rel="next"'
    body = {"id": str(request.url), "context": page.context, "members": page.members}
    return JSONResponse(body, headers=headers, media_type=MEMBERSHIPS)


ROUTES = [
    Route("/lti/token", token, methods=["POST"]),
    Route("/lti/contexts/{course_id}/lineitems", line_items, methods=["GET", "POST"]),
    Route(
        "/lti/contexts/{course_id}/lineitems/{item_id}",
        line_item,
        methods=["GET", "PUT", "DELETE"],
    ),
    Route("/lti/contexts/{course_id}/lineitems/{item_id}/scores", scores, methods=["POST"]),
    Route("/lti/contexts/{course_id}/lineitems/{item_id}/results", results, methods=["GET"]),
    Route("/lti/contexts/{course_id}/memberships", memberships, methods=["GET"]),
]
