"""A financing application's lifecycle as pure rules (services/finance/rules/lifecycle.py): every
transition of the three tables (the application, a subsidy's variant, a partner's review, an
offer), every (state, action) pair outside them refused naming the states the action is possible
from (in English and Chinese, the staff's or the tenant's names), reasons and decline codes,
offer terms and expiry, and "editing after offers invalidates them"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.finance.rules import lifecycle, names
from services.finance.rules.lifecycle import (
    ACTIONS,
    EVENT_OF_ACTION,
    OFFER_ACTIONS,
    OFFER_EVENT_OF_ACTION,
    OFFER_TRANSITIONS,
    RECORDED_ACTIONS,
    REVIEW_ACTIONS,
    REVIEW_EVENT_OF_ACTION,
    REVIEW_TRANSITIONS,
    STATUSES,
    SUBSIDY_TRANSITIONS,
    TRANSITIONS,
    allowed_from,
    check_acceptable,
    check_decline,
    check_offer_terms,
    check_reason,
    check_route,
    invalidated_by_edit,
    next_offer_status,
    next_review_status,
    next_status,
    offer_expired,
    withdrawn_by_acceptance,
)
from shared.errors import Conflict, RuleViolation
from shared.events.contracts import contract_for
from shared.events.finance import APPLICATION_STATUSES, DECLINE_REASONS, OFFER_STATUSES, REVIEW_STATUSES
from shared.i18n import label, render

_BEFORE = ("draft", "submitted", "pre_review", "routed")
LOAN = {
    ("draft", "edit"): "draft",
    ("routed", "edit"): "routed",
    ("draft", "submit"): "submitted",
    ("submitted", "start_pre_review"): "pre_review",
    ("pre_review", "route"): "routed",
    ("routed", "route"): "routed",
    ("pre_review", "turn_down"): "closed",
    ("routed", "turn_down"): "closed",
    ("routed", "accept_offer"): "accepted",
    ("accepted", "sign_contract"): "contract_signed",
    ("contract_signed", "disburse"): "disbursing",
    ("disbursing", "disburse"): "disbursing",
    ("disbursing", "complete_disbursement"): "disbursed",
    ("disbursed", "close"): "closed",
    **{(s, "withdraw"): "withdrawn" for s in _BEFORE},
}
"""The application's table of issue 9, written out once more by hand."""
SUBSIDY = {
    **{k: v for k, v in LOAN.items() if k[1] not in ("accept_offer", "sign_contract", "disburse")},
    ("routed", "approve"): "accepted",
    ("accepted", "disburse"): "disbursing",
    ("disbursing", "disburse"): "disbursing",
}
REVIEW = {
    ("routed", "start_review"): "under_review",
    ("under_review", "request_info"): "info_requested",
    ("info_requested", "provide_info"): "under_review",
    ("under_review", "make_offer"): "offer_made",
    ("under_review", "approve"): "approved",
    ("routed", "decline"): "declined",
    ("under_review", "decline"): "declined",
    ("info_requested", "decline"): "declined",
    ("offer_made", "reconsider"): "under_review",
    **{(s, "cancel"): "cancelled" for s in ("routed", "under_review", "info_requested", "offer_made")},
}
OFFER = {("made", a): to for a, to in (("accept", "accepted"), ("withdraw", "withdrawn"), ("expire", "expired"))}
OFFER |= {("made", "invalidate"): "invalidated", ("made", "decline"): "declined"}

LOAN_ACTIONS = tuple(TRANSITIONS)
SUBSIDY_ACTIONS = tuple(SUBSIDY_TRANSITIONS)


def _pairs(table: dict[tuple[str, str], str]) -> list[tuple[str, str]]:
    return sorted(table)


def test_the_tables_are_the_issue_s():
    assert {(s, a): to for a, m in TRANSITIONS.items() for s, to in m.items()} == LOAN
    assert {(s, a): to for a, m in SUBSIDY_TRANSITIONS.items() for s, to in m.items()} == SUBSIDY
    assert {(s, a): to for a, m in REVIEW_TRANSITIONS.items() for s, to in m.items()} == REVIEW
    assert {(s, a): to for a, m in OFFER_TRANSITIONS.items() for s, to in m.items()} == OFFER
    assert STATUSES == APPLICATION_STATUSES
    assert set(ACTIONS) == set(LOAN_ACTIONS) | set(SUBSIDY_ACTIONS)


