"""Finance's published contracts (shared/events/finance.py): every event issue 9 names is
registered, a well-formed payload of each passes (money as decimal strings with a currency) and
the usual mistakes are refused; the statuses the rules move between are the contract's."""

from __future__ import annotations

import uuid
from copy import deepcopy
from typing import Any

import pytest

from services.finance.rules import lifecycle
from shared.events import ContractViolation, validate
from shared.events.contracts import all_contracts
from shared.events.finance import APPLICATION_STATUSES, DECLINE_REASONS, OFFER_STATUSES, REVIEW_STATUSES

ISSUE = [
    f"finance.application.{verb}"
    for verb in (
        "submitted",
        "routed",
        "info_requested",
        "info_provided",
        "offer_made",
        "declined",
        "offer_accepted",
        "offer_withdrawn",
        "contract_signed",
        "disbursed",
        "withdrawn",
        "closed",
    )
] + ["finance.ip_valuation.requested"]

APPLICATION: dict[str, Any] = {
    "application_id": str(uuid.uuid4()),
    "status": "routed",
    "previous_status": "pre_review",
    "org_id": "org-a",
    "applicant": "bob",
    "product_id": str(uuid.uuid4()),
    "product_kind": "guaranteed_loan",
    "amount": "500000.00",
    "currency": "CNY",
    "term_months": 12,
    "partner_org_ids": ["bank", "bank2"],
    "submitted_at": "2026-11-30T01:00:00Z",
    "changed_at": "2026-11-30T02:00:00Z",
    "version": 3,
}
OFFER = {
    "offer_id": str(uuid.uuid4()),
    "kind": "offer",
    "status": "made",
    "partner_org_id": "bank",
    "amount": "500000.00",
    "currency": "CNY",
    "annual_rate": "4.3500",
    "all_in_rate": "6.52",
    "term_months": 12,
    "fees": [{"kind": "guarantee", "amount": "10000.00", "currency": "CNY"}],
    "conditions": "Guarantee by the park's guarantee company.",
    "expires_at": "2026-12-14T02:00:00Z",
    "made_by": "banker",
    "made_at": "2026-11-30T02:00:00Z",
}
PAYLOADS: dict[str, dict[str, Any]] = {
    "finance.application.submitted": {**APPLICATION, "status": "submitted", "previous_status": "draft"},
    "finance.application.routed": {**APPLICATION, "added_partner_org_ids": ["bank2"]},
    "finance.application.info_requested": {
        **APPLICATION,
        "partner_org_id": "bank",
        "reason": "The audited accounts of 2025, please.",
        "document_types": ["audited_accounts"],
    },
    "finance.application.info_provided": {**APPLICATION, "partner_org_id": "bank"},
    "finance.application.offer_made": {**APPLICATION, "partner_org_id": "bank", "offer": OFFER},
    "finance.application.declined": {
        **APPLICATION,
        "partner_org_id": "bank2",
        "reason_code": "insufficient_collateral",
    },
    "finance.application.offer_accepted": {
        **APPLICATION,
        "status": "accepted",
        "partner_org_id": "bank",
        "offer": {**OFFER, "status": "accepted"},
    },
    "finance.application.offer_withdrawn": {
        **APPLICATION,
        "status": "accepted",
        "partner_org_id": "bank2",
        "offer": {**OFFER, "partner_org_id": "bank2", "status": "withdrawn"},
    },
    "finance.application.contract_signed": {
        **APPLICATION,
        "status": "contract_signed",
        "partner_org_id": "bank",
        "contract_number": "JS-2026-0042",
        "signed_on": "2026-12-02",
    },
    "finance.application.disbursed": {
        **APPLICATION,
        "status": "disbursing",
        "partner_org_id": "bank",
        "tranche": {
            "disbursement_id": str(uuid.uuid4()),
            "number": 1,
            "amount": "200000.00",
            "currency": "CNY",
            "disbursed_total": "200000.00",
            "final": False,
            "recorded_by": "banker",
            "approved_by": "banker-manager",
            "disbursed_on": "2026-12-05",
        },
    },
    "finance.application.withdrawn": {**APPLICATION, "status": "withdrawn"},
    "finance.application.closed": {
        **APPLICATION,
        "status": "closed",
        "previous_status": "pre_review",
        "reason": "Outside the park's programmes.",
    },
    "finance.ip_valuation.requested": {
        "application_id": str(uuid.uuid4()),
        "org_id": "org-a",
        "patent_numbers": ["ZL202010566088.9", "ZL01105715.7"],
        "appraiser_org_id": "ipa",
        "requested_by": "desk",
        "requested_at": "2026-11-30T02:00:00Z",
    },
}


