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
    @blp.response(200, FirmSchema)
    def get(self, org_id: Any) -> dict[str, Any]:
        """One firm (404 when the organisation is not a partner firm; 403 to another firm's agent)."""
        with reading() as session:
            return get_firm(session, current_principal(), str(org_id))


@blp.route("/firms/<uuid:org_id>/categories")
class FirmCategories(MethodView):
    @RIGHTS.guard("declare_categories", current_principal)
    @blp.arguments(DeclareInSchema)
    @blp.response(200, FirmSchema)
    def put(self, body: dict[str, Any], org_id: Any) -> dict[str, Any]:
        """Declare the categories the firm serves, replacing its list (the firm's own partner
        agents, or park admin for it): 422 ``rule/not-a-firm`` for an organisation that is not a
        partner firm, ``rule/unknown-category`` for a code that is not a category."""
        command = DeclareCategories(current_principal(), str(org_id), tuple(body["categories"]))
        return execute(declare_categories, command)
