"""Each service's own directory of organisations, fed by ``identity.organisation.*`` events.

Services never ask the gateway who an organisation is; they keep this read model. Events may
arrive out of order or twice: a row only moves forward to a higher ``version``.
Staff read it at ``GET /api/v1/<service>/directory/organisations[/{id}]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, select

from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import NotFound
from shared.events import Event
from shared.events.identity import ORGANISATION_KINDS, ORGANISATION_REGISTERED, ORGANISATION_UPDATED
from shared.http.app import current_database
from shared.http.auth import requires
from shared.http.pagination import PageArgs, page_schema, paginate


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


class DirectoryEntrySchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    name_zh = fields.String(allow_none=True)
    kind = fields.String(required=True, metadata={"enum": list(ORGANISATION_KINDS)})
    status = fields.String(required=True)
    version = fields.Integer(required=True)
    updated_at = fields.DateTime(required=True)


class DirectoryQuerySchema(PageArgs):
    kind = fields.String(metadata={"enum": list(ORGANISATION_KINDS)})


def directory_blueprint(service: str, table: Table) -> Blueprint:
    blp = Blueprint(
        f"{service}-directory",
        f"parkhub.{service}.directory",
        description=f"The organisations {service} knows of, as told by identity events (staff only).",
    )

    @blp.route("/directory/organisations")
    @requires("desk_staff", "park_admin")
    @blp.arguments(DirectoryQuerySchema, location="query")
    @blp.response(200, page_schema(DirectoryEntrySchema))
    def list_entries(args: dict[str, Any]) -> dict[str, Any]:
        """List this service's directory, optionally of one kind."""
        query = select(table).order_by(table.c.name, table.c.id)
        if "kind" in args:
            query = query.where(table.c.kind == args["kind"])
        with current_database().reading() as session:
            return paginate(session, query, args, scalars=False)

    @blp.route("/directory/organisations/<uuid:org_id>")
    @requires("desk_staff", "park_admin")
    @blp.response(200, DirectoryEntrySchema)
    def get_entry(org_id: Any) -> Any:
        """One organisation as this service knows it."""
        with current_database().reading() as session:
            row = session.execute(select(table).where(table.c.id == str(org_id))).mappings().first()
        if row is None:
            raise NotFound(f"{service} has no organisation {org_id} in its directory (yet).")
        return dict(row)

    return blp
