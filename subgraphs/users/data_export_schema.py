"""GraphQL surface of personal data exports: `requestDataExport`, `User.dataExports`."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from common import clock
from common.graphql.access import signed_in
from common.graphql.ids import graphql_id, parse_id
from subgraphs.users.data_exports import DataExports, ExportStatus, status_of
from subgraphs.users.loaders import UsersInfo
from subgraphs.users.models import DataExportRow


@strawberry.enum(description="Where a data export stands.")
class DataExportStatus(Enum):
    REQUESTED = "REQUESTED"
    READY = "READY"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"


@strawberry.type(
    description="An archive of everything the platform holds about a user (GDPR art. 15/20): "
    "a zip with one JSON file per subgraph and a manifest."
)
class DataExport:
    id: strawberry.ID
    status: DataExportStatus
    requested_at: datetime
    ready_at: datetime | None
    expires_at: datetime = strawberry.field(
        description="READY: when the archive is deleted; REQUESTED: when it fails if not "
        "complete; FAILED: when the record goes."
    )
    failure: str | None = strawberry.field(description="Why it FAILED.")
    size_bytes: int | None
    download_url: str | None = strawberry.field(
        description="While READY: a signed link to the archive, working without a session "
        "until it expires (an hour; ask again for a fresh one)."
    )


def data_export_of(exports: DataExports, row: DataExportRow) -> DataExport:
    now = clock.now()
    status = status_of(row, now)
    return DataExport(
        id=graphql_id(row.id),
        status=DataExportStatus(status.value),
        requested_at=row.requested_at,
        ready_at=row.ready_at,
        expires_at=row.expires_at,
        failure=row.failure if status == ExportStatus.FAILED else None,
        size_bytes=row.size_bytes,
        download_url=exports.download_url(row, now),
    )


async def data_exports_of(info: UsersInfo, user_id: strawberry.ID) -> list[DataExport]:
    """`User.dataExports`, newest first; the caller has been checked (self or admin)."""
    rows = await info.context.loaders.data_exports.load(parse_id(user_id))
    exports = info.context.service.exports
    return [data_export_of(exports, row) for row in rows]


@strawberry.input
class RequestDataExportInput:
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="Whose data; yours when omitted (others: admins only)."
    )


@strawberry.type
class DataExportPayload:
    data_export: DataExport


@strawberry.type
class DataExportMutations:
    @strawberry.mutation(
        extensions=[signed_in()],
        description="Export a user's data from every subgraph (yours, or any user's for "
        "administrators). The user is notified when it is ready; one at a time, a few a day.",
    )
    async def request_data_export(
        self, info: UsersInfo, input: RequestDataExportInput | None = None
    ) -> DataExportPayload:
        context = info.context
        principal = context.require_principal()
        user_id = (
            parse_id(input.user_id, field="userId")
            if input is not None and input.user_id is not None
            else principal.user_id
        )
        exports = context.service.exports
        row = await exports.request(principal, user_id, context.client_address)
        return DataExportPayload(data_export=data_export_of(exports, row))
