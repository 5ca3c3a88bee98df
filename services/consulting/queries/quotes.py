"""A case's quotes as a reader sees them: newest first, the fee with two places in CNY."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.consulting.models import Quote, directory
from services.consulting.queries.messages import visible_case
from shared.principal import Principal


def firm_names(session: Session, firm_ids: set[str]) -> dict[str, tuple[str, str | None]]:
    """The directory's ``(name, name_zh)`` of each firm of ``firm_ids`` it knows."""
    if not firm_ids:
        return {}
    rows = session.execute(
        select(directory.c.id, directory.c.name, directory.c.name_zh).where(directory.c.id.in_(firm_ids))
    )
    return {r.id: (r.name, r.name_zh) for r in rows}


def quote_view(row: Quote, names: dict[str, tuple[str, str | None]] | None = None) -> dict[str, Any]:
    name, name_zh = (names or {}).get(row.firm_org_id, (row.firm_org_id, None))
    return {
        "id": row.id,
        "case_id": row.case_id,
        "firm": {"id": row.firm_org_id, "name": name, "name_zh": name_zh},
        "fee": row.fee,
        "currency": row.currency,
        "description": row.description,
        "status": row.status,
        "proposed_by": row.proposed_by,
        "proposed_at": row.proposed_at,
        "answered_by": row.answered_by,
        "answered_at": row.answered_at,
        "reason": row.reason,
        "version": row.version,
    }


def case_quotes(session: Session, actor: Principal, case_id: str) -> list[dict[str, Any]]:
    """The quotes of a case ``actor`` may see (the ``read`` row; a 404 otherwise), newest first."""
    case = visible_case(session, actor, case_id)
    rows = list(
        session.scalars(
            select(Quote).where(Quote.case_id == case.id).order_by(Quote.proposed_at.desc(), Quote.id.desc())
        )
    )
    names = firm_names(session, {r.firm_org_id for r in rows})
    return [quote_view(r, names) for r in rows]
