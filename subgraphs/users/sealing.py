"""Secrets the service must read back (TOTP seeds), sealed at rest with AES-256-GCM.

A TOTP secret cannot be hashed: verifying a code needs the secret itself. It is stored
sealed with a key from the environment (``LMS_MFA_ENCRYPTION_KEY``), never in the database,
so a copy of the database (a backup, an injection) does not yield anyone's second factor.
Each value carries a fresh 96-bit nonce and is bound to its owner (associated data), so a
sealed value copied onto another row does not open.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = b"\x01"  # first byte of every sealed value, for a future key rotation
NONCE_BYTES = 12


class UnsealError(Exception):
    """The value was not sealed with this key for this owner, or it was altered."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("an AES-256 key is 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def from_base64(cls, key: str) -> SecretBox:
        return cls(base64.b64decode(key.replace("-", "+").replace("_", "/")))

    def seal(self, plaintext: str, owner: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return FORMAT_VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), owner)

    def open(self, sealed: bytes, owner: bytes) -> str:
        version, nonce, body = sealed[:1], sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
        if version != FORMAT_VERSION:
            raise UnsealError("unknown sealed format")
        try:
            return self._aead.decrypt(nonce, body, owner).decode()
        except InvalidTag:
            raise UnsealError("the sealed value does not open with this key") from None
