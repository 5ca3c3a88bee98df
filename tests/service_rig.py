"""What the services' test rigs share: the test organisations put in a service's directory, as
identity's events would, and the events a service published (its outbox)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, select

from shared.db import Database


def register_organisations(database: Database, directory: Table, organisations: Iterable[tuple[str, ...]]) -> None:
    """``organisations`` as ``(id, name, name_zh, kind)`` rows of ``directory``, active, version 1."""
    with database.unit_of_work() as uow:
        for org_id, name, name_zh, kind in organisations:
            uow.session.execute(
                directory.insert().values(
                    id=org_id,
                    name=name,
                    name_zh=name_zh,
                    kind=kind,
                    status="active",
                    version=1,
                    updated_at=datetime.now(UTC),
                )
            )
        uow.commit()


def published(db: Database, type_prefix: str) -> list[dict[str, Any]]:
    """The envelopes of the events in ``db``'s outbox whose type starts with ``type_prefix``, in order."""
    table = db.messaging.outbox
    with db.reading() as session:
        query = select(table.c.envelope).where(table.c.type.startswith(type_prefix)).order_by(table.c.id)
        return [json.loads(r.envelope) for r in session.execute(query)]
