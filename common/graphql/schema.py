"""Every subgraph's Strawberry Federation v2 schema: client errors and operation limits built in."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from common.graphql.errors import ClientErrors, client_error
from common.graphql.inputs import RefuseMalformedInput

MAX_DEPTH = 15
MAX_TOKENS = 5000
MAX_ALIASES = 50
# Built once: the limiters make new rule classes per instance, and ValidationCache keys on
# the rules, so limiters made per request would never let a validation be reused.
LIMIT_RULES = (
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
)


class ServiceSchema(strawberry.federation.Schema):
    def __init__(self, **kwargs: Any) -> None:
        kwargs["extensions"] = [
            *kwargs.get("extensions", ()),
            ClientErrors,
            lambda: AddValidationRules(list(LIMIT_RULES)),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: ParserCache(maxsize=1000),
            lambda: ValidationCache(maxsize=1000),
            RefuseMalformedInput,  # after ValidationCache: it adds to the validation errors
        ]
        super().__init__(**kwargs)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Rewrite in place: some errors (a query over the token limit) skip the extensions.

        Unexpected errors are logged once by :func:`client_error`; the rest are the client's.
        """
        errors[:] = [client_error(error) for error in errors]
