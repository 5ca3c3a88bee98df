"""Maker-checker, tranches and immutable decisions (services/finance/rules/decisions.py)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.finance.rules.decisions import (
    DECISION_KINDS,
    check_second_person,
    check_tranche,
    decide,
    paid_in_full,
    snapshot,
    verify,
)
from services.finance.rules.names import DECISION_KIND, LABELS
from shared.errors import Conflict, RuleViolation
from shared.i18n import render

# Maker-checker ----------------------------------------------------------------------------------


def test_two_different_people():
    check_second_person("user:bank-clerk", "user:bank-manager")


def test_the_same_person_cannot_check_their_own_record():
    with pytest.raises(Conflict) as refused:
        check_second_person("user:bank-clerk", "user:bank-clerk")
    assert refused.value.status == 409 and refused.value.code == "rule/same-person"
    assert refused.value.extra == {"maker": "user:bank-clerk"}
    assert render(refused.value.detail, "en") == "You recorded this; another person must approve it."
    assert render(refused.value.detail, "zh") == "此项由您录入，须由另一人审批。"


@pytest.mark.parametrize(("maker", "checker"), [("", "user:a"), ("user:a", "")])
def test_both_people_are_named(maker, checker):
    with pytest.raises(ValueError):
        check_second_person(maker, checker)


# Tranches ----------------------------------------------------------------------------------------

ACCEPTED = Decimal("1000000.00")


def test_tranches_up_to_the_accepted_amount():
    paid: list[Decimal] = []
    remaining = []
    for tranche in (Decimal("300000.00"), Decimal("300000.00"), Decimal("400000.00")):
        remaining.append(check_tranche(ACCEPTED, paid, tranche))
        paid.append(tranche)
        assert paid_in_full(ACCEPTED, paid) is (remaining[-1] == 0)
    assert remaining == [Decimal("700000.00"), Decimal("400000.00"), Decimal("0.00")]


def test_a_tranche_beyond_the_accepted_amount_is_refused_naming_what_remains():
    with pytest.raises(Conflict) as refused:
        check_tranche(ACCEPTED, [Decimal("600000.00")], Decimal("400000.01"))
    error = refused.value
    assert error.status == 409 and error.code == "rule/tranche-exceeds"
    assert error.extra == {"remaining": "400000.00"}
    assert render(error.detail, "en") == (
        "This tranche of 400000.01 yuan would pay more than the 1000000.00 yuan accepted; 400000.00 yuan remain."
    )
    assert "400000.00" in render(error.detail, "zh")
    with pytest.raises(Conflict):
        check_tranche(ACCEPTED, [ACCEPTED], Decimal("0.01"))


@pytest.mark.parametrize(
    "tranche", [Decimal("0"), Decimal("-5"), Decimal("0.001"), Decimal("NaN"), Decimal("Infinity"), Decimal("1e40"), 5]
)
def test_a_tranche_is_an_amount_in_fen(tranche):
    with pytest.raises(RuleViolation) as refused:
        check_tranche(ACCEPTED, [], tranche)
    assert refused.value.code == "rule/tranche-amount" and refused.value.status == 422


@given(st.lists(st.integers(min_value=1, max_value=10**8), min_size=1, max_size=12))
def test_tranches_never_sum_beyond_the_accepted_amount(cents):
    paid: list[Decimal] = []
    for c in cents:
        tranche = Decimal(c) / 100
        try:
            check_tranche(ACCEPTED, paid, tranche)
        except Conflict:
            assert sum(paid, Decimal(0)) + tranche > ACCEPTED
            continue
        paid.append(tranche)
    assert sum(paid, Decimal(0)) <= ACCEPTED


# Immutable decisions ---------------------------------------------------------------------------

AT = datetime(2026, 11, 30, 10, 30, tzinfo=timezone(timedelta(hours=8)))


def offer_basis() -> dict[str, object]:
    return {
        "offer_id": "4b0f3c2e-0000-4000-8000-000000000001",
        "amount": Decimal("500000.00"),
        "currency": "CNY",
        "annual_rate": Decimal("4.35"),
        "term_months": 12,
        "fees": [{"kind": "guarantee", "amount": Decimal("10000.00")}],
        "expires_at": AT + timedelta(days=14),
        "signed_on": date(2026, 12, 1),
        "conditions": None,
        "secured": True,
    }


def test_a_decision_is_frozen_and_holds_its_basis_as_json():
    basis = offer_basis()
    decision = decide("offer_made", application_id="app-1", decided_by="user:bank", decided_at=AT, basis=basis)
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.kind = "declined"  # type: ignore[misc]
    # The caller changing its dict afterwards changes nothing of the record.
    basis["amount"] = Decimal("1")
    basis["fees"][0]["amount"] = Decimal("0")  # type: ignore[index]
    terms = decision.terms
    assert terms["amount"] == "500000.00" and terms["fees"] == [{"kind": "guarantee", "amount": "10000.00"}]
    terms["amount"] = "0"  # a copy, too
    assert decision.terms["amount"] == "500000.00"
    assert decision.decided_at == "2026-11-30T02:30:00Z"
    assert decision.terms["expires_at"] == "2026-12-14T02:30:00Z"
    assert decision.terms["signed_on"] == "2026-12-01"


def test_the_snapshot_is_json_with_its_digest():
    decision = decide(
        "offer_accepted", application_id="app-1", decided_by="user:alice", decided_at=AT, basis=offer_basis()
    )
    record = snapshot(decision)
    assert json.loads(json.dumps(record)) == record
    assert record["kind"] == "offer_accepted" and record["decided_by"] == "user:alice"
    assert record["basis"]["annual_rate"] == "4.35"
    assert len(record["digest"]) == 64
    assert verify(record)
    assert snapshot(decision) == record  # the same record every time
    changed = json.loads(json.dumps(record))
    changed["basis"]["amount"] = "600000.00"
    assert not verify(changed)
    assert not verify({k: v for k, v in record.items() if k != "digest"})


def test_two_decisions_on_different_terms_differ():
    a = snapshot(decide("declined", application_id="a", decided_by="u", decided_at=AT, basis={"code": "other"}))
    b = snapshot(decide("declined", application_id="a", decided_by="u", decided_at=AT, basis={"code": "ineligible"}))
    assert a["digest"] != b["digest"]


@pytest.mark.parametrize(
    ("basis", "error"),
    [
        ({"amount": 1.5}, TypeError),
        ({"amount": Decimal("NaN")}, ValueError),
        ({"at": datetime(2026, 1, 1)}, ValueError),
    ],
)
def test_a_decision_holds_no_float_nor_naive_time(basis, error):
    with pytest.raises(error):
        decide("declined", application_id="a", decided_by="u", decided_at=AT, basis=basis)


def test_a_decision_names_its_kind_and_who():
    with pytest.raises(ValueError):
        decide("vibes", application_id="a", decided_by="u", decided_at=AT, basis={})
    with pytest.raises(ValueError):
        decide("declined", application_id="a", decided_by="", decided_at=AT, basis={})
    with pytest.raises(ValueError):
        decide("declined", application_id="a", decided_by="u", decided_at=AT.replace(tzinfo=None), basis={})
    assert decide("declined", application_id="a", decided_by="u", decided_at=AT.astimezone(UTC), basis={}).terms == {}


def test_every_kind_has_a_name_in_both_languages():
    assert set(LABELS[DECISION_KIND]) == set(DECISION_KINDS)
    for message in LABELS[DECISION_KIND].values():
        assert render(message, "en") != render(message, "zh")
