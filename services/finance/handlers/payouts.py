"""After acceptance: the signed contract, tranches under the maker-checker rule, closing.

A tranche is recorded by one person (the maker: the accepted partner or staff) and counts only
once another person approves it (the checker: ``rules.decisions.check_second_person``). The first
approved tranche moves the application to ``disbursing``, the one that pays the accepted amount in
full to ``disbursed`` (``rules.decisions.paid_in_full``: ``complete_disbursement``). Tranches never
pay more than the accepted amount (``rules.decisions.check_tranche``), pending ones included when a
tranche is recorded, so two makers cannot book the same remainder twice. A subsidy's payout goes
the same way, without a contract (``MAKER_CHECKER`` "subsidy_payout"). Never commits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from services.finance.commands.payouts import ApproveDisbursement, CloseApplication, RecordDisbursement, SignContract
from services.finance.handlers.common import load_application, new_id, record, record_decision
from services.finance.handlers.documents import release_pledge
from services.finance.handlers.transitions import is_subsidy, publish_application, transition
from services.finance.models import Application, Disbursement
from services.finance.permissions import RIGHTS, sees_tenant_names
from services.finance.queries.payouts import (
    APPROVED,
    PENDING,
    accepted_amount,
    disbursement_view,
    payouts_view,
    tranches,
)
from services.finance.rules.decisions import check_second_person, check_tranche, paid_in_full
from services.finance.rules.lifecycle import next_status
from services.finance.rules.money import format_amount, parse_amount
from shared.clock import PARK_TZ, utcnow
from shared.db import UnitOfWork
from shared.errors import Conflict, NotFound, RuleViolation, check_version
from shared.events.finance import APPLICATION_DISBURSED
from shared.i18n import _
from shared.principal import Principal


def _maker_checker(application: Application) -> str:
    return "subsidy_payout" if is_subsidy(application) else "disbursement"


def sign_contract(cmd: SignContract, *, uow: UnitOfWork) -> dict[str, Any]:
    """Record the signed contract of an accepted loan: visible (404), the ``sign_contract`` row
    (403), ``If-Match`` (412), the state (409 ``rule/state-transition``; a subsidy has no contract:
    409 ``rule/not-for-product-kind``), a signing day not after today in the park
    (422 ``rule/signed-in-future``). Publishes ``finance.application.contract_signed``."""
    application = load_application(uow, cmd.actor, cmd.application_id, for_update=True)
    RIGHTS.require(cmd.actor, "sign_contract", application)
    check_version(application.version, cmd.expected_versions)
    now = utcnow()
    if cmd.signed_on > now.astimezone(PARK_TZ).date():
        raise RuleViolation(_("A contract cannot be signed on a day still to come."), code="rule/signed-in-future")
    number = cmd.contract_number.strip()
    transition(
        uow,
        application,
        "sign_contract",
        actor=cmd.actor,
        at=now,
        partner_org_id=application.accepted_partner_org_id,
        changes={"contract_number": number, "contract_signed_on": cmd.signed_on},
        details={"contract_number": number, "signed_on": cmd.signed_on.isoformat()},
        event_extra={"contract_number": number, "signed_on": cmd.signed_on.isoformat()},
    )
    return payouts_view(uow.session, application, cmd.actor)


def _check_can_disburse(application: Application, actor: Principal) -> None:
    """409 unless the application's state lets a tranche be paid (after the contract; a
    subsidy after the bureau's approval)."""
    next_status(application.status, "disburse", subsidy=is_subsidy(application), for_tenant=sees_tenant_names(actor))


def record_disbursement(cmd: RecordDisbursement, *, uow: UnitOfWork) -> dict[str, Any]:
    """The maker records a tranche, ``pending``: visible (404), the ``record_disbursement`` row
    (403), the state (409), the amount (422 ``rule/amount-*`` of ``rules.money``), a day not
    after today (422 ``rule/disbursed-in-future``) nor before the contract was signed (422
    ``rule/disbursed-before-contract``), within what remains of the accepted amount
    with the pending tranches counted (409 ``rule/tranche-exceeds``). Keeps the decision
    ``disbursement_recorded``; the application does not move until a second person approves."""
    application = load_application(uow, cmd.actor, cmd.application_id, for_update=True)
    RIGHTS.require(cmd.actor, "record_disbursement", application)
    _check_can_disburse(application, cmd.actor)
    amount = parse_amount(cmd.amount)
    now = utcnow()
    if cmd.disbursed_on > now.astimezone(PARK_TZ).date():
        raise RuleViolation(_("A tranche cannot be paid on a day still to come."), code="rule/disbursed-in-future")
    signed = application.contract_signed_on
    if signed is not None and cmd.disbursed_on < signed:
        raise RuleViolation(
            _("A tranche is paid on or after the day the contract was signed ({signed}).", signed=signed.isoformat()),
            code="rule/disbursed-before-contract",
        )
    existing = tranches(uow.session, application.id)
    accepted = accepted_amount(uow.session, application)
    check_tranche(accepted, [t.amount for t in existing], amount)
    reference = cmd.reference.strip() if cmd.reference and cmd.reference.strip() else None
    tranche = Disbursement(
        id=new_id(),
        application_id=application.id,
        number=len(existing) + 1,
        amount=amount,
        currency=application.currency,
        disbursed_on=cmd.disbursed_on,
        reference=reference,
        status=PENDING,
        recorded_by=cmd.actor.subject,
        recorded_by_name=cmd.actor.name or None,
        recorded_at=now,
    )
    uow.session.add(tranche)
    uow.session.flush()
    basis = {
        "maker_checker": _maker_checker(application),
        "disbursement_id": tranche.id,
        "number": tranche.number,
        "amount": format_amount(amount),
        "currency": tranche.currency,
        "accepted_amount": format_amount(accepted),
        "disbursed_on": cmd.disbursed_on,
        "reference": reference,
    }
    record_decision(uow, application, "disbursement_recorded", actor=cmd.actor, at=now, basis=basis)
    record(
        uow,
        application,
        "record_disbursement",
        from_status=application.status,
        actor=cmd.actor,
        at=now,
        partner_org_id=application.accepted_partner_org_id,
        disbursement_id=tranche.id,
        number=tranche.number,
        amount=format_amount(amount),
    )
    return disbursement_view(tranche, application)


