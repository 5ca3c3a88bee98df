"""``/cases``: submit, list, read, the audit trail, the lifecycle's actions and the rating.

Submitting takes ``Idempotency-Key``; every action takes ``If-Match`` with the ``ETag`` last read
(428 without, 412 when stale) and answers the case with its new ``ETag``. A case the caller may
not read is a 404 for every path under it; a caller who reads it but may not act gets the 403 of
the action's row (docs/CONSULTING.md, "Cases over HTTP").
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.consulting.api.schemas.cases import (
    AcceptSolutionSchema,
    AssignSchema,
    CaseInSchema,
    CaseQuerySchema,
    CaseSchema,
    HistorySchema,
    RatingInSchema,
    ReasonSchema,
    SolutionSchema,
    TriageSchema,
)
from services.consulting.commands.cases import ActOnCase, RateCase, SubmitCase
from services.consulting.handlers.cases import act_on_case, rate_case, submit_case
from services.consulting.permissions import RIGHTS
from services.consulting.queries import cases
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.fields import EmptySchema
from shared.http.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.http.pagination import page_schema
from shared.http.preconditions import IF_MATCH, if_match_versions, versioned_headers
from shared.http.views import execute, reading

blp = Blueprint(
    "consulting-cases",
    "parkhub.consulting.cases",
    description="Cases: submission, the lifecycle's actions, history and rating.",
)


def answer(case: dict[str, Any], status: int = 200) -> Any:
    """The case a handler or query returned, with its ``ETag`` (and ``Location`` when created)."""
    location = f"/api/v1/consulting/cases/{case['id']}" if status == 201 else None
    return case, status, versioned_headers(case["version"], location)


@blp.route("/cases")
class Cases(MethodView):
    @RIGHTS.guard("list", current_principal)
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.response(200, page_schema(CaseSchema))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The cases the caller may list, newest first: a tenant member their own, a tenant admin
        their organisation's, a partner agent those assigned to their firm now, staff all. Filters
        only narrow that; ``sla`` is null in the list (read the case), ``sla_state`` the worst
        state of the clocks the caller may see, as the breach job last found it (and a filter)."""
        with reading() as session:
            return cases.list_cases(session, current_principal(), args)

    @RIGHTS.guard("submit", current_principal)
    @idempotent()
    @blp.arguments(CaseInSchema)
    @blp.response(201, CaseSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any]) -> Any:
        """Submit a case for a service item, answering its intake form (422
        ``rule/intake-answers``); an unknown or withdrawn item or category is a 422
        (``rule/item-unknown``, ``rule/item-inactive``, ``rule/category-inactive``)."""
        command = SubmitCase(
            actor=current_principal(),
            item_id=str(body["item_id"]),
            subject=body["subject"],
            description=body["description"],
            answers=body["answers"],
            priority=body["priority"],
        )
        return answer(execute(submit_case, command), 201)


@blp.route("/cases/<uuid:case_id>")
class CaseById(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.response(200, CaseSchema)
    def get(self, case_id: Any) -> Any:
        """One case with its SLA clocks and the actions open to the caller (others: 404)."""
        with reading() as session:
            return answer(cases.get_case(session, current_principal(), str(case_id)))


@blp.route("/cases/<uuid:case_id>/history")
class CaseHistory(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.response(200, HistorySchema)
    def get(self, case_id: Any) -> dict[str, Any]:
        """The audit trail, oldest first, in the reader's names of the states. A firm's decline
        is the staff's to read; so are the lines' details."""
        with reading() as session:
            return {"items": cases.history(session, current_principal(), str(case_id))}


def act(action: str, case_id: Any, body: dict[str, Any] | None) -> Any:
    """Run one caller action on the case under ``If-Match``."""
    body = body or {}
    command = ActOnCase(
        current_principal(),
        str(case_id),
        action,
        expected_versions=if_match_versions(),
        reason=body.get("reason"),
        priority=body.get("priority"),
        firm_org_id=body.get("firm_org_id"),
        solution=body.get("solution"),
        stars=body.get("stars"),
        comment=body.get("comment"),
    )
    return answer(execute(act_on_case, command))


@blp.route("/cases/<uuid:case_id>/triage")
class CaseTriage(MethodView):
    @RIGHTS.guard("triage", current_principal)
    @blp.arguments(TriageSchema(), required=False)
    @blp.response(200, CaseSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], case_id: Any) -> Any:
        """The desk has looked at a submitted case (and may set its ``priority``). A category
        with a routing rule hands it to a firm at once."""
        return act("triage", case_id, body)


@blp.route("/cases/<uuid:case_id>/assign")
class CaseAssign(MethodView):
    @RIGHTS.guard("assign", current_principal)
    @blp.arguments(AssignSchema)
    @blp.response(200, CaseSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], case_id: Any) -> Any:
        """Hand a triaged case (or one assigned, to another firm) to a firm serving its category,
        active in the directory, that has not declined it (422 ``rule/firm-not-serving``,
        ``rule/firm-inactive``, ``rule/firm-declined``, ``rule/firm-already-assigned``)."""
        return act("assign", case_id, body)


