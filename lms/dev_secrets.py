"""Each service's own secrets for one ``lms dev`` run, generated at its start.

A service is given only its own: its database role's password and its OAuth 2 client
secret; the users subgraph gets the SHA-256 of each client secret, never the secret. `lms
dev` itself holds them all while it provisions the database roles. A variable already set
in the environment is kept, and then shared as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterator, Mapping, Sequence

from common.auth.principal import SERVICE_CLIENT_SCOPES


def generate(names: Sequence[str]) -> dict[str, dict[str, str]]:
    """Per service, the variables only it is started with."""
    own: dict[str, dict[str, str]] = {name: {} for name in names}
    for name in names:
        variable = f"LMS_PG_PASSWORD_{name.upper()}"
        if not os.environ.get(variable):
            own[name][variable] = secrets.token_urlsafe(24)
    for client in SERVICE_CLIENT_SCOPES:
        variable = f"LMS_CLIENT_SECRET_{client.upper()}"
        if client not in own or "users" not in own or os.environ.get(variable):
            continue
        secret = secrets.token_urlsafe(32)
        own[client][variable] = secret
        digest = hashlib.sha256(secret.encode()).hexdigest()
        own["users"][f"LMS_CLIENT_SECRET_SHA256_{client.upper()}"] = digest
    return own


@contextlib.contextmanager
def exported(own: Mapping[str, Mapping[str, str]]) -> Iterator[None]:
    """Every service's secrets in this process's environment, for as long as the block runs
    (provisioning sets each role's password); the children started later do not inherit
    them."""
    variables = {name: value for each in own.values() for name, value in each.items()}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name in variables:
            os.environ.pop(name, None)
