"""Course certificates: a code, an Open Badges 3.0 credential signed as a JWT, and a PDF.

The credential is an OpenBadgeCredential (a W3C Verifiable Credential 2.0) secured as a
VC-JWT (``typ: vc+jwt``) with the enrollments subgraph's own RS256 key (not the key of
access tokens), whose public half is its JWKS (``/.well-known/jwks.json`` of enrollments);
anyone can check it without asking us. The code is what a person types to verify a
certificate on our site. Nothing here does I/O but reading a system font for the PDF.
"""

from __future__ import annotations

import re
import secrets
import time
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from fpdf import FPDF
from fpdf.fonts import TTFFont
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from common.auth.keys import SIGNING_ALGORITHM

# No 0/O, 1/I/L: codes are read off paper and typed in. 31 letters, 16 of them: ~79 bits.
CODE_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_GROUPS: Final = 4
CODE_GROUP_LENGTH: Final = 4
CODE_PREFIX: Final = "LMS"
MAX_CODE_INPUT: Final = 64

CREDENTIAL_NAMESPACE: Final = uuid.UUID("6f1d7c36-3f0e-4d44-9c43-3f2b6f7e0c11")
VC_CONTEXT: Final = (
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
)
CREDENTIAL_TYPES: Final = ("VerifiableCredential", "OpenBadgeCredential")
JOSE_TYPE: Final = "vc+jwt"
MAX_TOKEN_LENGTH: Final = 64 * 1024
DEFAULT_LEEWAY_SECONDS: Final = 60

FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)
MONTHS: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class CertificateInvalid(Exception):
    """A credential that does not verify; the message says why, never the token."""


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    code: str  # the certificate's public code, as new_code() makes it
    learner_id: uuid.UUID
    learner_name: str | None  # may be unknown
    course_id: uuid.UUID
    course_title: str
    issued_at: datetime  # aware; a naive value is taken as UTC
    issuer_name: str  # e.g. "LMS Platform"
    issuer_url: str  # e.g. "https://lms.local"
    verify_url: str  # public URL where the code can be verified


# Codes


def new_code() -> str:
    """``LMS-XXXX-XXXX-XXXX-XXXX`` from ``secrets``: 16 characters of 31, about 79 bits."""
    groups = [
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH))
        for _ in range(CODE_GROUPS)
    ]
    return "-".join([CODE_PREFIX, *groups])


def normalise_code(text: str) -> str | None:
    """The canonical code for what a person typed (any case, spaces, dashes, with or
    without the ``LMS`` prefix), or None when it cannot be a code."""
    if len(text) > MAX_CODE_INPUT or not text.isascii():
        return None
    compact = "".join(char for char in text.upper() if not char.isspace() and char != "-")
    # L is not in the alphabet, so the prefix can never be mistaken for a code's body.
    compact = compact.removeprefix(CODE_PREFIX)
    length = CODE_GROUPS * CODE_GROUP_LENGTH
    if len(compact) != length or any(char not in CODE_ALPHABET for char in compact):
        return None
    groups = [compact[start : start + CODE_GROUP_LENGTH] for start in range(0, length, 4)]
    return "-".join([CODE_PREFIX, *groups])


# The credential


def credential_id(code: str) -> str:
    """The credential's id, the same for the same code: ``urn:uuid:`` + uuid5 of it."""
    return f"urn:uuid:{uuid.uuid5(CREDENTIAL_NAMESPACE, code)}"


