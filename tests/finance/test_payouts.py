"""Payouts over HTTP: the signed contract, tranches under the maker-checker rule (a loan's and a
subsidy's), closing and the pledge's release; foreign callers and bad input refused with nothing
written."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from services.finance.models import Application, ApplicationTransition, Decision, Disbursement
from shared.clock import PARK_TZ
from shared.db import Database
from shared.events.contracts import validate
from tests.booking.conftest import BANK, Api, User
from tests.finance.conftest import Products, outbox
from tests.finance.test_payouts_rig import accepted_application

TODAY = datetime.now(PARK_TZ).date()
"""The park's today: the days of contracts and tranches are park days."""
ZH = {"Accept-Language": "zh"}


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.json
    assert response.json["type"].endswith(f"/{code}"), response.json
    return dict(response.json)


def etag(api: Api, app_id: str, user: str = "desk") -> str:
    response = api.get(f"/applications/{app_id}/disbursements", user=user)
    assert response.status_code == 200, response.json
    return str(response.headers["ETag"])


def sign(api: Api, app_id: str, user: str = "bank", **body: Any) -> Any:
    payload = {"contract_number": "SD-2026-001", "signed_on": TODAY.isoformat(), **body}
    return api.post(f"/applications/{app_id}/contract", payload, user=user, **{"If-Match": etag(api, app_id)})


def record(api: Api, app_id: str, amount: Any, user: str = "bank", disbursed_on: str = "", **headers: str) -> Any:
    body = {"amount": amount, "disbursed_on": disbursed_on or TODAY.isoformat(), "reference": "TRX-1"}
    return api.post(f"/applications/{app_id}/disbursements", body, user=user, **headers)


def approve(api: Api, app_id: str, tranche: dict[str, Any], user: str, **headers: str) -> Any:
    headers.setdefault("If-Match", f'"{tranche["version"]}"')
    return api.post(f"/applications/{app_id}/disbursements/{tranche['id']}/approve", None, user=user, **headers)


def count(db: Database, model: Any) -> int:
    with db.reading() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def events(db: Database, type_: str) -> list[dict[str, Any]]:
    found = [e for e in outbox(db) if e["type"] == type_]
    for event in found:
        validate(event["type"], 1, event["data"])
    return [e["data"] for e in found]


# The contract -------------------------------------------------------------------------------------


def test_the_accepted_partner_records_the_signed_contract(api: Api, db: Database) -> None:
    app_id = accepted_application(db)
    before = etag(api, app_id)
    response = sign(api, app_id)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "contract_signed"
    assert response.json["contract_number"] == "SD-2026-001"
    assert response.json["contract_signed_on"] == TODAY.isoformat()
    assert response.headers["ETag"] != before
    [event] = events(db, "finance.application.contract_signed")
    assert event["contract_number"] == "SD-2026-001" and event["previous_status"] == "accepted"


def test_staff_record_the_contract_too(api: Api, db: Database) -> None:
    app_id = accepted_application(db)
    assert sign(api, app_id, user="desk").json["status"] == "contract_signed"


def test_the_contract_refused_to_others_and_in_the_wrong_state(api: Api, db: Database) -> None:
    app_id = accepted_application(db)
    problem(sign(api, app_id, user="carol"), 403, "forbidden")  # a tenant has no such right
    problem(sign(api, app_id, user="banker"), 403, "forbidden")  # routed, but not accepted
    problem(sign(api, app_id, user="lawyer"), 404, "not-found")  # not routed: no such application
    no_tag = api.post(
        f"/applications/{app_id}/contract", {"contract_number": "X", "signed_on": "2026-01-05"}, user="bank"
    )
    assert no_tag.status_code == 428
    stale = api.post(
        f"/applications/{app_id}/contract",
        {"contract_number": "X", "signed_on": "2026-01-05"},
        user="bank",
        **{"If-Match": '"999"'},
    )
    assert stale.status_code == 412
    problem(sign(api, app_id, contract_number=""), 422, "validation-failed")
    future = (TODAY + timedelta(days=2)).isoformat()
    problem(sign(api, app_id, signed_on=future), 422, "rule/signed-in-future")
    assert sign(api, app_id).status_code == 200
    again = problem(sign(api, app_id), 409, "rule/state-transition")
    assert "contract_signed" in again["allowed"] or again["application_status"] == "contract_signed"
    with db.reading() as session:
        assert session.get(Application, app_id).contract_number == "SD-2026-001"  # type: ignore[union-attr]


def test_a_subsidy_has_no_contract(api: Api, db: Database) -> None:
    app_id = accepted_application(db, product=Products.subsidy, amount="200000.00")
    problem(sign(api, app_id, user="bureau"), 409, "rule/not-for-product-kind")