def approve_disbursement(cmd: ApproveDisbursement, *, uow: UnitOfWork) -> dict[str, Any]:
    """The checker approves a pending tranche: visible (404; a tranche of another application:
    404), the ``approve_disbursement`` row (403), ``If-Match`` on the tranche (412), still pending
    (409 ``rule/disbursement-approved``), another person than its maker (409
    ``rule/same-person``), the state (409), within the accepted amount (409
    ``rule/tranche-exceeds``). Then the tranche counts: the application moves to ``disbursing``
    and, paid in full, to ``disbursed``; the decision ``disbursement_approved`` is kept and
    ``finance.application.disbursed`` published with the tranche (``final`` for the last)."""
    application = load_application(uow, cmd.actor, cmd.application_id, for_update=True)
    RIGHTS.require(cmd.actor, "approve_disbursement", application)
    tranche = uow.session.get(Disbursement, cmd.disbursement_id, with_for_update=True)
    if tranche is None or tranche.application_id != application.id:
        raise NotFound(_("There is no disbursement {id}.", id=cmd.disbursement_id), code="not-found")
    check_version(tranche.version, cmd.expected_versions)
    if tranche.status != PENDING:
        raise Conflict(_("This disbursement is already approved."), code="rule/disbursement-approved")
    check_second_person(tranche.recorded_by, cmd.actor.subject)
    _check_can_disburse(application, cmd.actor)
    accepted = accepted_amount(uow.session, application)
    approved = [t.amount for t in tranches(uow.session, application.id) if t.status == APPROVED]
    check_tranche(accepted, approved, tranche.amount)
    now = utcnow()
    tranche.status = APPROVED
    tranche.approved_by = cmd.actor.subject
    tranche.approved_by_name = cmd.actor.name or None
    tranche.approved_at = now
    paid = [*approved, tranche.amount]
    final = paid_in_full(accepted, paid)
    partner = application.accepted_partner_org_id
    details = {"disbursement_id": tranche.id, "number": tranche.number, "amount": format_amount(tranche.amount)}
    previous = transition(
        uow, application, "disburse", actor=cmd.actor, at=now, partner_org_id=partner, details=details, publish=False
    )
    if final:
        transition(uow, application, "complete_disbursement", actor=cmd.actor, at=now, partner_org_id=partner)
    total = sum(paid, Decimal("0"))
    basis = {
        "maker_checker": _maker_checker(application),
        "disbursement_id": tranche.id,
        "number": tranche.number,
        "amount": format_amount(tranche.amount),
        "currency": tranche.currency,
        "recorded_by": tranche.recorded_by,
        "disbursed_total": format_amount(total),
        "accepted_amount": format_amount(accepted),
        "final": final,
    }
    record_decision(uow, application, "disbursement_approved", actor=cmd.actor, at=now, basis=basis)
    if partner:
        publish_application(
            uow,
            application,
            APPLICATION_DISBURSED.type,
            previous_status=previous,
            at=now,
            partner_org_id=partner,
            tranche={
                "disbursement_id": tranche.id,
                "number": tranche.number,
                "amount": format_amount(tranche.amount),
                "currency": tranche.currency,
                "disbursed_total": format_amount(total),
                "final": final,
                "recorded_by": tranche.recorded_by,
                "approved_by": cmd.actor.subject,
                "disbursed_on": tranche.disbursed_on.isoformat(),
            },
        )
    uow.session.flush()
    return disbursement_view(tranche, application)


def close_application(cmd: CloseApplication, *, uow: UnitOfWork) -> dict[str, Any]:
    """The desk closes an application paid out in full (``disbursed`` → ``closed``): visible
    (404), the ``close`` row (403), ``If-Match`` (412), the state (409). An IP pledge registered
    and not yet released is released on the closing day (``handlers.documents.release_pledge``).
    Publishes ``finance.application.closed``."""
    application = load_application(uow, cmd.actor, cmd.application_id, for_update=True)
    RIGHTS.require(cmd.actor, "close", application)
    check_version(application.version, cmd.expected_versions)
    next_status(application.status, "close", subsidy=is_subsidy(application), for_tenant=sees_tenant_names(cmd.actor))
    now = utcnow()
    # Before the step, so the release and the closing are one change (one version) of the application.
    release_pledge(uow, application, now, actor=cmd.actor)
    released = application.pledge_released_on
    details = {"pledge_released_on": released.isoformat()} if released is not None else {}
    transition(
        uow,
        application,
        "close",
        actor=cmd.actor,
        at=now,
        partner_org_id=application.accepted_partner_org_id,
        details=details,
    )
    return payouts_view(uow.session, application, cmd.actor)
