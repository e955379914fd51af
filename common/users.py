"""Facts about users that every domain shares."""

from __future__ import annotations

import uuid

# Stands in for an erased user wherever a reference must stay (authorship, ownership):
# the row keeps its history, the person is gone.
DELETED_USER = uuid.UUID(int=0)