def credential(facts: CertificateFacts) -> dict[str, Any]:
    """The OpenBadgeCredential (OB 3.0, VCDM 2.0) saying the learner completed the course."""
    issuer = facts.issuer_url.rstrip("/")
    issued = _timestamp(facts.issued_at)
    subject: dict[str, Any] = {
        "id": f"urn:uuid:{facts.learner_id}",
        "type": ["AchievementSubject"],
        "achievement": {
            "id": f"{issuer}/courses/{facts.course_id}/achievement",
            "type": ["Achievement"],
            "achievementType": "Certificate",
            "name": facts.course_title,
            "description": f"Completion of the course {facts.course_title}.",
            "criteria": {
                "narrative": f"Complete every required lesson of the course on {facts.issuer_name}."
            },
        },
    }
    if facts.learner_name:
        subject["name"] = facts.learner_name
        # OB 3.0's own way to name the recipient (a wallet shows it); not hashed, as the
        # name is printed on the certificate anyway.
        subject["identifier"] = [
            {
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": False,
                "identityHash": facts.learner_name,
            }
        ]
    return {
        "@context": list(VC_CONTEXT),
        "id": credential_id(facts.code),
        "type": list(CREDENTIAL_TYPES),
        "issuer": {"id": issuer, "type": ["Profile"], "name": facts.issuer_name, "url": issuer},
        "validFrom": issued,
        "awardedDate": issued,
        "name": f"{facts.course_title}: Certificate of Completion",
        "credentialSubject": subject,
        "evidence": [
            {"id": facts.verify_url, "type": ["Evidence"], "name": f"Certificate {facts.code}"}
        ],
    }


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _timestamp(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


# Signing and verifying


def _kid(key: RSAKey) -> str:
    """The key's kid, or its RFC 7638 thumbprint, as ``ensure_kid`` would set it."""
    return key.kid or key.thumbprint()


def sign_credential(credential: dict[str, Any], key: RSAKey, *, issuer: str) -> str:
    """The credential as a VC-JWT: header ``{alg: RS256, kid, typ: vc+jwt}``; the payload is
    the credential itself plus ``iss``, ``sub`` (the learner), ``jti`` (its id), ``iat``
    and ``nbf``."""
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict) or not isinstance(subject.get("id"), str):
        raise ValueError("The credential has no credentialSubject.id to use as sub.")
    if not isinstance(credential.get("id"), str):
        raise ValueError("The credential has no id to use as jti.")
    if not key.is_private:
        raise ValueError("Signing a credential needs the private key.")
    now = int(time.time())
    payload = {
        **credential,
        "iss": issuer.rstrip("/"),
        "sub": subject["id"],
        "jti": credential["id"],
        "iat": now,
        "nbf": now,
    }
    header = {"alg": SIGNING_ALGORITHM, "kid": _kid(key), "typ": JOSE_TYPE}
    return jwt.encode(header, payload, key, algorithms=[SIGNING_ALGORITHM])


