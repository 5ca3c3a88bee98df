"""Each service's own directory of organisations, fed by ``identity.organisation.*`` events.

Services never ask the gateway who an organisation is; they keep this read model. Events may
arrive out of order or twice: a row only moves forward to a higher ``version``.
Staff read it at ``GET /api/v1/<service>/directory/organisations[/{id}]`` (:mod:`shared.http.directory`).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, select

from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.events import Event
from shared.events.identity import ORGANISATION_REGISTERED, ORGANISATION_UPDATED


def define_directory_table(metadata: MetaData) -> Table:
    return Table(
        "directory_organisations",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("name", String(200), nullable=False),
        Column("name_zh", String(200)),
        Column("kind", String(40), nullable=False, index=True),
        Column("status", String(20), nullable=False),
        Column("version", Integer, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )


def directory_handlers(table: Table) -> dict[str, Callable[..., None]]:
    """The consumers that keep ``table`` in step with the gateway's organisations."""

    def on_organisation_changed(event: Event, *, uow: UnitOfWork) -> None:
        data = event.data
        row = {
            "name": data["name"],
            "name_zh": data.get("name_zh"),
            "kind": data["kind"],
            "status": data["status"],
            "version": data["version"],
            "updated_at": utcnow(),
        }
        current = uow.session.execute(select(table.c.version).where(table.c.id == str(data["id"]))).scalar()
        if current is None:
            uow.session.execute(table.insert().values(id=str(data["id"]), **row))
        elif current < data["version"]:
            uow.session.execute(table.update().where(table.c.id == str(data["id"])).values(**row))

    return {
        ORGANISATION_REGISTERED.type: on_organisation_changed,
        ORGANISATION_UPDATED.type: on_organisation_changed,
    }
