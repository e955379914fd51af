"""Certificates: codes, the Open Badges 3.0 credential, its VC-JWT, and the PDF."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import uuid
import zlib
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from common.auth.keys import KEY_PARAMETERS, load_signing_key
from common.auth.tokens import TokenIssuer
from subgraphs.enrollments import certificates
from subgraphs.enrollments.certificates import (
    CODE_ALPHABET,
    CertificateFacts,
    CertificateInvalid,
    credential,
    new_code,
    normalise_code,
    render_pdf,
    sign_credential,
    verify_credential,
)

ISSUER = "https://lms.local"
CODE_SHAPE = re.compile(r"LMS(-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}){4}")
LEARNER = uuid.UUID("00000000-0000-4000-8000-000000000001")
COURSE = uuid.UUID("00000000-0000-4000-8000-000000000002")


def facts(**changes: Any) -> CertificateFacts:
    values: dict[str, Any] = {
        "code": "LMS-ABCD-EFGH-JKMN-PQRS",
        "learner_id": LEARNER,
        "learner_name": "Ada Lovelace",
        "course_id": COURSE,
        "course_title": "Analytical Engines",
        "issued_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "issuer_name": "LMS Platform",
        "issuer_url": ISSUER,
        "verify_url": f"{ISSUER}/certificates/LMS-ABCD-EFGH-JKMN-PQRS",
    }
    values.update(changes)
    return CertificateFacts(**values)


# Codes


def test_codes_have_the_shape_and_do_not_repeat() -> None:
    codes = [new_code() for _ in range(1000)]
    assert all(CODE_SHAPE.fullmatch(code) for code in codes)
    assert len(set(codes)) == len(codes)
    # Every letter of the alphabet turns up (16,000 draws of 31), and no ambiguous one does.
    letters = Counter("".join(code.removeprefix("LMS-").replace("-", "") for code in codes))
    assert set(letters) == set(CODE_ALPHABET)
    assert not set("01ILO") & set(CODE_ALPHABET)


def test_a_new_code_is_already_normal() -> None:
    code = new_code()
    assert normalise_code(code) == code


@pytest.mark.parametrize(
    "typed",
    [
        "LMS-ABCD-EFGH-JKMN-PQRS",
        "lms-abcd-efgh-jkmn-pqrs",
        "  LMS ABCD EFGH JKMN PQRS  ",
        "lmsabcdefghjkmnpqrs",
        "ABCD-EFGH-JKMN-PQRS",
        "abcd efgh\tjkmn\npqrs",
        "LMS--ABCD--EFGH-JKMN-PQRS",
    ],
)
def test_normalise_code_accepts_what_people_type(typed: str) -> None:
    assert normalise_code(typed) == "LMS-ABCD-EFGH-JKMN-PQRS"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "LMS",
        "LMS-",
        "<script>",
        "LMS-ABCD-EFGH-JKMN-PQR",  # 15 letters
        "LMS-ABCD-EFGH-JKMN-PQRST",  # 17 letters
        "LMS-ABCD-EFGH-JKMN-PQRS-TUVW",
        "LMS-0BCD-EFGH-JKMN-PQRS",  # 0, O, 1, I, L are not in the alphabet
        "LMS-OBCD-EFGH-JKMN-PQRS",
        "LMS-1BCD-EFGH-JKMN-PQRS",
        "LMS-IBCD-EFGH-JKMN-PQRS",
        "LMS-LBCD-EFGH-JKMN-PQRS",
        "XYZ-ABCD-EFGH-JKMN-PQRS",
        "LMS-ABCD-EFGH-JKMN-PQR\u017f",  # long s, which .upper() turns into S
        "LMS-\uff21BCD-EFGH-JKMN-PQRS",  # fullwidth A
        "LMS-ABCD-EFGH-JKMN-PQRS" + " " * 100,  # overlong, even if only spaces
        "A" * 10_000,
    ],
)
def test_normalise_code_rejects_junk(typed: str) -> None:
    assert normalise_code(typed) is None


# The credential


def test_the_credential_is_an_open_badge_3_credential() -> None:
    claims = credential(facts())
    assert claims["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert claims["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert claims["id"] == f"urn:uuid:{uuid.uuid5(certificates.CREDENTIAL_NAMESPACE, facts().code)}"
    assert claims["issuer"] == {
        "id": ISSUER,
        "type": ["Profile"],
        "name": "LMS Platform",
        "url": ISSUER,
    }
    assert claims["validFrom"] == "2026-01-02T03:04:05Z"
    assert claims["name"]
    subject = claims["credentialSubject"]
    assert subject["id"] == f"urn:uuid:{LEARNER}"
    assert subject["type"] == ["AchievementSubject"]
    assert subject["name"] == "Ada Lovelace"
    assert subject["identifier"] == [
        {
            "type": "IdentityObject",
            "identityType": "name",
            "hashed": False,
            "identityHash": "Ada Lovelace",
        }
    ]
    achievement = subject["achievement"]
    assert achievement["id"] == f"{ISSUER}/courses/{COURSE}/achievement"
    assert achievement["type"] == ["Achievement"]
    assert achievement["achievementType"] == "Certificate"
    assert achievement["name"] == "Analytical Engines"
    assert achievement["description"]
    assert achievement["criteria"]["narrative"]
    assert json.loads(json.dumps(claims)) == claims


def test_the_credential_id_is_derived_from_the_code() -> None:
    first, again = credential(facts()), credential(facts(course_title="Renamed"))
    other = credential(facts(code="LMS-ABCD-EFGH-JKMN-PQRT"))
    assert first["id"] == again["id"] != other["id"]
    assert uuid.UUID(first["id"].removeprefix("urn:uuid:")).version == 5


def test_an_unknown_learner_name_is_left_out() -> None:
    subject = credential(facts(learner_name=None))["credentialSubject"]
    assert "name" not in subject
    assert "identifier" not in subject
    assert subject["id"] == f"urn:uuid:{LEARNER}"


@pytest.mark.parametrize(
    "issued_at",
    [
        datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 1, 2, 3, 4, 5, 999_999, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5),  # naive: taken as UTC
    ],
)
def test_valid_from_is_utc_with_a_z(issued_at: datetime) -> None:
    assert credential(facts(issued_at=issued_at))["validFrom"] == "2026-01-02T03:04:05Z"


def test_the_issuer_url_loses_a_trailing_slash() -> None:
    claims = credential(facts(issuer_url=f"{ISSUER}/"))
    assert claims["issuer"]["id"] == ISSUER
    assert claims["credentialSubject"]["achievement"]["id"].startswith(f"{ISSUER}/courses/")


# Signing and verifying


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> RSAKey:
    """The platform's key, made and read as the platform does."""
    return load_signing_key(tmp_path_factory.mktemp("keys") / "jwt.pem", create=True)


