"""``/quotas``: tenants' free hours per month and space kind (park admin sets them)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.booking import handlers
from services.booking.api.schemas.spaces import (
    AdminHistorySchema,
    QuotaListSchema,
    QuotaSchema,
    QuotaUsageListSchema,
    QuotaUsageQuerySchema,
)
from services.booking.commands import SetQuota
from services.booking.permissions import RIGHTS
from services.booking.queries import quotas, spaces
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.preconditions import IF_MATCH, if_match_versions, versioned_headers
from shared.http.views import execute, reading

blp = Blueprint("booking-quotas", "parkhub.booking.quotas", description="Free hours per tenant and space kind.")


@blp.route("/quotas")
class Quotas(MethodView):
    @RIGHTS.guard("read_quotas", current_principal)
    @blp.response(200, QuotaListSchema)
    def get(self) -> dict[str, Any]:
        """Every quota rule with its version; ``org_id`` ``*`` is the default for every tenant."""
        with reading() as session:
            return {"items": quotas.list_quotas(session)}

    @RIGHTS.guard("set_quota", current_principal)
    @blp.arguments(QuotaSchema)
    @blp.response(200, QuotaSchema)
    @blp.doc(parameters=[IF_MATCH])
    def put(self, body: dict[str, Any]) -> Any:
        """Set one rule (free hours per calendar month, park time). ``If-Match`` carries the rule's
        version from ``GET /quotas`` (``"0"`` or ``*`` for a rule that does not exist yet)."""
        command = SetQuota(
            current_principal(), body["org_id"], body["space_kind"], body["free_hours_per_month"], if_match_versions()
        )
        version = execute(handlers.set_quota, command)
        return {**body, "version": version}, 200, versioned_headers(version)


@blp.route("/quotas/usage")
class QuotaUsage(MethodView):
    @RIGHTS.guard("read_quota_usage", current_principal)
    @blp.arguments(QuotaUsageQuerySchema, location="query")
    @blp.response(200, QuotaUsageListSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """An organisation's free time of a month (``month``, park time; default this month), per
        space kind, in whole minutes: ``free_minutes``, ``used_minutes``, ``left_minutes``. Its
        members read their own; staff any (``organisation_id``)."""
        with reading() as session:
            return quotas.usage_of(session, current_principal(), args.get("organisation_id"), args.get("month"))


@blp.route("/quotas/history")
class QuotaHistory(MethodView):
    @RIGHTS.guard("read_quotas", current_principal)
    @blp.response(200, AdminHistorySchema)
    def get(self) -> dict[str, Any]:
        """The audit trail of the quota rules: who set which rule from what to what."""
        with reading() as session:
            return {"items": spaces.admin_history(session, "quota")}
