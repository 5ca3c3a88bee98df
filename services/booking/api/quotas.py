"""``/quotas``: tenants' free hours per month and space kind (park admin sets them)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from services.booking import handlers
from services.booking.api.caller import actor, execute, reading
from services.booking.api.schemas.spaces import (
    QuotaListSchema,
    QuotaSchema,
    QuotaUsageListSchema,
    QuotaUsageQuerySchema,
)
from services.booking.commands import SetQuota
from services.booking.queries import spaces
from services.booking.queries.quotas import usage
from shared.clock import PARK_TZ
from shared.errors import PermissionDenied
from shared.http.auth import requires

blp = Blueprint("booking-quotas", "parkhub.booking.quotas", description="Free hours per tenant and space kind.")


@blp.route("/quotas")
class Quotas(MethodView):
    @blp.response(200, QuotaListSchema)
    @requires("desk_staff", "park_admin")
    def get(self) -> dict[str, Any]:
        """Every quota rule; ``org_id`` ``*`` is the default for every tenant."""
        with reading() as session:
            return {"items": spaces.list_quotas(session)}

    @blp.arguments(QuotaSchema)
    @blp.response(200, QuotaSchema)
    @requires("park_admin")
    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        """Set one rule (free hours per calendar month, park time)."""
        execute(handlers.set_quota, SetQuota(actor(), body["org_id"], body["space_kind"], body["free_hours_per_month"]))
        return body


@blp.route("/quotas/usage")
class QuotaUsage(MethodView):
    @blp.arguments(QuotaUsageQuerySchema, location="query")
    @blp.response(200, QuotaUsageListSchema)
    @requires()
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Your organisation's free hours, used and left, per space kind for a month."""
        who = actor()
        org_id = args.get("organisation_id") or who.org_id
        if org_id != who.org_id and not who.is_staff:
            raise PermissionDenied("You can only read your own organisation's quota.")
        month = args.get("month") or datetime.now(PARK_TZ).strftime("%Y-%m")
        first = datetime.combine(datetime.strptime(month + "-01", "%Y-%m-%d").date(), time(0), PARK_TZ)
        with reading() as session:
            return {"organisation_id": org_id, "month": month, "items": usage(session, org_id, first)}
