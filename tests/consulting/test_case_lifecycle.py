"""A case's lifecycle as pure rules (services/consulting/rules/lifecycle.py): every transition of
the table, every (state, action) pair outside it refused with ``rule/state-transition`` naming the
states the action is possible from (in English and Chinese, in the staff's or the tenant's names),
the reasons, the quotes that gate paid work, the rating and the automatic close; the labels of
the states; and the published contract (shared/events/consulting.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.consulting.rules import lifecycle, names
from services.consulting.rules.lifecycle import (
    ACTIONS,
    CALLER_ACTIONS,
    EVENT_OF_ACTION,
    QUOTABLE,
    STATUSES,
    TRANSITIONS,
    allowed_from,
    auto_close_due,
    check_fee,
    check_quotable,
    check_rating,
    check_reason,
    check_start,
    next_quote_status,
    next_status,
)
from shared.errors import Conflict, RuleViolation
from shared.events import ContractViolation, validate
from shared.events.consulting import CASE_STATUSES, PRIORITIES, QUOTE_STATUSES
from shared.events.contracts import all_contracts
from shared.i18n import label, render

EXPECTED = {
    ("submitted", "triage"): "triaged",
    ("triaged", "assign"): "assigned",
    ("assigned", "assign"): "assigned",
    ("assigned", "accept"): "accepted",
    ("assigned", "decline"): "triaged",
    ("accepted", "start"): "in_progress",
    ("in_progress", "wait"): "waiting_on_tenant",
    ("waiting_on_tenant", "resume"): "in_progress",
    ("in_progress", "propose_solution"): "solution_proposed",
    ("solution_proposed", "accept_solution"): "closed",
    ("solution_proposed", "reject_solution"): "in_progress",
    ("submitted", "cancel"): "cancelled",
    ("triaged", "cancel"): "cancelled",
    ("assigned", "cancel"): "cancelled",
    ("accepted", "cancel"): "cancelled",
    ("solution_proposed", "auto_close"): "closed",
}
"""The table of issue 8, written out once more by hand: the module must say exactly this."""

REFUSED = [(s, a) for s in STATUSES for a in ACTIONS if (s, a) not in EXPECTED]


def test_the_table_is_the_issue_s():
    assert {(s, a): to for a, moves in TRANSITIONS.items() for s, to in moves.items()} == EXPECTED
    assert set(STATUSES) == set(CASE_STATUSES)
    assert CALLER_ACTIONS == tuple(a for a in ACTIONS if a != "auto_close")
    assert set(EVENT_OF_ACTION) == set(ACTIONS)


@pytest.mark.parametrize(("status", "action"), sorted(EXPECTED), ids=lambda v: v)
def test_every_transition(status, action):
    assert next_status(status, action) == EXPECTED[status, action]
    assert next_status(status, action, for_tenant=True) == EXPECTED[status, action]


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_every_other_pair_is_refused_naming_the_states_it_is_possible_from(status, action):
    with pytest.raises(Conflict) as refused:
        next_status(status, action)
    error = refused.value
    assert error.status == 409 and error.code == "rule/state-transition"
    allowed = [s for s in STATUSES if (s, action) in EXPECTED]
    assert error.extra == {"case_status": status, "action": action, "allowed": allowed}
    for locale in ("en", "zh"):
        detail = render(error.detail, locale)
        assert render(names.STATUS_NAMES[status], locale) in detail
        for state in allowed:
            assert render(names.STATUS_NAMES[state], locale) in detail
    # A tenant reads the tenant's names of the states.
    with pytest.raises(Conflict) as for_tenant:
        next_status(status, action, for_tenant=True)
    detail = render(for_tenant.value.detail, "en")
    assert render(names.TENANT_STATUS_NAMES[status], "en") in detail
    assert all(render(names.TENANT_STATUS_NAMES[s], "en") in detail for s in allowed)


def test_refusals_read_as_sentences_in_both_languages():
    with pytest.raises(Conflict) as refused:
        next_status("in_progress", "cancel")
    assert render(refused.value.detail, "en") == (
        "Only a case that is Submitted, Triaged, Assigned to a firm or Accepted by the firm can be cancelled; "
        "this one is In progress."
    )
    assert (
        render(refused.value.detail, "zh")
        == "只有状态为已提交、已初审、已分派给机构或机构已接受的案件可以取消；此案件为处理中。"
    )
    with pytest.raises(Conflict) as for_tenant:
        next_status("closed", "accept_solution", for_tenant=True)
    assert render(for_tenant.value.detail, "en") == (
        "A solution can be accepted only on a case that is Solution ready for your review; this one is Closed."
    )


def test_an_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown case action"):
        next_status("submitted", "approve")


def test_allowed_from_follows_the_order_of_the_states():
    assert allowed_from("cancel") == ("submitted", "triaged", "assigned", "accepted")
    assert allowed_from("assign") == ("triaged", "assigned")


# Reasons ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["decline", "wait", "reject_solution"])
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_these_actions_say_why(action, reason):
    with pytest.raises(RuleViolation) as refused:
        check_reason(action, reason)
    assert refused.value.code == "rule/reason-required" and refused.value.status == 422
    assert render(refused.value.detail, "zh") != render(refused.value.detail, "en")


def test_a_tenant_cancels_without_a_reason_and_staff_with_one():
    check_reason("cancel", None)
    check_reason("cancel", "Filed twice by mistake", staff=True)
    with pytest.raises(RuleViolation, match="Say why the park cancels"):
        check_reason("cancel", " ", staff=True)
    for action in ("triage", "assign", "accept", "start", "resume", "propose_solution", "accept_solution"):
        check_reason(action, None)
    check_reason("decline", "Conflict of interest")


# Quotes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fee", "stored"),
    [
        (Decimal("1200"), Decimal("1200.00")),
        ("0.01", Decimal("0.01")),
        (3, Decimal("3.00")),
        ("99.5", Decimal("99.50")),
    ],
)
def test_a_fee_is_yuan_with_two_places(fee, stored):
    value = check_fee(fee)
    assert value == stored and str(value) == str(stored)


@pytest.mark.parametrize(
    ("fee", "code"),
    [
        ("0", "rule/fee-positive"),
        ("-5.00", "rule/fee-positive"),
        ("NaN", "rule/fee-invalid"),
        ("Infinity", "rule/fee-invalid"),
        ("12.345", "rule/fee-places"),
        ("10000000000.00", "rule/fee-too-large"),
        ("twelve", "rule/fee-invalid"),
    ],
)
def test_a_fee_that_is_not_one_is_refused(fee, code):
    with pytest.raises(RuleViolation) as refused:
        check_fee(fee)
    assert refused.value.code == code


@pytest.mark.parametrize("status", STATUSES)
def test_a_firm_quotes_a_case_it_has_taken_on_before_the_solution(status):
    if status in QUOTABLE:
        check_quotable(status)
        return
    with pytest.raises(Conflict) as refused:
        check_quotable(status)
    assert refused.value.code == "rule/state-transition"
    assert refused.value.extra["allowed"] == ["accepted", "in_progress"]
    assert "Accepted by the firm or In progress" in render(refused.value.detail, "en")


def test_only_a_proposed_quote_is_answered():
    assert next_quote_status("proposed", "accept") == "accepted"
    assert next_quote_status("proposed", "reject") == "rejected"
    assert next_quote_status("proposed", "supersede") == "superseded"
    for status in ("accepted", "rejected", "superseded"):
        for action in ("accept", "reject", "supersede"):
            with pytest.raises(Conflict) as refused:
                next_quote_status(status, action)
            assert refused.value.code == "rule/quote-answered"
    assert set(lifecycle.QUOTE_ACTIONS) == {"accept", "reject", "supersede"}
    assert {"proposed", "accepted", "rejected", "superseded"} == set(QUOTE_STATUSES)


def test_paid_work_waits_for_an_accepted_quote():
    check_start(quote_required=False, quote_accepted=False)
    check_start(quote_required=True, quote_accepted=True)
    with pytest.raises(Conflict) as refused:
        check_start(quote_required=True, quote_accepted=False)
    assert refused.value.code == "rule/quote-not-accepted" and refused.value.status == 409
    assert render(refused.value.detail, "zh") != render(refused.value.detail, "en")


# After the solution -----------------------------------------------------------------------------


@pytest.mark.parametrize("stars", [1, 2, 3, 4, 5])
def test_a_closed_case_is_rated_once_from_one_to_five(stars):
    check_rating("closed", stars)
    with pytest.raises(Conflict) as twice:
        check_rating("closed", stars, rated=True)
    assert twice.value.code == "rule/already-rated"


@pytest.mark.parametrize("stars", [0, 6, -1, True, 2.5])
def test_a_rating_outside_one_to_five_is_refused(stars):
    with pytest.raises(RuleViolation) as refused:
        check_rating("closed", stars)
    assert refused.value.code == "rule/rating-range"
    assert render(refused.value.detail, "en") == "A rating is from 1 to 5 stars."


@pytest.mark.parametrize("status", [s for s in STATUSES if s != "closed"])
def test_only_a_closed_case_is_rated(status):
    with pytest.raises(Conflict) as refused:
        check_rating(status, 5)
    assert refused.value.code == "rule/rate-closed-only"


def test_an_unanswered_solution_closes_after_the_days_set():
    proposed = datetime(2026, 9, 30, 10, 0, tzinfo=UTC)
    days = lifecycle.AUTO_CLOSE_DAYS
    assert not auto_close_due(proposed, proposed + timedelta(days=days) - timedelta(seconds=1))
    assert auto_close_due(proposed, proposed + timedelta(days=days))
    assert auto_close_due(proposed, proposed + timedelta(days=2), days=2)


# Labels -----------------------------------------------------------------------------------------


def test_every_state_has_a_staff_and_a_tenant_name_in_both_languages():
    assert set(names.STATUS_NAMES) == set(names.TENANT_STATUS_NAMES) == set(CASE_STATUSES)
    for status in CASE_STATUSES:
        for kind in (names.CASE_STATUS, names.CASE_STATUS_FOR_TENANT):
            text = label(kind, status)
            assert text != status  # registered
            assert render(text, "zh") != render(text, "en")
    assert render(names.status_name("triaged"), "en") == "Triaged"
    assert render(names.status_name("triaged", for_tenant=True), "en") == "Being reviewed by the park"
    assert render(names.status_name("triaged", for_tenant=True), "zh") == "园区审核中"


def test_the_other_codes_are_named_in_both_languages():
    assert set(names.LABELS[names.CASE_PRIORITY]) == set(PRIORITIES)
    assert set(names.LABELS[names.QUOTE_STATUS]) == set(QUOTE_STATUSES)
    # the submission and the breach job's escalation are lines of the audit trail too
    assert set(names.LABELS[names.CASE_ACTION]) == {"submit", "escalate", *ACTIONS}
    for kind, codes in names.LABELS.items():
        for code, text in codes.items():
            assert label(kind, code) is text
            assert render(text, "zh") != render(text, "en"), (kind, code)


# The published contract -------------------------------------------------------------------------

CASE = {
    "case_id": str(uuid.uuid4()),
    "status": "triaged",
    "previous_status": "assigned",
    "org_id": "org-a",
    "submitted_by": "alice",
    "category": "legal",
    "item_id": str(uuid.uuid4()),
    "firm_org_id": None,
    "priority": "high",
    "submitted_at": "2026-09-30T09:15:00+08:00",
    "changed_at": "2026-10-01T02:00:00Z",
    "reason": "Conflict of interest",
    "version": 4,
}
QUOTE = {
    "quote_id": str(uuid.uuid4()),
    "status": "accepted",
    "fee": "1200.00",
    "currency": "CNY",
    "proposed_by": "lawyer",
    "proposed_at": "2026-10-02T03:00:00Z",
}


def test_every_event_of_the_issue_is_registered():
    verbs = "submitted|triaged|assigned|accepted|declined|quoted|quote_accepted|waiting|solution_proposed|closed|"
    verbs += "reopened|cancelled|sla_warning|sla_breached"
    expected = {f"consulting.case.{verb}" for verb in verbs.split("|")}
    expected |= {f"consulting.valuation.{verb}" for verb in ("opened", "completed", "failed")}  # journey 2
    registered = {c.type for c in all_contracts() if c.type.startswith("consulting.")}
    assert registered == expected
    assert {e for e in EVENT_OF_ACTION.values() if e} <= expected


def test_a_case_event_validates_and_writes_its_times_in_utc():
    version, data = validate("consulting.case.declined", None, CASE)
    assert version == 1
    assert data["submitted_at"] == "2026-09-30T01:15:00Z"
    assert data["firm_org_id"] is None and data["reason"] == "Conflict of interest"
    _, closed = validate("consulting.case.closed", 1, {**CASE, "status": "closed", "automatic": True})
    assert closed["automatic"] is True


def test_a_quote_event_carries_the_fee_as_a_decimal_string():
    _, data = validate("consulting.case.quote_accepted", 1, {**CASE, "status": "accepted", "quote": QUOTE})
    assert data["quote"]["fee"] == "1200.00" and data["quote"]["currency"] == "CNY"
    for fee in ("0", "-1.00"):
        with pytest.raises(ContractViolation):
            validate("consulting.case.quoted", 1, {**CASE, "quote": {**QUOTE, "fee": fee}})
    with pytest.raises(ContractViolation):
        validate("consulting.case.quoted", 1, CASE)  # no quote


def test_an_sla_event_names_its_clock_and_target():
    sla = {
        **CASE,
        "status": "in_progress",
        "clock": "firm",
        "target": "resolution",
        "target_minutes": 960,
        "used_minutes": 780,
        "due_at": "2026-10-03T10:00:00Z",
    }
    _, data = validate("consulting.case.sla_warning", 1, sla)
    assert data["clock"] == "firm" and data["used_minutes"] == 780
    with pytest.raises(ContractViolation):
        validate("consulting.case.sla_breached", 1, {**sla, "clock": "desk"})


@pytest.mark.parametrize(
    "broken",
    [
        {"status": "reopened"},  # an event, not a state
        {"priority": "asap"},
        {"submitted_at": "2026-09-30T09:15:00"},  # no offset
        {"org_id": ""},
        {"unknown": "field"},  # publishers are strict
    ],
)
def test_a_case_event_that_breaks_the_contract_is_refused(broken):
    with pytest.raises(ContractViolation):
        validate("consulting.case.submitted", 1, {**CASE, **broken})
