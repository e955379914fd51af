"""Course certificates: a code, an Open Badges 3.0 credential signed as a JWT, and a PDF.

The credential is an OpenBadgeCredential (a W3C Verifiable Credential 2.0) secured as a
VC-JWT with the platform's RS256 key, whose public half is in the JWKS; anyone can check it
without asking us. The code is what a person types to verify a certificate on our site.
"""

from __future__ import annotations

import secrets
import time
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from fpdf import FPDF
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from common.auth.keys import SIGNING_ALGORITHM

# No 0/O, 1/I/L: codes are read off paper and typed in.
CODE_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_GROUPS: Final = 4
CODE_GROUP_LENGTH: Final = 4
CODE_PREFIX: Final = "LMS"
CREDENTIAL_NAMESPACE: Final = uuid.UUID("6f1d7c36-3f0e-4d44-9c43-3f2b6f7e0c11")
VC_CONTEXT: Final = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
FONT_DIRS: Final = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


class CertificateInvalid(Exception):
    """A credential that does not verify; the message says why."""


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    code: str
    learner_id: uuid.UUID
    learner_name: str | None
    course_id: uuid.UUID
    course_title: str
    issued_at: datetime
    issuer_name: str
    issuer_url: str
    verify_url: str


def new_code() -> str:
    """LMS-XXXX-XXXX-XXXX-XXXX: 16 characters of a 31-letter alphabet, about 79 bits."""
    groups = [
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH))
        for _ in range(CODE_GROUPS)
    ]
    return "-".join([CODE_PREFIX, *groups])


def normalise_code(text: str) -> str | None:
    """The canonical code for what a person typed (any case, spaces, dashes), or None."""
    if len(text) > 64:
        return None
    compact = "".join(char for char in text.upper() if char not in " -\t")
    if compact.startswith(CODE_PREFIX):
        compact = compact[len(CODE_PREFIX) :]
    expected = CODE_GROUPS * CODE_GROUP_LENGTH
    if len(compact) != expected or any(char not in CODE_ALPHABET for char in compact):
        return None
    groups = [compact[index : index + CODE_GROUP_LENGTH] for index in range(0, expected, 4)]
    return "-".join([CODE_PREFIX, *groups])


def credential_id(code: str) -> str:
    return f"urn:uuid:{uuid.uuid5(CREDENTIAL_NAMESPACE, code)}"


def credential(facts: CertificateFacts) -> dict[str, Any]:
    """The OpenBadgeCredential for a completed course."""
    issuer = facts.issuer_url.rstrip("/")
    subject: dict[str, Any] = {
        "id": f"urn:uuid:{facts.learner_id}",
        "type": ["AchievementSubject"],
        "achievement": {
            "id": f"{issuer}/courses/{facts.course_id}/achievement",
            "type": ["Achievement"],
            "achievementType": "Certificate",
            "name": facts.course_title,
            "description": f"Completed every required lesson of {facts.course_title}.",
            "criteria": {
                "narrative": f"Complete every required lesson of the course on {facts.issuer_name}."
            },
        },
    }
    if facts.learner_name:
        subject["name"] = facts.learner_name
    return {
        "@context": list(VC_CONTEXT),
        "id": credential_id(facts.code),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": issuer,
            "type": ["Profile"],
            "name": facts.issuer_name,
            "url": issuer,
        },
        "validFrom": _utc(facts.issued_at),
        "name": f"{facts.course_title} — Certificate of Completion",
        "credentialSubject": subject,
        "evidence": [
            {
                "id": facts.verify_url,
                "type": ["Evidence"],
                "name": f"Certificate {facts.code}",
            }
        ],
    }


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign_credential(claims: dict[str, Any], key: RSAKey, *, issuer: str) -> str:
    """The credential as a VC-JWT: JOSE header typ vc+jwt, RS256, the key's kid."""
    now = int(time.time())
    payload = {
        **claims,
        "iss": issuer.rstrip("/"),
        "sub": claims["credentialSubject"]["id"],
        "jti": claims["id"],
        "iat": now,
        "nbf": now,
    }
    header = {"alg": SIGNING_ALGORITHM, "kid": key.kid, "typ": "vc+jwt"}
    return jwt.encode(header, payload, key, algorithms=[SIGNING_ALGORITHM])


def verify_credential(token: str, keys: Sequence[RSAKey], *, issuer: str) -> dict[str, Any]:
    """The claims of a credential this issuer signed, or CertificateInvalid."""
    try:
        header = jws.extract_compact(token.encode()).protected
    except (JoseError, ValueError):
        raise CertificateInvalid("The credential is malformed.") from None
    if header.get("alg") != SIGNING_ALGORITHM:
        raise CertificateInvalid(f"Credentials must be signed with {SIGNING_ALGORITHM}.")
    for key in [key for key in keys if key.kid == header.get("kid")]:
        try:
            decoded = jwt.decode(token, key, algorithms=[SIGNING_ALGORITHM])
        except (JoseError, ValueError):
            continue
        if decoded.claims.get("iss") != issuer.rstrip("/"):
            raise CertificateInvalid("The credential was not issued by this platform.")
        return dict(decoded.claims)
    raise CertificateInvalid("The credential's signature does not verify.")


def _font_file(name: str) -> Path | None:
    for folder in FONT_DIRS:
        if (folder / name).exists():
            return folder / name
    return None


class _Certificate(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="landscape", format="A4")
        regular, bold = _font_file("DejaVuSans.ttf"), _font_file("DejaVuSans-Bold.ttf")
        self.unicode = regular is not None and bold is not None
        if regular is not None and bold is not None:
            self.add_font("Body", "", str(regular))
            self.add_font("Body", "B", str(bold))
            self.family = "Body"
        else:
            self.family = "Helvetica"

    def text_of(self, value: str) -> str:
        """Text the font can draw: as is with a Unicode font, else transliterated to Latin-1."""
        if self.unicode:
            return value
        decomposed = unicodedata.normalize("NFKD", value)
        return decomposed.encode("latin-1", "replace").decode("latin-1")

    def centred(self, text: str, size: float, *, bold: bool = False, height: float = 12) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.multi_cell(0, height, self.text_of(text), align="C", new_x="LMARGIN", new_y="NEXT")


def render_pdf(facts: CertificateFacts) -> bytes:
    """A one-page landscape A4 certificate."""
    pdf = _Certificate()
    pdf.set_creation_date(facts.issued_at)
    pdf.set_title(pdf.text_of(f"Certificate {facts.code}"))
    pdf.set_author(pdf.text_of(facts.issuer_name))
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    pdf.set_draw_color(40, 70, 120)
    pdf.set_line_width(1.5)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_y(35)
    pdf.centred("Certificate of Completion", 32, bold=True, height=16)
    pdf.ln(8)
    pdf.centred("This certifies that", 14)
    pdf.centred(facts.learner_name or "Learner", 26, bold=True, height=14)
    pdf.centred("has completed", 14)
    title = facts.course_title if len(facts.course_title) <= 160 else facts.course_title[:157] + "…"
    pdf.centred(title, 22 if len(title) <= 60 else 16, bold=True, height=11)
    pdf.ln(6)
    pdf.centred(f"Issued {facts.issued_at:%d %B %Y} by {facts.issuer_name}", 12, height=8)
    pdf.set_y(pdf.h - 42)
    pdf.centred(f"Certificate code {facts.code}", 11, height=7)
    pdf.centred(f"Verify at {facts.verify_url}", 9, height=6)
    return bytes(pdf.output())
