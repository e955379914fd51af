"""`authentication:` and `authorization:`, in Apollo Router's shape."""

from pydantic import AnyHttpUrl

from router.config.base import Duration, Section


class JwksSource(Section):
    url: AnyHttpUrl
    issuer: str | None = None
    audiences: tuple[str, ...] = ()
    algorithms: tuple[str, ...] = ("RS256",)
    poll_interval: Duration = 60.0


class Jwt(Section):
    jwks: tuple[JwksSource, ...]
    header_name: str = "authorization"
    header_value_prefix: str = "Bearer"
    leeway: Duration = 30.0


class ApiKeys(Section):
    """This router's own: an `X-API-Key` traded for an access token at ``url``."""

    url: AnyHttpUrl
    cache_for: Duration = 60.0


class AuthenticationRouter(Section):
    jwt: Jwt | None = None
    api_keys: ApiKeys | None = None


class AuthenticationSection(Section):
    router: AuthenticationRouter = AuthenticationRouter()


class Directives(Section):
    enabled: bool = True
    reject_unauthorized: bool = False


class AuthorizationSection(Section):
    require_authentication: bool = False
    directives: Directives = Directives()
    # this router's own: a @policy name → CLAIM:VALUE it stands for
    policies: dict[str, str] = {}
