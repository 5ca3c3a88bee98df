"""``/financing-rounds``: the accepted venture-capital and guide-fund offers (from finance) a
tenant's financing roadshow may present; the tenant picks one as a reservation's ``purpose_ref``."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.booking.api.schemas.rounds import FinancingRoundListSchema, FinancingRoundQuerySchema
from services.booking.permissions import RIGHTS
from services.booking.queries import rounds
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.views import reading

blp = Blueprint(
    "booking-financing-rounds",
    "parkhub.booking.financing_rounds",
    description="Tenants' financing rounds, which a roadshow in the park's event spaces presents.",
)


@blp.route("/financing-rounds")
class FinancingRounds(MethodView):
    @RIGHTS.guard("read_financing_rounds", current_principal)
    @blp.arguments(FinancingRoundQuerySchema, location="query")
    @blp.response(200, FinancingRoundListSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The caller's organisation's rounds (a tenant), or every organisation's (staff;
        ``organisation_id`` narrows them), newest first. ``application_id`` is what a roadshow
        names as ``purpose_ref``."""
        with reading() as session:
            return rounds.list_rounds(session, current_principal(), args)
