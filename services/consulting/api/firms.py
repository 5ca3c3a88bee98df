"""``/firms``: the partner firms of the park's directory and the categories each serves. The staff
read every firm; a partner agent reads and declares their own firm's; park admin declares for any."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.consulting.api.schemas.catalogue import DeclareInSchema, FirmListSchema, FirmSchema
from services.consulting.commands.catalogue import DeclareCategories
from services.consulting.handlers.catalogue import declare_categories
from services.consulting.permissions import RIGHTS
from services.consulting.queries.catalogue import get_firm, list_firms
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.preconditions import IF_MATCH, etag_header, if_match_versions, versioned_headers
from shared.http.views import execute, reading

blp = Blueprint(
    "consulting-firms", "parkhub.consulting.firms", description="Partner firms and the categories they serve."
)


@blp.route("/firms")
class Firms(MethodView):
    @RIGHTS.guard("read_firms", current_principal)
    @blp.response(200, FirmListSchema)
    def get(self) -> dict[str, Any]:
        """Every partner organisation of the directory with the categories it serves and its open
        cases (staff); a partner agent's own firm only."""
        with reading() as session:
            return list_firms(session, current_principal())


@blp.route("/firms/<uuid:org_id>")
class FirmById(MethodView):
    @RIGHTS.guard("read_firms", current_principal)
    @blp.response(200, FirmSchema, headers={"ETag": etag_header("the version of its declaration")})
    def get(self, org_id: Any) -> Any:
        """One firm (404 when the organisation is not a firm; 403 to another firm's agent);
        ``ETag``: the version of its declaration, the ``If-Match`` of ``PUT .../categories``."""
        with reading() as session:
            firm = get_firm(session, current_principal(), str(org_id))
        return firm, 200, versioned_headers(firm["version"])


@blp.route("/firms/<uuid:org_id>/categories")
class FirmCategories(MethodView):
    @RIGHTS.guard("declare_categories", current_principal)
    @blp.arguments(DeclareInSchema)
    @blp.response(200, FirmSchema, headers={"ETag": etag_header("the version of its declaration")})
    @blp.doc(parameters=[IF_MATCH])
    def put(self, body: dict[str, Any], org_id: Any) -> Any:
        """Declare the categories the firm serves, replacing its list (the firm's own partner
        agents, or park admin for it) under ``If-Match`` (the ``ETag`` of ``GET /firms/{id}``,
        ``"0"`` while it declared none; 428 without, 412 stale): 422 ``rule/not-a-firm`` for an
        organisation that is not a partner, ``rule/unknown-category`` for a code that is not a
        category."""
        command = DeclareCategories(current_principal(), str(org_id), tuple(body["categories"]), if_match_versions())
        firm = execute(declare_categories, command)
        return firm, 200, versioned_headers(firm["version"])
