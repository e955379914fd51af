"""`authentication:` and `authorization:`, in Apollo Router's shape."""

from pydantic import AnyHttpUrl, Field, model_validator

from router.config.base import Duration, Section


class JwksSource(Section):
    url: AnyHttpUrl = Field(description="where the signing keys are published (a JWKS)")
    issuer: str = Field(description="the `iss` tokens must carry")
    audiences: tuple[str] = Field(
        description="the `aud` tokens must carry (this router takes exactly one)"
    )
    algorithms: tuple[str, ...] = Field(
        default=("RS256",), description="signing algorithms accepted (asymmetric only)"
    )
    poll_interval: Duration = Field(
        default=300.0, description="how long a fetched key set is kept before it is fetched again"
    )


class Jwt(Section):
    jwks: tuple[JwksSource, ...] = Field(
        min_length=1,
        description="key sets; all must name the same issuer, audience and algorithms",
    )
    leeway: Duration = Field(
        default=30.0, description="this router's own: clock skew allowed on exp and nbf"
    )

    @model_validator(mode="after")
    def _one_issuer(self) -> "Jwt":
        first = self.jwks[0]
        for source in self.jwks[1:]:
            same = (source.issuer, source.audiences, source.algorithms, source.poll_interval)
            if same != (first.issuer, first.audiences, first.algorithms, first.poll_interval):
                raise ValueError(
                    "every jwks entry must name the same issuer, audiences, algorithms and "
                    "poll_interval here"
                )
        return self


class ApiKeys(Section):
    """This router's own: an `X-API-Key` traded for an access token at ``url``."""

    url: AnyHttpUrl = Field(description="where an X-API-Key is traded for an access token")
    cache_for: Duration = Field(
        default=60.0,
        description="how long a traded key is remembered (how long a revoked key lingers)",
    )


class AuthenticationRouter(Section):
    jwt: Jwt | None = Field(
        default=None,
        description="verify `Authorization: Bearer` access tokens (JWT); a bad token is 401",
    )
    api_keys: ApiKeys | None = Field(default=None, description="needs `jwt`")


class AuthenticationSection(Section):
    router: AuthenticationRouter = AuthenticationRouter()

    @model_validator(mode="after")
    def _keys_need_tokens(self) -> "AuthenticationSection":
        if self.router.api_keys is not None and self.router.jwt is None:
            raise ValueError("router.api_keys needs router.jwt (a key is traded for a token)")
        return self


class Directives(Section):
    reject_unauthorized: bool = Field(
        default=False,
        description="refuse a whole operation asking for anything the caller may not read "
        "(otherwise those fields are null, each with an error)",
    )


class AuthorizationSection(Section):
    directives: Directives = Directives()
    policies: dict[str, str] = Field(
        default={},
        description="this router's own: a @policy name -> CLAIM:VALUE, holding when the "
        "token's CLAIM is or contains VALUE (a policy named CLAIM:VALUE needs no entry; any "
        "other is denied)",
    )
