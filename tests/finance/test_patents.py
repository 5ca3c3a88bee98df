"""Patents of an IP-pledge application over HTTP, each answered with the pledge registration's
pre-check; the desk's valuation request (its event), the valuation and its loan-to-value ratio,
the pledge's registration after acceptance and its release at closing; who may and who may not."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from services.finance.handlers.documents import release_pledge
from services.finance.models import Application, ApplicationTransition, Patent
from shared.clock import PARK_TZ
from shared.db import Database
from tests.booking.conftest import BANK
from tests.finance.conftest import LAW, Products, outbox
from tests.finance.test_documents import code_of, make_application

TODAY = datetime.now(PARK_TZ).date()
GOOD = "ZL202010566088.9"
OTHER = "ZL202110000001.6"


def patent(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "number": GOOD,
        "title": "A method of expanding CAR-T cells",
        "holder": "成都细胞治疗",
        "granted_on": (TODAY - timedelta(days=700)).isoformat(),
        "expires_on": (TODAY + timedelta(days=3650)).isoformat(),
        "fees_paid_until": (TODAY + timedelta(days=200)).isoformat(),
        "existing_pledges": 0,
    }
    body.update(changes)
    return body


def ip_application(db: Database, **kwargs: Any) -> str:
    return make_application(db, Products.ip_loan, **kwargs)


def patents_of(db: Database, application_id: str) -> list[str]:
    with db.reading() as session:
        return list(session.scalars(select(Patent.number).where(Patent.application_id == application_id)))


def test_a_patent_is_listed_with_its_pre_check(api, db):
    application_id = ip_application(db)
    empty = api.get(f"/applications/{application_id}/patents").get_json()
    assert empty["items"] == [] and empty["ok"] is False
    assert [f["code"] for f in empty["failures"]] == ["rule/patent-none"]

    answer = api.post(f"/applications/{application_id}/patents", patent(number="zl 2020 1056 6088.9"), user="bob")
    assert answer.status_code == 201, answer.get_json()
    listed = answer.get_json()
    assert listed["number"] == GOOD
    assert listed["check"] == {"ok": True, "failures": []}
    assert answer.headers["Location"].endswith(f"/patents/{listed['id']}")
    # The holder may be written as the English registered name too.
    english = api.post(
        f"/applications/{application_id}/patents", patent(number=OTHER, holder="Chengdu Cell Therapeutics")
    )
    assert english.get_json()["check"]["ok"] is True
    everything = api.get(f"/applications/{application_id}/patents").get_json()
    assert everything["ok"] is True and len(everything["items"]) == 2


def test_every_refusal_of_the_registration_is_named_at_once(api, db):
    application_id = ip_application(db, term_months=24)
    answer = api.post(
        f"/applications/{application_id}/patents",
        patent(
            holder="Someone Else Ltd",
            granted_on=None,
            fees_paid_until=(TODAY - timedelta(days=1)).isoformat(),
            expires_on=(TODAY + timedelta(days=300)).isoformat(),
            existing_pledges=1,
        ),
    )
    assert answer.status_code == 201, answer.get_json()
    check = answer.get_json()["check"]
    assert check["ok"] is False
    assert [f["code"] for f in check["failures"]] == [
        "rule/patent-not-granted",
        "rule/patent-fees-unpaid",
        "rule/patent-holder",
        "rule/patent-pledged",
        "rule/patent-expires",
    ]
    assert all(f["patent"] == GOOD for f in check["failures"])
    assert "Someone Else Ltd" in check["failures"][2]["message"]
    listing = api.get(f"/applications/{application_id}/patents").get_json()
    assert listing["ok"] is False and len(listing["failures"]) == 5


def test_bad_patents_are_refused_and_nothing_is_written(api, db):
    application_id = ip_application(db)
    path = f"/applications/{application_id}/patents"
    assert api.post(path, patent()).status_code == 201
    cases = [
        (patent(number="12345"), 422, "rule/patent-number-format"),
        (patent(number="ZL202010566088.1"), 422, "rule/patent-check-digit"),
        (patent(), 409, "rule/patent-duplicate"),
        (patent(number=OTHER, existing_pledges="1"), 422, "validation-failed"),
        (patent(number=OTHER, title="  "), 422, "validation-failed"),
        (patent(number=OTHER, expires_on=None), 422, "validation-failed"),
        (patent(number=OTHER, colour="blue"), 422, "validation-failed"),
    ]
    for body, status, code in cases:
        answer = api.post(path, body)
        assert answer.status_code == status, (body, answer.get_json())
        assert code_of(answer) == code
    assert patents_of(db, application_id) == [GOOD]

    loan = make_application(db, Products.loan)
    refused = api.post(f"/applications/{loan}/patents", patent())
    assert refused.status_code == 409
    assert code_of(refused) == "rule/not-ip-pledge"
    submitted = ip_application(db, status="submitted")
    closed = api.post(f"/applications/{submitted}/patents", patent())
    assert closed.status_code == 409
    assert code_of(closed) == "rule/patents-closed"


def test_patents_are_removed_from_a_draft_only(api, db):
    application_id = ip_application(db)
    listed = api.post(f"/applications/{application_id}/patents", patent()).get_json()
    path = f"/applications/{application_id}/patents/{listed['id']}"
    assert api.delete(path, user="carol").status_code == 404
    assert api.delete(path, user="bank").status_code == 403
    assert api.delete(path, user="alice").status_code == 204
    assert patents_of(db, application_id) == []
    assert api.delete(path, user="alice").status_code == 404

    again = api.post(f"/applications/{application_id}/patents", patent()).get_json()
    with db.unit_of_work() as uow:
        row = uow.session.get(Application, application_id)
        assert row is not None
        row.status = "submitted"
        uow.commit()
    refused = api.delete(f"/applications/{application_id}/patents/{again['id']}", user="alice")
    assert refused.status_code == 409
    assert code_of(refused) == "rule/patents-closed"


def test_who_reads_and_who_lists_patents(api, db):
    application_id = ip_application(db, status="routed", reviews=((BANK, "under_review", None),))
    with db.unit_of_work() as uow:
        uow.session.add(
            Patent(
                id="00000000-0000-4000-8000-00000000a001",
                application_id=application_id,
                number=GOOD,
                title="t",
                holder="成都细胞治疗",
                granted_on=TODAY - timedelta(days=10),
                expires_on=TODAY + timedelta(days=4000),
                fees_paid_until=TODAY + timedelta(days=10),
                existing_pledges=0,
            )
        )
        uow.commit()
    path = f"/applications/{application_id}/patents"
    for user in ("alice", "bob", "bank", "desk", "admin"):
        assert api.get(path, user=user).get_json()["ok"] is True, user
    for user in ("carol", "dave", "banker", "lawyer", "bureau"):
        assert api.get(path, user=user).status_code == 404, user
    for user in ("bank", "desk"):
        assert code_of(api.post(path, patent(number=OTHER), user=user)) == "forbidden"
    assert api.post(path, patent(number=OTHER), user="carol").status_code == 404


def submitted_with_patent(db: Database, **kwargs: Any) -> str:
    application_id = ip_application(db, **kwargs)
    with db.unit_of_work() as uow:
        uow.session.add(
            Patent(
                id=f"00000000-0000-4000-8000-{application_id[-12:]}",
                application_id=application_id,
                number=GOOD,
                title="t",
                holder="成都细胞治疗",
                granted_on=TODAY - timedelta(days=10),
                expires_on=TODAY + timedelta(days=4000),
                fees_paid_until=TODAY + timedelta(days=10),
                existing_pledges=0,
            )
        )
        uow.commit()
    return application_id


def version_of(api: Any, application_id: str, user: str = "desk") -> str:
    return str(api.get(f"/applications/{application_id}/valuation", user=user).headers["ETag"])


def test_the_desk_requests_a_valuation_and_the_appraisal_firm_is_told(api, db):
    application_id = submitted_with_patent(db, status="routed", reviews=((BANK, "under_review", None),))
    path = f"/applications/{application_id}/valuation-request"
    assert code_of(api.post(path, {}, user="alice", **{"If-Match": "*"})) == "forbidden"
    assert code_of(api.post(path, {}, user="bank", **{"If-Match": "*"})) == "forbidden"
    assert api.post(path, {}, user="desk").status_code == 428
    wrong = api.post(path, {"appraiser_org_id": LAW}, user="desk", **{"If-Match": version_of(api, application_id)})
    assert wrong.status_code == 422
    assert code_of(wrong) == "rule/appraiser"
    assert outbox(db, "finance.ip_valuation") == []

    answer = api.post(path, {}, user="desk", **{"If-Match": version_of(api, application_id)})
    assert answer.status_code == 200, answer.get_json()
    (event,) = outbox(db, "finance.ip_valuation")
    assert event["type"] == "finance.ip_valuation.requested"
    assert event["data"]["patent_numbers"] == [GOOD]
    assert event["data"]["application_id"] == application_id
    assert event["data"]["requested_by"] == "user:desk"
    assert event["data"]["appraiser_org_id"] is None

    draft = submitted_with_patent(db)
    refused = api.post(f"/applications/{draft}/valuation-request", {}, user="desk", **{"If-Match": "*"})
    assert refused.status_code == 409
    assert code_of(refused) == "rule/valuation-state"
    bare = ip_application(db, status="submitted")
    none = api.post(f"/applications/{bare}/valuation-request", {}, user="desk", **{"If-Match": "*"})
    assert none.status_code == 422
    assert code_of(none) == "rule/patent-none"


def test_a_valuation_gives_the_loan_to_value_ratio(api, db):
    application_id = submitted_with_patent(
        db, status="routed", amount="1000000.00", reviews=((BANK, "under_review", None),)
    )
    path = f"/applications/{application_id}/valuation"
    for amount, code in (
        (2500000, "validation-failed"),
        ("0", "rule/amount-positive"),
        ("1.234", "rule/amount-places"),
    ):
        refused = api.put(path, {"amount": amount}, user="desk", **{"If-Match": "*"})
        assert refused.status_code == 422, amount
        assert code_of(refused) == code
    # The routed bank is not the accepted partner: it may not; a foreign tenant does not see it.
    assert code_of(api.put(path, {"amount": "2500000.00"}, user="bank", **{"If-Match": "*"})) == "forbidden"
    assert api.put(path, {"amount": "2500000.00"}, user="banker", **{"If-Match": "*"}).status_code == 404
    assert api.put(path, {"amount": "2500000.00"}, user="desk", **{"If-Match": '"99"'}).status_code == 412

    answer = api.put(path, {"amount": "2500000.00"}, user="desk", **{"If-Match": version_of(api, application_id)})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["valuation_amount"] == "2500000.00"
    assert body["loan_to_value"] == "40.00"
    assert answer.headers["ETag"] == f'"{body["version"]}"'
    assert api.get(path, user="alice").get_json()["loan_to_value"] == "40.00"
    assert api.get(path, user="carol").status_code == 404


def test_the_pledge_is_registered_after_acceptance_and_released_at_closing(api, db):
    application_id = submitted_with_patent(
        db, status="contract_signed", reviews=((BANK, "offer_made", None),), accepted_partner=BANK
    )
    path = f"/applications/{application_id}/pledge"
    body = {"number": "Y2026510000123", "registered_on": TODAY.isoformat()}
    assert code_of(api.put(path, body, user="alice", **{"If-Match": "*"})) == "forbidden"
    assert api.put(path, body, user="banker", **{"If-Match": "*"}).status_code == 404
    future = api.put(
        path, {**body, "registered_on": (TODAY + timedelta(days=2)).isoformat()}, user="bank", **{"If-Match": "*"}
    )
    assert future.status_code == 422
    assert code_of(future) == "rule/pledge-date"
    assert api.put(path, {"number": ""}, user="bank", **{"If-Match": "*"}).status_code == 422

    answer = api.put(path, body, user="bank", **{"If-Match": version_of(api, application_id, "bank")})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["pledge_number"] == "Y2026510000123"
    assert answer.get_json()["pledge_registered_on"] == TODAY.isoformat()
    # The accepted partner records the valuation too.
    valued = api.put(
        f"/applications/{application_id}/valuation", {"amount": "2000000.00"}, user="bank", **{"If-Match": "*"}
    )
    assert valued.get_json()["loan_to_value"] == "50.00"

    routed = submitted_with_patent(db, status="routed", reviews=((BANK, "under_review", None),))
    early = api.put(f"/applications/{routed}/pledge", body, user="desk", **{"If-Match": "*"})
    assert early.status_code == 409
    assert code_of(early) == "rule/pledge-state"

    at = datetime.now(UTC)
    with db.unit_of_work() as uow:
        application = uow.session.get(Application, application_id)
        assert application is not None
        assert release_pledge(uow, application, at) is True
        assert release_pledge(uow, application, at) is False
        uow.commit()
    released = api.get(f"/applications/{application_id}/valuation", user="alice").get_json()
    assert released["pledge_released_on"] == at.astimezone(PARK_TZ).date().isoformat()
    again = api.put(path, body, user="bank", **{"If-Match": "*"})
    assert again.status_code == 409
    assert code_of(again) == "rule/pledge-released"
    with db.reading() as session:
        actions = session.scalars(
            select(ApplicationTransition.action)
            .where(ApplicationTransition.application_id == application_id)
            .order_by(ApplicationTransition.id)
        ).all()
    assert actions == ["record_pledge", "record_valuation", "release_pledge"]

    nothing = submitted_with_patent(db, status="disbursed", accepted_partner=BANK)
    with db.unit_of_work() as uow:
        application = uow.session.get(Application, nothing)
        assert application is not None
        assert release_pledge(uow, application, at) is False
        uow.commit()


def test_patent_refusals_read_in_chinese(api, db):
    application_id = ip_application(db)
    answer = api.client.post(
        f"/api/v1/finance/applications/{application_id}/patents",
        json=patent(granted_on=None),
        headers={**api.headers("alice"), "Accept-Language": "zh-CN"},
    )
    assert answer.status_code == 201
    (failure,) = answer.get_json()["check"]["failures"]
    assert failure["message"] == f"专利{GOOD}尚未授权。"
    loan = make_application(db, Products.loan)
    refused = api.client.post(
        f"/api/v1/finance/applications/{loan}/patents",
        json=patent(),
        headers={**api.headers("alice"), "Accept-Language": "zh-CN"},
    )
    assert refused.get_json()["detail"] == "只有知识产权质押贷款才登记专利。"


def test_a_pledge_is_released_on_the_park_day(db):
    application_id = submitted_with_patent(db, status="disbursed", accepted_partner=BANK)
    evening = datetime(2026, 11, 29, 17, 30, tzinfo=UTC)  # 01:30 on 30 November in the park
    with db.unit_of_work() as uow:
        application = uow.session.get(Application, application_id)
        assert application is not None
        application.pledge_number = "Y2026510000123"
        application.pledge_registered_on = date(2026, 6, 1)
        uow.session.flush()
        assert release_pledge(uow, application, evening) is True
        uow.commit()
    with db.reading() as session:
        released = session.get(Application, application_id)
        assert released is not None
        assert released.pledge_released_on == date(2026, 11, 30)
