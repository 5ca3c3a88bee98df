"""A valuation case's valuation: the assigned appraisal firm records the amount and the report
(handlers/valuations.py; docs/CONSULTING.md, "Valuations"). Takes ``If-Match`` with the case's
``ETag`` and answers the case's new one."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.consulting.api.schemas.valuations import CaseValuationInSchema, CaseValuationSchema
from services.consulting.commands.valuations import RecordCaseValuation
from services.consulting.handlers.valuations import record_case_valuation
from services.consulting.permissions import RIGHTS
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.preconditions import IF_MATCH, if_match_versions, versioned_headers
from shared.http.views import execute

blp = Blueprint(
    "consulting-valuations",
    "parkhub.consulting.valuations",
    description="The appraisal firm's valuation on a valuation case opened for finance.",
)


@blp.route("/cases/<uuid:case_id>/valuation")
class CaseValuation(MethodView):
    @RIGHTS.guard("record_valuation", current_principal)
    @blp.arguments(CaseValuationInSchema)
    @blp.response(200, CaseValuationSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], case_id: Any) -> Any:
        """The firm assigned records the valuation (amount, CNY, the report attached to a message
        of the case) on a valuation case accepted or in progress; the solution is proposed after
        it. 409 ``rule/not-valuation``, ``rule/valuation-state``; 422 ``rule/valuation-amount``,
        ``rule/valuation-report``."""
        command = RecordCaseValuation(
            current_principal(),
            str(case_id),
            body["amount"],
            body["currency"],
            str(body["report_attachment_id"]),
            expected_versions=if_match_versions(),
        )
        view = execute(record_case_valuation, command)
        return view, 200, versioned_headers(view["version"])
