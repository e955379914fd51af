"""Tokens and principals: who is calling, with which roles and scopes."""

from common.auth.principal import Principal, Role, scopes_for
from common.auth.tokens import TokenIssuer, TokenVerifier

__all__ = ["Principal", "Role", "TokenIssuer", "TokenVerifier", "scopes_for"]