@pytest.fixture(scope="module")
def other_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters=KEY_PARAMETERS, private=True)


@pytest.fixture(scope="module")
def token(key: RSAKey) -> str:
    return sign_credential(credential(facts()), key, issuer=ISSUER)


def public(key: RSAKey) -> RSAKey:
    return RSAKey.import_key(key.as_dict(private=False))


def segment(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    def decode(part: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        return loaded

    header, payload, _ = token.split(".")
    return decode(header), decode(payload)


def test_sign_then_verify_returns_the_credential(key: RSAKey, token: str) -> None:
    before = int(time.time())
    claims = verify_credential(token, [public(key)], issuer=ISSUER)
    registered = {name: claims.pop(name) for name in ("iss", "sub", "jti", "iat", "nbf")}
    assert claims == credential(facts())
    assert registered["iss"] == ISSUER
    assert registered["sub"] == f"urn:uuid:{LEARNER}"
    assert registered["jti"] == claims["id"]
    assert before - 5 <= registered["iat"] == registered["nbf"] <= before + 5


def test_the_jose_header_names_the_key(key: RSAKey, token: str) -> None:
    header, _ = parts(token)
    assert key.kid
    assert header == {"alg": "RS256", "kid": key.kid, "typ": "vc+jwt"}


def test_verify_takes_a_key_set_and_picks_the_key_by_kid(
    key: RSAKey, other_key: RSAKey, token: str
) -> None:
    keys = KeySet([public(other_key), public(key)])
    assert verify_credential(token, keys, issuer=ISSUER)["id"] == credential(facts())["id"]
    assert verify_credential(token, [other_key, key], issuer=f"{ISSUER}/")["sub"]


def test_a_key_without_kid_signs_with_its_thumbprint() -> None:
    bare = RSAKey.generate_key(2048, private=True)
    assert bare.kid is None
    signed = sign_credential(credential(facts()), bare, issuer=ISSUER)
    assert parts(signed)[0]["kid"] == bare.thumbprint()
    assert verify_credential(signed, KeySet([public(bare)]), issuer=ISSUER)["jti"]


def test_signing_needs_the_private_key(key: RSAKey) -> None:
    with pytest.raises(ValueError, match="private"):
        sign_credential(credential(facts()), public(key), issuer=ISSUER)


def test_signing_needs_a_subject_and_an_id(key: RSAKey) -> None:
    claims = credential(facts())
    del claims["credentialSubject"]["id"]
    with pytest.raises(ValueError, match="credentialSubject"):
        sign_credential(claims, key, issuer=ISSUER)


def test_a_tampered_payload_is_refused(key: RSAKey, token: str) -> None:
    header, _, signature = token.split(".")
    claims = parts(token)[1]
    claims["credentialSubject"]["achievement"]["name"] = "Something Harder"
    forged = f"{header}.{segment(claims)}.{signature}"
    with pytest.raises(CertificateInvalid, match="signature"):
        verify_credential(forged, [key], issuer=ISSUER)


def test_another_key_under_our_kid_is_refused(key: RSAKey) -> None:
    impostor = RSAKey.generate_key(2048, parameters={"alg": "RS256", "kid": str(key.kid)})
    forged = sign_credential(credential(facts()), impostor, issuer=ISSUER)
    assert parts(forged)[0]["kid"] == key.kid
    with pytest.raises(CertificateInvalid, match="signature"):
        verify_credential(forged, [public(key)], issuer=ISSUER)


def test_a_token_signed_by_an_unknown_key_is_refused(key: RSAKey, other_key: RSAKey) -> None:
    forged = sign_credential(credential(facts()), other_key, issuer=ISSUER)
    with pytest.raises(CertificateInvalid, match="unknown key"):
        verify_credential(forged, [public(key)], issuer=ISSUER)


def test_alg_none_is_refused(key: RSAKey, token: str) -> None:
    _, payload, _ = token.split(".")
    header = segment({"alg": "none", "kid": key.kid, "typ": "vc+jwt"})
    for unsigned in (f"{header}.{payload}.", f"{header}.{payload}.c2ln"):
        with pytest.raises(CertificateInvalid, match="RS256"):
            verify_credential(unsigned, [key], issuer=ISSUER)


def test_hs256_with_the_public_key_as_secret_is_refused(key: RSAKey, token: str) -> None:
    _, payload, _ = token.split(".")
    header = segment({"alg": "HS256", "kid": key.kid, "typ": "vc+jwt"})
    secret = public(key).as_pem(private=False)
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(CertificateInvalid, match="RS256"):
        verify_credential(forged, [public(key)], issuer=ISSUER)


def test_another_issuer_is_refused(key: RSAKey) -> None:
    claims = credential(facts(issuer_url="https://elsewhere.example"))
    signed = sign_credential(claims, key, issuer="https://elsewhere.example")
    with pytest.raises(CertificateInvalid, match="not issued by this platform"):
        verify_credential(signed, [key], issuer=ISSUER)


def test_an_access_token_signed_with_the_same_key_is_not_a_credential(key: RSAKey) -> None:
    access = TokenIssuer(key, issuer=ISSUER, audience="lms", ttl_seconds=60).issue(
        LEARNER, frozenset()
    )
    with pytest.raises(CertificateInvalid, match="not a credential"):
        verify_credential(access, [key], issuer=ISSUER)


def _signed(key: RSAKey, payload: dict[str, Any]) -> str:
    header = {"alg": "RS256", "kid": key.kid, "typ": "vc+jwt"}
    return jwt.encode(header, payload, key, algorithms=["RS256"])


def _payload(**changes: Any) -> dict[str, Any]:
    claims = credential(facts())
    now = int(time.time())
    payload = {
        **claims,
        "iss": ISSUER,
        "sub": claims["credentialSubject"]["id"],
        "jti": claims["id"],
        "iat": now,
        "nbf": now,
    }
    payload.update(changes)
    return {name: value for name, value in payload.items() if value is not None}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"nbf": int(time.time()) + 3600}, "claims are invalid"),
        ({"exp": int(time.time()) - 3600}, "claims are invalid"),
        ({"iss": None}, "not issued by this platform"),
        ({"sub": None}, "claims are invalid"),
        ({"jti": "urn:uuid:00000000-0000-0000-0000-000000000000"}, "jti"),
        ({"sub": "urn:uuid:00000000-0000-0000-0000-000000000000"}, "sub"),
        ({"type": ["VerifiableCredential"]}, "not an OpenBadgeCredential"),
        ({"issuer": {"id": "https://elsewhere.example"}}, "iss"),
    ],
)
def test_claims_that_do_not_hold_are_refused(
    key: RSAKey, changes: dict[str, Any], reason: str
) -> None:
    assert verify_credential(_signed(key, _payload()), [key], issuer=ISSUER)
    with pytest.raises(CertificateInvalid, match=reason):
        verify_credential(_signed(key, _payload(**changes)), [key], issuer=ISSUER)


