"""``/applications/{id}/reviews``: each partner's review of an application routed to it.

The routed partner starts its review, asks the tenant for documents or answers (the review
pauses), declines with a reason code; the tenant answers a request (the review resumes where it
was). Every step takes ``If-Match`` with the review's ``ETag`` (428 without, 412 when stale) and
answers the review with its new one. A partner reads and acts on its own review only: another
partner's is a 404 to it (docs/FINANCE.md, "Reviews and offers").
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.finance.api.schemas.reviews import (
    DeclineSchema,
    InfoAnswerSchema,
    InfoRequestSchema,
    ReviewListSchema,
    ReviewSchema,
)
from services.finance.commands.reviews import ActOnReview
from services.finance.handlers.reviews import act_on_review
from services.finance.permissions import RIGHTS
from services.finance.queries.reviews import application_reviews, one_review
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.fields import EmptySchema
from shared.http.preconditions import IF_MATCH, if_match_versions, versioned_headers
from shared.http.views import execute, reading

blp = Blueprint(
    "finance-reviews",
    "parkhub.finance.reviews",
    description="Each partner's review: information requests and answers, declines.",
)


def answer(review: dict[str, Any]) -> Any:
    """The review with its ``ETag``."""
    return review, 200, versioned_headers(review["version"])


def act(action: str, application_id: Any, partner_org_id: str | None, body: dict[str, Any] | None) -> Any:
    """Run one step of the review under ``If-Match``."""
    body = body or {}
    command = ActOnReview(
        current_principal(),
        str(application_id),
        partner_org_id,
        action,
        expected_versions=if_match_versions(),
        document_types=tuple(body.get("document_types") or ()),
        questions=tuple(body.get("questions") or ()),
        answers=tuple(body.get("answers") or ()),
        note=body.get("note"),
        reason_code=body.get("reason_code"),
    )
    return answer(execute(act_on_review, command))


@blp.route("/applications/<uuid:application_id>/reviews")
class Reviews(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.response(200, ReviewListSchema)
    def get(self, application_id: Any) -> dict[str, Any]:
        """The application's reviews in the order the partners were routed: a partner its own
        only; the tenant and the staff every one (anyone else: 404)."""
        with reading() as session:
            return {"items": application_reviews(session, current_principal(), str(application_id))}


@blp.route("/applications/<uuid:application_id>/reviews/<string:partner_org_id>")
class ReviewByPartner(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.response(200, ReviewSchema)
    def get(self, application_id: Any, partner_org_id: str) -> Any:
        """One partner's review with its ``ETag`` (for ``If-Match`` on its steps)."""
        with reading() as session:
            return answer(one_review(session, current_principal(), str(application_id), partner_org_id))


@blp.route("/applications/<uuid:application_id>/reviews/<string:partner_org_id>/start")
class ReviewStart(MethodView):
    @RIGHTS.guard("start_review", current_principal)
    @blp.arguments(EmptySchema(), required=False)
    @blp.response(200, ReviewSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], application_id: Any, partner_org_id: str) -> Any:
        """The partner starts its review (routed → under review)."""
        return act("start_review", application_id, partner_org_id, body)


@blp.route("/applications/<uuid:application_id>/reviews/<string:partner_org_id>/request-info")
class ReviewRequestInfo(MethodView):
    @RIGHTS.guard("request_info", current_principal)
    @blp.arguments(InfoRequestSchema)
    @blp.response(200, ReviewSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], application_id: Any, partner_org_id: str) -> Any:
        """The partner asks the tenant for documents (``document_types``) or answers
        (``questions``), at least one (422 ``rule/reason-required``); the review pauses
        (information requested) and remembers where it was. Publishes ``info_requested``."""
        return act("request_info", application_id, partner_org_id, body)


@blp.route("/applications/<uuid:application_id>/reviews/<string:partner_org_id>/provide-info")
class ReviewProvideInfo(MethodView):
    @RIGHTS.guard("provide_info", current_principal)
    @blp.arguments(InfoAnswerSchema)
    @blp.response(200, ReviewSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], application_id: Any, partner_org_id: str) -> Any:
        """The tenant answers the partner's request: ``answers`` to its questions, and the
        documents asked for uploaded to the application since the request (422
        ``rule/info-incomplete`` otherwise). The review resumes where it was; publishes
        ``info_provided``."""
        return act("provide_info", application_id, partner_org_id, body)


@blp.route("/applications/<uuid:application_id>/request-info")
class RequestInfo(MethodView):
    @RIGHTS.guard("request_info", current_principal)
    @blp.arguments(InfoRequestSchema)
    @blp.response(200, ReviewSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], application_id: Any) -> Any:
        """The short path of ``/reviews/{partner}/request-info``: the caller's own review (its
        ``ETag`` in ``If-Match``)."""
        return act("request_info", application_id, None, body)


@blp.route("/applications/<uuid:application_id>/provide-info")
class ProvideInfo(MethodView):
    @RIGHTS.guard("provide_info", current_principal)
    @blp.arguments(InfoAnswerSchema)
    @blp.response(200, ReviewSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], application_id: Any) -> Any:
        """The short path of ``/reviews/{partner}/provide-info``: the answer goes to the one
        partner waiting for it (409 ``rule/no-info-request`` when none is; 422
        ``rule/partner-required`` when several are: answer each at its review's path)."""
        return act("provide_info", application_id, None, body)


@blp.route("/applications/<uuid:application_id>/reviews/<string:partner_org_id>/decline")
class ReviewDecline(MethodView):
    @RIGHTS.guard("decline", current_principal)
    @blp.arguments(DeclineSchema)
    @blp.response(200, ReviewSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], application_id: Any, partner_org_id: str) -> Any:
        """The partner declines (422 ``rule/decline-reason`` without a known ``reason_code``;
        ``other`` needs a ``note``). A decision is kept; publishes ``declined``."""
        return act("decline", application_id, partner_org_id, body)
