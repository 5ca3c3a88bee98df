"""Quotes: the firm assigned proposes a fee (CNY), the tenant accepts or rejects it.

A case has one agreed fee: once the tenant has accepted a quote, the firm proposes no other
(``rule/quote-already-accepted``). A newer proposal supersedes a quote of the case still
unanswered; an answered quote stays as it is, the record of the fee. Proposing publishes
``consulting.case.quoted``, accepting ``consulting.case.quote_accepted`` (the case and the quote),
as every case event is published (``publish_case``: subject ``cases/{id}``); a quote moves no
state of the case, so ``previous_status`` is the status it had before, the same as ``status``. A
rejection publishes nothing (issue 8 names no event for it). The case itself does not change (its
status, its version): a quote is not a transition, and ``start`` reads the accepted quote when the
case needs one. Nothing here commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from services.consulting.commands.quotes import AnswerQuote, ProposeQuote
from services.consulting.handlers.common import load_case, new_id, utc_text
from services.consulting.handlers.transitions import publish_case
from services.consulting.models import Case, Quote
from services.consulting.permissions import RIGHTS, sees_tenant_names
from services.consulting.queries.quotes import quote_answer
from services.consulting.rules.follow_up import check_quote_answerable
from services.consulting.rules.lifecycle import check_fee, check_no_agreed_fee, check_quotable, next_quote_status
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import NotFound, check_version
from shared.events.consulting import CURRENCY
from shared.i18n import _

ANSWERS = {"accept": "accept_quote", "reject": "reject_quote"}
"""Each answer and its row of rights."""


def _publish(uow: UnitOfWork, event: str, case: Case, quote: Quote, at: datetime) -> None:
    quoted = {
        "quote_id": quote.id,
        "status": quote.status,
        "fee": str(quote.fee),
        "currency": quote.currency,
        "proposed_by": quote.proposed_by,
        "proposed_at": utc_text(quote.proposed_at),
    }
    # A quote moves no state: the status before it is the case's status now.
    publish_case(uow, case, event, previous_status=case.status, at=at, reason=None, quote=quoted)


def propose_quote(cmd: ProposeQuote, *, uow: UnitOfWork) -> dict[str, Any]:
    """The firm assigned proposes ``cmd.fee`` for the case; returns the quote. A case the actor
    may not see is a 404, anybody but the firm assigned a 403; the case must be ``accepted`` or
    ``in_progress`` (409 ``rule/state-transition``), without a quote the tenant accepted (409
    ``rule/quote-already-accepted``), and the fee valid (422 ``rule/fee-*``). A quote of the case
    still proposed is superseded."""
    case = load_case(uow, cmd.actor, cmd.case_id, for_update=True)
    RIGHTS.require(cmd.actor, "propose_quote", case)
    check_quotable(case.status)
    fee = check_fee(cmd.fee)
    agreed = uow.session.execute(
        select(Quote.id, Quote.fee).where(Quote.case_id == case.id, Quote.status == "accepted").limit(1)
    ).first()
    check_no_agreed_fee(*(agreed or (None, None)))
    now = cmd.at or utcnow()
    pending = uow.session.scalars(
        select(Quote).where(Quote.case_id == case.id, Quote.status == "proposed").with_for_update()
    )
    for older in pending:
        older.status = next_quote_status(older.status, "supersede")
    quote = Quote(
        id=new_id(),
        case_id=case.id,
        firm_org_id=cmd.actor.org_id,  # the firm assigned: RIGHTS.require above
        fee=fee,
        currency=CURRENCY,
        description=cmd.description,
        status="proposed",
        proposed_by=cmd.actor.subject,
        proposed_by_name=cmd.actor.name or None,
        proposed_at=now,
    )
    uow.session.add(quote)
    uow.session.flush()
    _publish(uow, "consulting.case.quoted", case, quote, now)
    return quote_answer(uow.session, quote)


def answer_quote(cmd: AnswerQuote, *, uow: UnitOfWork) -> dict[str, Any]:
    """The tenant accepts or rejects a proposed quote of the case, at the version ``If-Match``
    named (412 otherwise); returns the quote. A case the actor may not see, or a quote of another
    case, is a 404; anybody but the submitter or a tenant admin of the organisation a 403. An
    answered or superseded quote is a 409 ``rule/quote-answered``; a quote of an ended case a
    409 ``rule/case-ended``."""
    case = load_case(uow, cmd.actor, cmd.case_id, for_update=True)
    RIGHTS.require(cmd.actor, ANSWERS[cmd.action], case)
    quote = uow.session.get(Quote, cmd.quote_id, with_for_update=True)
    if quote is None or quote.case_id != case.id:
        raise NotFound(_("There is no quote {id} on this case.", id=cmd.quote_id), code="not-found")
    check_quote_answerable(case.status, for_tenant=sees_tenant_names(cmd.actor))
    status = next_quote_status(quote.status, cmd.action)  # an answered quote: 409, whatever If-Match says
    check_version(quote.version, cmd.expected_versions)
    quote.status = status
    now = cmd.at or utcnow()
    quote.answered_by = cmd.actor.subject
    quote.answered_by_name = cmd.actor.name or None
    quote.answered_at = now
    if cmd.action == "reject":
        quote.reason = cmd.reason.strip() if cmd.reason and cmd.reason.strip() else None
    uow.session.flush()
    if cmd.action == "accept":
        _publish(uow, "consulting.case.quote_accepted", case, quote, now)
    return quote_answer(uow.session, quote)
