"""Per-request DataLoaders of the users subgraph."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeAlias

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from common.graphql.app import LoaderScope
from common.graphql.context import RequestContext
from common.graphql.loaders import batch_loader, grouped_loader
from subgraphs.users.mfa import MfaStatus
from subgraphs.users.models import DataExportRow, ExternalIdentityRow, UserRow
from subgraphs.users.services import UsersServices


@dataclass(frozen=True, slots=True)
class UsersLoaders:
    user: DataLoader[uuid.UUID, UserRow | None]
    mfa: DataLoader[uuid.UUID, MfaStatus | None]  # None: never enrolled
    identities: DataLoader[uuid.UUID, list[ExternalIdentityRow]]
    data_exports: DataLoader[uuid.UUID, list[DataExportRow]]


def build_loaders(services: UsersServices, _: LoaderScope) -> UsersLoaders:
    service = services.users
    return UsersLoaders(
        user=batch_loader(service.by_ids),
        mfa=batch_loader(service.mfa.statuses),
        identities=grouped_loader(service.external_identities),
        data_exports=grouped_loader(services.exports.of_users),
    )


# What every resolver of the users subgraph gets as `info`.
UsersInfo: TypeAlias = Info[RequestContext[UsersServices, UsersLoaders], None]
