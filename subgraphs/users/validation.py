"""Input rules of the users domain; each failure names the field and says what is wrong."""

from __future__ import annotations

import re
import zoneinfo

from common import validation
from common.errors import BadUserInput

EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
LOCALE_PATTERN = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
MIN_PASSWORD = 10
MAX_PASSWORD = 128
MAX_NAME = 100
MAX_BIO = 2000
COMMON_PASSWORDS = frozenset(
    {"password123", "1234567890", "qwertyuiop", "password1234", "iloveyou12", "letmein123"}
)


def email(value: str, *, field: str = "email") -> str:
    cleaned = value.strip()
    local, _, domain = cleaned.rpartition("@")
    if len(cleaned) > 254 or len(local) > 64 or not EMAIL_PATTERN.match(cleaned):
        raise BadUserInput(f"{field} must be a valid address such as ada@example.org.", field=field)
    return f"{local}@{domain.lower()}".lower()


def password(value: str, *, field: str = "password", email_address: str | None = None) -> str:
    if len(value) < MIN_PASSWORD:
        raise BadUserInput(f"{field} must be at least {MIN_PASSWORD} characters.", field=field)
    if len(value) > MAX_PASSWORD:
        raise BadUserInput(f"{field} must be at most {MAX_PASSWORD} characters.", field=field)
    if value.lower() in COMMON_PASSWORDS or len(set(value)) < 4:
        raise BadUserInput(f"{field} is too easy to guess; choose another.", field=field)
    if email_address is not None and value.lower() == email_address.lower():
        raise BadUserInput(f"{field} must not be your email address.", field=field)
    return value


def text(value: str, *, field: str, max_length: int, required: bool) -> str:
    cleaned = value.strip()
    if required and not cleaned:
        raise BadUserInput(f"{field} must not be empty.", field=field)
    if len(cleaned) > max_length:
        raise BadUserInput(f"{field} must be at most {max_length} characters.", field=field)
    if any(ord(char) < 32 and char not in "\n\t" for char in cleaned):
        raise BadUserInput(f"{field} must not contain control characters.", field=field)
    return cleaned


def name(value: str) -> str:
    return text(value, field="name", max_length=MAX_NAME, required=True)


def avatar_url(value: str) -> str:
    return validation.url(value, field="avatarUrl")


def locale(value: str) -> str:
    if not LOCALE_PATTERN.match(value) or len(value) > 35:
        raise BadUserInput("locale must be a BCP 47 tag such as en or pt-BR.", field="locale")
    return value


def timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise BadUserInput(
            "timezone must be an IANA zone such as Europe/Paris.", field="timezone"
        ) from None
    return value


PREFERENCE_KEYS = frozenset({"theme", "marketing_emails", "reduced_motion"})


def profile(changes: dict[str, object]) -> dict[str, object]:
    """Validate the profile fields a client sent; None clears bio and avatarUrl only."""
    checked: dict[str, object] = {}
    for column, value in changes.items():
        if column == "preferences":
            if not isinstance(value, dict) or not set(value) <= PREFERENCE_KEYS:
                raise BadUserInput("preferences must name known settings.", field="preferences")
            checked[column] = value
        elif value is None:
            if column not in ("bio", "avatar_url"):
                raise BadUserInput(
                    f"{_field_name(column)} cannot be null.", field=_field_name(column)
                )
            checked[column] = None
        elif isinstance(value, str):
            checked[column] = _PROFILE_RULES[column](value)
        else:
            raise BadUserInput(
                f"{_field_name(column)} must be a string.", field=_field_name(column)
            )
    return checked


def _bio(value: str) -> str:
    return text(value, field="bio", max_length=MAX_BIO, required=False)


def _field_name(column: str) -> str:
    head, *rest = column.split("_")
    return head + "".join(part.title() for part in rest)


_PROFILE_RULES = {
    "name": name,
    "bio": _bio,
    "avatar_url": avatar_url,
    "locale": locale,
    "timezone": timezone,
}


# Second factor

TOTP_CODE_PATTERN = re.compile(r"^[0-9]{6}$")
# Recovery codes: 16 characters of 32 that cannot be mistaken for one another (no 0/O, 1/I),
# 80 random bits, shown in groups of four: 7KQ2-M9XD-…
RECOVERY_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
RECOVERY_LENGTH = 16
MAX_MFA_TOKEN = 200


def totp_code(value: str, *, field: str = "code") -> str:
    """Six digits; the spaces some apps show in the middle are allowed."""
    cleaned = "".join(value.split())
    if not TOTP_CODE_PATTERN.match(cleaned):
        raise BadUserInput(
            f"{field} must be the 6 digits your authenticator app shows.", field=field
        )
    return cleaned


def recovery_code(value: str) -> str:
    """A recovery code in any case, with or without its dashes and spaces."""
    cleaned = "".join(value.split()).replace("-", "").upper()
    if len(cleaned) != RECOVERY_LENGTH or not set(cleaned) <= set(RECOVERY_ALPHABET):
        raise BadUserInput(
            "recoveryCode must be one of your recovery codes, such as 7KQ2-M9XD-4TPA-HW3N.",
            field="recoveryCode",
        )
    return cleaned


def mfa_token(value: str) -> str:
    cleaned = value.strip()
    if not cleaned or len(cleaned) > MAX_MFA_TOKEN or not cleaned.isascii():
        raise BadUserInput(
            "mfaToken must be the token of the MFA_REQUIRED error that login returned.",
            field="mfaToken",
        )
    return cleaned


def one_proof(*, password: str | None, code: str | None) -> None:
    """Exactly one of a password and a current code."""
    if (password is None) == (code is None):
        raise BadUserInput("Send either password or code (exactly one).", field="password")


def one_second_factor(*, code: str | None, recovery: str | None) -> None:
    if (code is None) == (recovery is None):
        raise BadUserInput("Send either code or recoveryCode (exactly one).", field="code")


EMAIL_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


def email_token(value: str) -> str:
    """The token of an e-mailed link (subgraphs/users/email_links.py), as the link carries it."""
    cleaned = value.strip()
    if not EMAIL_TOKEN.match(cleaned):
        raise BadUserInput("token must be the token of the link we e-mailed you.", field="token")
    return cleaned
