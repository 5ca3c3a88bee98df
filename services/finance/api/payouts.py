"""Contracts, disbursements (maker-checker) and closing, under ``/applications/{id}``.

The contract and closing take ``If-Match`` with the application's ``ETag``; recording a tranche
takes ``Idempotency-Key``; approving one takes ``If-Match`` with the tranche's ``ETag``. An
application the caller may not read is a 404 for every path under it (docs/FINANCE.md, "Payouts").
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.finance.api.schemas.payouts import (
    ContractInSchema,
    DisbursementInSchema,
    DisbursementSchema,
    PayoutsSchema,
)
from services.finance.commands.payouts import ApproveDisbursement, CloseApplication, RecordDisbursement, SignContract
from services.finance.handlers.payouts import (
    approve_disbursement,
    close_application,
    record_disbursement,
    sign_contract,
)
from services.finance.permissions import RIGHTS
from services.finance.queries.payouts import get_payouts
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.fields import EmptySchema
from shared.http.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.http.preconditions import IF_MATCH, if_match_versions, versioned_headers
from shared.http.views import execute, reading

blp = Blueprint(
    "finance-payouts", "parkhub.finance.payouts", description="Contracts, disbursements (maker-checker) and closing."
)


def _answer(view: dict[str, Any], status: int = 200, location: str | None = None) -> Any:
    return view, status, versioned_headers(view["version"], location)


@blp.route("/applications/<uuid:application_id>/contract")
class Contract(MethodView):
    @RIGHTS.guard("sign_contract", current_principal)
    @blp.arguments(ContractInSchema)
    @blp.response(200, PayoutsSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], application_id: Any) -> Any:
        """Record the signed contract of an accepted loan (the accepted partner or staff):
        ``accepted`` → ``contract_signed``. A subsidy has none (409 ``rule/not-for-product-kind``)."""
        command = SignContract(
            current_principal(),
            str(application_id),
            body["contract_number"],
            body["signed_on"],
            expected_versions=if_match_versions(),
        )
        return _answer(execute(sign_contract, command))


@blp.route("/applications/<uuid:application_id>/disbursements")
class Disbursements(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.response(200, PayoutsSchema)
    def get(self, application_id: Any) -> Any:
        """The application's payouts: accepted amount, paid (approved tranches), pending,
        remaining, the contract and every tranche, oldest first."""
        with reading() as session:
            return _answer(get_payouts(session, current_principal(), str(application_id)))

    @RIGHTS.guard("record_disbursement", current_principal)
    @idempotent()
    @blp.arguments(DisbursementInSchema)
    @blp.response(201, DisbursementSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any], application_id: Any) -> Any:
        """Record a tranche (the maker: the accepted partner or staff), ``pending`` until another
        person approves it; within what remains of the accepted amount (409 ``rule/tranche-exceeds``)."""
        command = RecordDisbursement(
            current_principal(), str(application_id), body["amount"], body["disbursed_on"], body["reference"]
        )
        view = execute(record_disbursement, command)
        location = f"/api/v1/finance/applications/{application_id}/disbursements/{view['id']}"
        return _answer(view, 201, location)


@blp.route("/applications/<uuid:application_id>/disbursements/<uuid:disbursement_id>/approve")
class DisbursementApproval(MethodView):
    @RIGHTS.guard("approve_disbursement", current_principal)
    @blp.arguments(EmptySchema(), required=False)
    @blp.response(200, DisbursementSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], application_id: Any, disbursement_id: Any) -> Any:
        """Approve a pending tranche (the checker: never who recorded it, 409 ``rule/same-person``):
        only then it counts; the application moves to ``disbursing``, and to ``disbursed`` once
        paid in full."""
        command = ApproveDisbursement(
            current_principal(), str(application_id), str(disbursement_id), expected_versions=if_match_versions()
        )
        return _answer(execute(approve_disbursement, command))


@blp.route("/applications/<uuid:application_id>/close")
class Close(MethodView):
    @RIGHTS.guard("close", current_principal)
    @blp.arguments(EmptySchema(), required=False)
    @blp.response(200, PayoutsSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], application_id: Any) -> Any:
        """Close an application paid out in full (staff): ``disbursed`` → ``closed``; an IP
        pledge still registered is released that day."""
        command = CloseApplication(current_principal(), str(application_id), expected_versions=if_match_versions())
        return _answer(execute(close_application, command))
