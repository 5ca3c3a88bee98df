"""Each service's own directory of organisations, fed by ``identity.organisation.*`` events.

Services never ask the gateway who an organisation is; they keep this read model. Events may
arrive out of order or twice: a row only moves forward to a higher ``version``.
Staff read it at ``GET /api/v1/<service>/directory/organisations[/{id}]`` (:mod:`shared.http.directory`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, select
from sqlalchemy.orm import Session

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


# Reading it: organisation refs ------------------------------------------------------------------

Directory = Mapping[str, Mapping[str, Any]]
"""id → the directory's row (``id``, ``name``, ``name_zh``, ``kind``, ``status``)."""


def organisations(session: Session, table: Table, org_ids: Iterable[str | None]) -> Directory:
    """The rows of ``table`` (a service's directory) of ``org_ids`` (None and unknown ids left
    out), in one query."""
    ids = {i for i in org_ids if i}
    if not ids:
        return {}
    rows = session.execute(
        select(table.c.id, table.c.name, table.c.name_zh, table.c.kind, table.c.status).where(table.c.id.in_(ids))
    ).mappings()
    return {row["id"]: dict(row) for row in rows}


def organisation_ref(rows: Directory, org_id: str | None) -> dict[str, Any] | None:
    """``org_id`` as :class:`~shared.http.fields.OrganisationRefSchema` shows it, ``{id, name,
    name_zh}`` (None without an id). An organisation the directory does not hold (yet: identity's
    event may not have arrived) keeps its id, its names null (its ``display_name`` is the id)."""
    if org_id is None:
        return None
    row = rows.get(org_id)
    return {"id": org_id, "name": row["name"] if row else None, "name_zh": row["name_zh"] if row else None}


def organisation_refs(session: Session, table: Table, org_ids: Iterable[str | None]) -> dict[str, dict[str, Any]]:
    """Each of ``org_ids`` as :func:`organisation_ref` shows it, in one query."""
    ids = [i for i in org_ids if i]
    rows = organisations(session, table, ids)
    return {i: ref for i in ids if (ref := organisation_ref(rows, i)) is not None}
