"""Applications: a tenant's draft, its edits, submission (every failure named at once), the
desk's pre-review, routing and no, the tenant's withdrawal. Each handler checks the rights on the
row it read, the version (``If-Match``), the state and the rules, changes the rows and returns
the application as the caller reads it (queries.applications.application_detail). Never commits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from services.finance.commands.applications import ActOnApplication, DraftApplication, EditApplication
from services.finance.handlers.common import load_application, money_text, new_id, record, utc_text
from services.finance.handlers.transitions import is_subsidy, transition
from services.finance.models import (
    Application,
    ApplicationCounter,
    CompanyProfile,
    Document,
    Offer,
    Patent,
    Product,
    ProductProvider,
    Review,
    directory,
)
from services.finance.permissions import RIGHTS, sees_tenant_names
from services.finance.queries.applications import application_detail
from services.finance.queries.products import stored_window
from services.finance.rules import ip_pledge
from services.finance.rules.cost import check_term
from services.finance.rules.eligibility import Failure, Profile, check_eligibility, check_rules
from services.finance.rules.lifecycle import (
    REVIEW_OPEN,
    check_reason,
    check_route,
    invalidated_by_edit,
    next_offer_status,
    next_review_status,
    next_status,
)
from services.finance.rules.money import CURRENCY, parse_amount
from services.finance.rules.products import ProductTerms, request_failures
from shared.clock import PARK_TZ, utcnow
from shared.db import UnitOfWork
from shared.errors import RuleViolation, check_version
from shared.i18n import Message, _
from shared.principal import Principal
from shared.yearly_numbers import next_yearly_number


@dataclass(frozen=True)
class StoredName(Message):
    """A name stored in two languages (a checklist item's ``name`` and ``name_zh``) as the value
    of a marked text: rendered in the reader's language, the English where there is no Chinese."""

    zh: str = ""

    def render(self, locale: str) -> str:
        return self.zh if locale == "zh" and self.zh else self.msgid


MAX_ANSWERS = 100
"""Answers to a product's own fields: at most this many (a JSON object of short answers)."""


def application_number(uow: UnitOfWork, at: datetime) -> str:
    """The next number of the park year of ``at``: ``F-2026-00042``, distinct under concurrent
    drafts (:func:`shared.yearly_numbers.next_yearly_number`)."""
    return next_yearly_number(uow.session, ApplicationCounter, "F", at)


def _product(uow: UnitOfWork, product_id: str) -> Product:
    """A product a tenant may apply for: 422 ``rule/product-unknown``, ``rule/product-inactive``."""
    product = uow.session.get(Product, product_id)
    if product is None:
        raise RuleViolation(_("There is no financing product {id}.", id=product_id), code="rule/product-unknown")
    if not product.active:
        raise RuleViolation(_("This financing product is no longer offered."), code="rule/product-inactive")
    return product


def _answers(answers: Any) -> dict[str, Any]:
    if not isinstance(answers, dict) or len(answers) > MAX_ANSWERS:
        raise RuleViolation(
            _("answers: an object of at most 100 answers to the product's own fields."),
            code="rule/answers-invalid",
            where="answers",
        )
    return dict(answers)


def draft_application(cmd: DraftApplication, *, uow: UnitOfWork) -> dict[str, Any]:
    """A tenant's draft for a product of the catalogue, for their organisation: numbered, in the
    audit trail ("draft", from nothing to ``draft``); no event (issue 9 names none for a draft).
    The amount (``rules.money``) and term (1-360 months) are checked now; whether they fit the
    product, with eligibility and completeness, at submission."""
    RIGHTS.require(cmd.actor, "create")
    now = cmd.at or utcnow()
    product = _product(uow, cmd.product_id)
    amount = parse_amount(cmd.amount, where="amount")
    term = check_term(cmd.term_months, where="term_months")
    application = Application(
        id=new_id(),
        number=application_number(uow, now),
        org_id=cmd.actor.org_id,
        applicant=cmd.actor.subject,
        applicant_name=cmd.actor.name or None,
        product_id=product.id,
        product_kind=product.kind,
        status="draft",
        amount=amount,
        currency=CURRENCY,
        term_months=term,
        purpose=cmd.purpose,
        answers=_answers(cmd.answers),
        profile=None,
        created_at=now,
        updated_at=now,
        reviews=[],  # a draft has none: said, so that the answer does not load them
    )
    uow.session.add(application)
    uow.session.flush()
    record(uow, application, "draft", from_status=None, actor=cmd.actor, at=now)
    uow.session.flush()
    return application_detail(uow.session, cmd.actor, application, product=product, documents=0)


def _terms(product: Product) -> ProductTerms:
    """What :func:`request_failures` reads of a product: its ranges and its window."""
    return ProductTerms(
        kind=product.kind,
        amount_min=product.amount_min,
        amount_max=product.amount_max,
        term_min=product.term_min,
        term_max=product.term_max,
        rate_min=product.rate_min or Decimal("0"),
        rate_max=product.rate_max or Decimal("0"),
        window=stored_window(product.window),
    )


def _not_submittable(failures: list[Failure]) -> RuleViolation:
    """Every failure at once: ``rule/not-submittable`` (422) with ``failures`` ``[{code, field,
    detail}]``, each detail rendered in the reader's language."""
    return RuleViolation(
        _(
            "The application cannot be submitted: {count} thing(s) to put right (see failures).",
            count=len(failures),
        ),
        code="rule/not-submittable",
        failures=[{"code": f.code, "field": f.field, "detail": f.detail} for f in failures],
    )


def edit_application(cmd: EditApplication, *, uow: UnitOfWork) -> dict[str, Any]:
    """The tenant changes amount, term, purpose or answers of a draft, or of an application
    partners review (``routed``): then the amount and term must fit the product (422
    ``rule/not-submittable`` naming each failure) and every offer still made is invalidated
    (``rules.lifecycle.invalidated_by_edit``; its review back under review, ``reconsider``),
    each with its audit line. Elsewhere 409 ``rule/state-transition``. No event: issue 9 names
    none for an edit, and the contract has none for an invalidated offer (its partner reads it on
    the application)."""
    application = load_application(uow, cmd.actor, cmd.application_id, for_update=True)
    RIGHTS.require(cmd.actor, "edit", application)
    check_version(application.version, cmd.expected_versions)
    next_status(application.status, "edit", subsidy=is_subsidy(application), for_tenant=sees_tenant_names(cmd.actor))
    now = cmd.at or utcnow()
    changes: dict[str, Any] = {}
    if cmd.amount is not None:
        changes["amount"] = parse_amount(cmd.amount, where="amount")
    if cmd.term_months is not None:
        changes["term_months"] = check_term(cmd.term_months, where="term_months")
    if cmd.purpose is not None:
        changes["purpose"] = cmd.purpose
    if cmd.answers is not None:
        changes["answers"] = _answers(cmd.answers)
    if application.status == "routed":
        product = uow.session.get(Product, application.product_id)
        assert product is not None
        failures = [
            f
            for f in request_failures(
                _terms(product),
                changes.get("amount", application.amount),
                changes.get("term_months", application.term_months),
                now,
                drafted_at=application.created_at,
            )
            if f.field in ("amount", "term_months")
        ]
        if failures:
            raise _not_submittable(failures)
    changed = {name: value for name, value in changes.items() if getattr(application, name) != value}
    details: dict[str, Any] = {"fields": sorted(changed)}
    lapsed: list[Offer] = []
    if application.status == "routed" and changed:
        offers = list(
            uow.session.scalars(select(Offer).where(Offer.application_id == application.id).with_for_update())
        )
        stale = set(invalidated_by_edit((o.id, o.status) for o in offers))
        lapsed = [o for o in offers if o.id in stale]
        details["invalidated_offer_ids"] = [o.id for o in lapsed]
    transition(uow, application, "edit", actor=cmd.actor, at=now, changes=changed, details=details)
    reviews = {r.id: r for r in application.reviews}
    for offer in lapsed:
        _lapse_offer(uow, application, offer, "invalidate", actor=cmd.actor, at=now)
        review = reviews.get(offer.review_id)
        if review is not None and review.status == "offer_made":
            _move_review(uow, application, review, "reconsider", actor=cmd.actor, at=now)
    return application_detail(uow.session, cmd.actor, application)


def _lapse_offer(
    uow: UnitOfWork, application: Application, offer: Offer, action: str, *, actor: Principal, at: datetime
) -> None:
    """An offer still made moves by the offer machine (``invalidate``, ``withdraw``), with its
    audit line (subject ``offer``)."""
    before = offer.status
    offer.status = next_offer_status(before, action)
    offer.answered_by = actor.subject
    offer.answered_at = at
    record(
        uow,
        application,
        action,
        subject="offer",
        from_status=before,
        to_status=offer.status,
        actor=actor,
        at=at,
        partner_org_id=offer.partner_org_id,
        offer_id=offer.id,
    )


def _move_review(
    uow: UnitOfWork, application: Application, review: Review, action: str, *, actor: Principal, at: datetime
) -> None:
    """A partner's review moves by the review machine, with its audit line (subject ``review``)."""
    before = review.status
    review.status = next_review_status(before, action)
    review.updated_at = at
    record(
        uow,
        application,
        action,
        subject="review",
        from_status=before,
        to_status=review.status,
        actor=actor,
        at=at,
        partner_org_id=review.partner_org_id,
        review_id=review.id,
    )


def profile_snapshot(profile: CompanyProfile) -> dict[str, Any]:
    """The company profile as the application keeps it (JSON: dates ISO, money two places)."""
    return {
        "sector": profile.sector,
        "moved_in_on": profile.moved_in_on.isoformat() if profile.moved_in_on else None,
        "annual_revenue": money_text(profile.annual_revenue) if profile.annual_revenue is not None else None,
        "employees": profile.employees,
        "granted_patents": profile.granted_patents,
        "credit_code": profile.credit_code,
        "version": profile.version,
        "updated_at": utc_text(profile.updated_at),
    }


def submission_failures(uow: UnitOfWork, application: Application, product: Product, now: datetime) -> list[Failure]:
    """Every reason ``application`` cannot be submitted at ``now``, in this order: eligibility
    (the organisation's company profile; none at all: ``rule/profile-missing``), the request
    against the product (amount, term, the subsidy's window with its grace for drafts begun in
    time), completeness (each required checklist document type without a document:
    ``rule/document-missing``), and for an IP-pledge loan the patents (``rules.ip_pledge``)."""
    today = now.astimezone(PARK_TZ).date()
    failures: list[Failure] = []
    profile = uow.session.get(CompanyProfile, application.org_id)
    if profile is None:
        failures.append(
            Failure(
                "rule/profile-missing",
                _("The organisation has no company profile yet; fill it in before applying."),
                "profile",
            )
        )
    else:
        failures += check_eligibility(
            check_rules(product.eligibility),
            Profile(
                sector=profile.sector,
                moved_in_on=profile.moved_in_on,
                annual_revenue=profile.annual_revenue,
                employees=profile.employees,
                granted_patents=profile.granted_patents,
            ),
            today,
        )
    failures += request_failures(
        _terms(product), application.amount, application.term_months, now, drafted_at=application.created_at
    )
    present = set(
        uow.session.scalars(select(Document.doc_type).where(Document.application_id == application.id).distinct())
    )
    for item in product.checklist or []:
        if item.get("required") and item.get("type") not in present:
            failures.append(
                Failure(
                    "rule/document-missing",
                    _(
                        "The document {name} is required: upload it before submitting.",
                        name=StoredName(str(item.get("name") or item.get("type")), zh=str(item.get("name_zh") or "")),
                    ),
                    f"documents.{item.get('type')}",
                )
            )
    if product.kind == "ip_pledge_loan":
        failures += _patent_failures(uow, application, today)
    return failures


def _patent_failures(uow: UnitOfWork, application: Application, today: date) -> list[Failure]:
    """The pledge registration's pre-check of the patents listed (``rules.ip_pledge.check_patents``):
    the holder is compared with the organisation's registered name in either language."""
    rows = list(uow.session.scalars(select(Patent).where(Patent.application_id == application.id)))
    if not rows:
        return [Failure("rule/patent-none", _("An IP-pledge loan lists at least one patent."), "patents")]
    patents = [
        ip_pledge.Patent(
            number=p.number,
            title=p.title,
            holder=p.holder,
            granted_on=p.granted_on,
            expires_on=p.expires_on or today,
            fees_paid_until=p.fees_paid_until,
            pledges=("—",) * p.existing_pledges,  # the table keeps how many, not their numbers
        )
        for p in rows
    ]
    names = uow.session.execute(
        select(directory.c.name, directory.c.name_zh).where(directory.c.id == application.org_id)
    ).first()
    applicants = [n for n in (names or ()) if n] or [application.org_id]
    runs = [
        ip_pledge.check_patents(
            patents, applicant=name, loan_start=today, term_months=application.term_months, today=today
        )
        for name in applicants
    ]
    # A holder is wrong only if it matches none of the organisation's names.
    wrong_holder = set.intersection(*({f.patent for f in run if f.code == "rule/patent-holder"} for run in runs))
    return [
        Failure(f.code, f.message, f"patents.{f.patent}")
        for f in runs[0]
        if f.code != "rule/patent-holder" or f.patent in wrong_holder
    ]


Step = Callable[[UnitOfWork, Application, ActOnApplication, datetime], dict[str, Any]]
"""An action's own part before the transition: returns ``transition``'s keyword arguments
(``changes``, ``details``, ``event_extra``); may raise its refusals."""


def _submit(uow: UnitOfWork, application: Application, cmd: ActOnApplication, now: datetime) -> dict[str, Any]:
    product = uow.session.get(Product, application.product_id)
    assert product is not None
    # Held while the failures are looked for, so that their read of it is the session's (its
    # identity map keeps only what someone holds): one read of the profile, not two.
    profile = uow.session.get(CompanyProfile, application.org_id)
    failures = submission_failures(uow, application, product, now)
    if failures:
        raise _not_submittable(failures)
    assert profile is not None
    return {"changes": {"profile": profile_snapshot(profile), "submitted_at": now}}


def _route(uow: UnitOfWork, application: Application, cmd: ActOnApplication, now: datetime) -> dict[str, Any]:
    providers = uow.session.scalars(
        select(ProductProvider.partner_org_id).where(ProductProvider.product_id == application.product_id)
    )
    added = check_route(cmd.partner_org_ids, list(providers), already=application.partner_org_ids)
    for partner in added:
        review = Review(
            id=new_id(),
            application_id=application.id,
            partner_org_id=partner,
            status="routed",
            routed_by=cmd.actor.subject,
            routed_at=now,
            updated_at=now,
        )
        application.reviews.append(review)
    return {"details": {"added_partner_org_ids": list(added)}, "event_extra": {"added_partner_org_ids": list(added)}}


def _nothing(uow: UnitOfWork, application: Application, cmd: ActOnApplication, now: datetime) -> dict[str, Any]:
    return {}


STEPS: dict[str, Step] = {
    "submit": _submit,
    "start_pre_review": _nothing,
    "route": _route,
    "turn_down": _nothing,
    "withdraw": _nothing,
}
ENDING = frozenset({"turn_down", "withdraw"})
"""Actions that end the application: its open reviews are cancelled, its open offers withdrawn."""


def act_on_application(cmd: ActOnApplication, *, uow: UnitOfWork) -> dict[str, Any]:
    """One action on an application, checked in this order: visible to the caller (404), the
    rights table's row on it (403), ``If-Match`` (412), the state (409
    ``rule/state-transition`` in the caller's names), the reason (422 ``rule/reason-required``
    for a turn-down), the action's own rules (submission's failures, the partners routed).
    Ending it (turn-down, withdrawal) cancels the open reviews and withdraws the open offers,
    each with its audit line."""
    if cmd.action not in STEPS:
        raise ValueError(f"not an application action: {cmd.action!r}")
    application = load_application(uow, cmd.actor, cmd.application_id, for_update=True)
    RIGHTS.require(cmd.actor, cmd.action, application)
    check_version(application.version, cmd.expected_versions)
    next_status(
        application.status, cmd.action, subsidy=is_subsidy(application), for_tenant=sees_tenant_names(cmd.actor)
    )
    reason = cmd.reason.strip() if cmd.reason and cmd.reason.strip() else None
    check_reason(cmd.action, reason)
    now = cmd.at or utcnow()
    # The answer shows the product: read once here, the steps that check it find it in the session.
    product = uow.session.get(Product, application.product_id)
    own = STEPS[cmd.action](uow, application, cmd, now)
    transition(uow, application, cmd.action, actor=cmd.actor, at=now, reason=reason, **own)
    if cmd.action in ENDING:
        _end_reviews(uow, application, actor=cmd.actor, at=now)
    return application_detail(uow.session, cmd.actor, application, product=product)


def _end_reviews(uow: UnitOfWork, application: Application, *, actor: Principal, at: datetime) -> None:
    offers = uow.session.scalars(
        select(Offer).where(Offer.application_id == application.id, Offer.status == "made").with_for_update()
    )
    for offer in offers:
        _lapse_offer(uow, application, offer, "withdraw", actor=actor, at=at)
    for review in application.reviews:
        if review.status in REVIEW_OPEN:
            _move_review(uow, application, review, "cancel", actor=actor, at=at)
    uow.session.flush()
