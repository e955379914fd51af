"""`cors:`, in Apollo Router's shape: `policies`, each a set of origins (exact, or regular
expressions matched against the whole origin) with its own overrides of the section's
`allow_credentials`, `allow_headers`, `expose_headers`, `methods` and `max_age`.

Refused at load, as Apollo Router refuses them: `*` among the origins (that is
`allow_any_origin`), credentials with `allow_any_origin` or with a `*` header or method list.
This router also refuses what can never match: an origin with a path (`https://app.example/`
is not the origin `https://app.example`), the origin `null` (sandboxed pages and files: allow
any origin instead, without credentials), and a regular expression that does not compile."""

import re

from pydantic import Field, field_validator, model_validator

from router.config.base import Duration, Section

# The platform's browser apps while developing (a Node dev server on 3000, Vite on 5173, by
# name and by address); GraphiQL is served by the router itself and needs no CORS.
DEV_ORIGINS = (
    "http://localhost:3000",
    "http://127.0.0.1:3000",
    "http://localhost:5173",
    "http://127.0.0.1:5173",
)
_ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#\s]+$", re.IGNORECASE)
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP header name or method


def _check_tokens(section: "CorsPolicy | CorsSection") -> None:
    for key, what in (
        ("allow_headers", "header name"),
        ("expose_headers", "header name"),
        ("methods", "method"),
    ):
        for value in getattr(section, key) or ():
            if value != "*" and not _TOKEN.match(value):
                raise ValueError(f"{key}: {value!r} is not a valid {what}")


class CorsPolicy(Section):
    origins: tuple[str, ...] = Field(default=(), description="origins allowed, exactly")
    match_origins: tuple[str, ...] = Field(
        default=(), description="regular expressions an origin must match as a whole"
    )
    allow_credentials: bool | None = Field(
        default=None, description="this policy's own `allow_credentials` (else the section's)"
    )
    allow_headers: tuple[str, ...] | None = None
    expose_headers: tuple[str, ...] | None = None
    methods: tuple[str, ...] | None = None
    max_age: Duration | None = None

    @field_validator("origins")
    @classmethod
    def _origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            if origin == "*":
                raise ValueError("use `allow_any_origin: true` to allow any origin, not '*'")
            if origin == "null":
                raise ValueError("the origin 'null' cannot be allowed (use `allow_any_origin`)")
            if not _ORIGIN.match(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: scheme://host[:port], without a path "
                    "or a trailing slash"
                )
        return origins

    @field_validator("match_origins")
    @classmethod
    def _patterns(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as problem:
                raise ValueError(f"{pattern!r} is not a regular expression: {problem}") from None
        return patterns

    @model_validator(mode="after")
    def _tokens(self) -> "CorsPolicy":
        _check_tokens(self)
        return self


class CorsSection(Section):
    allow_any_origin: bool = Field(
        default=False,
        description="answer `Access-Control-Allow-Origin: *` (never with credentials)",
    )
    allow_credentials: bool = False
    allow_headers: tuple[str, ...] = Field(
        default=(), description="when empty, a preflight's requested headers are allowed"
    )
    expose_headers: tuple[str, ...] = ()
    methods: tuple[str, ...] = ("GET", "POST", "OPTIONS")
    max_age: Duration | None = None
    policies: tuple[CorsPolicy, ...] = Field(
        default=(CorsPolicy(origins=DEV_ORIGINS, allow_credentials=True),),
        description="the first policy whose origins or match_origins admit an origin applies",
    )

    @model_validator(mode="after")
    def _consistent(self) -> "CorsSection":
        _check_tokens(self)
        # The default policy (the dev origins, with credentials) gives way to allow_any_origin;
        # credentials asked for explicitly never do.
        named = self.policies if "policies" in self.model_fields_set else ()
        if self.allow_any_origin and (
            self.allow_credentials or any(p.allow_credentials for p in named)
        ):
            raise ValueError(
                "`allow_any_origin: true` cannot go with `allow_credentials: true`: "
                "name the origins that may send credentials in `policies`"
            )
        scopes: tuple[CorsSection | CorsPolicy, ...] = (self, *self.policies)
        for policy in scopes:
            credentials = policy.allow_credentials
            if credentials or (credentials is None and self.allow_credentials):
                for key in ("allow_headers", "expose_headers", "methods"):
                    if "*" in (getattr(policy, key) or ()):
                        raise ValueError(f"`{key}: ['*']` cannot go with credentials")
        return self