@pytest.mark.parametrize(
    "junk",
    ["", "abc", "a.b", "a.b.c", "a.b.c.d", "!!!.e30.", "W10.e30.", "x" * 70_000 + ".a.b"],
)
def test_malformed_tokens_are_refused(key: RSAKey, junk: str) -> None:
    with pytest.raises(CertificateInvalid, match="malformed"):
        verify_credential(junk, [key], issuer=ISSUER)


# The PDF


def _literal(raw: bytes) -> bytes:
    """A PDF literal string's bytes, escapes undone."""
    escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}

    def undo(match: re.Match[bytes]) -> bytes:
        escaped = match.group(1)
        if escaped[:1].isdigit():
            return bytes([int(escaped, 8)])
        return escapes.get(escaped, escaped)

    return re.sub(rb"\\([0-7]{1,3}|.)", undo, raw, flags=re.S)


def pdf_text(pdf: bytes) -> str:
    """The text drawn on the pages, a line per text operator, read back with each font's
    ToUnicode map (embedded fonts) or as Latin-1 (core fonts)."""
    objects = {
        int(number): body
        for number, body in re.findall(rb"(\d+) 0 obj\s*(.*?)\s*endobj", pdf, flags=re.S)
    }

    def stream(number: int) -> bytes:
        head, _, rest = objects[number].partition(b"stream")
        found = re.match(rb"\r?\n(.*?)\r?\nendstream", rest, flags=re.S)
        assert found is not None
        return zlib.decompress(found.group(1)) if b"/FlateDecode" in head else found.group(1)

    fonts: dict[bytes, dict[int, str] | None] = {}
    for body in objects.values():
        for name, number in re.findall(rb"/(F\d+)\s+(\d+) 0 R", body):
            to_unicode = re.search(rb"/ToUnicode (\d+) 0 R", objects[int(number)])
            if to_unicode is None:
                fonts[name] = None
                continue
            cmap = stream(int(to_unicode.group(1)))
            pairs = re.findall(rb"<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]+)>", cmap)
            fonts[name] = {
                int(code, 16): bytes.fromhex(text.decode()).decode("utf-16-be")
                for code, text in pairs
            }
    lines: list[str] = []
    for number in (int(n) for n in re.findall(rb"/Contents (\d+) 0 R", pdf)):
        font: dict[int, str] | None = None
        operators = rb"/(F\d+)\s+[\d.]+\s+Tf|\(((?:\\.|[^\\)])*)\)\s*Tj"
        for match in re.finditer(operators, stream(number), flags=re.S):
            if match.group(1) is not None:
                font = fonts[match.group(1)]
                continue
            raw = _literal(match.group(2))
            if font is None:
                lines.append(raw.decode("latin-1"))
            else:
                codes = [int.from_bytes(raw[at : at + 2], "big") for at in range(0, len(raw), 2)]
                lines.append("".join(font.get(code, "\ufffd") for code in codes))
    return "\n".join(lines)


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