def test_every_state_is_reached_and_every_action_names_its_event():
    reached = {"draft"} | set(LOAN.values()) | set(SUBSIDY.values())
    assert reached == set(APPLICATION_STATUSES)
    assert {"routed"} | set(REVIEW.values()) == set(REVIEW_STATUSES)
    assert {"made"} | set(OFFER.values()) == set(OFFER_STATUSES)
    assert set(EVENT_OF_ACTION) == set(ACTIONS)
    assert set(REVIEW_EVENT_OF_ACTION) == set(REVIEW_ACTIONS)
    assert set(OFFER_EVENT_OF_ACTION) == set(OFFER_ACTIONS)
    published = {
        e
        for table in (EVENT_OF_ACTION, REVIEW_EVENT_OF_ACTION, OFFER_EVENT_OF_ACTION)
        for e in table.values()
        if e is not None
    }
    issue = {
        f"finance.application.{verb}"
        for verb in (
            "submitted routed info_requested info_provided offer_made declined offer_accepted "
            "offer_withdrawn contract_signed disbursed withdrawn closed"
        ).split()
    }
    assert published == issue
    for event in published:
        assert contract_for(event).version == 1


@pytest.mark.parametrize(("status", "action"), _pairs(LOAN))
def test_every_transition_of_a_loan(status, action):
    assert next_status(status, action) == LOAN[status, action]
    assert next_status(status, action, for_tenant=True) == LOAN[status, action]


@pytest.mark.parametrize(("status", "action"), _pairs(SUBSIDY))
def test_every_transition_of_a_subsidy(status, action):
    assert next_status(status, action, subsidy=True) == SUBSIDY[status, action]


LOAN_REFUSED = [(s, a) for s in STATUSES for a in LOAN_ACTIONS if (s, a) not in LOAN]
SUBSIDY_REFUSED = [(s, a) for s in STATUSES for a in SUBSIDY_ACTIONS if (s, a) not in SUBSIDY]


def _refused(status: str, action: str, table: dict[tuple[str, str], str], **kwargs: bool) -> None:
    with pytest.raises(Conflict) as refused:
        next_status(status, action, **kwargs)
    error = refused.value
    assert error.status == 409 and error.code == "rule/state-transition"
    allowed = [s for s in STATUSES if (s, action) in table]
    assert error.extra == {"application_status": status, "action": action, "allowed": allowed}
    kind = names.APPLICATION_STATUS_FOR_TENANT if kwargs.get("for_tenant") else names.APPLICATION_STATUS
    for locale in ("en", "zh"):
        detail = render(error.detail, locale)
        assert render(label(kind, status), locale) in detail
        for state in allowed:
            assert render(label(kind, state), locale) in detail
    assert render(error.detail, "en") != render(error.detail, "zh")


@pytest.mark.parametrize(("status", "action"), LOAN_REFUSED)
def test_every_other_pair_of_a_loan_is_refused_naming_the_states_it_is_possible_from(status, action):
    _refused(status, action, LOAN)
    _refused(status, action, LOAN, for_tenant=True)


@pytest.mark.parametrize(("status", "action"), SUBSIDY_REFUSED)
def test_every_other_pair_of_a_subsidy_is_refused(status, action):
    _refused(status, action, SUBSIDY, subsidy=True)


@pytest.mark.parametrize("action", ["accept_offer", "sign_contract"])
def test_a_subsidy_has_no_offer_to_accept_nor_contract(action):
    with pytest.raises(Conflict) as refused:
        next_status("routed", action, subsidy=True)
    assert refused.value.code == "rule/not-for-product-kind"
    assert "补贴" in render(refused.value.detail, "zh")


def test_a_loan_is_not_approved_by_a_bureau():
    with pytest.raises(Conflict) as refused:
        next_status("routed", "approve")
    assert refused.value.code == "rule/not-for-product-kind"


def test_refusals_read_as_sentences_in_both_languages():
    with pytest.raises(Conflict) as refused:
        next_status("accepted", "withdraw")
    assert render(refused.value.detail, "en") == (
        "Only an application that is Draft, Submitted, In the desk's pre-review or Routed to partners "
        "can be withdrawn; this one is Offer accepted."
    )
    assert render(refused.value.detail, "zh") == (
        "只有状态为草稿、已提交、园区预审中或已推送给合作机构的申请可以撤回；此申请为已接受报价。"
    )
    with pytest.raises(Conflict) as for_tenant:
        next_status("draft", "accept_offer", for_tenant=True)
    assert render(for_tenant.value.detail, "en") == (
        "An offer can be accepted only on an application that is With the financing partners; this one is Draft."
    )


def test_an_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown application action"):
        next_status("draft", "triage")
    with pytest.raises(ValueError, match="unknown review action"):
        next_review_status("routed", "accept")
    with pytest.raises(ValueError, match="unknown offer action"):
        next_offer_status("made", "approve")


def test_allowed_from_follows_the_order_of_the_states():
    assert allowed_from("withdraw") == _BEFORE
    assert allowed_from("disburse") == ("contract_signed", "disbursing")
    assert allowed_from("disburse", subsidy=True) == ("accepted", "disbursing")


