"""Signing keys: the users subgraph signs access tokens with an RSA key, everyone verifies
them with its JWKS; the enrollments subgraph signs certificates with a key of its own."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from joserfc.jwk import KeyParameters, KeySet, RSAKey

from common.settings import DEV_ENVIRONMENTS, Settings

SIGNING_ALGORITHM = "RS256"
KEY_PARAMETERS: KeyParameters = {"use": "sig", "alg": SIGNING_ALGORITHM}


def load_signing_key(
    path: Path, *, create: bool, variable: str = "LMS_JWT_PRIVATE_KEY_FILE"
) -> RSAKey:
    """Read a PEM private key; in development, generate it (mode 0600) when absent."""
    if not path.exists():
        if not create:
            raise FileNotFoundError(f"signing key not found at {path} ({variable})")
        generated = RSAKey.generate_key(2048, parameters=KEY_PARAMETERS, private=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(generated.as_pem(private=True))
    key = RSAKey.import_key(path.read_bytes(), parameters=KEY_PARAMETERS)
    key.ensure_kid()
    return key


def public_jwks(keys: list[RSAKey]) -> dict[str, Any]:
    return dict(KeySet(list(keys)).as_dict(private=False))


@functools.cache
def _cached_key(path: Path, create: bool, variable: str) -> RSAKey:
    return load_signing_key(path, create=create, variable=variable)


def platform_signing_key(settings: Settings) -> RSAKey:
    """The platform's key: signs access tokens; only the users subgraph loads it (generated
    in development)."""
    return _cached_key(
        settings.jwt_private_key_file, settings.env in DEV_ENVIRONMENTS, "LMS_JWT_PRIVATE_KEY_FILE"
    )


def certificate_signing_key(settings: Settings) -> RSAKey:
    """The enrollments subgraph's own key: signs certificates, and nothing else (generated in
    development); its public half is the enrollments subgraph's JWKS."""
    return _cached_key(
        settings.certificate_key_file, settings.env in DEV_ENVIRONMENTS, "LMS_CERTIFICATE_KEY_FILE"
    )


def lti_signing_keys(settings: Settings) -> list[RSAKey]:
    """The courses subgraph's LTI keys, the signing one first: it signs launches (ID tokens)
    and nothing else (generated in development). Rotation: move the file's path to
    LMS_LTI_PREVIOUS_KEY_FILES and give a new one; tools that cached the JWKS keep
    verifying until they refetch on the new ``kid``."""
    current = _cached_key(
        settings.lti_key_file, settings.env in DEV_ENVIRONMENTS, "LMS_LTI_KEY_FILE"
    )
    previous = [
        _cached_key(path, False, "LMS_LTI_PREVIOUS_KEY_FILES")
        for path in settings.lti_previous_key_files
    ]
    return [current, *previous]


def published_lti_keys(settings: Settings) -> list[RSAKey]:
    """The LTI keys to publish: none where LTI is not configured (no key file in production),
    so the JWKS answers an empty set rather than failing."""
    try:
        return lti_signing_keys(settings)
    except FileNotFoundError:
        return []