HAS_DEJAVU = all(
    any((folder / name).is_file() for folder in certificates.FONT_DIRS)
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
)


@pytest.fixture(params=["unicode font", "core font"])
def fonts(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways a PDF is written: DejaVu Sans when the system has it, else Helvetica."""
    if request.param == "unicode font" and not HAS_DEJAVU:
        pytest.skip("DejaVu Sans is not installed here")
    if request.param == "core font":
        monkeypatch.setattr(certificates, "FONT_DIRS", ())
    return str(request.param)


def test_the_pdf_says_who_completed_what(fonts: str) -> None:
    pdf = render_pdf(facts(learner_name="José Ñúñez"))
    assert pdf.startswith(b"%PDF-")
    assert page_count(pdf) == 1
    text = pdf_text(pdf)
    for expected in (
        "Certificate of Completion",
        "José Ñúñez",
        "has completed",
        "Analytical Engines",
        "Issued on 2 January 2026 by LMS Platform",
        "LMS-ABCD-EFGH-JKMN-PQRS",
        f"Verify at {ISSUER}/certificates/LMS-ABCD-EFGH-JKMN-PQRS",
    ):
        assert expected in text, (expected, text)
    assert (b"DejaVuSans" in pdf) == (fonts == "unicode font")


def test_the_pdf_is_the_same_for_the_same_facts(fonts: str) -> None:
    first = render_pdf(facts())
    assert render_pdf(facts()) == first
    assert b"/CreationDate (D:20260102030405Z)" in first
    assert render_pdf(facts(course_title="Difference Engines")) != first


def test_an_unknown_learner_is_a_learner(fonts: str) -> None:
    text = pdf_text(render_pdf(facts(learner_name=None)))
    assert "This certifies that\nLearner\nhas completed" in text


def test_a_500_character_title_is_cut_to_fit_one_page(fonts: str) -> None:
    title = " ".join(["Thermodynamics"] * 34)[:500]
    pdf = render_pdf(facts(course_title=title, learner_name="W" * 300))
    assert page_count(pdf) == 1
    text = pdf_text(pdf)
    assert "Thermodynamics Thermodynamics" in text
    assert title not in text.replace("\n", " ")
    assert "…" in text or "..." in text
    assert "LMS-ABCD-EFGH-JKMN-PQRS" in text  # the code below is not pushed off


def test_a_long_title_shrinks_before_it_is_cut(fonts: str) -> None:
    title = " ".join(["Thermodynamics"] * 14)  # 209 characters: 3 lines at 12pt, not at 24pt
    text = pdf_text(render_pdf(facts(course_title=title)))
    assert title in text.replace("\n", " ")
    assert "…" not in text
    assert "..." not in text


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Python 🐍 for 数据科学 — 第一部分", "山田 太郎 😀"),
        ("Αρχαία ελληνικά · Русский язык · עברית · العربية", "Łukasz Żółć"),
        ("Tabs\tand\nnewlines\u200b and \x00 controls \ud800", "\u0301\u200d"),
    ],
)
def test_text_beyond_latin_1_never_raises(fonts: str, title: str, name: str) -> None:
    pdf = render_pdf(facts(course_title=title, learner_name=name))
    assert pdf.startswith(b"%PDF-")
    assert page_count(pdf) == 1
    assert "LMS-ABCD-EFGH-JKMN-PQRS" in pdf_text(pdf)


def test_the_core_font_falls_back_letter_by_letter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(certificates, "FONT_DIRS", ())
    title = "Łódź \u2013 \u201cIntro\u201d to Œuvres, 5 € \u2026 数据"
    text = pdf_text(render_pdf(facts(course_title=title, learner_name="Zoë Ørsted")))
    assert 'Lódz - "Intro" to OEuvres, 5 EUR ... ??' in text
    assert "Zoë Ørsted" in text


@pytest.mark.skipif(not HAS_DEJAVU, reason="DejaVu Sans is not installed here")
def test_the_unicode_font_keeps_what_it_can_draw() -> None:
    title = "Αρχαία ελληνικά \u2013 Русский язык \u2026 数据"
    text = pdf_text(render_pdf(facts(course_title=title)))
    assert "Αρχαία ελληνικά \u2013 Русский язык \u2026 ??" in text
