"""Partners' reviews as a reader sees them: a partner its own review only, the tenant and the
staff every review of the application (queries/views.py's rule, ``sees_partner``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from services.finance.models import Application, Review, directory
from services.finance.permissions import RIGHTS
from services.finance.queries.applications import visible_application
from services.finance.queries.views import sees_partner
from services.finance.rules.lifecycle import REVIEW_TRANSITIONS, SUBSIDY
from shared.directory import organisation_refs
from shared.errors import NotFound
from shared.i18n import _
from shared.principal import Principal

STEPS = ("start_review", "request_info", "provide_info", "decline", "make_offer", "approve")
"""The review's steps a caller may be offered (``actions``), in the order shown."""
TENANT_STEPS = ("provide_info",)


def review_actions(actor: Principal, application: Application, review: Review) -> list[str]:
    """The steps ``actor`` may take on ``review`` now: the application routed, the review's
    state allowing the step, the rights' row giving it to the caller, a partner's step for the
    review's own partner only, an offer on a loan and an approval on a subsidy. Rules that depend
    on a body (what is asked, the terms) are checked when the step is asked for."""
    if application.status != "routed":
        return []
    subsidy = application.product_kind == SUBSIDY
    return [
        step
        for step in STEPS
        if review.status in REVIEW_TRANSITIONS[step]
        and RIGHTS.allows(actor, step, application)
        and (step in TENANT_STEPS or actor.org_id == review.partner_org_id)
        and not (step == "make_offer" and subsidy)
        and not (step == "approve" and not subsidy)
    ]


def review_view(
    review: Review, partners: dict[str, dict[str, Any]], actions: list[str] | None = None
) -> dict[str, Any]:
    """One review as the API answers it; ``partners``: the partners' refs by id; ``actions``:
    :func:`review_actions` for the reader."""
    return {
        "id": review.id,
        "application_id": review.application_id,
        "partner_org_id": review.partner_org_id,
        "partner": partners.get(review.partner_org_id) or {"id": review.partner_org_id},
        "status": review.status,
        "requested": review.requested,
        "resume_status": review.resume_status,
        "decline_reason": review.decline_reason,
        "reason": review.reason,
        "routed_at": review.routed_at,
        "updated_at": review.updated_at,
        "actions": actions or [],
        "version": review.version,
    }


def review_answer(session: Session, actor: Principal, application: Application, review: Review) -> dict[str, Any]:
    """One review as the API answers it to ``actor``, its partner looked up."""
    partners = organisation_refs(session, directory, [review.partner_org_id])
    return review_view(review, partners, review_actions(actor, application, review))


def application_reviews(session: Session, actor: Principal, application_id: str) -> list[dict[str, Any]]:
    """The reviews of an application ``actor`` may see (404 otherwise), in the order they were
    routed: a partner its own only."""
    application = visible_application(session, actor, application_id)
    reviews = [r for r in application.reviews if sees_partner(actor, r.partner_org_id)]
    partners = organisation_refs(session, directory, [r.partner_org_id for r in reviews])
    return [review_view(r, partners, review_actions(actor, application, r)) for r in reviews]


def one_review(session: Session, actor: Principal, application_id: str, partner_org_id: str) -> dict[str, Any]:
    """The review of ``partner_org_id`` on the application, for whoever reads the reviews (a
    partner's other than the caller's own, like one that does not exist: 404)."""
    for review in application_reviews(session, actor, application_id):
        if review["partner_org_id"] == partner_org_id:
            return review
    raise NotFound(_("The application has no review by partner {partner}.", partner=partner_org_id), code="not-found")