# A partner's review ---------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "action"), _pairs(REVIEW))
def test_every_transition_of_a_review(status, action):
    assert next_review_status(status, action) == REVIEW[status, action]


REVIEW_REFUSED = [(s, a) for s in REVIEW_STATUSES for a in REVIEW_ACTIONS if (s, a) not in REVIEW]


@pytest.mark.parametrize(("status", "action"), REVIEW_REFUSED)
def test_every_other_pair_of_a_review_is_refused(status, action):
    with pytest.raises(Conflict) as refused:
        next_review_status(status, action)
    error = refused.value
    allowed = [s for s in REVIEW_STATUSES if (s, action) in REVIEW]
    assert error.code == "rule/state-transition"
    assert error.extra == {"review_status": status, "action": action, "allowed": allowed}
    for locale in ("en", "zh"):
        detail = render(error.detail, locale)
        assert render(label(names.REVIEW_STATUS, status), locale) in detail
        assert all(render(label(names.REVIEW_STATUS, s), locale) in detail for s in allowed)


def test_information_requested_and_provided_resumes_the_review_where_it_was():
    status = "under_review"
    for _round in range(3):
        status = next_review_status(status, "request_info")
        assert status == "info_requested"
        status = next_review_status(status, "provide_info")
        assert status == "under_review"
    assert next_review_status(status, "make_offer") == "offer_made"


# Reasons and decline codes --------------------------------------------------------------------


@pytest.mark.parametrize("action", ["turn_down", "request_info"])
@pytest.mark.parametrize("reason", [None, "", "  \n "])
def test_these_actions_say_why(action, reason):
    with pytest.raises(RuleViolation) as refused:
        check_reason(action, reason)
    assert refused.value.code == "rule/reason-required" and refused.value.status == 422
    assert render(refused.value.detail, "zh") != render(refused.value.detail, "en")


@pytest.mark.parametrize("action", ["withdraw", "submit", "route"])
def test_other_actions_need_no_reason(action):
    check_reason(action, None)


@pytest.mark.parametrize("code", DECLINE_REASONS)
def test_a_partner_declines_with_a_code_of_the_list(code):
    assert check_decline(code, "because") == code
    assert render(label(names.DECLINE_REASON, code), "zh") != render(label(names.DECLINE_REASON, code), "en")


@pytest.mark.parametrize("code", [None, "", "bad_mood", "OTHER"])
def test_a_decline_code_outside_the_list_is_refused_naming_the_list(code):
    with pytest.raises(RuleViolation) as refused:
        check_decline(code)
    assert refused.value.code == "rule/decline-reason"
    assert refused.value.extra["allowed"] == list(DECLINE_REASONS)
    assert "Budget exhausted" in render(refused.value.detail, "en")


def test_another_reason_says_what_it_is():
    with pytest.raises(RuleViolation) as refused:
        check_decline("other", " ")
    assert refused.value.code == "rule/reason-required"
    assert check_decline("other", "The sector is under review") == "other"


# Routing -----------------------------------------------------------------------------------------


def test_routing_adds_providers_of_the_product_once():
    assert check_route(["bank", "bank2", "bank"], ["bank", "bank2", "guarantor"]) == ("bank", "bank2")
    with pytest.raises(RuleViolation) as empty:
        check_route([], ["bank"])
    assert empty.value.code == "rule/route-empty"
    with pytest.raises(RuleViolation) as stranger:
        check_route(["bank", "law"], ["bank"])
    assert stranger.value.code == "rule/route-not-provider" and stranger.value.extra["partners"] == ["law"]
    with pytest.raises(Conflict) as again:
        check_route(["bank2", "bank"], ["bank", "bank2"], already=["bank"])
    assert again.value.code == "rule/route-repeated" and again.value.status == 409


# Offers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "action"), _pairs(OFFER))
def test_every_answer_of_an_offer(status, action):
    assert next_offer_status(status, action) == OFFER[status, action]


@pytest.mark.parametrize("status", [s for s in OFFER_STATUSES if s != "made"])
@pytest.mark.parametrize("action", OFFER_ACTIONS)
def test_an_answered_offer_stays_as_it_was(status, action):
    with pytest.raises(Conflict) as refused:
        next_offer_status(status, action)
    assert refused.value.code == "rule/offer-answered"
    assert refused.value.extra == {"offer_status": status, "action": action}
    for locale in ("en", "zh"):
        assert render(label(names.OFFER_STATUS, status), locale) in render(refused.value.detail, locale)


NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def test_an_offer_expires_at_its_expiry_not_a_moment_later():
    expiry = NOW + timedelta(days=14)
    assert not offer_expired(expiry, NOW)
    assert not offer_expired(expiry, expiry - timedelta(microseconds=1))
    assert offer_expired(expiry, expiry)
    assert offer_expired(expiry, expiry + timedelta(days=1))
    with pytest.raises(ValueError):
        offer_expired(expiry.replace(tzinfo=None), NOW)


def test_an_expired_offer_cannot_be_accepted():
    check_acceptable("made", NOW + timedelta(hours=1), NOW)
    check_acceptable("made", None, NOW)
    with pytest.raises(Conflict) as refused:
        check_acceptable("made", NOW, NOW)
    assert refused.value.code == "rule/offer-expired"
    assert render(refused.value.detail, "zh") != render(refused.value.detail, "en")
    with pytest.raises(Conflict) as answered:
        check_acceptable("withdrawn", NOW + timedelta(days=1), NOW)
    assert answered.value.code == "rule/offer-answered"


GOOD: dict[str, Any] = {
    "amount": Decimal("500000.00"),
    "annual_rate": Decimal("4.35"),
    "term_months": 12,
    "expires_at": NOW + timedelta(days=10),
    "now": NOW,
}


def test_an_offer_s_terms():
    check_offer_terms(**GOOD)
    check_offer_terms(**{**GOOD, "annual_rate": Decimal("0"), "term_months": 360})
    check_offer_terms(**{**GOOD, "annual_rate": Decimal("3.4750")})


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("amount", Decimal("0"), "rule/offer-amount"),
        ("amount", Decimal("-1"), "rule/offer-amount"),
        ("amount", Decimal("1.001"), "rule/offer-amount"),
        ("amount", Decimal("NaN"), "rule/offer-amount"),
        ("amount", Decimal("1e400"), "rule/offer-amount"),
        ("amount", 1000.0, "rule/offer-amount"),
        ("annual_rate", Decimal("36.01"), "rule/offer-rate"),
        ("annual_rate", Decimal("-0.01"), "rule/offer-rate"),
        ("annual_rate", Decimal("4.35555"), "rule/offer-rate"),
        ("term_months", 0, "rule/offer-term"),
        ("term_months", 361, "rule/offer-term"),
        ("term_months", True, "rule/offer-term"),
        ("expires_at", NOW, "rule/offer-expiry"),
    ],
)
def test_an_offer_s_terms_are_refused_one_rule_each(field, value, code):
    with pytest.raises(RuleViolation) as refused:
        check_offer_terms(**{**GOOD, field: value})
    assert refused.value.code == code and refused.value.status == 422


def test_editing_after_offers_invalidates_the_open_ones_only():
    offers = [("o1", "made"), ("o2", "declined"), ("o3", "made"), ("o4", "expired")]
    assert invalidated_by_edit(offers) == ("o1", "o3")
    assert invalidated_by_edit([]) == ()
    for offer_id in invalidated_by_edit(offers):
        assert next_offer_status(dict(offers)[offer_id], "invalidate") == "invalidated"
    # An edit keeps the application where it is: it is the offers that lapse.
    assert next_status("routed", "edit") == "routed"
    assert lifecycle.EDITABLE == ("draft", "routed")


def test_accepting_one_offer_withdraws_the_others_still_open():
    offers = [("o1", "made"), ("o2", "made"), ("o3", "invalidated")]
    assert withdrawn_by_acceptance("o1", offers) == ("o2",)


# Names ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        names.APPLICATION_STATUS,
        names.APPLICATION_STATUS_FOR_TENANT,
        names.REVIEW_STATUS,
        names.OFFER_STATUS,
        names.DECLINE_REASON,
        names.APPLICATION_ACTION,
    ],
)
def test_every_code_has_a_name_in_both_languages(kind):
    codes = {
        names.APPLICATION_STATUS: APPLICATION_STATUSES,
        names.APPLICATION_STATUS_FOR_TENANT: APPLICATION_STATUSES,
        names.REVIEW_STATUS: REVIEW_STATUSES,
        names.OFFER_STATUS: OFFER_STATUSES,
        names.DECLINE_REASON: DECLINE_REASONS,
        names.APPLICATION_ACTION: tuple(dict.fromkeys((*ACTIONS, *REVIEW_ACTIONS, *RECORDED_ACTIONS))),
    }[kind]
    assert set(names.LABELS[kind]) == set(codes)
    for code in codes:
        en, zh = render(label(kind, code), "en"), render(label(kind, code), "zh")
        assert en and zh and en != zh and en != code


def test_the_tenant_reads_what_they_wait_for():
    assert render(names.application_status_name("pre_review", for_tenant=True), "zh") == "园区审核中"
    assert render(names.application_status_name("pre_review"), "zh") == "园区预审中"
