"""How a case and its audit trail are shown, to whom.

Decisions (docs/CONSULTING.md, "Cases over HTTP"):
- a state's name is the tenant's for tenants and the staff's for staff and firms
  (:func:`services.consulting.permissions.sees_tenant_names`);
- a firm's decline is the desk's inner step: only the park's staff read its reason, on the case
  and in the trail, and only they see which firms declined (``declined_by``) and the details of
  an audit line (the firm a case was assigned to, the routing rule); tenants and firms read the
  trail without decline lines;
- the breach job's ``escalate`` line of the firm's clock (``details.clock == "firm"``) is read by
  the staff and by the firm whose clock it was (``details.firm_org_id``), not by the tenant (the
  firm's commitment to the desk is not the park's promise to the tenant) nor by a later firm; a
  line of the tenant's clock is read by everyone who reads the case;
- the service itself (:data:`SYSTEM_SUBJECT`, the worker's jobs) is named :data:`SYSTEM_NAME` in
  the reader's language wherever an actor's or author's name is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.consulting.models import Case, CaseTransition, Category, Rating, ServiceItem
from services.consulting.permissions import RIGHTS, sees_tenant_names
from services.consulting.queries.organisations import organisation_ref
from services.consulting.rules import CALLER_ACTIONS, TRANSITIONS
from services.consulting.rules.names import case_reason_name, is_system_reason, status_name
from shared.i18n import Text, _
from shared.principal import Principal

SYSTEM_SUBJECT = "system:consulting"
"""The subject of the service's own acts (``handlers.common.SYSTEM``)."""
SYSTEM_NAME = _("ParkHub consulting")
"""The service's name as its readers read it, rendered in their language at read time."""


def actor_name_shown(subject: str | None, stored: str | None) -> Text | None:
    """The name shown for ``subject``: the service's own in the reader's language, anybody
    else's as stored when they acted (None: the directory had no name)."""
    return SYSTEM_NAME if subject == SYSTEM_SUBJECT else stored


STAFF_ONLY_ACTIONS = frozenset({"decline"})
"""Audit lines only the park's staff read (the firm's decline and its reason)."""


def status_label(status: str | None, actor: Principal) -> Text | None:
    """The name of ``status`` as ``actor`` reads it (None for None)."""
    if status is None:
        return None
    return status_name(status, for_tenant=sees_tenant_names(actor))


def reason_shown(actor: Principal, case: Case, reason_action: str | None) -> Text | None:
    """``case.reason`` as ``actor`` reads it: one the system gave (a code: every appraisal firm
    declined a valuation case) to everybody, in their language; a person's words to the staff
    always, to anybody else unless the action that wrote them (``reason_action``) is one only the
    staff read (a firm's decline)."""
    if is_system_reason(case.reason):
        return case_reason_name(str(case.reason))
    if actor.is_staff or reason_action not in STAFF_ONLY_ACTIONS:
        return case.reason
    return None


def available_actions(actor: Principal, case: Case, *, rated: bool) -> list[str]:
    """The actions ``actor`` may take on ``case`` now: those the case's state allows
    (``rules.TRANSITIONS``) and the table of rights gives the caller, plus ``rate`` on a closed case
    not rated yet. Codes as the rights table spells them (``propose_solution``: the URL's
    ``/propose-solution``). Rules that depend on the body or other rows (a reason, an accepted
    quote before ``start``) are checked when the action is asked for."""
    actions = [a for a in CALLER_ACTIONS if case.status in TRANSITIONS[a] and RIGHTS.allows(actor, a, case)]
    if case.status == "closed" and not rated and RIGHTS.allows(actor, "rate", case):
        actions.append("rate")
    return actions


