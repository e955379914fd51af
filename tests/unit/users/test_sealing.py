"""TOTP secrets at rest: sealed with AES-256-GCM, bound to their owner, tamper-evident."""

from __future__ import annotations

import base64
import os
import uuid

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common.settings import Settings, SettingsError
from subgraphs.users.sealing import SecretBox, UnsealError

OWNER = uuid.uuid4().bytes


def test_a_sealed_secret_opens_only_for_its_owner_with_its_key() -> None:
    box = SecretBox(os.urandom(32))
    sealed = box.seal("JBSWY3DPEHPK3PXP", OWNER)
    assert b"JBSWY3DPEHPK3PXP" not in sealed
    assert box.open(sealed, OWNER) == "JBSWY3DPEHPK3PXP"
    assert box.seal("JBSWY3DPEHPK3PXP", OWNER) != sealed  # a fresh nonce each time
    with pytest.raises(UnsealError):
        box.open(sealed, uuid.uuid4().bytes)
    with pytest.raises(UnsealError):
        SecretBox(os.urandom(32)).open(sealed, OWNER)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(UnsealError):
        box.open(tampered, OWNER)


def test_the_key_must_be_set_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_ENV", "production")
    for name in ("PG_ADMIN_PASSWORD", "PG_SERVICE_PASSWORD", "DOWNLOAD_SECRET", "WEBHOOK_SECRET"):
        monkeypatch.setenv(f"LMS_{name}", "set")
    monkeypatch.delenv("LMS_MFA_ENCRYPTION_KEY", raising=False)
    with pytest.raises(SettingsError, match="LMS_MFA_ENCRYPTION_KEY"):
        SecretBox.of(Settings.from_env())  # the users subgraph's, asked where it is used
    key = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("LMS_MFA_ENCRYPTION_KEY", key)
    assert Settings.from_env().mfa_encryption_key == key


@pytest.mark.parametrize("value", ["too-short", base64.b64encode(b"x" * 31).decode(), "%%%%"])
def test_a_malformed_key_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("LMS_MFA_ENCRYPTION_KEY", value)
    with pytest.raises(SettingsError, match="LMS_MFA_ENCRYPTION_KEY must be 32 random bytes"):
        Settings.from_env()


def test_a_rotated_key_still_opens_old_values_and_seals_only_with_the_new() -> None:
    old_key, new_key = os.urandom(32), os.urandom(32)
    old = SecretBox(old_key)
    sealed_before = old.seal("JBSWY3DPEHPK3PXP", OWNER)
    rotated = SecretBox(new_key, old_key)
    assert rotated.open(sealed_before, OWNER) == "JBSWY3DPEHPK3PXP"
    assert not rotated.is_current(sealed_before)
    sealed_after = rotated.seal("JBSWY3DPEHPK3PXP", OWNER)
    assert rotated.is_current(sealed_after)
    assert SecretBox(new_key).open(sealed_after, OWNER) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(UnsealError):
        old.open(sealed_after, OWNER)  # the old key does not open the new value
    with pytest.raises(UnsealError):
        SecretBox(new_key).open(sealed_before, OWNER)  # dropped too early: refused, not junk


def test_values_sealed_before_keys_were_named_still_open() -> None:
    """The first format (version 1: no key id) is tried against every key."""
    key = os.urandom(32)
    nonce = os.urandom(12)
    legacy = b"\x01" + nonce + AESGCM(key).encrypt(nonce, b"JBSWY3DPEHPK3PXP", OWNER)
    box = SecretBox(os.urandom(32), key)
    assert box.open(legacy, OWNER) == "JBSWY3DPEHPK3PXP"
    assert not box.is_current(legacy)
    for junk in (b"", b"\x02", b"\x09" + legacy[1:], b"\x02abcd" + legacy[1:]):
        with pytest.raises(UnsealError):
            box.open(junk, OWNER)


def test_previous_keys_are_checked_like_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    good = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("LMS_MFA_PREVIOUS_ENCRYPTION_KEYS", f"{good}, ")
    assert Settings.from_env().mfa_previous_keys == (good,)
    monkeypatch.setenv("LMS_MFA_PREVIOUS_ENCRYPTION_KEYS", f"{good},too-short")
    with pytest.raises(SettingsError, match="LMS_MFA_PREVIOUS_ENCRYPTION_KEYS must be 32"):
        Settings.from_env()
