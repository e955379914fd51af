"""Deep Linking 2.0, the return: the tool posts an LtiDeepLinkingResponse (a JWT signed by
its own key) to ``/lti/deep-linking/return``, and each ltiResourceLink it carries becomes an
LTI link at the end of the module the instructor started from; one carrying a
``lineItem`` becomes a graded link (deep_linked.py). All are placed, or none.

The response is checked as a client assertion is (service_tokens.py): RS256 with a key of
the tool's registration, iss = its client id, our issuer among its audiences, unexpired,
living at most ten minutes, and its nonce used once (a replayed response is refused). Its
``data`` must be the single-use value our request carried (taken from Redis with GETDEL),
issued to this tool: it names the module and the instructor, whose right to edit the
module is checked again when the links are placed.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any, Final

from joserfc import jwt
from joserfc.errors import JoseError
from redis.asyncio import Redis

from common.auth import Principal
from common.auth.keys import SIGNING_ALGORITHM
from common.auth.principal import Role, scopes_for
from common.errors import DomainError, ErrorCode
from subgraphs.courses.lti import vocabulary as lti
from subgraphs.courses.lti.deep_linked import PREFIX, grading_of
from subgraphs.courses.lti.graded import checked
from subgraphs.courses.lti.launch import LaunchRefused, deep_link_key
from subgraphs.courses.lti.models import LtiLinkRow
from subgraphs.courses.lti.service_tokens import (
    LEEWAY_SECONDS,
    MAX_ASSERTION_SECONDS,
    ServiceTokens,
    TokenRefused,
    unverified,
)
from subgraphs.courses.lti.tools import LtiTools, Placement

MAX_RESPONSE_BYTES: Final = 64 * 1024
MAX_ITEMS: Final = 20


def _refused(message: str, status: int = 400) -> LaunchRefused:
    codes = {401: ErrorCode.UNAUTHENTICATED, 403: ErrorCode.FORBIDDEN}
    code = codes.get(status, ErrorCode.BAD_USER_INPUT)
    return LaunchRefused(status, code, message)


class DeepLinkReturns:
    def __init__(
        self, tools: LtiTools, tokens: ServiceTokens, redis: Redis, *, issuer: str
    ) -> None:
        self.tools = tools
        self.tokens = tokens
        self.redis = redis
        self.issuer = issuer

    async def _verified(self, response: str) -> tuple[Any, dict[str, Any]]:
        if not response or len(response) > MAX_RESPONSE_BYTES:
            raise _refused("JWT is missing or too long.")
        try:
            header, claims = unverified(response)
        except TokenRefused:
            raise _refused("JWT is not a JWT.") from None
        client_id = claims.get("iss")
        tool = await self.tools.by_client_id(client_id) if isinstance(client_id, str) else None
        if tool is None or header.get("alg") != SIGNING_ALGORITHM:
            raise _refused("The response's issuer is not a known tool, or not RS256.", 401)
        kid = header.get("kid")
        key = await self.tokens.tool_key(tool, kid if isinstance(kid, str) else None)
        if key is None:
            raise _refused("The response is not signed by the tool's key.", 401)
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": tool.client_id},
            exp={"essential": True},
            nonce={"essential": True},
        )
        try:
            decoded = jwt.decode(response, key, algorithms=[SIGNING_ALGORITHM])
            registry.validate(decoded.claims)
        except JoseError:
            raise _refused("The response did not verify or has expired.", 401) from None
        verified = decoded.claims
        audience = verified.get("aud")
        if self.issuer not in (audience if isinstance(audience, list) else [audience]):
            raise _refused("The response is not for this platform.", 401)
        if float(verified["exp"]) > time.time() + MAX_ASSERTION_SECONDS:
            raise _refused("The response lives too long.", 401)
        if verified.get(lti.MESSAGE_TYPE) != lti.DEEP_LINKING_RESPONSE:
            raise _refused(f"message_type must be {lti.DEEP_LINKING_RESPONSE}.")
        if verified.get(lti.DEPLOYMENT_ID) not in tool.deployment_ids:
            raise _refused("deployment_id is not one of the tool's.")
        digest = hashlib.sha256(f"{tool.client_id}\n{verified['nonce']}".encode()).hexdigest()
        ttl = max(1, int(float(verified["exp"]) - time.time()) + LEEWAY_SECONDS)
        if not await self.redis.set(f"lms:lti:dl-nonce:{digest}", "1", nx=True, ex=ttl):
            raise _refused("This response was used already.")
        return tool, verified

    async def receive(self, response: str) -> list[LtiLinkRow]:
        """Place the response's resource links; the links made, in order."""
        tool, claims = await self._verified(response)
        data = claims.get(lti.DEEP_LINKING_DATA)
        raw = await self.redis.getdel(deep_link_key(data)) if isinstance(data, str) else None
        if raw is None:
            raise _refused("data is not a deep linking request of ours, or was used already.")
        pending: Mapping[str, Any] = json.loads(raw)
        if pending["client_id"] != tool.client_id:
            raise _refused("This deep linking request was for another tool.", 403)
        items = claims.get(lti.CONTENT_ITEMS) or []
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise _refused(f"content_items must be a list of at most {MAX_ITEMS}.")
        if not all(
            isinstance(each, dict) and each.get("type") == "ltiResourceLink" for each in items
        ):
            raise _refused("Only ltiResourceLink content items are accepted.")
        roles = frozenset(Role(each) for each in pending["roles"])
        instructor = Principal(
            user_id=uuid.UUID(pending["user_id"]),
            roles=roles,
            scopes=scopes_for(roles),
            token_id="lti-deep-linking",
        )
        release = pending.get("release_grades_immediately", True) is not False
        picked: list[Placement] = []
        for number, item in enumerate(items, start=1):
            title, url = item.get("title") or tool.name, item.get("url")
            if not isinstance(title, str) or not (url is None or isinstance(url, str)):
                raise _refused("A content item's title and url must be strings.")
            try:
                grading = grading_of(item, release_immediately=release)
                if grading is not None:  # checked again when placed; here, with its number
                    checked(grading, title[:200], prefix=PREFIX)
            except DomainError as error:
                raise _refused(f"Content item {number}: {error.message}") from None
            picked.append(Placement(title[:200], url, grading=grading, prefix=PREFIX))
        try:
            return await self.tools.place_all(
                instructor,
                uuid.UUID(pending["module_id"]),
                tool.id,
                picked,
                deployment_id=pending["deployment_id"],
            )
        except DomainError as error:
            status = 403 if error.code == ErrorCode.FORBIDDEN else 400
            raise _refused(error.message, status) from None