def verify_credential(
    token: str,
    keys: Sequence[RSAKey] | KeySet,
    *,
    issuer: str,
    leeway_seconds: int = DEFAULT_LEEWAY_SECONDS,
) -> dict[str, Any]:
    """The claims (the credential and the JWT's registered claims) of a credential that
    ``issuer`` signed with one of ``keys``; CertificateInvalid otherwise.

    Only RS256 is accepted (no ``alg: none``, no HS256 made with the public key), the
    header must say ``typ: vc+jwt`` (so an access token signed with the same key is not a
    credential), and the key is chosen by ``kid``.
    """
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise CertificateInvalid("The credential is malformed.")
    header = _header(token)
    if header.get("alg") != SIGNING_ALGORITHM:
        raise CertificateInvalid(f"Credentials must be signed with {SIGNING_ALGORITHM}.")
    if header.get("typ") != JOSE_TYPE:
        raise CertificateInvalid(f"The token is not a credential (typ {JOSE_TYPE}).")
    kid = header.get("kid")
    candidates = [key for key in keys if isinstance(key, RSAKey) and _kid(key) == kid]
    if not candidates:
        raise CertificateInvalid("The credential was signed with an unknown key.")
    claims: dict[str, Any] | None = None
    for key in candidates:
        try:
            claims = dict(jwt.decode(token, key, algorithms=[SIGNING_ALGORITHM]).claims)
        except JoseError:
            continue
        break
    if claims is None:
        raise CertificateInvalid("The credential's signature does not verify.")
    registry = jwt.JWTClaimsRegistry(
        leeway=leeway_seconds,
        iss={"essential": True, "value": issuer.rstrip("/")},
        sub={"essential": True},
        jti={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as error:
        if getattr(error, "claim", None) == "iss":
            raise CertificateInvalid("The credential was not issued by this platform.") from None
        raise CertificateInvalid(
            f"The credential's claims are invalid: {error.description or error.error}."
        ) from None
    _check_shape(claims)
    return claims


def _header(token: str) -> dict[str, Any]:
    """The protected header, read (not trusted) to choose the key and refuse early."""
    try:
        return dict(jws.extract_compact(token.encode()).protected)
    except (JoseError, ValueError):  # binascii.Error and JSON errors are ValueErrors
        raise CertificateInvalid("The credential is malformed.") from None


def _check_shape(claims: dict[str, Any]) -> None:
    """The payload is an OpenBadgeCredential whose JWT claims agree with it."""
    types = claims.get("type")
    subject = claims.get("credentialSubject")
    issuer = claims.get("issuer")
    if not isinstance(types, list) or any(name not in types for name in CREDENTIAL_TYPES):
        raise CertificateInvalid("The token is not an OpenBadgeCredential.")
    if not isinstance(subject, dict) or claims.get("sub") != subject.get("id"):
        raise CertificateInvalid("The credential's subject does not match its sub claim.")
    if claims.get("jti") != claims.get("id"):
        raise CertificateInvalid("The credential's id does not match its jti claim.")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer_id != claims.get("iss"):
        raise CertificateInvalid("The credential's issuer does not match its iss claim.")


# The PDF

_ELLIPSIS_UNICODE: Final = "…"
_ELLIPSIS_LATIN1: Final = "..."
_PT: Final = 25.4 / 72  # millimetres per point
_LATIN1: Final = frozenset(range(0x20, 0x7F)) | frozenset(range(0xA0, 0x100))
_WHITESPACE: Final = re.compile(r"\s+")
_INVISIBLE: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Letters and punctuation that NFKD does not take apart, as Latin-1 can write them.
_FALLBACKS: Final = {
    "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "\u0131": "i", "Ŧ": "T",
    "ŧ": "t", "Œ": "OE", "œ": "oe", "ƒ": "f", "€": "EUR", "\u2022": "\u00b7",
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032", "'"),  # single quotes, prime
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),  # double quotes
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),  # dashes, minus
}  # fmt: skip


def _font_file(name: str) -> Path | None:
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    return None