def test_the_new_refusals_read_in_chinese(api: Api, db: Database) -> None:
    app_id = accepted_application(db)
    future = (TODAY + timedelta(days=2)).isoformat()
    body = {"contract_number": "X", "signed_on": future}
    zh = api.post(f"/applications/{app_id}/contract", body, user="bank", **{"If-Match": etag(api, app_id), **ZH})
    assert problem(zh, 422, "rule/signed-in-future")["detail"] == "合同签订日期不能晚于今天。"
    sign(api, app_id)
    tranche = {"amount": "10.00", "disbursed_on": future}
    zh = api.post(f"/applications/{app_id}/disbursements", tranche, user="bank", **ZH)
    assert problem(zh, 422, "rule/disbursed-in-future")["detail"] == "放款日期不能晚于今天。"
    pending = record(api, app_id, "10.00").json
    approve(api, app_id, pending, "desk")
    again = api.post(
        f"/applications/{app_id}/disbursements/{pending['id']}/approve", None, user="desk2", **{"If-Match": '"2"', **ZH}
    )
    assert problem(again, 409, "rule/disbursement-approved")["detail"] == "该笔放款已审批。"


# Tranches and the maker-checker rule --------------------------------------------------------------


def test_tranches_count_once_a_second_person_approves_them(api: Api, db: Database) -> None:
    app_id = accepted_application(db, amount="500000.00", accepted="300000.00")
    sign(api, app_id)
    first = record(api, app_id, "100000.00", **{"Idempotency-Key": "t-1"})
    assert first.status_code == 201, first.json
    assert first.json["status"] == "pending" and first.json["number"] == 1
    assert first.headers["Location"].endswith(f"/disbursements/{first.json['id']}")
    replay = record(api, app_id, "100000.00", **{"Idempotency-Key": "t-1"})
    assert replay.json["id"] == first.json["id"] and count(db, Disbursement) == 1
    payouts = api.get(f"/applications/{app_id}/disbursements", user="alice").json
    assert payouts["status"] == "contract_signed"  # a pending tranche moves nothing
    assert (payouts["accepted_amount"], payouts["disbursed_total"], payouts["pending_total"]) == (
        "300000.00",
        "0.00",
        "100000.00",
    )

    same = problem(approve(api, app_id, first.json, "bank"), 409, "rule/same-person")
    assert same["detail"] == "You recorded this; another person must approve it."
    zh = problem(approve(api, app_id, first.json, "bank", **ZH), 409, "rule/same-person")
    assert zh["detail"] == "此项由您录入，须由另一人审批。"

    approved = approve(api, app_id, first.json, "bank2")
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "approved" and approved.json["approved_by"] == "user:bank2"
    assert approved.json["application_status"] == "disbursing"
    problem(approve(api, app_id, approved.json, "desk"), 409, "rule/disbursement-approved")

    over = problem(record(api, app_id, "200000.01"), 409, "rule/tranche-exceeds")
    assert over["remaining"] == "200000.00"
    last = record(api, app_id, "200000.00", user="desk").json
    final = approve(api, app_id, last, "bank")
    assert final.status_code == 200 and final.json["application_status"] == "disbursed"

    tranches = events(db, "finance.application.disbursed")
    assert [(t["tranche"]["number"], t["tranche"]["final"], t["status"]) for t in tranches] == [
        (1, False, "disbursing"),
        (2, True, "disbursed"),
    ]
    assert tranches[1]["tranche"]["disbursed_total"] == "300000.00"
    assert tranches[1]["tranche"]["recorded_by"] == "user:desk" and tranches[1]["tranche"]["approved_by"] == "user:bank"
    with db.reading() as session:
        kinds = session.execute(select(Decision.kind).order_by(Decision.decided_at, Decision.kind)).scalars().all()
    assert sorted(kinds) == sorted(["disbursement_recorded"] * 2 + ["disbursement_approved"] * 2)
    payouts = api.get(f"/applications/{app_id}/disbursements", user="desk").json
    assert (payouts["disbursed_total"], payouts["remaining"]) == ("300000.00", "0.00")


def test_pending_tranches_count_against_what_remains(api: Api, db: Database) -> None:
    app_id = accepted_application(db, amount="300000.00")
    sign(api, app_id)
    assert record(api, app_id, "200000.00").status_code == 201
    problem(record(api, app_id, "100000.01", user="bank2"), 409, "rule/tranche-exceeds")
    assert count(db, Disbursement) == 1


