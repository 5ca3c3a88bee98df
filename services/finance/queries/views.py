"""How an application, its reviews and its audit trail are shown, to whom.

Decisions (docs/FINANCE.md, "Applications"):
- a state's name is the tenant's for tenants and the staff's for staff and partners
  (:func:`services.finance.permissions.sees_tenant_names`);
- a partner reads its own review of the application, never another partner's (nor that other
  partners were routed to: ``partner_org_ids`` is its own only); the tenant and the staff read
  every review;
- the audit trail: a partner never reads another partner's review or offer lines; the lines'
  ``details`` (the partners routed, the offers that lapsed) are the staff's and the tenant's,
  a partner reads its own lines' details only;
- the company profile kept at submission is read by everyone who reads the application (the
  partners judge on it);
- the service itself (``handlers.common.SYSTEM``) is named :data:`SYSTEM_NAME` in the reader's
  language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.finance.models import Application, ApplicationTransition, Product, Review
from services.finance.permissions import RIGHTS, sees_tenant_names
from services.finance.rules.lifecycle import SUBSIDY, SUBSIDY_TRANSITIONS, TRANSITIONS
from services.finance.rules.names import (
    APPLICATION_ACTION,
    OFFER_STATUS,
    REVIEW_STATUS,
    application_status_name,
    reason_shown,
)
from shared.i18n import Text, _, label
from shared.principal import Principal

SYSTEM_SUBJECT = "system:finance"
"""The subject of the service's own acts (``handlers.common.SYSTEM``)."""
SYSTEM_NAME = _("ParkHub finance")

APPLICATION_ACTIONS = ("edit", "submit", "withdraw", "start_pre_review", "route", "turn_down")
"""The application's own actions the caller may be offered (``actions``); other modules add
theirs to :data:`OFFERED_ACTIONS`."""
OFFERED_ACTIONS: list[str] = list(APPLICATION_ACTIONS)
"""Every action ``actions`` may name, in the order shown: the application table's actions (a
subsidy's for a subsidy) the rights table gives the caller."""


def actor_name_shown(subject: str | None, stored: str | None) -> Text | None:
    """The service's own name in the reader's language, anybody else's as stored."""
    return SYSTEM_NAME if subject == SYSTEM_SUBJECT else stored


def status_label(status: str | None, actor: Principal) -> Text | None:
    """The name of an application's ``status`` as ``actor`` reads it (None for None)."""
    if status is None:
        return None
    return application_status_name(status, for_tenant=sees_tenant_names(actor))


def available_actions(actor: Principal, application: Application) -> list[str]:
    """The actions ``actor`` may take on ``application`` now: those its state allows (its
    product's table) and the rights table gives the caller. Rules depending on a body or other
    rows (completeness, a reason, the partners) are checked when the action is asked for."""
    table = SUBSIDY_TRANSITIONS if application.product_kind == SUBSIDY else TRANSITIONS
    return [
        action
        for action in OFFERED_ACTIONS
        if application.status in table.get(action, {}) and RIGHTS.allows(actor, action, application)
    ]


def sees_partner(actor: Principal, partner_org_id: str | None) -> bool:
    """Whether ``actor`` reads what concerns ``partner_org_id`` (its review, its offers, their
    lines): the staff and the tenant everything; a partner its own partner's only."""
    if not actor.is_partner:
        return True
    return bool(actor.org_id) and partner_org_id == actor.org_id


