"""Who hears what: the one table of audiences, its resolution, and what partners may receive."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from services.notify.rules.recipients import (
    AUDIENCES,
    AUDIENCES_BY_EVENT,
    PARTNER_AUDIENCES,
    ROLE_DESK_STAFF,
    ROLE_ORG_ADMIN,
    SERVICES,
    Recipient,
    audiences_of,
    partner_may_receive,
    recipients,
    resolve,
)
from shared.events.contracts import _contracts, _load_contracts


def contract_types() -> set[str]:
    _load_contracts()
    return {type_ for (type_, _version) in _contracts if type_.split(".", 1)[0] in SERVICES}


def test_every_event_type_of_booking_consulting_and_finance_has_a_row() -> None:
    missing = contract_types() - set(AUDIENCES_BY_EVENT)
    assert not missing, f"event types without a row of audiences: {sorted(missing)}"


def test_every_row_names_an_event_type_that_exists() -> None:
    unknown = set(AUDIENCES_BY_EVENT) - contract_types()
    assert not unknown, f"rows for event types no contract declares: {sorted(unknown)}"


def test_every_row_names_known_audiences_once() -> None:
    for type_, audiences in AUDIENCES_BY_EVENT.items():
        assert set(audiences) <= set(AUDIENCES), type_
        assert len(set(audiences)) == len(audiences), type_


def test_another_services_events_concern_nobody_but_an_unlisted_type_of_ours_is_an_error() -> None:
    assert audiences_of("identity.organisation.registered") == ()
    with pytest.raises(KeyError):
        audiences_of("consulting.case.exploded")
    with pytest.raises(KeyError):
        resolve("the_neighbours", {})


CASE: dict[str, Any] = {
    "case_id": str(uuid.uuid4()),
    "org_id": "ORG_A",
    "submitted_by": "alice",
    "firm_org_id": "LAW",
    "previous_firm_org_id": None,
}


def test_an_assigned_case_reaches_the_firm_and_the_tenant_who_submitted_it() -> None:
    assert recipients("consulting.case.assigned", CASE) == [
        Recipient("assigned_firm", org_id="LAW"),
        Recipient("submitter", user="alice"),
    ]


def test_a_quote_reaches_the_submitter_and_the_organisations_admins() -> None:
    assert recipients("consulting.case.quoted", CASE) == [
        Recipient("submitter", user="alice"),
        Recipient("org_admins", org_id="ORG_A", role=ROLE_ORG_ADMIN),
    ]


def test_a_new_case_reaches_the_desk_park_wide() -> None:
    assert recipients("consulting.case.submitted", CASE) == [Recipient("desk", role=ROLE_DESK_STAFF)]


def test_a_null_field_resolves_to_nobody() -> None:
    no_firm = {**CASE, "firm_org_id": None}
    assert recipients("consulting.case.cancelled", no_firm) == [Recipient("desk", role=ROLE_DESK_STAFF)]
    hold_rejected = {"org_id": "ORG_A", "booked_by": None, "rule": "rule/no-room"}
    assert recipients("booking.reservation.rejected", hold_rejected) == [
        Recipient("org_admins", org_id="ORG_A", role=ROLE_ORG_ADMIN)
    ]


def test_a_routing_reaches_only_the_partners_it_added() -> None:
    data = {
        "org_id": "ORG_A",
        "applicant": "alice",
        "partner_org_ids": ["BANK", "BANK2"],
        "added_partner_org_ids": ["BANK2"],
    }
    assert [r.org_id for r in recipients("finance.application.routed", data) if r.org_id] == ["BANK2"]


def test_a_withdrawal_reaches_every_partner_routed_to() -> None:
    data = {"org_id": "ORG_A", "applicant": "alice", "partner_org_ids": ["BANK", "BANK2"]}
    assert {r.org_id for r in recipients("finance.application.withdrawn", data) if r.audience == "routed_partners"} == {
        "BANK",
        "BANK2",
    }


def application(partner: str | None, **more: Any) -> dict[str, Any]:
    return {
        "application_id": str(uuid.uuid4()),
        "org_id": "ORG_A",
        "applicant": "alice",
        "partner_org_ids": ["BANK", "BANK2"],
        "partner_org_id": partner,
        **more,
    }


@pytest.mark.parametrize(
    "type_",
    [
        "finance.application.offer_made",
        "finance.application.offer_withdrawn",
        "finance.application.offer_accepted",
        "finance.application.info_requested",
        "finance.application.info_provided",
        "finance.application.declined",
        "finance.application.contract_signed",
        "finance.application.disbursed",
    ],
)
def test_a_partner_never_receives_another_partners_event(type_: str) -> None:
    data = application("BANK")
    assert not partner_may_receive(type_, data, "BANK2")
    assert not partner_may_receive(type_, data, "ORG_A")
    assert not partner_may_receive(type_, data, "")


def test_the_partner_an_event_is_about_receives_it_when_its_row_names_it() -> None:
    assert partner_may_receive("finance.application.offer_accepted", application("BANK"), "BANK")
    assert partner_may_receive("finance.application.info_provided", application("BANK"), "BANK")
    # the offer BANK made is news for the tenant, not a webhook BANK is sent back
    assert not partner_may_receive("finance.application.offer_made", application("BANK"), "BANK")


def test_routing_is_received_by_the_partners_added_and_nobody_else() -> None:
    data = application(None, added_partner_org_ids=["BANK2"])
    assert partner_may_receive("finance.application.routed", data, "BANK2")
    assert not partner_may_receive("finance.application.routed", data, "BANK")


def test_a_case_goes_to_the_firm_assigned_only() -> None:
    assert partner_may_receive("consulting.case.assigned", CASE, "LAW")
    assert not partner_may_receive("consulting.case.assigned", CASE, "LAW2")
    assert not partner_may_receive("consulting.case.submitted", CASE, "LAW")


def test_a_previous_firm_receives_its_own_decline_but_not_who_replaced_it() -> None:
    declined = {**CASE, "firm_org_id": None, "previous_firm_org_id": "LAW"}
    assert partner_may_receive("consulting.case.declined", declined, "LAW")
    assert not partner_may_receive("consulting.case.declined", declined, "LAW2")
    reassigned = {**CASE, "firm_org_id": "LAW2", "previous_firm_org_id": "LAW"}
    assert partner_may_receive("consulting.case.assigned", reassigned, "LAW2")
    assert not partner_may_receive("consulting.case.assigned", reassigned, "LAW")


def test_no_partner_receives_a_booking_or_a_tenants_own_event() -> None:
    for type_, audiences in AUDIENCES_BY_EVENT.items():
        if not set(audiences) & PARTNER_AUDIENCES:
            data = {**application("BANK", added_partner_org_ids=["BANK"]), **CASE, "previous_firm_org_id": "LAW"}
            assert not partner_may_receive(type_, data, "BANK"), type_
            assert not partner_may_receive(type_, data, "LAW"), type_