def answers_shown(answers: Mapping[str, Any] | None, form: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The case's answers in the order of the item's intake form, each with the question's label
    in both languages (``label_en``/``label_zh``; the schema shows the reader's) and, for a
    choice, the label of the answer chosen (a multiple choice: the labels joined). An answer
    whose question the form no longer holds is shown by its code."""
    answers = dict(answers or {})
    questions = {q["code"]: q for q in form or [] if q.get("code") in answers}
    order = [q["code"] for q in form or [] if q.get("code") in answers] + [c for c in answers if c not in questions]
    shown = []
    for code in order:
        question, value = questions.get(code, {}), answers[code]
        entry = {
            "code": code,
            "label_en": question.get("label", code),
            "label_zh": question.get("label_zh"),
            "value": value,
            "value_label_en": None,
            "value_label_zh": None,
        }
        if question.get("type") in ("choice", "multi_choice"):
            choices = {c["code"]: c for c in question.get("choices", [])}
            chosen = [choices.get(v, {"label": str(v)}) for v in (value if isinstance(value, list) else [value])]
            entry["value_label_en"] = ", ".join(c["label"] for c in chosen)
            entry["value_label_zh"] = "、".join(c.get("label_zh") or c["label"] for c in chosen)
        shown.append(entry)
    return shown


def case_view(
    case: Case,
    actor: Principal,
    *,
    item: ServiceItem,
    category: Category,
    organisations: Mapping[str, Mapping[str, Any]],
    rating: Rating | None,
    reason_action: str | None,
    sla: list[dict[str, Any]] | None,
    sla_state: str | None = None,
) -> dict[str, Any]:
    """A case as ``actor`` reads it (``sla`` None in lists: read the case for its clocks)."""
    return {
        "id": case.id,
        "number": case.number,
        "status": case.status,
        "status_label": status_label(case.status, actor),
        "priority": case.priority,
        "category": {"code": category.code, "name": category.name, "name_zh": category.name_zh},
        "item": {
            "id": item.id,
            "code": item.code,
            "name": item.name,
            "name_zh": item.name_zh,
            "quote_required": case.quote_required,
        },
        "organisation": organisation_ref(organisations, case.org_id),
        "submitted_by": case.submitted_by,
        "submitted_by_name": case.submitted_by_name,
        "firm": organisation_ref(organisations, case.firm_org_id),
        "declined_by": list(case.declined_by or []) if actor.is_staff else None,
        "declined_firms": (
            [organisation_ref(organisations, firm) for firm in case.declined_by or []] if actor.is_staff else None
        ),
        "subject": case.subject,
        "description": case.description,
        "answers": case.answers,
        "answers_shown": answers_shown(case.answers, item.intake_fields),
        "reason": reason_shown(actor, case, reason_action),
        "solution": case.solution,
        "submitted_at": case.submitted_at,
        "assigned_at": case.assigned_at,
        "solution_proposed_at": case.solution_proposed_at,
        "closed_at": case.closed_at,
        "updated_at": case.updated_at,
        "rating": (
            None
            if rating is None
            else {
                "stars": rating.stars,
                "comment": rating.comment,
                "rated_by": rating.rated_by,
                "rated_by_name": rating.rated_by_name,
                "rated_at": rating.rated_at,
            }
        ),
        "sla": sla,
        "sla_state": sla_state,
        "actions": available_actions(actor, case, rated=rating is not None),
        "version": case.version,
    }


def line_shown(actor: Principal, line: CaseTransition) -> bool:
    """Whether ``actor`` reads this audit line: the staff every line; others no decline line and
    no escalation of a firm's clock but their own firm's (the module's decisions)."""
    if actor.is_staff:
        return True
    if line.action in STAFF_ONLY_ACTIONS:
        return False
    details = line.details or {}
    if line.action == "escalate" and details.get("clock") == "firm":
        return bool(actor.org_id) and details.get("firm_org_id") == actor.org_id
    return True


def transition_view(line: CaseTransition, actor: Principal) -> dict[str, Any]:
    """One line of the audit trail, the states in the reader's names; ``details`` (the firm, the
    routing rule) for the staff only."""
    return {
        "action": line.action,
        "from_status": line.from_status,
        "from_status_label": status_label(line.from_status, actor),
        "to_status": line.to_status,
        "to_status_label": status_label(line.to_status, actor),
        "actor": line.actor,
        "actor_name": actor_name_shown(line.actor, line.actor_name),
        "reason": line.reason,
        "details": dict(line.details or {}) if actor.is_staff else {},
        "at": line.at,
    }
