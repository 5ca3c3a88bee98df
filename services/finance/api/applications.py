"""``/applications``: drafts, edits, submission, the desk's pre-review, routing and no, the
tenant's withdrawal, lists, one application, its history.

Drafting takes ``Idempotency-Key``; editing and every action take ``If-Match`` with the ``ETag``
last read (428 without, 412 when stale) and answer the application with its new ``ETag``. An
application the caller may not read is a 404 for every path under it; a caller who reads it but
may not act gets the 403 of the action's row (docs/FINANCE.md, "Applications").
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.finance.api.schemas.applications import (
    ApplicationEditSchema,
    ApplicationHistorySchema,
    ApplicationInSchema,
    ApplicationQuerySchema,
    ApplicationReasonSchema,
    ApplicationRouteSchema,
    ApplicationSchema,
)
from services.finance.commands.applications import ActOnApplication, DraftApplication, EditApplication
from services.finance.handlers.applications import act_on_application, draft_application, edit_application
from services.finance.permissions import RIGHTS
from services.finance.queries import applications
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.fields import EmptySchema
from shared.http.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.http.pagination import page_schema
from shared.http.preconditions import IF_MATCH, if_match_versions, versioned_headers
from shared.http.views import execute, reading

blp = Blueprint(
    "finance-applications",
    "parkhub.finance.applications",
    description="Applications: drafts, submission, the desk's pre-review and routing, withdrawal, history.",
)


def answer(application: dict[str, Any], status: int = 200) -> Any:
    """The application a handler or query returned, with its ``ETag`` (and ``Location`` when created)."""
    location = f"/api/v1/finance/applications/{application['id']}" if status == 201 else None
    return application, status, versioned_headers(application["version"], location)


@blp.route("/applications")
class Applications(MethodView):
    @RIGHTS.guard("list", current_principal)
    @blp.arguments(ApplicationQuerySchema, location="query")
    @blp.response(200, page_schema(ApplicationSchema))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The applications the caller may list, newest first: a tenant their organisation's, a
        partner agent those routed to their partner, staff all. Filters only narrow that."""
        with reading() as session:
            return applications.list_applications(session, current_principal(), args)

    @RIGHTS.guard("create", current_principal)
    @idempotent()
    @blp.arguments(ApplicationInSchema)
    @blp.response(201, ApplicationSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any]) -> Any:
        """Draft an application for a product, for the caller's organisation: ``amount`` a decimal
        string (422 ``rule/amount-*``), ``term_months`` 1-360 (``rule/term-invalid``); an unknown
        or withdrawn product is 422 ``rule/product-unknown``, ``rule/product-inactive``."""
        command = DraftApplication(
            actor=current_principal(),
            product_id=str(body["product_id"]),
            amount=body["amount"],
            term_months=body["term_months"],
            purpose=body["purpose"],
            answers=body["answers"],
        )
        return answer(execute(draft_application, command), 201)


@blp.route("/applications/<uuid:application_id>")
class ApplicationById(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.response(200, ApplicationSchema)
    def get(self, application_id: Any) -> Any:
        """One application with the reviews the caller may see and the actions open to them."""
        with reading() as session:
            return answer(applications.get_application(session, current_principal(), str(application_id)))

    @RIGHTS.guard("edit", current_principal)
    @blp.arguments(ApplicationEditSchema)
    @blp.response(200, ApplicationSchema)
    @blp.doc(parameters=[IF_MATCH])
    def patch(self, body: dict[str, Any], application_id: Any) -> Any:
        """Change amount, term, purpose or answers of a draft, or while partners review it (then
        the amount and term must fit the product, and the offers made are no longer valid);
        elsewhere 409 ``rule/state-transition``."""
        command = EditApplication(
            current_principal(),
            str(application_id),
            expected_versions=if_match_versions(),
            amount=body.get("amount"),
            term_months=body.get("term_months"),
            purpose=body.get("purpose"),
            answers=body.get("answers"),
        )
        return answer(execute(edit_application, command))


@blp.route("/applications/<uuid:application_id>/history")
class ApplicationHistory(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.response(200, ApplicationHistorySchema)
    def get(self, application_id: Any) -> dict[str, Any]:
        """The audit trail, oldest first, in the reader's names of the states; a partner reads
        no other partner's review or offer lines."""
        with reading() as session:
            return {"items": applications.history(session, current_principal(), str(application_id))}


def act(action: str, application_id: Any, body: dict[str, Any] | None) -> Any:
    """Run one action on the application under ``If-Match``."""
    body = body or {}
    command = ActOnApplication(
        current_principal(),
        str(application_id),
        action,
        expected_versions=if_match_versions(),
        reason=body.get("reason"),
        partner_org_ids=tuple(body.get("partner_org_ids") or ()),
    )
    return answer(execute(act_on_application, command))


@blp.route("/applications/<uuid:application_id>/submit")
class ApplicationSubmit(MethodView):
    @RIGHTS.guard("submit", current_principal)
    @blp.arguments(EmptySchema(), required=False)
    @blp.response(200, ApplicationSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], application_id: Any) -> Any:
        """Submit a draft: eligibility, the request against the product, the required documents
        and, for an IP-pledge loan, the patents are checked, and every failure named at once
        (422 ``rule/not-submittable`` with ``failures`` ``[{code, field, detail}]``)."""
        return act("submit", application_id, body)


@blp.route("/applications/<uuid:application_id>/start-pre-review")
class ApplicationStartPreReview(MethodView):
    @RIGHTS.guard("start_pre_review", current_principal)
    @blp.arguments(EmptySchema(), required=False)
    @blp.response(200, ApplicationSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], application_id: Any) -> Any:
        """The desk starts checking a submitted application."""
        return act("start_pre_review", application_id, body)


@blp.route("/applications/<uuid:application_id>/route")
class ApplicationRoute(MethodView):
    @RIGHTS.guard("route", current_principal)
    @blp.arguments(ApplicationRouteSchema)
    @blp.response(200, ApplicationSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], application_id: Any) -> Any:
        """Route the application to partners providing its product (422 ``rule/route-empty``,
        ``rule/route-not-provider``; 409 ``rule/route-repeated``): a review each; again later
        adds partners."""
        return act("route", application_id, body)


@blp.route("/applications/<uuid:application_id>/turn-down")
class ApplicationTurnDown(MethodView):
    @RIGHTS.guard("turn_down", current_principal)
    @blp.arguments(ApplicationReasonSchema(), required=False)
    @blp.response(200, ApplicationSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], application_id: Any) -> Any:
        """The desk's no, saying why (422 ``rule/reason-required``): the application is closed,
        its open reviews end and its open offers are withdrawn."""
        return act("turn_down", application_id, body)


@blp.route("/applications/<uuid:application_id>/withdraw")
class ApplicationWithdraw(MethodView):
    @RIGHTS.guard("withdraw", current_principal)
    @blp.arguments(ApplicationReasonSchema(), required=False)
    @blp.response(200, ApplicationSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], application_id: Any) -> Any:
        """The tenant withdraws before an offer is accepted: open reviews end, open offers are
        withdrawn."""
        return act("withdraw", application_id, body)
