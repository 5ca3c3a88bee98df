"""A case's quotes as a reader sees them: newest first, the fee with two places in CNY, the firm
as the directory names it (the one lookup: ``queries.organisations``), who proposed and who
answered by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.consulting.models import Quote
from services.consulting.queries.cases import visible_case
from services.consulting.queries.organisations import Directory, organisation_ref, organisations
from shared.errors import NotFound
from shared.i18n import _
from shared.principal import Principal

API = "/api/v1/consulting"


def quote_url(quote: Mapping[str, Any]) -> str:
    """Where one quote is read (``Location`` of the 201 that proposed it)."""
    return f"{API}/cases/{quote['case_id']}/quotes/{quote['id']}"


def quote_view(row: Quote, names: Directory) -> dict[str, Any]:
    """``row`` as the API answers it; ``names``: the directory's rows by id (``organisations``).
    A firm the directory does not hold has no names (``OrganisationRefSchema``'s fallback)."""
    return {
        "id": row.id,
        "case_id": row.case_id,
        "firm": organisation_ref(names, row.firm_org_id),
        "fee": row.fee,
        "currency": row.currency,
        "description": row.description,
        "status": row.status,
        "proposed_by": row.proposed_by,
        "proposed_by_name": row.proposed_by_name,
        "proposed_at": row.proposed_at,
        "answered_by": row.answered_by,
        "answered_by_name": row.answered_by_name,
        "answered_at": row.answered_at,
        "reason": row.reason,
        "version": row.version,
    }


def quote_answer(session: Session, row: Quote) -> dict[str, Any]:
    """One quote as the API answers it, its firm looked up."""
    return quote_view(row, organisations(session, [row.firm_org_id]))


def case_quotes(session: Session, actor: Principal, case_id: str) -> list[dict[str, Any]]:
    """The quotes of a case ``actor`` may see (the ``read`` row; a 404 otherwise), newest first."""
    case = visible_case(session, actor, case_id)
    rows = list(
        session.scalars(
            select(Quote).where(Quote.case_id == case.id).order_by(Quote.proposed_at.desc(), Quote.id.desc())
        )
    )
    names = organisations(session, {r.firm_org_id for r in rows})
    return [quote_view(r, names) for r in rows]


def one_quote(session: Session, actor: Principal, case_id: str, quote_id: str) -> dict[str, Any]:
    """Quote ``quote_id`` of case ``case_id``, with the list's rights: a 404 when the case is not
    ``actor``'s to see, for a quote of another case and for none at all."""
    case = visible_case(session, actor, case_id)
    row = session.get(Quote, quote_id)
    if row is None or row.case_id != case.id:
        raise NotFound(_("There is no quote {id} on this case.", id=quote_id), code="not-found")
    return quote_answer(session, row)