class _Typesetter:
    """A landscape A4 page written in DejaVu Sans when the system has it (Unicode), else in
    Helvetica (Latin-1 only); text is first reduced to what the font can draw."""

    def __init__(self, issued_at: datetime) -> None:
        self.pdf = FPDF(orientation="landscape", unit="mm", format="A4")
        self.pdf.set_creation_date(_utc(issued_at))
        self.pdf.set_auto_page_break(auto=False)
        self.pdf.set_margins(22, 20, 22)
        self.family = "Helvetica"
        self.drawable: frozenset[int] = _LATIN1
        self.ellipsis = _ELLIPSIS_LATIN1
        regular, bold = _font_file("DejaVuSans.ttf"), _font_file("DejaVuSans-Bold.ttf")
        if regular is not None and bold is not None:
            self.family = "DejaVuSans"
            self.pdf.add_font(self.family, "", regular)
            self.pdf.add_font(self.family, "B", bold)
            fonts = [font for font in self.pdf.fonts.values() if isinstance(font, TTFFont)]
            self.drawable = frozenset(set(fonts[0].cmap).intersection(*(f.cmap for f in fonts)))
            self.ellipsis = _ELLIPSIS_UNICODE

    def clean(self, text: str) -> str:
        """``text`` on one line, with what the font cannot draw decomposed (é → e when é is
        missing), dropped (marks, format characters) or shown as ``?``."""
        text = unicodedata.normalize("NFC", _WHITESPACE.sub(" ", text)).strip()
        out: list[str] = []
        for char in text:
            category = unicodedata.category(char)
            if category in _INVISIBLE:
                continue
            if ord(char) in self.drawable:
                out.append(char)
                continue
            if category in {"Mn", "Me"}:  # a mark the font lacks: the letter stays bare
                continue
            fallback = _FALLBACKS.get(char)
            if fallback is not None and all(ord(part) in self.drawable for part in fallback):
                out.append(fallback)
                continue
            base = [
                part for part in unicodedata.normalize("NFKD", char) if ord(part) in self.drawable
            ]
            out.append("".join(base) or "?")
        return "".join(out)

    def _lines(self, text: str, size: float) -> int:
        self.pdf.set_font_size(size)
        lines = self.pdf.multi_cell(0, size * _PT * 1.3, text, dry_run=True, output="LINES")
        return len(lines) if isinstance(lines, list) else 1

    def fitted(self, text: str, *, bold: bool, size: float, smallest: float, lines: int) -> None:
        """Centred ``text`` in at most ``lines`` lines: the largest size from ``size`` down
        to ``smallest`` that fits, cut short with an ellipsis if even that does not."""
        self.pdf.set_font(self.family, "B" if bold else "", size)
        text = self.clean(text)
        while size > smallest and self._lines(text, size) > lines:
            size -= 1
        if self._lines(text, size) > lines:
            text = _shortest_cut(text, self.ellipsis, lambda t: self._lines(t, size) <= lines)
        self.pdf.set_font_size(size)
        height = size * _PT * 1.3
        self.pdf.multi_cell(0, height, text, align="C", new_x="LMARGIN", new_y="NEXT")

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _shortest_cut(text: str, ellipsis: str, fits: Callable[[str], bool]) -> str:
    """The longest prefix of ``text`` that, with ``ellipsis``, ``fits`` (binary search)."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(text[:middle].rstrip() + ellipsis):
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + ellipsis


def _date(moment: datetime) -> str:
    utc = _utc(moment)
    return f"{utc.day} {MONTHS[utc.month - 1]} {utc.year}"


def render_pdf(facts: CertificateFacts) -> bytes:
    """A one-page landscape A4 certificate; the same facts give the same bytes."""
    page = _Typesetter(facts.issued_at)
    pdf = page.pdf
    pdf.set_title(page.clean(f"Certificate {facts.code}"))
    pdf.set_author(page.clean(facts.issuer_name))
    pdf.set_subject(page.clean(f"{facts.course_title}: Certificate of Completion"))
    pdf.add_page()
    pdf.set_draw_color(40, 70, 120)
    pdf.set_line_width(1.5)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_line_width(0.4)
    pdf.rect(13, 13, pdf.w - 26, pdf.h - 26)
    pdf.set_text_color(30, 40, 60)

    pdf.set_y(30)
    page.fitted("Certificate of Completion", bold=True, size=32, smallest=32, lines=1)
    pdf.ln(8)
    page.fitted("This certifies that", bold=False, size=14, smallest=14, lines=1)
    pdf.ln(2)
    page.fitted(facts.learner_name or "Learner", bold=True, size=28, smallest=14, lines=2)
    pdf.ln(2)
    page.fitted("has completed", bold=False, size=14, smallest=14, lines=1)
    pdf.ln(2)
    page.fitted(facts.course_title, bold=True, size=24, smallest=12, lines=3)
    pdf.ln(6)
    issued = f"Issued on {_date(facts.issued_at)} by {facts.issuer_name}"
    page.fitted(issued, bold=False, size=12, smallest=9, lines=2)

    pdf.set_y(pdf.h - 44)
    page.fitted(f"Certificate code: {facts.code}", bold=True, size=12, smallest=12, lines=1)
    page.fitted(f"Verify at {facts.verify_url}", bold=False, size=10, smallest=7, lines=2)
    return page.output()
