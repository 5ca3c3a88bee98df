"""The demo pipeline over the running embedded platform: after what ``parkhub seed`` does (the
CLI's own ``_seed``: identity, booking, consulting, finance with its demo applications), each demo
user signs in through ``/api/v1/auth/token`` and reads what they should of finance's applications:
alice and bob Kangcheng's, carol Shurui's, each partner those routed to it, the desk and park admin
all of them in every state; the open information request; two offers compared by their all-in
cost; the tranche approved by a second person; the subsidy paid out; the patent of the IP-pledge
loan; the pipeline report in JSON and CSV; the labels in Chinese."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from services.finance import seed as demo
from tests.park import Park, running_park

FINANCE = "/api/v1/finance"
BY_STATE = {application.state: application for application in demo.DEMO_APPLICATIONS}
KANGCHENG = {a.purpose for a in demo.DEMO_APPLICATIONS if a.user in ("alice", "bob")}
SHURUI = {a.purpose for a in demo.DEMO_APPLICATIONS if a.user == "carol"}
ROUTED_TO_BOTH_BANKS = {BY_STATE[state].purpose for state in ("info_requested", "offered", "disbursing", "closed")}
IP_PLEDGE = BY_STATE["routed"].purpose
ZH = {"Accept-Language": "zh"}


def chinese(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


@pytest.fixture
def park(demo_platform: Path, tmp_path: Path) -> Iterator[Park]:
    yield from running_park(demo_platform, tmp_path)


def read(park: Park, user: str, path: str, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    response = park.as_user(user, "GET", f"{FINANCE}{path}", headers=headers or {})
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json


def by_purpose(park: Park, user: str, headers: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    body = read(park, user, "/applications?page_size=100", headers=headers)
    assert body["total"] == len(body["items"])
    return {application["purpose"]: application for application in body["items"]}


def test_each_tenant_sees_its_organisation_s_applications(park: Park) -> None:
    alice, bob, carol = (by_purpose(park, user) for user in ("alice", "bob", "carol"))
    assert set(alice) == set(bob) == KANGCHENG
    assert set(carol) == SHURUI
    assert {a["organisation"]["name"] for a in alice.values()} == {demo.KANGCHENG}
    assert {a["organisation"]["name"] for a in carol.values()} == {demo.SHURUI}
    draft = bob[BY_STATE["draft"].purpose]
    assert draft["status"] == "draft" and draft["applicant_name"] == "Bob Li 李博"
    assert draft["documents_count"] == 1  # the rest of the checklist still to come


def test_each_partner_sees_only_what_it_was_routed(park: Park) -> None:
    assert set(by_purpose(park, "bank")) == ROUTED_TO_BOTH_BANKS | {IP_PLEDGE}
    assert set(by_purpose(park, "banker")) == ROUTED_TO_BOTH_BANKS
    assert set(by_purpose(park, "guarantor")) == {BY_STATE["info_requested"].purpose}
    assert set(by_purpose(park, "bureau")) == set(by_purpose(park, "bureau2")) == {BY_STATE["disbursed"].purpose}
    assert by_purpose(park, "lawyer") == {}
    subsidy = by_purpose(park, "alice")[BY_STATE["disbursed"].purpose]
    read(park, "bank", f"/applications/{subsidy['id']}", status=404)  # a bank never reads a subsidy


def test_the_desk_and_park_admin_see_every_state_with_chinese_labels(park: Park) -> None:
    desk = by_purpose(park, "desk")
    assert set(desk) == set(by_purpose(park, "admin")) == KANGCHENG | SHURUI
    states = {purpose: application["status"] for purpose, application in desk.items()}
    expected = {
        a.purpose: a.state.replace("info_requested", "routed").replace("offered", "routed")
        for a in demo.DEMO_APPLICATIONS
    }
    assert states == expected
    numbers = sorted(application["number"] for application in desk.values())
    assert numbers == [f"F-{numbers[0][2:6]}-{n:05d}" for n in range(1, len(demo.DEMO_APPLICATIONS) + 1)]
    labels = {a["status"]: a["status_label"] for a in by_purpose(park, "desk", headers=ZH).values()}
    assert labels["draft"] != "Draft" and all(chinese(label) for label in labels.values()), labels


def test_the_bank_s_information_request_waits_for_the_tenant(park: Park) -> None:
    application = by_purpose(park, "alice")[BY_STATE["info_requested"].purpose]
    reviews = {review["partner"]["name"]: review for review in application["reviews"]}
    assert reviews[demo.SHUDU_BANK]["status"] == "info_requested"
    assert reviews[demo.RONGCHENG_BANK]["status"] == reviews[demo.GUARANTEE]["status"] == "under_review"
    asked = reviews[demo.SHUDU_BANK]["requested"]
    assert asked["questions"] and "cleanroom" in asked["questions"][0] and asked["answers"] is None
    review = read(
        park, "alice", f"/applications/{application['id']}/reviews/{reviews[demo.SHUDU_BANK]['partner']['id']}"
    )
    assert review["actions"] == ["provide_info"]


def test_two_offers_compare_by_their_all_in_cost(park: Park) -> None:
    application = by_purpose(park, "alice")[BY_STATE["offered"].purpose]
    offers = read(park, "alice", f"/applications/{application['id']}/offers", headers=ZH)["items"]
    assert [offer["rank"] for offer in offers] == [1, 2]
    cheap, dear = offers
    assert cheap["partner"]["name"] == demo.RONGCHENG_BANK and dear["partner"]["name"] == demo.SHUDU_BANK
    assert Decimal(cheap["all_in_rate"]) < Decimal(dear["all_in_rate"])
    assert Decimal(dear["all_in_rate"]) > Decimal(dear["annual_rate"])  # the guarantee fee counts
    assert Decimal(dear["total_fees"]) == Decimal("36000.00")  # 1.2 % a year of 1.5 million for two years
    assert Decimal(dear["received"]) == Decimal(application["amount"]) - Decimal(dear["total_fees"])
    assert all(offer["actions"] == ["accept", "decline"] for offer in offers)
    assert all(chinese(offer["status_label"]) and chinese(offer["repayment_method_label"]) for offer in offers)
    assert read(park, "bob", f"/offers/{cheap['id']}")["actions"] == []  # a member does not accept


def test_the_accepted_loan_paid_a_tranche_approved_by_a_second_person(park: Park) -> None:
    application = by_purpose(park, "carol")[BY_STATE["disbursing"].purpose]
    assert application["accepted_partner"]["name"] == demo.SHUDU_BANK
    payouts = read(park, "carol", f"/applications/{application['id']}/disbursements", headers=ZH)
    assert payouts["contract_number"] and payouts["contract_signed_on"]
    assert (payouts["accepted_amount"], payouts["disbursed_total"], payouts["remaining"]) == (
        "1000000.00",
        "400000.00",
        "600000.00",
    )
    [tranche] = payouts["items"]
    assert tranche["status"] == "approved"
    assert tranche["recorded_by_name"].startswith("Grace Chen") and tranche["approved_by_name"].startswith(
        "Service Desk"
    )
    assert tranche["recorded_by"] != tranche["approved_by"]
    offers = read(park, "carol", f"/applications/{application['id']}/offers")["items"]
    assert [offer["status"] for offer in offers] == ["accepted"]


def test_the_subsidy_was_approved_and_paid_out_by_two_people_of_the_bureau(park: Park) -> None:
    application = by_purpose(park, "alice")[BY_STATE["disbursed"].purpose]
    assert application["status"] == "disbursed"
    payouts = read(park, "bureau2", f"/applications/{application['id']}/disbursements")
    assert payouts["accepted_amount"] == payouts["disbursed_total"] == "280000.00"
    [payout] = payouts["items"]
    assert payout["recorded_by_name"].startswith("Li Na") and payout["approved_by_name"].startswith("Zhao Lei")


def test_the_ip_pledge_loan_lists_its_patent_and_the_closed_loan_its_trail(park: Park) -> None:
    alice = by_purpose(park, "alice")
    patents = read(park, "alice", f"/applications/{alice[IP_PLEDGE]['id']}/patents")["items"]
    assert [(patent["number"], patent["holder"]) for patent in patents] == [("ZL202010566088.9", demo.KANGCHENG_ZH)]
    closed = alice[BY_STATE["closed"].purpose]
    assert closed["status"] == "closed" and closed["closed_at"]
    history = read(park, "desk", f"/applications/{closed['id']}/history")["items"]
    actions = [line["action"] for line in history]
    for step in ("draft", "submit", "start_pre_review", "route", "accept", "sign_contract", "close"):
        assert step in actions, actions
    withdrawn = by_purpose(park, "carol")[BY_STATE["withdrawn"].purpose]
    assert withdrawn["status"] == "withdrawn" and "supplier" in withdrawn["reason"]


def test_the_pipeline_report_shows_the_pipeline_in_json_and_csv(park: Park) -> None:
    today = (datetime.now(UTC) + timedelta(hours=8)).date()
    period = f"from={today - timedelta(days=30)}&to={today}"
    report = read(park, "admin", f"/reports/pipeline?{period}", headers=ZH)
    counts: dict[str, int] = {}
    for group in report["groups"]:
        for line in group["by_status"]:
            counts[line["status"]] = counts.get(line["status"], 0) + line["count"]
            assert chinese(line["status_label"]), line
        assert chinese(group["display_name"]), group
    submitted = [a for a in demo.DEMO_APPLICATIONS if a.state != "draft"]
    assert sum(group["applications"] for group in report["groups"]) == len(submitted)
    assert counts["routed"] == 3 and counts["withdrawn"] == counts["closed"] == counts["disbursing"] == 1
    assert Decimal(sum(Decimal(group["disbursed"]) for group in report["groups"])) == Decimal("1180000.00")
    response = park.as_user("admin", "GET", f"{FINANCE}/reports/pipeline.csv?{period}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) > 1 and any(demo.BUREAU in " ".join(row) or "subsidy" in " ".join(row) for row in rows[1:])
    read(park, "alice", f"/reports/pipeline?{period}", status=403)
