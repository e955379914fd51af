"""Secrets the service must read back (TOTP seeds), sealed at rest with AES-256-GCM.

A TOTP secret cannot be hashed: verifying a code needs the secret itself. It is stored
sealed with a key from the environment (``LMS_MFA_ENCRYPTION_KEY``), never in the database,
so a copy of the database (a backup, an injection) does not yield anyone's second factor.
Each value carries a fresh 96-bit nonce and is bound to its owner (associated data), so a
sealed value copied onto another row does not open.

Rotation: set the new key as ``LMS_MFA_ENCRYPTION_KEY`` and the old one in
``LMS_MFA_PREVIOUS_ENCRYPTION_KEYS``. Values name the key that sealed them (the first bytes
of its SHA-256), old ones still open, and each is sealed again with the new key when its
owner next uses it; ``lms rotate-mfa-key`` re-seals the rest at once, after which the old
key can be dropped.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common.settings import Settings

SEALED_V1 = b"\x01"  # version, nonce, ciphertext: from before keys were named
SEALED_V2 = b"\x02"  # version, key id, nonce, ciphertext
NONCE_BYTES = 12
KEY_ID_BYTES = 4


class UnsealError(Exception):
    """The value was not sealed with these keys for this owner, or it was altered."""


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:KEY_ID_BYTES]


class SecretBox:
    """Seals with the first key; opens with any (the others are the previous keys)."""

    def __init__(self, key: bytes, *previous: bytes) -> None:
        keys = [key, *previous]
        if any(len(each) != 32 for each in keys):
            raise ValueError("an AES-256 key is 32 bytes")
        self._current = key_id(key)
        self._keys = {key_id(each): AESGCM(each) for each in keys}

    @classmethod
    def from_base64(cls, key: str, *previous: str) -> SecretBox:
        return cls(*(_decoded(each) for each in (key, *previous)))

    @classmethod
    def of(cls, settings: Settings) -> SecretBox:
        """The platform's: LMS_MFA_ENCRYPTION_KEY, then LMS_MFA_PREVIOUS_ENCRYPTION_KEYS."""
        return cls.from_base64(settings.secret("mfa_encryption_key"), *settings.mfa_previous_keys)

    def seal(self, plaintext: str, owner: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self._current].encrypt(nonce, plaintext.encode(), owner)
        return SEALED_V2 + self._current + nonce + sealed

    def open(self, sealed: bytes, owner: bytes) -> str:
        version = sealed[:1]
        if version == SEALED_V2:
            named = sealed[1 : 1 + KEY_ID_BYTES]
            candidates = [self._keys[named]] if named in self._keys else []
            rest = sealed[1 + KEY_ID_BYTES :]
        elif version == SEALED_V1:
            candidates = list(self._keys.values())
            rest = sealed[1:]
        else:
            raise UnsealError("unknown sealed format")
        nonce, body = rest[:NONCE_BYTES], rest[NONCE_BYTES:]
        for aead in candidates:
            try:
                return aead.decrypt(nonce, body, owner).decode()
            except InvalidTag:
                continue
        raise UnsealError("the sealed value does not open with these keys")

    @property
    def current_prefix(self) -> bytes:
        """How every value sealed with the current key begins."""
        return SEALED_V2 + self._current

    def is_current(self, sealed: bytes) -> bool:
        """Sealed with the current key (else it should be sealed again)."""
        return sealed.startswith(self.current_prefix)


def _decoded(key: str) -> bytes:
    return base64.b64decode(key.replace("-", "+").replace("_", "/"))