def test_bad_tranches_are_refused_and_nothing_is_written(api: Api, db: Database) -> None:
    app_id = accepted_application(db)
    problem(record(api, app_id, "1000.00"), 409, "rule/state-transition")  # no contract yet
    sign(api, app_id)
    problem(record(api, app_id, 1000), 422, "validation-failed")  # a JSON number is not money
    problem(record(api, app_id, "0"), 422, "rule/amount-positive")
    problem(record(api, app_id, "10.005"), 422, "rule/amount-places")
    problem(record(api, app_id, "ten"), 422, "rule/amount-invalid")
    zh = problem(record(api, app_id, "ten", **ZH), 422, "rule/amount-invalid")
    assert zh["detail"] == 'amount：金额须为以元计的十进制字符串，例如"1200.00"。'
    body: dict[str, str] = {"amount": "10.00", "disbursed_on": (TODAY + timedelta(days=3)).isoformat()}
    problem(api.post(f"/applications/{app_id}/disbursements", body, user="bank"), 422, "rule/disbursed-in-future")
    early = {"amount": "10.00", "disbursed_on": (TODAY - timedelta(days=1)).isoformat()}
    before = problem(
        api.post(f"/applications/{app_id}/disbursements", early, user="bank"), 422, "rule/disbursed-before-contract"
    )
    assert TODAY.isoformat() in before["detail"]
    body = {"amount": "10.00", "disbursed_on": TODAY.isoformat(), "extra": "1"}
    problem(api.post(f"/applications/{app_id}/disbursements", body, user="bank"), 422, "validation-failed")
    assert count(db, Disbursement) == 0 and count(db, Decision) == 0


def test_foreign_callers_neither_record_nor_approve(api: Api, db: Database) -> None:
    app_id = accepted_application(db)
    sign(api, app_id)
    problem(record(api, app_id, "10.00", user="alice"), 403, "forbidden")
    problem(record(api, app_id, "10.00", user="banker"), 403, "forbidden")
    problem(record(api, app_id, "10.00", user="lawyer"), 404, "not-found")
    tranche = record(api, app_id, "10.00").json
    problem(approve(api, app_id, tranche, "carol"), 403, "forbidden")
    problem(approve(api, app_id, tranche, "banker"), 403, "forbidden")
    problem(approve(api, app_id, tranche, "guarantor"), 404, "not-found")
    other = accepted_application(db)
    problem(approve(api, other, tranche, "desk"), 404, "not-found")  # the tranche of another application
    assert (
        api.post(f"/applications/{app_id}/disbursements/{tranche['id']}/approve", None, user="desk").status_code == 428
    )
    assert approve(api, app_id, tranche, "desk", **{"If-Match": '"7"'}).status_code == 412
    problem(api.get(f"/applications/{app_id}/disbursements", user="carol"), 404, "not-found")
    # BANK2 was routed too, but the payouts show BANK's accepted offer: never another partner's.
    problem(api.get(f"/applications/{app_id}/disbursements", user="banker"), 404, "not-found")
    assert api.get(f"/applications/{app_id}/disbursements", user="bob").json["accepted_amount"] == "500000.00"
    with db.reading() as session:
        assert session.get(Disbursement, tranche["id"]).status == "pending"  # type: ignore[union-attr]


def test_a_subsidy_is_paid_out_by_the_bureau_and_approved_by_a_second_person(api: Api, db: Database) -> None:
    app_id = accepted_application(db, product=Products.subsidy, amount="200000.00", accepted="150000.00")
    problem(record(api, app_id, "10.00", user="bank"), 404, "not-found")  # not routed to a bank
    tranche = record(api, app_id, "150000.00", user="bureau")
    assert tranche.status_code == 201, tranche.json
    problem(approve(api, app_id, tranche.json, "bureau"), 409, "rule/same-person")
    done = approve(api, app_id, tranche.json, "bureau2")
    assert done.status_code == 200 and done.json["application_status"] == "disbursed"
    [event] = events(db, "finance.application.disbursed")
    assert event["partner_org_id"] and event["tranche"]["final"] is True and event["previous_status"] == "accepted"
    with db.reading() as session:
        basis = session.execute(select(Decision.basis).where(Decision.kind == "disbursement_approved")).scalar_one()
    assert basis["basis"]["maker_checker"] == "subsidy_payout"


# Closing ---------------------------------------------------------------------------------------------


def paid_out(api: Api, db: Database, **kwargs: Any) -> str:
    app_id = accepted_application(db, amount="100000.00", **kwargs)
    if kwargs.get("product") != Products.subsidy:
        sign(api, app_id)
    tranche = record(api, app_id, "100000.00").json
    assert approve(api, app_id, tranche, "desk").json["application_status"] == "disbursed"
    return app_id


def close(api: Api, app_id: str, user: str = "desk", **headers: str) -> Any:
    headers.setdefault("If-Match", etag(api, app_id))
    return api.post(f"/applications/{app_id}/close", None, user=user, **headers)