def review_view(review: Review, organisations: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """One partner's review as the application shows it."""
    return {
        "id": review.id,
        "partner": organisation_ref(organisations, review.partner_org_id),
        "status": review.status,
        "requested": review.requested,
        "decline_reason": review.decline_reason,
        "reason": reason_shown(review.reason),
        "routed_at": review.routed_at,
        "updated_at": review.updated_at,
    }


def organisation_ref(rows: Mapping[str, Mapping[str, Any]], org_id: str | None) -> dict[str, Any] | None:
    """``org_id`` as :class:`~shared.http.fields.OrganisationRefSchema` shows it (names null when
    the directory does not hold it)."""
    if org_id is None:
        return None
    row = rows.get(org_id)
    return {"id": org_id, "name": row["name"] if row else None, "name_zh": row["name_zh"] if row else None}


def application_view(
    application: Application,
    actor: Principal,
    *,
    product: Product,
    organisations: Mapping[str, Mapping[str, Any]],
    documents: int,
) -> dict[str, Any]:
    """An application as ``actor`` reads it (module docstring: who sees which reviews)."""
    reviews = [r for r in application.reviews if sees_partner(actor, r.partner_org_id)]
    accepted = application.accepted_partner_org_id
    winner_shown = accepted is None or sees_partner(actor, accepted)
    return {
        "id": application.id,
        "number": application.number,
        "status": application.status,
        "status_label": status_label(application.status, actor),
        "product": {
            "id": product.id,
            "code": product.code,
            "kind": product.kind,
            "name": product.name,
            "name_zh": product.name_zh,
        },
        "product_kind": application.product_kind,
        "organisation": organisation_ref(organisations, application.org_id),
        "applicant": application.applicant,
        "applicant_name": application.applicant_name,
        "amount": application.amount,
        "currency": application.currency,
        "term_months": application.term_months,
        "purpose": application.purpose,
        "answers": dict(application.answers or {}),
        "profile": application.profile,
        "reason": application.reason,
        "partner_org_ids": [r.partner_org_id for r in reviews],
        "reviews": [review_view(r, organisations) for r in reviews],
        # A partner whose offer lost reads that the application was accepted, not whose offer.
        "accepted_offer_id": application.accepted_offer_id if winner_shown else None,
        "accepted_partner": organisation_ref(organisations, application.accepted_partner_org_id)
        if winner_shown
        else None,
        "documents_count": documents,
        "submitted_at": application.submitted_at,
        "closed_at": application.closed_at,
        "created_at": application.created_at,
        "updated_at": application.updated_at,
        "actions": available_actions(actor, application),
        "version": application.version,
    }


def line_shown(actor: Principal, line: ApplicationTransition) -> bool:
    """Whether ``actor`` reads this audit line: a partner not another partner's review or offer
    lines; everyone else who reads the application every line."""
    if line.subject in ("review", "offer") and line.partner_org_id is not None:
        return sees_partner(actor, line.partner_org_id)
    return True


def _line_status_label(line: ApplicationTransition, status: str | None, actor: Principal) -> Any:
    if status is None:
        return None
    if line.subject == "application":
        return status_label(status, actor)
    return label(REVIEW_STATUS if line.subject == "review" else OFFER_STATUS, status)


def action_label(line: ApplicationTransition) -> Text:
    """What an audit line did, for people: an offer's line by the state it put the offer in
    (withdrawn, no longer valid, accepted: one offer action's name would read as the
    application's), every other line by its action."""
    if line.subject == "offer":
        return label(OFFER_STATUS, line.to_status)
    return label(APPLICATION_ACTION, line.action)


def transition_view(line: ApplicationTransition, actor: Principal) -> dict[str, Any]:
    """One line of the audit trail, the states in the reader's names; ``details`` for the staff
    and the tenant, and for a partner on its own lines."""
    own = not actor.is_partner or (line.partner_org_id is not None and line.partner_org_id == actor.org_id)
    return {
        "subject": line.subject,
        "action": line.action,
        "action_label": action_label(line),
        "from_status": line.from_status,
        "from_status_label": _line_status_label(line, line.from_status, actor),
        "to_status": line.to_status,
        "to_status_label": _line_status_label(line, line.to_status, actor),
        # A partner reads that the application moved (another's offer accepted, say), never
        # which other partner it moved for.
        "partner_org_id": line.partner_org_id if own or not actor.is_partner else None,
        "actor": line.actor,
        "actor_name": actor_name_shown(line.actor, line.actor_name),
        "reason": reason_shown(line.reason),
        "details": dict(line.details or {}) if own else {},
        "at": line.at,
    }
