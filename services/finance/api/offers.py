"""Offers and approvals, compared by their all-in annual cost, accepted or declined.

Making an offer takes ``Idempotency-Key``; approving a subsidy takes ``If-Match`` with the
bureau's review's ``ETag``; accepting, declining and withdrawing take ``If-Match`` with the
offer's ``ETag`` and answer the offer with its new one. A partner reads its own offers only:
another partner's is a 404 to it (docs/FINANCE.md, "Reviews and offers").
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.finance.api.schemas.offers import (
    ApprovalInSchema,
    ComparisonSchema,
    OfferInSchema,
    OfferQuerySchema,
    OfferReasonSchema,
    OfferSchema,
)
from services.finance.commands.offers import AnswerOffer, ApproveSubsidy, MakeOffer
from services.finance.handlers.offers import answer_offer, approve_subsidy, make_offer
from services.finance.permissions import RIGHTS
from services.finance.queries.offers import comparison, offer_url, one_offer
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.fields import EmptySchema
from shared.http.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.http.preconditions import IF_MATCH, if_match_versions, versioned_headers
from shared.http.views import execute, reading

blp = Blueprint(
    "finance-offers",
    "parkhub.finance.offers",
    description="Offers and approvals, compared by their all-in annual cost, accepted or declined.",
)


def answer(offer: dict[str, Any], status: int = 200) -> Any:
    """The offer with its ``ETag`` (and ``Location`` when it was just made)."""
    return offer, status, versioned_headers(offer["version"], offer_url(offer["id"]) if status == 201 else None)


@blp.route("/applications/<uuid:application_id>/offers")
class ApplicationOffers(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.arguments(OfferQuerySchema, location="query")
    @blp.response(200, ComparisonSchema)
    def get(self, args: dict[str, Any], application_id: Any) -> dict[str, Any]:
        """The comparison: the application's offers side by side (amount, rates, term, fees,
        all-in annual cost, totals, monthly payment, expiry, status, partner), cheapest all-in
        first; ``rank`` numbers those still open. A partner sees only its own offers."""
        with reading() as session:
            return comparison(session, current_principal(), str(application_id), args.get("status"))

    @RIGHTS.guard("make_offer", current_principal)
    @idempotent()
    @blp.arguments(OfferInSchema)
    @blp.response(201, OfferSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any], application_id: Any) -> Any:
        """The routed partner makes an offer while its review is under way (409
        ``rule/state-transition`` otherwise; ``rule/not-for-product-kind`` on a subsidy). Its
        terms: 422 ``rule/offer-amount``, ``rule/offer-rate``, ``rule/offer-term``,
        ``rule/offer-expiry``, ``rule/offer-outside-product``, ``rule/rate-*``, ``rule/fee-*``,
        ``rule/amount-*``, ``rule/repayment-method``, ``rule/fees-exceed-principal``. The
        all-in annual cost is computed and stored; publishes ``offer_made``."""
        command = MakeOffer(
            current_principal(),
            str(application_id),
            amount=body["amount"],
            annual_rate=body["annual_rate"],
            term_months=body["term_months"],
            repayment_method=body["repayment_method"],
            expires_at=body["expires_at"],
            fees=tuple(body["fees"]),
            conditions=body.get("conditions"),
        )
        return answer(execute(make_offer, command), 201)


@blp.route("/applications/<uuid:application_id>/approval")
class SubsidyApproval(MethodView):
    @RIGHTS.guard("approve", current_principal)
    @blp.arguments(ApprovalInSchema)
    @blp.response(201, OfferSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], application_id: Any) -> Any:
        """The bureau approves a subsidy's amount (at most the amount asked for: 422
        ``rule/approval-amount``), under ``If-Match`` with its review's ``ETag``; the
        application is accepted. Answers the approval (an offer of kind ``approval``)."""
        command = ApproveSubsidy(
            current_principal(),
            str(application_id),
            amount=body["amount"],
            conditions=body.get("conditions"),
            expected_versions=if_match_versions(),
        )
        return answer(execute(approve_subsidy, command), 201)


@blp.route("/offers/<uuid:offer_id>")
class OfferById(MethodView):
    @RIGHTS.guard("read_offer", current_principal)
    @blp.response(200, OfferSchema)
    def get(self, offer_id: Any) -> Any:
        """One offer with its ``ETag``: for the tenant, the partner that made it and staff."""
        with reading() as session:
            return answer(one_offer(session, current_principal(), str(offer_id)))


def act(action: str, offer_id: Any, body: dict[str, Any] | None) -> Any:
    command = AnswerOffer(
        current_principal(), str(offer_id), action, if_match_versions(), reason=(body or {}).get("reason")
    )
    return answer(execute(answer_offer, command))


@blp.route("/offers/<uuid:offer_id>/accept")
class OfferAccept(MethodView):
    @RIGHTS.guard("accept_offer", current_principal)
    @blp.arguments(EmptySchema(), required=False)
    @blp.response(200, OfferSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], offer_id: Any) -> Any:
        """A tenant admin accepts the offer: the application is accepted, every other offer
        withdrawn, the other reviews end. 409 ``rule/offer-answered`` (expired, invalidated,
        answered), ``rule/offer-expired`` (past its expiry)."""
        return act("accept", offer_id, body)


@blp.route("/offers/<uuid:offer_id>/decline")
class OfferDecline(MethodView):
    @RIGHTS.guard("decline_offer", current_principal)
    @blp.arguments(OfferReasonSchema(), required=False)
    @blp.response(200, OfferSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], offer_id: Any) -> Any:
        """A tenant admin declines the offer (an optional ``reason``); the partner's review goes
        back under review."""
        return act("decline", offer_id, body)


@blp.route("/offers/<uuid:offer_id>/withdraw")
class OfferWithdraw(MethodView):
    @RIGHTS.guard("withdraw_offer", current_principal)
    @blp.arguments(OfferReasonSchema(), required=False)
    @blp.response(200, OfferSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], offer_id: Any) -> Any:
        """The partner that made the offer takes it back before the tenant accepts it;
        publishes ``offer_withdrawn``."""
        return act("withdraw", offer_id, body)
