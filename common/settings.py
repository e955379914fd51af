"""Typed settings read from the environment: the one place every knob is defined.

Each field documents its variable and default; ``lms settings`` prints the table that the
README's configuration section is made from. Secrets have development defaults only while
``LMS_ENV`` is ``dev`` or ``test``; in any other environment they must be set.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Final

from authlib.common.security import is_secure_transport

from common.addresses import Network, networks
from common.saml_settings import Reader, SamlServiceProvider, service_provider

SERVICES: Final = (
    "users",
    "courses",
    "enrollments",
    "assessments",
    "notifications",
    "analytics",
)
DEFAULT_PORTS: Final = {name: 8081 + index for index, name in enumerate(SERVICES)}
DEV_ENVIRONMENTS: Final = frozenset({"dev", "test"})
ENVIRONMENTS: Final = ("dev", "test", "production")
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TRACING_EXPORTERS: Final = ("none", "zipkin", "otlp")
BOOLEANS: Final = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
MAX_PORT: Final = 65535
MASK: Final = "****"
URL_PASSWORD: Final = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/@:]*:)[^/@]+@", re.IGNORECASE)
PROVIDER_NAME: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?")
# base64 of b"dev-only-mfa-key-not-for-prod!!!": used only while LMS_ENV is dev or test.
DEV_MFA_ENCRYPTION_KEY: Final = "ZGV2LW9ubHktbWZhLWtleS1ub3QtZm9yLXByb2QhISE="


class SettingsError(ValueError):
    """A variable is missing or malformed; the message names it."""


def _env(name: str, default: str, *, secret: bool = False) -> str:
    value = os.environ.get(name)
    if value is not None and value != "":
        return value
    if secret and os.environ.get("LMS_ENV", "dev") not in DEV_ENVIRONMENTS:
        raise SettingsError(f"{name} must be set outside development (LMS_ENV is not dev/test)")
    return default


def _int(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    """An integer within ``minimum``..``maximum`` (inclusive); the error names the variable."""
    raw = _env(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        raise SettingsError(f"{name} must be {bounds}, got {value}")
    return value


def _port(name: str, default: int) -> int:
    return _int(name, default, minimum=1, maximum=MAX_PORT)


def _positive(name: str, default: int) -> int:
    return _int(name, default, minimum=1)


def _choice(name: str, default: str, choices: tuple[str, ...], *, upper: bool = False) -> str:
    value = _env(name, default).upper() if upper else _env(name, default)
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _http_url(name: str, default: str) -> str:
    value = _env(name, default)
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise SettingsError(f"{name} must be an http(s) URL, got {value!r}")
    return value


def _ratio(name: str, default: str) -> float:
    raw = _env(name, default)
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise SettingsError(f"{name} must be a number from 0 to 1, got {raw!r}")
    return value


def _bool(name: str, default: str) -> bool:
    raw = _env(name, default)
    try:
        return BOOLEANS[raw.lower()]
    except KeyError:
        raise SettingsError(f"{name} must be true or false, got {raw!r}") from None


def _int_list(name: str, default: str) -> tuple[int, ...]:
    raw = _env(name, default)
    try:
        values = tuple(int(item) for item in raw.split(",") if item.strip())
    except ValueError:
        raise SettingsError(f"{name} must be integers separated by commas, got {raw!r}") from None
    if any(value <= 0 for value in values):
        raise SettingsError(f"{name} must be positive")
    return values


def _secret(name: str, dev_default: str) -> str:
    """A secret only some services are given: outside development an unset one is empty,
    and refused where it is used (Settings.secret), so that each service is given only its
    own secrets."""
    value = os.environ.get(name)
    if value:
        return value
    return dev_default if os.environ.get("LMS_ENV", "dev") in DEV_ENVIRONMENTS else ""


def _key_32(name: str, default: str) -> str:
    """A secret 256-bit key, given as 32 bytes in base64 (``openssl rand -base64 32``)."""
    raw = _secret(name, default)
    return _checked_key_32(name, raw) if raw else raw


def _checked_key_32(name: str, raw: str) -> str:
    try:
        decoded = base64.b64decode(raw.replace("-", "+").replace("_", "/"), validate=True)
    except (ValueError, binascii.Error):
        decoded = b""
    if len(decoded) != 32:
        raise SettingsError(f"{name} must be 32 random bytes in base64 (openssl rand -base64 32)")
    return raw


def _names(name: str, default: str) -> tuple[str, ...]:
    """A comma-separated list, blanks dropped."""
    return tuple(item.strip() for item in _env(name, default).split(",") if item.strip())


def _networks(name: str, default: str) -> tuple[Network, ...]:
    try:
        return networks(_names(name, default))
    except ValueError as error:
        raise SettingsError(
            f"{name} must be IP addresses or networks, got {error.args[0]!r}"
        ) from None


def _sign_in_provider(name: str) -> SignInProvider:
    if not PROVIDER_NAME.fullmatch(name):
        raise SettingsError(
            f"LMS_OIDC_PROVIDERS: {name!r} is not a provider name (a-z, 0-9 and dashes)"
        )
    prefix = f"LMS_OIDC_{name.upper().replace('-', '_')}_"
    issuer = _env(prefix + "ISSUER", "").rstrip("/")
    client_id = _env(prefix + "CLIENT_ID", "")
    client_secret = _env(prefix + "CLIENT_SECRET", "")
    for variable, value in (("ISSUER", issuer), ("CLIENT_ID", client_id)):
        if not value:
            raise SettingsError(f"{prefix}{variable} must be set for sign-in provider {name}")
    if not is_secure_transport(issuer):
        raise SettingsError(f"{prefix}ISSUER must be an https URL (or http on loopback)")
    return SignInProvider(
        name=name,
        display_name=_env(prefix + "DISPLAY_NAME", name),
        issuer=issuer,
        client_id=client_id,
        client_secret=client_secret,
        link_by_email=_bool(prefix + "LINK_BY_EMAIL", "false"),
    )


def setting(variable: str, doc: str, *, secret: bool = False) -> dict[str, str | bool]:
    return {"variable": variable, "doc": doc, "secret": secret}


@dataclass(frozen=True, slots=True)
class SignInProvider:
    """An external OpenID Connect provider people may sign in with (see
    subgraphs/users/external_sign_in.py): found by discovery from its issuer."""

    name: str  # lower-case letters, digits and dashes: what clients pass as provider
    display_name: str
    issuer: str
    client_id: str
    client_secret: str
    # A first sign-in may link to the account with the provider's verified email (never
    # to one with a role beyond STUDENT or a second factor: those confirm the link signed in)
    link_by_email: bool = False

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Settings:
    env: str = field(metadata=setting("LMS_ENV", "dev, test or production"))
    host: str = field(metadata=setting("LMS_HOST", "address the services listen on"))
    state_dir: Path = field(
        metadata=setting("LMS_STATE_DIR", "local servers' data, keys and logs (dev run)")
    )
    log_level: str = field(metadata=setting("LMS_LOG_LEVEL", "DEBUG, INFO, WARNING, ERROR"))
    tracing_exporter: str = field(
        metadata=setting("LMS_TRACING_EXPORTER", "where spans go: none, zipkin or otlp")
    )
    zipkin_endpoint: str = field(
        metadata=setting("LMS_ZIPKIN_ENDPOINT", "Zipkin's span collector (JSON v2)")
    )
    otlp_endpoint: str = field(
        metadata=setting("LMS_OTLP_ENDPOINT", "OTLP/HTTP traces endpoint of a collector")
    )
    trace_sample_ratio: float = field(
        metadata=setting(
            "LMS_TRACE_SAMPLE_RATIO",
            "share of new traces recorded, 0 to 1 (a sampled or unsampled parent is followed)",
        )
    )
    slow_resolver_ms: int = field(
        metadata=setting("LMS_TRACE_SLOW_RESOLVER_MS", "resolvers slower than this get a span")
    )
    pg_host: str = field(metadata=setting("LMS_PG_HOST", "PostgreSQL host"))
    pg_port: int = field(metadata=setting("LMS_PG_PORT", "PostgreSQL port"))
    pg_database: str = field(metadata=setting("LMS_PG_DATABASE", "the one database"))
    pg_admin_user: str = field(metadata=setting("LMS_PG_ADMIN_USER", "role that provisions"))
    pg_admin_password: str = field(
        metadata=setting("LMS_PG_ADMIN_PASSWORD", "its password (secret)", secret=True)
    )
    pg_service_password: str = field(
        metadata=setting(
            "LMS_PG_SERVICE_PASSWORD",
            "password of each subgraph's role; LMS_PG_PASSWORD_<SERVICE> overrides (secret)",
            secret=True,
        )
    )
    pg_pool_size: int = field(metadata=setting("LMS_PG_POOL_SIZE", "connections per service"))
    redis_port: int = field(metadata=setting("LMS_REDIS_PORT", "Redis port (dev run)"))
    redis_url: str = field(metadata=setting("LMS_REDIS_URL", "Redis URL"))
    amqp_port: int = field(metadata=setting("LMS_AMQP_PORT", "RabbitMQ port (dev run)"))
    amqp_url: str = field(metadata=setting("LMS_AMQP_URL", "RabbitMQ URL"))
    jwt_issuer: str = field(metadata=setting("LMS_JWT_ISSUER", "iss of access tokens"))
    jwt_audience: str = field(metadata=setting("LMS_JWT_AUDIENCE", "aud of access tokens"))
    jwt_private_key_file: Path = field(
        metadata=setting(
            "LMS_JWT_PRIVATE_KEY_FILE",
            "PEM signing key of the users subgraph; generated in dev when absent (secret)",
        )
    )
    certificate_key_file: Path = field(
        metadata=setting(
            "LMS_CERTIFICATE_KEY_FILE",
            "PEM key the enrollments subgraph signs certificates with; generated in dev (secret)",
        )
    )
    lti_key_file: Path = field(
        metadata=setting(
            "LMS_LTI_KEY_FILE",
            "PEM key the courses subgraph signs LTI launches with; generated in dev (secret)",
        )
    )
    lti_previous_key_files: tuple[Path, ...] = field(
        metadata=setting(
            "LMS_LTI_PREVIOUS_KEY_FILES",
            "earlier LTI keys, comma-separated, still published in the JWKS during a rotation",
        )
    )
    token_url: str = field(
        metadata=setting(
            "LMS_TOKEN_URL",
            "where a service trades its client credentials for an access token; the secret of "
            "each is LMS_CLIENT_SECRET_<SERVICE> (secret), which the users subgraph checks "
            "against LMS_CLIENT_SECRET_SHA256_<SERVICE> (hex)",
        )
    )
    jwks_url: str = field(metadata=setting("LMS_JWKS_URL", "where services fetch public keys"))
    access_token_ttl: int = field(
        metadata=setting("LMS_ACCESS_TOKEN_TTL", "access token lifetime, seconds")
    )
    refresh_token_ttl: int = field(
        metadata=setting("LMS_REFRESH_TOKEN_TTL", "refresh token lifetime, seconds")
    )
    clock_skew: int = field(metadata=setting("LMS_CLOCK_SKEW", "seconds of leeway on exp/nbf"))
    ports: dict[str, int] = field(
        metadata=setting(
            "LMS_<SERVICE>_PORT", "port of each subgraph (users 8081 … analytics 8086)"
        )
    )
    peer_urls: dict[str, str] = field(
        metadata=setting(
            "LMS_<SERVICE>_URL", "GraphQL URL other services call a subgraph at (peers)"
        )
    )
    router_port: int = field(metadata=setting("LMS_ROUTER_PORT", "port of the router"))
    prometheus_port: int = field(
        metadata=setting("LMS_PROMETHEUS_PORT", "port of Prometheus (`lms dev --with-monitoring`)")
    )
    sign_in_failures_per_account: int = field(
        metadata=setting(
            "LMS_SIGN_IN_FAILURES_PER_ACCOUNT",
            "failed sign-ins to one account from one client address (and wrong codes or "
            "current passwords for one user) before a lockout",
        )
    )
    sign_in_guesses_per_account_hour: int = field(
        metadata=setting(
            "LMS_SIGN_IN_GUESSES_PER_ACCOUNT_HOUR",
            "wrong passwords an account takes an hour from addresses it has not signed in "
            "from; growing delays past half, never a lockout",
        )
    )
    sign_in_failures_per_address: int = field(
        metadata=setting(
            "LMS_SIGN_IN_FAILURES_PER_ADDRESS", "failed sign-ins from one client address"
        )
    )
    api_key_failures_per_address: int = field(
        metadata=setting(
            "LMS_API_KEY_FAILURES_PER_ADDRESS",
            "refused API keys from one client address (15 minutes) before a lockout",
        )
    )
    registrations_per_address_hour: int = field(
        metadata=setting(
            "LMS_REGISTRATIONS_PER_ADDRESS_HOUR", "accounts registered from one client address"
        )
    )
    welcomes_per_email_day: int = field(
        metadata=setting(
            "LMS_WELCOMES_PER_EMAIL_DAY",
            "welcome e-mails to one e-mail address a day (accounts opened past it get none)",
        )
    )
    # --- e-mail verification and password reset (subgraphs/users/email_links.py) ---
    account_link_url: str = field(
        metadata=setting(
            "LMS_ACCOUNT_LINK_URL",
            "public base URL of the pages e-mailed links open: <it>/verify-email?token=... "
            "and <it>/reset-password?token=...",
        )
    )
    email_verification_ttl: int = field(
        metadata=setting("LMS_EMAIL_VERIFICATION_TTL", "seconds an e-mail verification link works")
    )
    password_reset_ttl: int = field(
        metadata=setting("LMS_PASSWORD_RESET_TTL", "seconds a password reset link works")
    )
    verification_emails_per_account_hour: int = field(
        metadata=setting(
            "LMS_VERIFICATION_EMAILS_PER_ACCOUNT_HOUR",
            "verification e-mails an account may ask for (re-sends, e-mail changes)",
        )
    )
    password_resets_per_email_hour: int = field(
        metadata=setting(
            "LMS_PASSWORD_RESETS_PER_EMAIL_HOUR", "password resets asked for one e-mail address"
        )
    )
    password_resets_per_address_hour: int = field(
        metadata=setting(
            "LMS_PASSWORD_RESETS_PER_ADDRESS_HOUR", "password resets asked from one client address"
        )
    )
    sign_in_lockout: int = field(
        metadata=setting(
            "LMS_SIGN_IN_LOCKOUT", "first lockout, seconds; doubles with each further failure"
        )
    )
    mfa_encryption_key: str = field(
        metadata=setting(
            "LMS_MFA_ENCRYPTION_KEY",
            "AES-256-GCM key sealing TOTP secrets at rest: 32 bytes in base64 (secret)",
            secret=True,
        )
    )
    mfa_previous_keys: tuple[str, ...] = field(
        metadata=setting(
            "LMS_MFA_PREVIOUS_ENCRYPTION_KEYS",
            "keys that sealed TOTP secrets before the current one, comma-separated: still "
            "opened, sealed again with the current one on use (lms rotate-mfa-key: all at once)",
            secret=True,
        )
    )
    sign_in_providers: tuple[SignInProvider, ...] = field(
        metadata=setting(
            "LMS_OIDC_PROVIDERS",
            "external OpenID providers by name (a-z, 0-9, -), each configured by "
            "LMS_OIDC_<NAME>_ISSUER, _CLIENT_ID, _CLIENT_SECRET (secret), _DISPLAY_NAME, "
            "_LINK_BY_EMAIL (true: link a first sign-in to a student account by verified email)",
        )
    )
    sign_in_redirect_uris: tuple[str, ...] = field(
        metadata=setting(
            "LMS_OIDC_REDIRECT_URIS",
            "the frontend pages a provider may send people back to (exact match)",
        )
    )
    # SAML 2.0 single sign-on (common/saml_settings.py)
    saml: SamlServiceProvider = field(
        metadata=setting(
            "LMS_SAML_IDPS",
            "SAML identity providers by name (a-z, 0-9, -), each configured by "
            "LMS_SAML_<NAME>_METADATA (file or https URL), _ENTITY_ID, _DISPLAY_NAME, "
            "_EMAIL_ATTRIBUTE, _NAME_ATTRIBUTE, _ROLES_ATTRIBUTE, _ROLES (value=ROLE,…), "
            "_SIGN_REQUESTS, _LINK_BY_EMAIL; our side: LMS_SAML_SP_ENTITY_ID, LMS_SAML_ACS_URL, "
            "LMS_SAML_SP_KEY_FILE, LMS_SAML_SP_CERT_FILE",
        )
    )
    trusted_proxies: tuple[Network, ...] = field(
        metadata=setting(
            "LMS_TRUSTED_PROXIES",
            "addresses or networks whose X-Forwarded-For is believed (the router), nothing else",
        )
    )
    http_head_timeout: int = field(
        metadata=setting("LMS_HTTP_HEAD_TIMEOUT", "seconds a client has to send a request head")
    )
    http_body_timeout: int = field(
        metadata=setting("LMS_HTTP_BODY_TIMEOUT", "seconds a client has to send a request body")
    )

    upload_dir: Path = field(
        metadata=setting("LMS_UPLOAD_DIR", "where lesson attachments are stored (local disk)")
    )
    max_attachment_bytes: int = field(
        metadata=setting("LMS_MAX_ATTACHMENT_BYTES", "largest lesson attachment, bytes")
    )
    submission_grace_seconds: int = field(
        metadata=setting(
            "LMS_SUBMISSION_GRACE_SECONDS",
            "seconds after an attempt's deadline that answers in flight still count",
        )
    )
    # Adaptive testing (subgraphs/assessments/adaptive)
    irt_min_responses: int = field(
        metadata=setting(
            "LMS_IRT_MIN_RESPONSES",
            "responses an item needs before its calibrated parameters are used adaptively",
        )
    )
    calibration_interval_seconds: int = field(
        metadata=setting(
            "LMS_CALIBRATION_INTERVAL_SECONDS",
            "seconds between the assessments worker's item calibrations (0: never)",
        )
    )
    # Semantic search (subgraphs/courses/embedding.py)
    course_embedding_interval_seconds: int = field(
        metadata=setting(
            "LMS_COURSE_EMBEDDING_INTERVAL_SECONDS",
            "seconds between the courses worker's rounds embedding changed courses (0: never)",
        )
    )
    # Code grading (common/grading.py, the grader worker in grader/)
    grader_queue: str = field(
        metadata=setting("LMS_GRADER_QUEUE", "RabbitMQ queue of grading jobs (`lms grader`)")
    )
    grader_timeout_seconds: int = field(
        metadata=setting(
            "LMS_GRADER_TIMEOUT_SECONDS",
            "seconds a submission waits for a grader's result before SERVICE_UNAVAILABLE",
        )
    )
    public_url: str = field(
        metadata=setting(
            "LMS_PUBLIC_URL", "base URL clients reach the services' file routes at (downloads)"
        )
    )
    download_secret: str = field(
        metadata=setting(
            "LMS_DOWNLOAD_SECRET", "HMAC key of signed download links (secret)", secret=True
        )
    )
    data_export_secret: str = field(
        metadata=setting(
            "LMS_DATA_EXPORT_SECRET",
            "HMAC key of data exports' download links (users only; secret)",
            secret=True,
        )
    )
    platform_name: str = field(
        metadata=setting("LMS_PLATFORM_NAME", "name shown as issuer on certificates")
    )
    smtp_host: str = field(
        metadata=setting("LMS_SMTP_HOST", "SMTP server for email notifications; empty: no email")
    )
    smtp_port: int = field(metadata=setting("LMS_SMTP_PORT", "SMTP port"))
    smtp_sender: str = field(metadata=setting("LMS_SMTP_SENDER", "From address of emails"))
    smtp_username: str = field(metadata=setting("LMS_SMTP_USERNAME", "SMTP login; empty: none"))
    smtp_password: str = field(
        metadata=setting("LMS_SMTP_PASSWORD", "SMTP password (secret)", secret=True)
    )
    smtp_starttls: bool = field(
        metadata=setting("LMS_SMTP_STARTTLS", "upgrade SMTP with STARTTLS (true/false)")
    )
    sms_webhook_url: str = field(
        metadata=setting("LMS_SMS_WEBHOOK_URL", "SMS provider adapter endpoint; empty: no SMS")
    )
    push_webhook_url: str = field(
        metadata=setting("LMS_PUSH_WEBHOOK_URL", "push provider adapter endpoint; empty: no push")
    )
    delivery_max_attempts: int = field(
        metadata=setting("LMS_DELIVERY_MAX_ATTEMPTS", "tries per notification delivery")
    )
    delivery_retry_base_ms: int = field(
        metadata=setting(
            "LMS_DELIVERY_RETRY_BASE_MS", "first retry delay, ms; doubles each time (max 5 min)"
        )
    )
    event_retry_delays_ms: tuple[int, ...] = field(
        metadata=setting(
            "LMS_EVENT_RETRY_DELAYS_MS",
            "delays before each retry of a failed event handler, ms (then the dead-letter queue)",
        )
    )
    webhook_secret: str = field(
        metadata=setting(
            "LMS_WEBHOOK_SECRET", "HMAC key signing SMS/push webhooks (secret)", secret=True
        )
    )
    worker_metrics_port: int = field(
        metadata=setting(
            "LMS_WORKER_METRICS_PORT",
            "port a worker (`lms worker NAME`) serves /metrics on, on LMS_HOST; 0: none",
        )
    )
    worker_metrics_interval_ms: int = field(
        metadata=setting(
            "LMS_WORKER_METRICS_INTERVAL_MS",
            "how often a worker measures its outbox and queues for /metrics, ms",
        )
    )
    # Personal data exports (GDPR art. 15/20; subgraphs/users/data_exports.py)
    data_export_ttl: int = field(
        metadata=setting("LMS_DATA_EXPORT_TTL", "seconds a ready data export is kept, then deleted")
    )
    data_export_timeout: int = field(
        metadata=setting(
            "LMS_DATA_EXPORT_TIMEOUT", "seconds an export may wait for every subgraph's part"
        )
    )
    data_exports_per_day: int = field(
        metadata=setting("LMS_DATA_EXPORTS_PER_DAY", "data exports a user may request per day")
    )
    data_export_max_part_bytes: int = field(
        metadata=setting(
            "LMS_DATA_EXPORT_MAX_PART_BYTES", "largest part of an export one subgraph sends, bytes"
        )
    )
    data_export_link_seconds: int = field(
        metadata=setting("LMS_DATA_EXPORT_LINK_SECONDS", "seconds a data export's link works")
    )
    data_export_sweep_seconds: int = field(
        metadata=setting(
            "LMS_DATA_EXPORT_SWEEP_SECONDS",
            "how often the users worker fails late exports and deletes expired ones",
        )
    )
    # Learning analytics (subgraphs/analytics)
    analytics_retention_days: int = field(
        metadata=setting(
            "LMS_ANALYTICS_RETENTION_DAYS",
            "days activity statements are kept; older months' partitions are dropped",
        )
    )
    activities_per_user_minute: int = field(
        metadata=setting(
            "LMS_ACTIVITIES_PER_USER_MINUTE", "recordActivity calls one user may make a minute"
        )
    )
    # At-risk prediction (subgraphs/analytics/at_risk_service.py)
    at_risk_retrain_hours: int = field(
        metadata=setting(
            "LMS_AT_RISK_RETRAIN_HOURS", "hours between the analytics worker's trainings"
        )
    )
    at_risk_rescore_hours: int = field(
        metadata=setting(
            "LMS_AT_RISK_RESCORE_HOURS",
            "hours between scorings of every active enrollment by the active model",
        )
    )
    at_risk_digest_hours: int = field(
        metadata=setting(
            "LMS_AT_RISK_DIGEST_HOURS", "hours between instructors' digests of new at-risk learners"
        )
    )
    at_risk_min_auc: float = field(
        metadata=setting(
            "LMS_AT_RISK_MIN_AUC", "cross-validated AUC a new model needs to be made active"
        )
    )
    at_risk_min_enrollments: int = field(
        metadata=setting(
            "LMS_AT_RISK_MIN_ENROLLMENTS",
            "finished enrollments a training needs (at least 5 of each outcome among them)",
        )
    )
    at_risk_visible_to_learners: bool = field(
        metadata=setting(
            "LMS_AT_RISK_VISIBLE_TO_LEARNERS",
            "whether a learner may read their own at-risk prediction (User.atRisk)",
        )
    )
    analytics_course_cache_seconds: int = field(
        metadata=setting(
            "LMS_ANALYTICS_COURSE_CACHE_SECONDS",
            "seconds the analytics subgraph keeps a caller's answer about a course (who "
            "teaches it, its lessons) for its reads; 0 asks courses every request",
        )
    )

    def service_port(self, service: str) -> int:
        return self.ports[service]

    def service_url(self, service: str) -> str:
        return self.peer_urls[service]

    def public_service_url(self, service: str) -> str:
        """Where a client reaches a service's own routes (file downloads, certificates)."""
        if self.public_url:
            return f"{self.public_url.rstrip('/')}/{service}"
        return f"http://{self.host}:{self.ports[service]}"

    def secret(self, attribute: str) -> str:
        """A secret setting; SettingsError naming its variable where this process was not
        given it (outside development)."""
        value = getattr(self, attribute)
        if not isinstance(value, str) or not value:
            variable = next(
                item.metadata["variable"] for item in fields(self) if item.name == attribute
            )
            raise SettingsError(
                f"{variable} must be set outside development (LMS_ENV is not dev/test)"
            )
        return value

    def pg_password(self, service: str) -> str:
        variable = f"LMS_PG_PASSWORD_{service.upper()}"
        password = _env(variable, self.pg_service_password)
        if not password:
            raise SettingsError(
                f"{variable} (or LMS_PG_SERVICE_PASSWORD) must be set outside development"
            )
        return password

    def client_secret(self, service: str) -> str:
        """The service's own OAuth 2 client secret (only that service is given it)."""
        variable = f"LMS_CLIENT_SECRET_{service.upper()}"
        return _env(variable, f"dev-client-secret-{service}", secret=True)

    def client_secret_sha256(self, service: str) -> bytes:
        """What the users subgraph checks a service's secret against: the SHA-256 in
        LMS_CLIENT_SECRET_SHA256_<SERVICE>, else that of the secret itself (dev and tests)."""
        variable = f"LMS_CLIENT_SECRET_SHA256_{service.upper()}"
        given = _env(variable, "")
        if not given and self.env not in DEV_ENVIRONMENTS:
            raise SettingsError(f"{variable} must be set outside development")
        if not given:
            return hashlib.sha256(self.client_secret(service).encode()).digest()
        try:
            digest = bytes.fromhex(given)
        except ValueError:
            digest = b""
        if len(digest) != hashlib.sha256().digest_size:
            raise SettingsError(f"{variable} must be a SHA-256 digest in hex (64 characters)")
        return digest

    @classmethod
    def from_env(cls) -> Settings:
        env = _choice("LMS_ENV", "dev", ENVIRONMENTS)
        state_dir = Path(_env("LMS_STATE_DIR", ".state")).absolute()
        host = _env("LMS_HOST", "127.0.0.1")
        redis_port = _port("LMS_REDIS_PORT", 6380)
        amqp_port = _port("LMS_AMQP_PORT", 5673)
        ports = {
            name: _port(f"LMS_{name.upper()}_PORT", port) for name, port in DEFAULT_PORTS.items()
        }
        return cls(
            env=env,
            host=host,
            state_dir=state_dir,
            log_level=_choice("LMS_LOG_LEVEL", "INFO", LOG_LEVELS, upper=True),
            tracing_exporter=_choice("LMS_TRACING_EXPORTER", "none", TRACING_EXPORTERS),
            zipkin_endpoint=_http_url("LMS_ZIPKIN_ENDPOINT", "http://127.0.0.1:9411/api/v2/spans"),
            otlp_endpoint=_http_url("LMS_OTLP_ENDPOINT", "http://127.0.0.1:4318/v1/traces"),
            trace_sample_ratio=_ratio("LMS_TRACE_SAMPLE_RATIO", "1.0"),
            slow_resolver_ms=_int("LMS_TRACE_SLOW_RESOLVER_MS", 10),
            pg_host=_env("LMS_PG_HOST", "127.0.0.1"),
            pg_port=_port("LMS_PG_PORT", 5433),
            pg_database=_env("LMS_PG_DATABASE", "lms"),
            pg_admin_user=_env("LMS_PG_ADMIN_USER", "postgres"),
            pg_admin_password=_secret("LMS_PG_ADMIN_PASSWORD", "dev-admin-password"),
            pg_service_password=_secret("LMS_PG_SERVICE_PASSWORD", "dev-service-password"),
            pg_pool_size=_positive("LMS_PG_POOL_SIZE", 10),
            redis_port=redis_port,
            redis_url=_env("LMS_REDIS_URL", f"redis://127.0.0.1:{redis_port}/0"),
            amqp_port=amqp_port,
            amqp_url=_env("LMS_AMQP_URL", f"amqp://guest:guest@127.0.0.1:{amqp_port}/"),
            jwt_issuer=_env("LMS_JWT_ISSUER", "https://lms.local/users"),
            jwt_audience=_env("LMS_JWT_AUDIENCE", "lms"),
            jwt_private_key_file=Path(
                _env("LMS_JWT_PRIVATE_KEY_FILE", str(state_dir / "keys" / "jwt-signing.pem"))
            ),
            certificate_key_file=Path(
                _env(
                    "LMS_CERTIFICATE_KEY_FILE",
                    str(state_dir / "keys" / "certificate-signing.pem"),
                )
            ),
            lti_key_file=Path(
                _env("LMS_LTI_KEY_FILE", str(state_dir / "keys" / "lti-signing.pem"))
            ),
            lti_previous_key_files=tuple(
                Path(each) for each in _names("LMS_LTI_PREVIOUS_KEY_FILES", "")
            ),
            token_url=_env("LMS_TOKEN_URL", f"http://{host}:{ports['users']}/oauth/token"),
            jwks_url=_env("LMS_JWKS_URL", f"http://{host}:{ports['users']}/.well-known/jwks.json"),
            access_token_ttl=_positive("LMS_ACCESS_TOKEN_TTL", 900),
            refresh_token_ttl=_positive("LMS_REFRESH_TOKEN_TTL", 30 * 24 * 3600),
            clock_skew=_int("LMS_CLOCK_SKEW", 30),
            ports=ports,
            peer_urls={
                name: _env(f"LMS_{name.upper()}_URL", f"http://{host}:{port}/graphql")
                for name, port in ports.items()
            },
            router_port=_port("LMS_ROUTER_PORT", 4000),
            prometheus_port=_port("LMS_PROMETHEUS_PORT", 9090),
            sign_in_failures_per_account=_positive("LMS_SIGN_IN_FAILURES_PER_ACCOUNT", 5),
            sign_in_failures_per_address=_positive("LMS_SIGN_IN_FAILURES_PER_ADDRESS", 50),
            sign_in_guesses_per_account_hour=_positive("LMS_SIGN_IN_GUESSES_PER_ACCOUNT_HOUR", 100),
            api_key_failures_per_address=_positive("LMS_API_KEY_FAILURES_PER_ADDRESS", 20),
            registrations_per_address_hour=_positive("LMS_REGISTRATIONS_PER_ADDRESS_HOUR", 10),
            welcomes_per_email_day=_positive("LMS_WELCOMES_PER_EMAIL_DAY", 1),
            account_link_url=_http_url(
                "LMS_ACCOUNT_LINK_URL",
                f"http://{host}:{_port('LMS_ROUTER_PORT', 4000)}/account",
            ),
            email_verification_ttl=_positive("LMS_EMAIL_VERIFICATION_TTL", 24 * 3600),
            password_reset_ttl=_positive("LMS_PASSWORD_RESET_TTL", 30 * 60),
            verification_emails_per_account_hour=_positive(
                "LMS_VERIFICATION_EMAILS_PER_ACCOUNT_HOUR", 3
            ),
            password_resets_per_email_hour=_positive("LMS_PASSWORD_RESETS_PER_EMAIL_HOUR", 3),
            password_resets_per_address_hour=_positive("LMS_PASSWORD_RESETS_PER_ADDRESS_HOUR", 20),
            sign_in_lockout=_positive("LMS_SIGN_IN_LOCKOUT", 30),
            mfa_encryption_key=_key_32("LMS_MFA_ENCRYPTION_KEY", DEV_MFA_ENCRYPTION_KEY),
            mfa_previous_keys=tuple(
                _checked_key_32("LMS_MFA_PREVIOUS_ENCRYPTION_KEYS", each)
                for each in _names("LMS_MFA_PREVIOUS_ENCRYPTION_KEYS", "")
            ),
            upload_dir=Path(_env("LMS_UPLOAD_DIR", str(state_dir / "uploads"))).absolute(),
            max_attachment_bytes=_positive("LMS_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024),
            submission_grace_seconds=_int("LMS_SUBMISSION_GRACE_SECONDS", 5),
            irt_min_responses=_positive("LMS_IRT_MIN_RESPONSES", 100),
            calibration_interval_seconds=_int("LMS_CALIBRATION_INTERVAL_SECONDS", 3600),
            course_embedding_interval_seconds=_int("LMS_COURSE_EMBEDDING_INTERVAL_SECONDS", 5),
            grader_queue=_env("LMS_GRADER_QUEUE", "grader.jobs"),
            grader_timeout_seconds=_positive("LMS_GRADER_TIMEOUT_SECONDS", 30),
            public_url=_env("LMS_PUBLIC_URL", ""),
            download_secret=_secret("LMS_DOWNLOAD_SECRET", "dev-download-secret"),
            data_export_secret=_secret("LMS_DATA_EXPORT_SECRET", "dev-data-export-secret"),
            platform_name=_env("LMS_PLATFORM_NAME", "LMS Platform"),
            smtp_host=_env("LMS_SMTP_HOST", ""),
            smtp_port=_port("LMS_SMTP_PORT", 1025),
            smtp_sender=_env("LMS_SMTP_SENDER", "LMS Platform <no-reply@lms.local>"),
            smtp_username=_env("LMS_SMTP_USERNAME", ""),
            smtp_password=_env("LMS_SMTP_PASSWORD", ""),
            smtp_starttls=_bool("LMS_SMTP_STARTTLS", "false"),
            sms_webhook_url=_env("LMS_SMS_WEBHOOK_URL", ""),
            push_webhook_url=_env("LMS_PUSH_WEBHOOK_URL", ""),
            delivery_max_attempts=_positive("LMS_DELIVERY_MAX_ATTEMPTS", 5),
            delivery_retry_base_ms=_positive("LMS_DELIVERY_RETRY_BASE_MS", 1000),
            event_retry_delays_ms=_int_list("LMS_EVENT_RETRY_DELAYS_MS", "1000,5000,30000,120000"),
            webhook_secret=_secret("LMS_WEBHOOK_SECRET", "dev-webhook-secret"),
            worker_metrics_port=_int("LMS_WORKER_METRICS_PORT", 0, maximum=MAX_PORT),
            worker_metrics_interval_ms=_int("LMS_WORKER_METRICS_INTERVAL_MS", 5000, minimum=100),
            data_export_ttl=_positive("LMS_DATA_EXPORT_TTL", 7 * 24 * 3600),
            data_export_timeout=_positive("LMS_DATA_EXPORT_TIMEOUT", 900),
            data_exports_per_day=_positive("LMS_DATA_EXPORTS_PER_DAY", 3),
            data_export_max_part_bytes=_int(
                "LMS_DATA_EXPORT_MAX_PART_BYTES", 192 * 1024, minimum=1024, maximum=192 * 1024
            ),
            data_export_link_seconds=_positive("LMS_DATA_EXPORT_LINK_SECONDS", 3600),
            data_export_sweep_seconds=_positive("LMS_DATA_EXPORT_SWEEP_SECONDS", 60),
            analytics_retention_days=_positive("LMS_ANALYTICS_RETENTION_DAYS", 730),
            activities_per_user_minute=_positive("LMS_ACTIVITIES_PER_USER_MINUTE", 120),
            at_risk_retrain_hours=_positive("LMS_AT_RISK_RETRAIN_HOURS", 168),
            at_risk_rescore_hours=_positive("LMS_AT_RISK_RESCORE_HOURS", 24),
            at_risk_digest_hours=_positive("LMS_AT_RISK_DIGEST_HOURS", 168),
            at_risk_min_auc=_ratio("LMS_AT_RISK_MIN_AUC", "0.7"),
            at_risk_min_enrollments=_int("LMS_AT_RISK_MIN_ENROLLMENTS", 20, minimum=10),
            at_risk_visible_to_learners=_bool("LMS_AT_RISK_VISIBLE_TO_LEARNERS", "false"),
            analytics_course_cache_seconds=_int(
                "LMS_ANALYTICS_COURSE_CACHE_SECONDS", 10, maximum=300
            ),
            sign_in_providers=tuple(
                _sign_in_provider(name) for name in _names("LMS_OIDC_PROVIDERS", "")
            ),
            sign_in_redirect_uris=_names("LMS_OIDC_REDIRECT_URIS", ""),
            saml=service_provider(
                Reader(_env, _bool, SettingsError),
                _names("LMS_SAML_IDPS", ""),
                # as public_service_url("users") answers
                f"{_env('LMS_PUBLIC_URL', '').rstrip('/')}/users"
                if _env("LMS_PUBLIC_URL", "")
                else f"http://{host}:{ports['users']}",
                lambda name: PROVIDER_NAME.fullmatch(name) is not None,
                _names("LMS_OIDC_PROVIDERS", ""),
            ),
            trusted_proxies=_networks("LMS_TRUSTED_PROXIES", "127.0.0.1,::1"),
            http_head_timeout=_positive("LMS_HTTP_HEAD_TIMEOUT", 10),
            http_body_timeout=_positive("LMS_HTTP_BODY_TIMEOUT", 60),
        )


def describe() -> list[tuple[str, str, str]]:
    """(variable, current value, meaning) for every setting; secrets are masked (``****``),
    and so is the password of any URL (``amqp://guest:****@host/``)."""
    current = Settings.from_env()
    rows = []
    for item in fields(Settings):
        value = getattr(current, item.name)
        shown = (
            ", ".join(f"{k} {v}" for k, v in value.items())
            if isinstance(value, dict)
            else ",".join(str(item) for item in value)
            if isinstance(value, tuple)
            else str(value)
        )
        if item.metadata["secret"] and shown:
            shown = MASK
        rows.append((item.metadata["variable"], mask_url_password(shown), item.metadata["doc"]))
    return rows


def mask_url_password(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``****``."""
    return URL_PASSWORD.sub(lambda match: f"{match['head']}{MASK}@", text)