def test_every_event_of_the_issue_is_registered_and_no_other():
    assert sorted(c.type for c in all_contracts() if c.type.startswith("finance.")) == sorted(ISSUE)


@pytest.mark.parametrize("event", ISSUE)
def test_a_well_formed_payload_of_each_passes(event):
    version, data = validate(event, None, deepcopy(PAYLOADS[event]))
    assert version == 1
    if "amount" in data:
        assert data["amount"] == "500000.00" and data["currency"] == "CNY"


def test_a_subsidy_approval_is_an_accepted_offer_of_an_amount():
    approval = {
        **OFFER,
        "kind": "approval",
        "status": "accepted",
        "partner_org_id": "sti-bureau",
        "annual_rate": None,
        "all_in_rate": None,
        "term_months": None,
        "fees": [],
        "expires_at": None,
    }
    payload = {**APPLICATION, "product_kind": "subsidy", "status": "accepted", "partner_org_id": "sti-bureau"}
    _version, data = validate("finance.application.offer_accepted", 1, {**payload, "offer": approval})
    assert data["offer"]["amount"] == "500000.00" and data["offer"]["annual_rate"] is None


@pytest.mark.parametrize(
    ("event", "change"),
    [
        ("finance.application.submitted", {"amount": 500000.0}),
        ("finance.application.submitted", {"amount": "-1.00"}),
        ("finance.application.submitted", {"currency": "USD"}),
        ("finance.application.submitted", {"status": "approved"}),
        ("finance.application.submitted", {"term_months": 0}),
        ("finance.application.submitted", {"surprise": 1}),
        ("finance.application.routed", {"added_partner_org_ids": []}),
        ("finance.application.declined", {"reason_code": "bad_mood"}),
        ("finance.application.declined", {"partner_org_id": None}),
        ("finance.application.offer_made", {"offer": {**OFFER, "status": "pending"}}),
        ("finance.application.offer_made", {"offer": {**OFFER, "fees": [{"kind": "tip", "amount": "1.00"}]}}),
        ("finance.application.disbursed", {"tranche": {"number": 1}}),
        ("finance.ip_valuation.requested", {"patent_numbers": ["US1234567"]}),
        ("finance.ip_valuation.requested", {"patent_numbers": []}),
    ],
)
def test_mistakes_are_refused(event, change):
    with pytest.raises(ContractViolation):
        validate(event, 1, {**deepcopy(PAYLOADS[event]), **change})


def test_the_rules_move_between_the_contract_s_statuses():
    moved = {s for table in (lifecycle.TRANSITIONS, lifecycle.SUBSIDY_TRANSITIONS) for m in table.values() for s in m}
    moved |= {
        to
        for table in (lifecycle.TRANSITIONS, lifecycle.SUBSIDY_TRANSITIONS)
        for m in table.values()
        for to in m.values()
    }
    assert moved == set(APPLICATION_STATUSES)
    reviews = {s for m in lifecycle.REVIEW_TRANSITIONS.values() for pair in m.items() for s in pair}
    assert reviews == set(REVIEW_STATUSES)
    offers = {s for m in lifecycle.OFFER_TRANSITIONS.values() for pair in m.items() for s in pair}
    assert offers == set(OFFER_STATUSES)
    assert "other" in DECLINE_REASONS
