"""What consulting's handlers share on the session's side: loading a case the actor may see, the
audit trail, the case's events. Nothing here commits; the decisions are in :mod:`..rules`.

``SYSTEM_NAME`` (the service's name shown to readers, a marked text) is defined in
:mod:`services.consulting.queries.views`, so queries can render it too; handlers import it here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from services.consulting.models import Case, CaseTransition, Category
from services.consulting.permissions import can_see
from services.consulting.queries.views import SYSTEM_NAME, SYSTEM_SUBJECT
from shared.clock import as_utc
from shared.db import UnitOfWork
from shared.errors import NotFound
from shared.i18n import _
from shared.principal import Principal

__all__ = ["SYSTEM", "SYSTEM_NAME", "case_payload", "load_case", "new_id", "record", "utc_text"]

SYSTEM = Principal(subject=SYSTEM_SUBJECT, org_id="", org_kind="operator", roles=frozenset(), name=SYSTEM_NAME.msgid)
"""Who acts for the worker's jobs (routing, the automatic close, SLA escalation). Its stored name
is the English; readers are shown :data:`SYSTEM_NAME` in their language (queries.views)."""


def new_id() -> str:
    return str(uuid.uuid4())


def utc_text(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, as consulting's events carry times."""
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def load_case(uow: UnitOfWork, actor: Principal, case_id: str, *, for_update: bool = False) -> Case:
    """The case if ``actor`` may see it (the ``read`` right); anyone else is told there is none
    (404), so case ids do not leak. ``for_update`` locks the row (PostgreSQL) for a change."""
    case = uow.session.get(Case, case_id, with_for_update=for_update or None)
    if case is None or not can_see(actor, case):
        raise NotFound(_("There is no case {id}.", id=case_id), code="not-found")
    return case


def record(
    uow: UnitOfWork,
    case: Case,
    action: str,
    *,
    from_status: str | None,
    actor: Principal,
    at: datetime,
    reason: str | None = None,
    **details: Any,
) -> CaseTransition:
    """Write one line of the audit trail: ``action`` took ``case`` from ``from_status`` to its
    current status (the same for an action that moves nothing, e.g. an escalation)."""
    line = CaseTransition(
        case_id=case.id,
        action=action,
        from_status=from_status,
        to_status=case.status,
        actor=actor.subject,
        actor_name=actor.name or None,
        reason=reason,
        details=details,
        at=at,
    )
    uow.session.add(line)
    return line


def case_payload(case: Case, *, previous_status: str | None, at: datetime, reason: str | None = None) -> dict[str, Any]:
    """The body of a ``consulting.case.*`` event (:class:`shared.events.consulting.CaseV1`),
    built from the case as it is after the change. Call it after the flush that bumps ``version``.
    The category's names come from :func:`category_names` (one read per unit of work)."""
    names = category_names(case)
    return {
        "case_id": case.id,
        "status": case.status,
        "previous_status": previous_status,
        "org_id": case.org_id,
        "submitted_by": case.submitted_by,
        "category": case.category_code,
        "category_name": names[0],
        "category_name_zh": names[1],
        "item_id": case.item_id,
        "firm_org_id": case.firm_org_id,
        "priority": case.priority,
        "submitted_at": utc_text(case.submitted_at),
        "changed_at": utc_text(at),
        "reason": reason,
        "version": case.version,
    }


def category_names(case: Case) -> tuple[str | None, str | None]:
    """The English and Chinese names of ``case``'s category, (None, None) for a case in no session.
    Every category's names are read once per session (the catalogue is small) and kept in its
    ``info``: a job escalating many cases adds one read, not one per case."""
    session = object_session(case)
    if session is None:
        return None, None
    names = session.info.get(_CATEGORY_NAMES)
    if names is None or case.category_code not in names:
        rows = session.execute(select(Category.code, Category.name, Category.name_zh))
        names = session.info[_CATEGORY_NAMES] = {code: (name, name_zh) for code, name, name_zh in rows}
    found: tuple[str | None, str | None] = names.get(case.category_code, (None, None))
    return found


def remember_category_names(session: Session, category: Category) -> None:
    """Keep ``category``'s names, just read, for :func:`category_names` in this session, so an
    event about a case of it reads no category again."""
    names = session.info.setdefault(_CATEGORY_NAMES, {})
    names[category.code] = (category.name, category.name_zh)


_CATEGORY_NAMES = "consulting.category_names"
