from __future__ import annotations

import re

import pytest

from common.settings import Settings, SettingsError


def test_defaults_describe_a_local_dev_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "LMS_ENV",
        "LMS_PG_PORT",
        "LMS_USERS_PORT",
        "LMS_NOTIFICATIONS_PORT",
        "LMS_PG_ADMIN_PASSWORD",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert settings.pg_port == 5433
    assert settings.service_url("users") == "http://127.0.0.1:8081/graphql"
    assert settings.ports["notifications"] == 8085


def test_secrets_are_required_outside_development_where_they_are_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A service is given only its own secrets: the others' are not asked of it."""
    monkeypatch.setenv("LMS_ENV", "production")
    for variable in (
        "LMS_PG_ADMIN_PASSWORD",
        "LMS_PG_SERVICE_PASSWORD",
        "LMS_PG_PASSWORD_COURSES",
        "LMS_DOWNLOAD_SECRET",
        "LMS_CLIENT_SECRET_NOTIFICATIONS",
        "LMS_CLIENT_SECRET_SHA256_NOTIFICATIONS",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LMS_PG_PASSWORD_USERS", "users-own")
    settings = Settings.from_env()
    assert settings.pg_password("users") == "users-own"
    with pytest.raises(SettingsError, match="LMS_PG_ADMIN_PASSWORD must be set"):
        settings.secret("pg_admin_password")
    with pytest.raises(SettingsError, match="LMS_DOWNLOAD_SECRET must be set"):
        settings.secret("download_secret")
    with pytest.raises(SettingsError, match=r"LMS_PG_PASSWORD_COURSES \(or LMS_PG_SERVICE"):
        settings.pg_password("courses")
    with pytest.raises(SettingsError, match="LMS_CLIENT_SECRET_NOTIFICATIONS must be set"):
        settings.client_secret("notifications")
    with pytest.raises(SettingsError, match="LMS_CLIENT_SECRET_SHA256_NOTIFICATIONS must be"):
        settings.client_secret_sha256("notifications")
    monkeypatch.setenv("LMS_CLIENT_SECRET_SHA256_NOTIFICATIONS", "ab" * 31)
    with pytest.raises(SettingsError, match="SHA-256 digest in hex"):
        settings.client_secret_sha256("notifications")


def test_malformed_numbers_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_PG_PORT", "five")
    with pytest.raises(SettingsError, match="LMS_PG_PORT must be an integer"):
        Settings.from_env()


def test_per_service_password_overrides_the_shared_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_PG_SERVICE_PASSWORD", "shared")
    monkeypatch.setenv("LMS_PG_PASSWORD_USERS", "own")
    settings = Settings.from_env()
    assert settings.pg_password("users") == "own"
    assert settings.pg_password("courses") == "shared"


def test_log_level_is_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_LOG_LEVEL", "warning")
    assert Settings.from_env().log_level == "WARNING"


def test_trusted_proxies_are_addresses_and_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_TRUSTED_PROXIES", "10.0.0.0/8, ::1")
    trusted = Settings.from_env().trusted_proxies
    assert [str(each) for each in trusted] == ["10.0.0.0/8", "::1/128"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "LMS_TRACING_EXPORTER",
            "jaeger",
            "LMS_TRACING_EXPORTER must be one of none, zipkin, otlp",
        ),
        ("LMS_TRACE_SAMPLE_RATIO", "1.5", "LMS_TRACE_SAMPLE_RATIO must be a number from 0 to 1"),
        ("LMS_TRACE_SAMPLE_RATIO", "half", "LMS_TRACE_SAMPLE_RATIO must be a number from 0 to 1"),
        ("LMS_ZIPKIN_ENDPOINT", "zipkin:9411", "LMS_ZIPKIN_ENDPOINT must be an http(s) URL"),
    ],
)
def test_bad_tracing_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings.from_env()


