"""`cors:`, in Apollo Router's shape (its `policies` list, and the older flat keys)."""

from pydantic import Field

from router.config.base import Duration, Section

DEV_ORIGINS = ("http://localhost:3000", "http://127.0.0.1:3000")


class CorsPolicy(Section):
    origins: tuple[str, ...] = ()
    match_origins: tuple[str, ...] = Field(
        default=(), description="regular expressions an origin must match as a whole"
    )
    allow_credentials: bool | None = None
    allow_headers: tuple[str, ...] | None = None
    expose_headers: tuple[str, ...] | None = None
    methods: tuple[str, ...] | None = None
    max_age: Duration | None = None


class CorsSection(Section):
    allow_any_origin: bool = False
    allow_credentials: bool = False
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    methods: tuple[str, ...] = ("GET", "POST", "OPTIONS")
    max_age: Duration | None = None
    policies: tuple[CorsPolicy, ...] = (CorsPolicy(origins=DEV_ORIGINS),)