def test_the_desk_closes_an_application_paid_out_in_full(api: Api, db: Database) -> None:
    app_id = paid_out(api, db)
    problem(close(api, app_id, user="bank"), 403, "forbidden")
    problem(close(api, app_id, user="alice"), 403, "forbidden")
    closed = close(api, app_id)
    assert closed.status_code == 200, closed.json
    assert closed.json["status"] == "closed" and closed.json["closed_at"]
    assert closed.json["pledge_released_on"] is None
    [event] = events(db, "finance.application.closed")
    assert event["previous_status"] == "disbursed"
    problem(close(api, app_id), 409, "rule/state-transition")


def test_closing_releases_the_ip_pledge(api: Api, db: Database) -> None:
    app_id = paid_out(api, db, product=Products.ip_loan, pledge_number="ZX-2026-0042")
    closed = close(api, app_id, user="desk2").json
    assert closed["pledge_number"] == "ZX-2026-0042"
    assert closed["pledge_released_on"] == datetime.now(PARK_TZ).date().isoformat()
    with db.reading() as session:
        details = session.execute(
            select(ApplicationTransition.details).where(
                ApplicationTransition.application_id == app_id, ApplicationTransition.action == "close"
            )
        ).scalar_one()
    assert details["pledge_released_on"] == closed["pledge_released_on"]


def test_an_application_still_paying_out_is_not_closed(api: Api, db: Database) -> None:
    app_id = accepted_application(db)
    sign(api, app_id)
    zh = problem(close(api, app_id, **ZH), 409, "rule/state-transition")
    en = problem(close(api, app_id), 409, "rule/state-transition")
    assert zh["detail"] != en["detail"]


def test_a_partners_api_client_is_no_second_person(api: Api, db: Database) -> None:
    """Maker-checker needs two people: the bank's API client (an integration its people drive)
    approving what its agent recorded would let one person record and approve through two
    paths. A client may record (a person then checks it); only a person approves."""
    api.users = {**api.users, "ledger": User("client:bank-ledger", BANK, "bank", ("partner_agent",), "Bank ledger")}
    app_id = accepted_application(db, amount="500000.00", accepted="300000.00")
    sign(api, app_id)
    by_agent = record(api, app_id, "100000.00")
    assert by_agent.status_code == 201, by_agent.json
    refused = problem(approve(api, app_id, by_agent.json, "ledger"), 409, "rule/checker-not-person")
    assert refused["detail"] == "An approval is a person's: an API client cannot approve."
    zh = problem(approve(api, app_id, by_agent.json, "ledger", **ZH), 409, "rule/checker-not-person")
    assert zh["detail"] == "审批须由人作出：API 客户端不能审批。"
    with db.reading() as session:
        tranche = session.get(Disbursement, by_agent.json["id"])
        assert tranche is not None and tranche.status == "pending"  # nothing written
    by_client = record(api, app_id, "50000.00", user="ledger")
    assert by_client.status_code == 201, by_client.json
    assert approve(api, app_id, by_client.json, "bank").status_code == 200  # a person checks the client


def test_days_out_of_any_plausible_range_are_field_errors(api: Api, db: Database) -> None:
    """A contract signed, a tranche paid in year 1 is a typing slip, not a day: 422 on the field
    (the kernel's plausible day), nothing written."""
    app_id = accepted_application(db, amount="500000.00", accepted="300000.00")
    refused = sign(api, app_id, signed_on="0001-01-01")
    assert refused.status_code == 422 and "signed_on" in refused.json["errors"], refused.json
    with db.reading() as session:
        application = session.get(Application, app_id)
        assert application is not None and application.contract_signed_on is None
    assert sign(api, app_id).status_code == 200
    early = record(api, app_id, "100000.00", disbursed_on="0001-01-01")
    assert early.status_code == 422 and "disbursed_on" in early.json["errors"], early.json
    assert count(db, Disbursement) == 0


def test_the_tenant_reads_the_payouts_status_as_on_the_application(api: Api, db: Database) -> None:
    """The tenant's name of a state is the same on the application and on its payouts (staff read
    the staff's name on both)."""
    app_id = accepted_application(db)
    assert sign(api, app_id).status_code == 200
    tranche = record(api, app_id, "100000.00").json
    assert approve(api, app_id, tranche, "desk").status_code == 200  # a part paid: disbursing
    for user in ("alice", "desk"):
        zh = {"Accept-Language": "zh"}
        application = api.get(f"/applications/{app_id}", user=user, headers=zh).json
        payouts = api.get(f"/applications/{app_id}/disbursements", user=user, headers=zh).json
        assert payouts["status_label"] == application["status_label"], user
    tenant = api.get(f"/applications/{app_id}/disbursements", user="alice").json["status_label"]
    staff = api.get(f"/applications/{app_id}/disbursements", user="desk").json["status_label"]
    assert (tenant, staff) == ("Being paid out", "Being disbursed")