def test_linking_by_email_is_each_providers_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_OIDC_PROVIDERS", "school,partner")
    for name in ("SCHOOL", "PARTNER"):
        monkeypatch.setenv(f"LMS_OIDC_{name}_ISSUER", "https://sso.example.org")
        monkeypatch.setenv(f"LMS_OIDC_{name}_CLIENT_ID", "lms")
    monkeypatch.setenv("LMS_OIDC_PARTNER_LINK_BY_EMAIL", "true")
    providers = Settings.from_env().sign_in_providers
    assert [(p.name, p.link_by_email) for p in providers] == [("school", False), ("partner", True)]
    monkeypatch.setenv("LMS_OIDC_PARTNER_LINK_BY_EMAIL", "sometimes")
    with pytest.raises(SettingsError, match="LMS_OIDC_PARTNER_LINK_BY_EMAIL must be true or false"):
        Settings.from_env()


def saml_idp(monkeypatch: pytest.MonkeyPatch, **variables: str) -> None:
    for name in ("LMS_SAML_SP_KEY_FILE", "LMS_SAML_SP_CERT_FILE"):  # a test session's
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LMS_SAML_IDPS", "uni")
    monkeypatch.setenv("LMS_SAML_UNI_METADATA", "/etc/lms/uni.xml")
    monkeypatch.setenv("LMS_SAML_UNI_ENTITY_ID", "https://idp.uni.example/idp")
    for name, value in variables.items():
        monkeypatch.setenv(f"LMS_SAML_UNI_{name}", value)


def test_a_saml_idp_with_its_attribute_and_role_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    saml_idp(monkeypatch, ROLES_ATTRIBUTE="eduPersonAffiliation", ROLES="faculty=INSTRUCTOR")
    monkeypatch.setenv("LMS_USERS_PORT", "9001")
    saml = Settings.from_env().saml
    [idp] = saml.identity_providers
    assert (idp.email_attribute, idp.name_attribute) == ("mail", "displayName")
    assert idp.roles == (("faculty", "INSTRUCTOR"),)
    assert (idp.sign_requests, idp.link_by_email) == (False, False)
    assert saml.acs_url == "http://127.0.0.1:9001/saml/acs"
    assert saml.entity_id == "http://127.0.0.1:9001/saml/metadata"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"ROLES": "staff=ADMIN"}, "LMS_SAML_UNI_ROLES must be value=ROLE pairs"),
        ({"ROLES": "=INSTRUCTOR"}, "LMS_SAML_UNI_ROLES must be value=ROLE pairs"),
        (
            {"METADATA": "http://idp.uni.example/md"},
            "must be a file or an https URL (http: loopback only)",
        ),
        ({"SIGN_REQUESTS": "true"}, "LMS_SAML_SP_KEY_FILE and LMS_SAML_SP_CERT_FILE must be set"),
        ({"SIGN_REQUESTS": "maybe"}, "LMS_SAML_UNI_SIGN_REQUESTS must be true or false"),
    ],
)
def test_bad_saml_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], message: str
) -> None:
    saml_idp(monkeypatch, **variables)
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings.from_env()


def test_a_saml_idp_needs_its_entity_id_and_its_own_name(monkeypatch: pytest.MonkeyPatch) -> None:
    saml_idp(monkeypatch)
    monkeypatch.delenv("LMS_SAML_UNI_ENTITY_ID")
    with pytest.raises(SettingsError, match="LMS_SAML_UNI_ENTITY_ID must be set"):
        Settings.from_env()
    saml_idp(monkeypatch)
    monkeypatch.setenv("LMS_OIDC_PROVIDERS", "uni")
    monkeypatch.setenv("LMS_OIDC_UNI_ISSUER", "https://sso.example.org")
    monkeypatch.setenv("LMS_OIDC_UNI_CLIENT_ID", "lms")
    with pytest.raises(SettingsError, match="already an OpenID provider's name"):
        Settings.from_env()