@blp.route("/cases/<uuid:case_id>/accept")
class CaseAccept(MethodView):
    @RIGHTS.guard("accept", current_principal)
    @blp.arguments(EmptySchema(), required=False)
    @blp.response(200, CaseSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], case_id: Any) -> Any:
        """The firm assigned takes the case on."""
        return act("accept", case_id, body)


@blp.route("/cases/<uuid:case_id>/decline")
class CaseDecline(MethodView):
    @RIGHTS.guard("decline", current_principal)
    @blp.arguments(ReasonSchema(), required=False)
    @blp.response(200, CaseSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], case_id: Any) -> Any:
        """The firm assigned declines, saying why: the case is back with the desk (triaged, no
        firm), and the routing rule never hands it to this firm again."""
        return act("decline", case_id, body)


@blp.route("/cases/<uuid:case_id>/start")
class CaseStart(MethodView):
    @RIGHTS.guard("start", current_principal)
    @blp.arguments(EmptySchema(), required=False)
    @blp.response(200, CaseSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], case_id: Any) -> Any:
        """Work starts; an item that requires a quote waits for an accepted one (409
        ``rule/quote-not-accepted``)."""
        return act("start", case_id, body)


@blp.route("/cases/<uuid:case_id>/wait")
class CaseWait(MethodView):
    @RIGHTS.guard("wait", current_principal)
    @blp.arguments(ReasonSchema(), required=False)
    @blp.response(200, CaseSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], case_id: Any) -> Any:
        """The case waits on the tenant (``reason``: what they are asked for); the clocks pause."""
        return act("wait", case_id, body)


@blp.route("/cases/<uuid:case_id>/resume")
class CaseResume(MethodView):
    @RIGHTS.guard("resume", current_principal)
    @blp.arguments(EmptySchema(), required=False)
    @blp.response(200, CaseSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], case_id: Any) -> Any:
        """Work resumes (the tenant has answered)."""
        return act("resume", case_id, body)


@blp.route("/cases/<uuid:case_id>/propose-solution")
class CaseProposeSolution(MethodView):
    @RIGHTS.guard("propose_solution", current_principal)
    @blp.arguments(SolutionSchema)
    @blp.response(200, CaseSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], case_id: Any) -> Any:
        """The firm proposes its ``solution``; the tenant accepts or rejects it, or it closes by
        itself after 7 days without an answer."""
        return act("propose_solution", case_id, body)


@blp.route("/cases/<uuid:case_id>/accept-solution")
class CaseAcceptSolution(MethodView):
    @RIGHTS.guard("accept_solution", current_principal)
    @blp.arguments(AcceptSolutionSchema(), required=False)
    @blp.response(200, CaseSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], case_id: Any) -> Any:
        """The tenant accepts the solution: the case closes; ``stars`` (and ``comment``) rate it
        in the same request."""
        return act("accept_solution", case_id, body)


@blp.route("/cases/<uuid:case_id>/reject-solution")
class CaseRejectSolution(MethodView):
    @RIGHTS.guard("reject_solution", current_principal)
    @blp.arguments(ReasonSchema(), required=False)
    @blp.response(200, CaseSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], case_id: Any) -> Any:
        """The tenant rejects the solution, saying why: the case is in progress again."""
        return act("reject_solution", case_id, body)


@blp.route("/cases/<uuid:case_id>/cancel")
class CaseCancel(MethodView):
    @RIGHTS.guard("cancel", current_principal)
    @blp.arguments(ReasonSchema(), required=False)
    @blp.response(200, CaseSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], case_id: Any) -> Any:
        """Cancel before work starts; the park's staff say why."""
        return act("cancel", case_id, body)


@blp.route("/cases/<uuid:case_id>/rating")
class CaseRating(MethodView):
    @RIGHTS.guard("rate", current_principal)
    @blp.arguments(RatingInSchema)
    @blp.response(201, CaseSchema)
    def post(self, body: dict[str, Any], case_id: Any) -> Any:
        """Rate a closed case once, 1 to 5 stars with a comment (422 ``rule/rating-range``, 409
        ``rule/rate-closed-only``, ``rule/already-rated``); answers the case with its rating."""
        command = RateCase(current_principal(), str(case_id), body["stars"], body.get("comment"))
        return answer(execute(rate_case, command), 201)
