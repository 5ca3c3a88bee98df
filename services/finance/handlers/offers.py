"""Offers: the routed partner makes one (its terms checked by rules/lifecycle.py and the
product's ranges, the all-in annual cost computed by rules/cost.py and stored); a bureau approves
a subsidy's amount (an offer of kind ``approval``, accepted as it is made); the tenant's admin
accepts or declines an offer; its partner withdraws it; the worker expires those nobody answered.

Accepting moves the application to ``accepted`` (handlers/transitions.py), withdraws every other
offer still made (``offer_withdrawn`` tells each partner) and ends the other partners' reviews
still open (``cancel``). A declined, withdrawn or expired offer sends its partner's review back
under review (``reconsider``): the partner may make another. Every change writes audit lines
(subject ``offer``, and ``review`` for the review it moves); a made offer, an acceptance and an
approval keep an immutable decision record with the offer's terms. Nothing here commits.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from services.finance.commands.offers import AnswerOffer, ApproveSubsidy, MakeOffer
from services.finance.handlers.common import (
    SYSTEM,
    load_application,
    money_text,
    new_id,
    record,
    record_decision,
    utc_text,
)
from services.finance.handlers.reviews import check_in_review, find_review, move_review, review_line
from services.finance.handlers.transitions import is_subsidy, publish_application, transition
from services.finance.models import Application, Offer, Product, Review
from services.finance.permissions import RIGHTS, sees_offer
from services.finance.queries.offers import offer_answer, offer_subject
from services.finance.rules.cost import all_in_cost, offer
from services.finance.rules.lifecycle import (
    OFFER_EVENT_OF_ACTION,
    REVIEW_OPEN,
    check_acceptable,
    check_offer_terms,
    next_offer_status,
    next_review_status,
    next_status,
)
from services.finance.rules.money import CURRENCY, parse_amount
from services.finance.rules.names import ANOTHER_OFFER_ACCEPTED
from shared.clock import as_utc, utcnow
from shared.db import UnitOfWork
from shared.errors import Conflict, NotFound, RuleViolation, check_version
from shared.i18n import _
from shared.principal import Principal

ANSWERS = {"accept": "accept_offer", "decline": "decline_offer", "withdraw": "withdraw_offer"}
"""Each answer to an offer and its row of rights."""

EXPIRY_BATCH = 200
"""Offers one run of the expiry job expires at most; the next run (30 s later) takes the rest."""


def offer_event(row: Offer) -> dict[str, Any]:
    """An offer as the events carry it (:class:`shared.events.finance.OfferV1`): each fee as the
    yuan it costs over the term."""
    fees = []
    if row.kind == "offer" and row.term_months and row.annual_rate is not None and row.repayment_method:
        terms = offer(row.amount, row.term_months, row.annual_rate, row.repayment_method, row.fees)
        for fee in terms.fees:
            each = fee.per_payment(terms.principal, terms.term_months)
            total = each if fee.timing == "upfront" else each * terms.term_months
            fees.append({"kind": fee.kind, "amount": money_text(total), "currency": row.currency})
    return {
        "offer_id": row.id,
        "kind": row.kind,
        "status": row.status,
        "partner_org_id": row.partner_org_id,
        "amount": money_text(row.amount),
        "currency": row.currency,
        "annual_rate": f"{row.annual_rate:.4f}" if row.annual_rate is not None else None,
        "all_in_rate": f"{row.all_in_rate:.2f}" if row.all_in_rate is not None else None,
        "term_months": row.term_months,
        "fees": fees,
        "conditions": row.conditions,
        "expires_at": utc_text(row.expires_at) if row.expires_at else None,
        "made_by": row.made_by,
        "made_at": utc_text(row.made_at),
    }


def terms_of(row: Offer) -> dict[str, Any]:
    """What a decision on an offer keeps of it (rules/decisions.py snapshots and digests it)."""
    return {
        "offer_id": row.id,
        "kind": row.kind,
        "partner_org_id": row.partner_org_id,
        "amount": money_text(row.amount),
        "currency": row.currency,
        "annual_rate": str(row.annual_rate) if row.annual_rate is not None else None,
        "term_months": row.term_months,
        "repayment_method": row.repayment_method,
        "fees": list(row.fees or []),
        "conditions": row.conditions,
        "all_in_rate": str(row.all_in_rate) if row.all_in_rate is not None else None,
        "expires_at": utc_text(row.expires_at) if row.expires_at else None,
    }


def offer_line(
    uow: UnitOfWork,
    application: Application,
    row: Offer,
    action: str,
    *,
    from_status: str | None,
    actor: Principal,
    at: datetime,
    reason: str | None = None,
    **details: Any,
) -> None:
    """One audit line: ``action`` moved offer ``row`` from ``from_status`` to its status now."""
    record(
        uow,
        application,
        action,
        subject="offer",
        from_status=from_status,
        to_status=row.status,
        actor=actor,
        at=at,
        partner_org_id=row.partner_org_id,
        reason=reason,
        offer_id=row.id,
        **details,
    )


def _publish_offer(uow: UnitOfWork, application: Application, row: Offer, event: str, at: datetime, **kw: Any) -> None:
    publish_application(
        uow,
        application,
        event,
        previous_status=kw.pop("previous_status", application.status),
        at=at,
        partner_org_id=row.partner_org_id,
        reason=kw.pop("reason", None),
        offer=offer_event(row),
    )


def _not_for_subsidy(application: Application) -> None:
    if is_subsidy(application):
        raise Conflict(
            _("A subsidy is approved by the bureau, not by accepting an offer or signing a contract."),
            code="rule/not-for-product-kind",
            action="make_offer",
            subsidy=True,
        )


def check_product_ranges(product: Product, *, amount: Decimal, annual_rate: Decimal, term_months: int) -> None:
    """An offer stays within its product's ranges: amount, term and (for a product with one)
    rate; 422 ``rule/offer-outside-product`` naming the field and the range."""
    refusals = []
    if not product.amount_min <= amount <= product.amount_max:
        refusals.append(("amount", money_text(product.amount_min), money_text(product.amount_max)))
    if not product.term_min <= term_months <= product.term_max:
        refusals.append(("term_months", str(product.term_min), str(product.term_max)))
    low, high = product.rate_min, product.rate_max
    if (low is not None and annual_rate < low) or (high is not None and annual_rate > high):
        refusals.append(("annual_rate", str(low if low is not None else 0), str(high if high is not None else "")))
    if refusals:
        where, low_text, high_text = refusals[0]
        raise RuleViolation(
            _(
                "{where}: the product offers from {low} to {high}.",
                where=where,
                low=low_text,
                high=high_text,
            ),
            code="rule/offer-outside-product",
            where=where,
            fields=[r[0] for r in refusals],
        )


def make_offer(cmd: MakeOffer, *, uow: UnitOfWork) -> dict[str, Any]:
    """The routed partner's offer on an application its review has under way; returns the offer.
    404 for an application the actor may not see; 403 for anyone but a routed partner; 409
    ``rule/application-not-in-review``, ``rule/not-for-product-kind`` (a subsidy is approved),
    ``rule/state-transition`` (the review is not under review: start it, or an offer of it is
    still open); 422 for its terms (``rule/offer-*``, ``rule/rate-*``, ``rule/fee-*``,
    ``rule/amount-*``, ``rule/repayment-method``, ``rule/fees-exceed-principal``,
    ``rule/offer-outside-product``)."""
    application = load_application(uow, cmd.actor, cmd.application_id, for_update=True)
    RIGHTS.require(cmd.actor, "make_offer", application)
    review = find_review(application, cmd.actor, cmd.actor.org_id)
    check_in_review(application)
    _not_for_subsidy(application)
    next_review_status(review.status, "make_offer")
    now = cmd.at or utcnow()
    terms = offer(cmd.amount, cmd.term_months, cmd.annual_rate, cmd.repayment_method, cmd.fees)
    expires_at = as_utc(cmd.expires_at)
    check_offer_terms(
        amount=terms.principal,
        annual_rate=terms.annual_rate,
        term_months=terms.term_months,
        expires_at=expires_at,
        now=now,
    )
    product = uow.session.get(Product, application.product_id)
    if product is not None:
        check_product_ranges(
            product, amount=terms.principal, annual_rate=terms.annual_rate, term_months=terms.term_months
        )
    cost = all_in_cost(terms)
    row = Offer(
        id=new_id(),
        application_id=application.id,
        review_id=review.id,
        partner_org_id=review.partner_org_id,
        kind="offer",
        status="made",
        amount=terms.principal,
        currency=CURRENCY,
        annual_rate=terms.annual_rate,
        term_months=terms.term_months,
        repayment_method=terms.method,
        fees=[fee.to_json() for fee in terms.fees],
        conditions=cmd.conditions.strip() if cmd.conditions and cmd.conditions.strip() else None,
        all_in_rate=cost.annual_rate,
        expires_at=expires_at,
        made_by=cmd.actor.subject,
        made_by_name=cmd.actor.name or None,
        made_at=now,
    )
    uow.session.add(row)
    before = move_review(review, "make_offer", now)
    uow.session.flush()
    review_line(uow, application, review, "make_offer", from_status=before, actor=cmd.actor, at=now, offer_id=row.id)
    offer_line(uow, application, row, "make", from_status=None, actor=cmd.actor, at=now)
    record_decision(uow, application, "offer_made", actor=cmd.actor, at=now, basis=terms_of(row))
    _publish_offer(uow, application, row, "finance.application.offer_made", now)
    return offer_answer(uow.session, cmd.actor, row, application)


def approve_subsidy(cmd: ApproveSubsidy, *, uow: UnitOfWork) -> dict[str, Any]:
    """A bureau the subsidy application is routed to approves an amount (at most what was asked:
    422 ``rule/approval-amount``), at its review's version ``If-Match`` named; returns the
    approval (an offer of kind ``approval``, accepted). The application goes to ``accepted``
    (the subsidy table's ``approve``; a loan's: 409 ``rule/not-for-product-kind``), the bureau is
    its accepted partner, other reviews still open end, a decision ``subsidy_approved`` is kept
    and ``offer_accepted`` published with the approval."""
    application = load_application(uow, cmd.actor, cmd.application_id, for_update=True)
    RIGHTS.require(cmd.actor, "approve", application)
    review = find_review(application, cmd.actor, cmd.actor.org_id)
    next_status(application.status, "approve", subsidy=is_subsidy(application), for_tenant=False)
    check_in_review(application)
    next_review_status(review.status, "approve")
    check_version(review.version, cmd.expected_versions)
    amount = parse_amount(cmd.amount, where="amount")
    if amount > application.amount:
        raise RuleViolation(
            _("A bureau approves at most the {asked} yuan asked for.", asked=money_text(application.amount)),
            code="rule/approval-amount",
            where="amount",
        )
    now = cmd.at or utcnow()
    row = Offer(
        id=new_id(),
        application_id=application.id,
        review_id=review.id,
        partner_org_id=review.partner_org_id,
        kind="approval",
        status="accepted",
        amount=amount,
        currency=CURRENCY,
        fees=[],
        conditions=cmd.conditions.strip() if cmd.conditions and cmd.conditions.strip() else None,
        made_by=cmd.actor.subject,
        made_by_name=cmd.actor.name or None,
        made_at=now,
        answered_by=cmd.actor.subject,
        answered_at=now,
    )
    uow.session.add(row)
    before = move_review(review, "approve", now)
    uow.session.flush()
    review_line(uow, application, review, "approve", from_status=before, actor=cmd.actor, at=now, offer_id=row.id)
    offer_line(uow, application, row, "approve", from_status=None, actor=cmd.actor, at=now)
    previous = transition(
        uow,
        application,
        "approve",
        actor=cmd.actor,
        at=now,
        partner_org_id=row.partner_org_id,
        changes={"accepted_offer_id": row.id, "accepted_partner_org_id": row.partner_org_id},
        details={"offer_id": row.id, "amount": money_text(amount)},
        publish=False,
    )
    _close_the_others(uow, application, row, actor=cmd.actor, at=now)
    record_decision(uow, application, "subsidy_approved", actor=cmd.actor, at=now, basis=terms_of(row))
    _publish_offer(uow, application, row, "finance.application.offer_accepted", now, previous_status=previous)
    return offer_answer(uow.session, cmd.actor, row, application)


def _load_offer(uow: UnitOfWork, actor: Principal, offer_id: str) -> tuple[Offer, Application]:
    """The offer and its application (both locked) if ``actor`` may read the offer; 404 else.

    The application is locked first, then the offer, the order every
    change of an application's offers takes: locking the offer first deadlocked two acceptances of
    two offers at once (each held its offer and wanted the other's to withdraw it)."""
    # Only the application's id before the lock: an offer loaded now would be stale under it.
    application_id = uow.session.scalar(select(Offer.application_id).where(Offer.id == offer_id))
    application = (
        uow.session.get(Application, application_id, with_for_update=True) if application_id is not None else None
    )
    row = uow.session.get(Offer, offer_id, with_for_update=True) if application is not None else None
    if row is None or application is None or not sees_offer(actor, offer_subject(row, application)):
        raise NotFound(_("There is no offer {id}.", id=offer_id), code="not-found")
    return row, application


def answer_offer(cmd: AnswerOffer, *, uow: UnitOfWork) -> dict[str, Any]:
    """The tenant's admin accepts or declines an offer, or its partner withdraws it, at the
    offer's version ``If-Match`` named; returns the offer. 404 for who may not read it; 403 by
    the rights' row (a member accepting, the tenant withdrawing); 409 ``rule/offer-answered``
    (accepted, declined, withdrawn, expired or invalidated already), ``rule/offer-expired``
    (past its expiry), ``rule/state-transition`` (the application is no longer routed); 412 on
    a stale ``If-Match``."""
    row, application = _load_offer(uow, cmd.actor, cmd.offer_id)
    RIGHTS.require(cmd.actor, ANSWERS[cmd.action], offer_subject(row, application))
    now = cmd.at or utcnow()
    if cmd.action == "accept":
        check_acceptable(row.status, row.expires_at, now)
    else:
        next_offer_status(row.status, cmd.action)
    check_version(row.version, cmd.expected_versions)
    reason = cmd.reason.strip() if cmd.reason and cmd.reason.strip() else None
    if cmd.action == "accept":
        _accept(uow, application, row, actor=cmd.actor, at=now)
    else:
        lapse(uow, application, row, cmd.action, actor=cmd.actor, at=now, reason=reason)
    uow.session.flush()
    return offer_answer(uow.session, cmd.actor, row, application)


def _answer(row: Offer, action: str, actor: Principal, at: datetime, reason: str | None = None) -> str:
    before = row.status
    row.status = next_offer_status(before, action)
    row.answered_by = actor.subject
    row.answered_at = at
    if reason is not None:
        row.reason = reason
    return before


def _accept(uow: UnitOfWork, application: Application, row: Offer, *, actor: Principal, at: datetime) -> None:
    previous = transition(
        uow,
        application,
        "accept_offer",
        actor=actor,
        at=at,
        partner_org_id=row.partner_org_id,
        changes={"accepted_offer_id": row.id, "accepted_partner_org_id": row.partner_org_id},
        details={"offer_id": row.id},
        publish=False,
    )
    before = _answer(row, "accept", actor, at)
    uow.session.flush()
    offer_line(uow, application, row, "accept", from_status=before, actor=actor, at=at)
    _close_the_others(uow, application, row, actor=actor, at=at)
    record_decision(uow, application, "offer_accepted", actor=actor, at=at, basis=terms_of(row))
    _publish_offer(uow, application, row, "finance.application.offer_accepted", at, previous_status=previous)


def _close_the_others(
    uow: UnitOfWork, application: Application, accepted: Offer, *, actor: Principal, at: datetime
) -> None:
    """Once an offer is accepted (or a subsidy approved): every other offer still made is
    withdrawn (its partner told by ``offer_withdrawn``), every other review still open ends."""
    others = list(
        uow.session.scalars(
            select(Offer)
            .where(Offer.application_id == application.id, Offer.status == "made", Offer.id != accepted.id)
            .order_by(Offer.made_at, Offer.id)
            .with_for_update()
        )
    )
    text = ANOTHER_OFFER_ACCEPTED  # stored in English, read in the reader's language
    for other in others:
        before = _answer(other, "withdraw", actor, at, reason=text)
        uow.session.flush()
        offer_line(uow, application, other, "withdraw", from_status=before, actor=actor, at=at, reason=text)
        _publish_offer(uow, application, other, "finance.application.offer_withdrawn", at, reason=text)
    for review in application.reviews:
        if review.id != accepted.review_id and review.status in REVIEW_OPEN:
            before = move_review(review, "cancel", at)
            review.resume_status = None
            uow.session.flush()
            review_line(uow, application, review, "cancel", from_status=before, actor=actor, at=at, reason=text)


def lapse(
    uow: UnitOfWork,
    application: Application,
    row: Offer,
    action: str,
    *,
    actor: Principal,
    at: datetime,
    reason: str | None = None,
) -> None:
    """An offer ends unaccepted (``decline``, ``withdraw``, ``expire``, ``invalidate``): its
    partner's review goes back under review (``reconsider``), the offer's event if it has one."""
    before = _answer(row, action, actor, at, reason)
    uow.session.flush()
    offer_line(uow, application, row, action, from_status=before, actor=actor, at=at, reason=reason)
    review = uow.session.get(Review, row.review_id)
    if review is not None and review.status == "offer_made":
        was = move_review(review, "reconsider", at)
        uow.session.flush()
        review_line(uow, application, review, "reconsider", from_status=was, actor=actor, at=at, offer_id=row.id)
    event = OFFER_EVENT_OF_ACTION[action]
    if event is not None:
        _publish_offer(uow, application, row, event, at, reason=reason)


def expire_offers(*, uow: UnitOfWork, now: datetime | None = None) -> int:
    """Offers still ``made`` at or past their expiry become ``expired`` (at most
    :data:`EXPIRY_BATCH` a run; the next run takes the rest); returns how many. Idempotent: an
    expired offer is not ``made`` any more. Each one's review goes back under review; no event
    (the contract names none: the tenant reads it in the comparison, the partner on its review)."""
    moment = now or utcnow()
    rows = list(
        uow.session.scalars(
            select(Offer)
            .where(Offer.status == "made", Offer.expires_at.is_not(None), Offer.expires_at <= moment)
            .order_by(Offer.expires_at, Offer.id)
            .limit(EXPIRY_BATCH)
            .with_for_update(skip_locked=True)
        )
    )
    for row in rows:
        application = uow.session.get(Application, row.application_id)
        if application is not None:
            lapse(uow, application, row, "expire", actor=SYSTEM, at=moment)
    uow.session.flush()
    return len(rows)
