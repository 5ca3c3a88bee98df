"""Staff read a service's directory of organisations (:mod:`shared.directory`) over HTTP.

Entries answer as the gateway's organisations do: the codes ``kind`` and ``status`` with their
labels, ``display_name`` in the reader's language, ``updated_at`` in park time.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields
from sqlalchemy import Table, select

from shared.errors import NotFound
from shared.events.identity import ORGANISATION_KINDS
from shared.http.app import current_database
from shared.http.auth import STAFF_ROLES, requires
from shared.http.blueprint import Blueprint
from shared.http.display_names import DisplayName
from shared.http.fields import ParkTime
from shared.http.languages import Label
from shared.http.pagination import PageArgs, page_schema, paginate
from shared.i18n import _


class DirectoryEntrySchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    name_zh = fields.String(allow_none=True)
    display_name = DisplayName()
    kind = fields.String(required=True, metadata={"enum": list(ORGANISATION_KINDS)})
    kind_label = Label("organisation-kind", attribute="kind")
    status = fields.String(required=True)
    status_label = Label("organisation-status", attribute="status")
    version = fields.Integer(required=True)
    updated_at = ParkTime(required=True)


class DirectoryQuerySchema(PageArgs):
    kind = fields.String(metadata={"enum": list(ORGANISATION_KINDS)})


def directory_blueprint(service: str, table: Table) -> Blueprint:
    blp = Blueprint(
        f"{service}-directory",
        f"parkhub.{service}.directory",
        description=f"The organisations {service} knows of, as told by identity events (staff only).",
    )

    @blp.route("/directory/organisations")
    @requires(*STAFF_ROLES)
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
    @requires(*STAFF_ROLES)
    @blp.response(200, DirectoryEntrySchema)
    def get_entry(org_id: Any) -> Any:
        """One organisation as this service knows it."""
        with current_database().reading() as session:
            row = session.execute(select(table).where(table.c.id == str(org_id))).mappings().first()
        if row is None:
            raise NotFound(
                _("{service} has no organisation {id} in its directory (yet).", service=service, id=str(org_id))
            )
        return dict(row)

    return blp
