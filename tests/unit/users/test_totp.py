"""RFC 6238 and RFC 4226 test vectors, the drift window, replay refusal and the otpauth URI."""

from __future__ import annotations

import base64

import pytest

from subgraphs.users import totp

RFC_SECRET = b"12345678901234567890"  # the SHA-1 seed of RFC 6238 appendix B


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_rfc_6238_sha1_vectors(moment: int, expected: str) -> None:
    assert totp.hotp(RFC_SECRET, totp.step_at(moment), digits=8) == expected


def test_rfc_4226_hotp_vectors() -> None:
    expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922"]
    assert [totp.hotp(RFC_SECRET, counter) for counter in range(7)] == expected


def test_six_digit_codes_of_a_base32_secret_match_the_rfc_key() -> None:
    secret = base64.b32encode(RFC_SECRET).decode()
    assert totp.code_at(secret, 59) == "287082"  # the last six digits of 94287082
    assert totp.code_at(secret.lower(), 59) == "287082"


def test_one_step_of_drift_either_side_and_never_an_older_step() -> None:
    secret = totp.new_secret()
    now = 1_800_000_000.0
    step = totp.step_at(now)
    for offset in (-1, 0, 1):
        code = totp.code_of_step(secret, step + offset)
        assert totp.matching_step(secret, code, after=None, moment=now) == step + offset
    for offset in (-2, 2):
        code = totp.code_of_step(secret, step + offset)
        assert totp.matching_step(secret, code, after=None, moment=now) is None
    current = totp.code_of_step(secret, step)
    assert totp.matching_step(secret, current, after=step, moment=now) is None
    assert totp.matching_step(secret, current, after=step - 1, moment=now) == step


def test_secrets_are_160_random_bits_in_base32() -> None:
    secrets = {totp.new_secret() for _ in range(100)}
    assert len(secrets) == 100
    assert all(len(s) == 32 and len(base64.b32decode(s)) == 20 for s in secrets)


def test_the_uri_names_issuer_and_account() -> None:
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXP", "ada+lovelace@example.org")
    assert uri == (
        "otpauth://totp/LMS:ada%2Blovelace@example.org?secret=JBSWY3DPEHPK3PXP&issuer=LMS"
        "&algorithm=SHA1&digits=6&period=30"
    )
