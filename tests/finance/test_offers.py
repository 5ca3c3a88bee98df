"""Offers over HTTP: a routed partner's offer (terms checked, all-in cost computed and stored, a
decision kept, ``offer_made``), the comparison the tenant reads (cheapest all-in first; a partner
only its own), acceptance (the application accepted, the others withdrawn and told, the other
reviews ended), declining, withdrawing, expiry (the job), a bureau's approval of a subsidy; who
may; bad input as 422 with nothing written."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from services.finance.handlers.offers import expire_offers
from services.finance.models import Application, Decision, Offer
from services.finance.rules.cost import all_in_cost, offer
from shared.db import Database
from tests.booking.conftest import BANK
from tests.finance.conftest import BANK2, BUREAU, LOAN_FEES, Products, outbox
from tests.finance.test_reviews import (
    code_of,
    if_match,
    lines,
    review_of,
    routed_application,
    started,
    subsidy_application,
)


def terms(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount": "1000000.00",
        "annual_rate": "4.35",
        "term_months": 24,
        "repayment_method": "equal_instalments",
        "fees": LOAN_FEES,
        "conditions": "A guarantee by the Hi-Tech guarantee company",
        "expires_at": (datetime.now(UTC) + timedelta(days=14)).isoformat(),
    }
    body.update(changes)
    return body


def made(api: Any, application_id: str, user: str = "bank", **changes: Any) -> dict[str, Any]:
    response = api.post(f"/applications/{application_id}/offers", terms(**changes), user=user)
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"].endswith(f"/offers/{response.get_json()['id']}")
    return dict(response.get_json())


def two_offers(api: Any, db: Database) -> tuple[str, dict[str, Any], dict[str, Any]]:
    application_id = routed_application(api, db)
    started(api, application_id, BANK, "bank")
    started(api, application_id, BANK2, "banker")
    dear = made(api, application_id, "bank", annual_rate="5.8")
    cheap = made(api, application_id, "banker", annual_rate="3.9", fees=[])
    return application_id, dear, cheap


def answer(api: Any, offer: dict[str, Any], action: str, user: str, body: Any = None, **headers: str) -> Any:
    headers = headers or if_match(offer["version"])
    return api.post(f"/offers/{offer['id']}/{action}", body, user=user, **headers)


# Making an offer ---------------------------------------------------------------------------------


def test_a_partner_makes_an_offer_with_its_all_in_cost(api, db):
    application_id = routed_application(api, db)
    started(api, application_id)
    offer_made = made(api, application_id)
    expected = all_in_cost(offer("1000000.00", 24, "4.35", "equal_instalments", LOAN_FEES))
    assert offer_made["status"] == "made"
    assert offer_made["open"] is True
    assert offer_made["all_in_rate"] == f"{expected.annual_rate:.2f}"
    assert offer_made["all_in_rate"] != offer_made["annual_rate"]  # the guarantee fee counts
    assert offer_made["total_cost"] == f"{expected.total_cost:.2f}"
    assert offer_made["monthly_payment"] == f"{expected.schedule[0].payment:.2f}"
    assert offer_made["amount"] == "1000000.00"
    assert offer_made["annual_rate"] == "4.3500"
    with db.reading() as session:
        stored = session.get(Offer, offer_made["id"])
        assert stored.all_in_rate == expected.annual_rate
        assert list(session.scalars(select(Decision.kind))) == ["offer_made"]
    assert review_of(api, application_id, BANK, "bank")["status"] == "offer_made"
    event = outbox(db)[-1]
    assert event["type"] == "finance.application.offer_made"
    assert event["data"]["offer"]["all_in_rate"] == offer_made["all_in_rate"]
    assert event["data"]["offer"]["fees"][0]["kind"] == "guarantee"
    assert event["data"]["partner_org_id"] == BANK
    assert ("make", None, "made") in lines(db, application_id, "offer")


def test_an_offer_needs_a_review_under_way(api, db):
    application_id = routed_application(api, db)
    response = api.post(f"/applications/{application_id}/offers", terms(), user="bank")
    assert response.status_code == 409
    assert code_of(response) == "rule/state-transition"
    started(api, application_id)
    made(api, application_id)
    second = api.post(f"/applications/{application_id}/offers", terms(), user="bank")
    assert second.status_code == 409
    assert code_of(second) == "rule/state-transition"


def test_bad_terms_are_refused_and_nothing_written(api, db):
    application_id = routed_application(api, db)
    started(api, application_id)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    cases: list[tuple[dict[str, Any], str | None]] = [
        ({"amount": 1000000}, None),  # a JSON number: refused by the schema
        ({"amount": "10.001"}, "rule/amount-places"),
        ({"amount": "50000.00"}, "rule/offer-outside-product"),  # below the product's 100,000
        ({"annual_rate": "7.5"}, "rule/offer-outside-product"),  # above the product's 6%
        ({"annual_rate": "40"}, "rule/rate-cap"),
        ({"annual_rate": "4.123456"}, "rule/rate-invalid"),
        ({"term_months": 48}, "rule/offer-outside-product"),
        ({"term_months": 400}, "rule/term-invalid"),
        ({"repayment_method": "whenever"}, "rule/repayment-method"),
        ({"expires_at": past}, "rule/offer-expiry"),
        ({"expires_at": "2026-12-01T09:00:00"}, None),  # no offset
        ({"fees": [{"kind": "bribe", "basis": "flat", "value": "1", "timing": "upfront"}]}, "rule/fee-kind"),
        ({"colour": "red"}, None),
    ]
    for changes, code in cases:
        response = api.post(f"/applications/{application_id}/offers", terms(**changes), user="bank")
        assert response.status_code == 422, (changes, response.get_json())
        if code:
            assert code_of(response) == code, (changes, response.get_json())
        else:
            assert response.get_json()["errors"], changes
    zh = api.post(
        f"/applications/{application_id}/offers", terms(amount="50000.00"), user="bank", **{"Accept-Language": "zh"}
    )
    assert code_of(zh) == "rule/offer-outside-product"
    en = api.post(f"/applications/{application_id}/offers", terms(amount="50000.00"), user="bank")
    assert zh.get_json()["detail"] != en.get_json()["detail"]
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Offer)) == 0
    assert not [e for e in outbox(db) if e["type"] == "finance.application.offer_made"]
    assert review_of(api, application_id, BANK, "bank")["status"] == "under_review"


def test_who_may_make_an_offer(api, db):
    application_id = routed_application(api, db)
    started(api, application_id)
    for user, status in (("alice", 403), ("desk", 403), ("guarantor", 404), ("lawyer", 404)):
        response = api.post(f"/applications/{application_id}/offers", terms(), user=user)
        assert response.status_code == status, user


def test_no_offer_on_a_subsidy(api, db):
    application_id = routed_application(
        api, db, product=Products.subsidy, partners=(BUREAU,), amount="300000.00", term=12
    )
    started(api, application_id, BUREAU, "bureau")
    response = api.post(f"/applications/{application_id}/offers", terms(), user="bureau")
    assert response.status_code == 409
    assert code_of(response) == "rule/not-for-product-kind"


# The comparison ----------------------------------------------------------------------------------


def test_the_comparison_sorts_by_all_in_cost_and_hides_other_partners_offers(api, db):
    application_id, dear, cheap = two_offers(api, db)
    items = api.get(f"/applications/{application_id}/offers", user="bob").get_json()["items"]
    assert [i["id"] for i in items] == [cheap["id"], dear["id"]]
    assert [i["rank"] for i in items] == [1, 2]
    assert items[0]["all_in_rate"] < items[1]["all_in_rate"]
    for key in ("amount", "annual_rate", "term_months", "fees", "total_cost", "monthly_payment", "expires_at"):
        assert key in items[0]
    assert items[0]["partner"]["name"] == "Jincheng Rural Bank"
    zh = api.get(f"/applications/{application_id}/offers", user="bob", headers={"Accept-Language": "zh"})
    assert zh.get_json()["items"][0]["partner"]["display_name"] == "锦城农商银行"
    bank = api.get(f"/applications/{application_id}/offers", user="bank").get_json()["items"]
    assert [i["id"] for i in bank] == [dear["id"]]
    # another partner's offer, read by id: not there for it
    assert api.get(f"/offers/{cheap['id']}", user="bank").status_code == 404
    assert api.get(f"/offers/{cheap['id']}", user="banker").status_code == 200
    for user in ("carol", "guarantor", "lawyer"):
        assert api.get(f"/applications/{application_id}/offers", user=user).status_code == 404, user
        assert api.get(f"/offers/{cheap['id']}", user=user).status_code == 404, user
    unknown = api.get(f"/applications/{application_id}/offers?sort=rate", user="bob")
    assert unknown.status_code == 400
    assert code_of(unknown) == "unknown-parameter"
    made_only = api.get(f"/applications/{application_id}/offers?status=accepted", user="bob").get_json()
    assert made_only["items"] == []


# Accepting ---------------------------------------------------------------------------------------


def test_accepting_an_offer_withdraws_the_others(api, db):
    application_id, dear, cheap = two_offers(api, db)
    before = len(outbox(db))
    assert answer(api, cheap, "accept", "bob").status_code == 403  # a member: the admin's right
    stale = answer(api, cheap, "accept", "alice", **if_match(cheap["version"] + 3))
    assert stale.status_code == 412
    no_tag = api.post(f"/offers/{cheap['id']}/accept", None, user="alice")
    assert no_tag.status_code == 428
    accepted = answer(api, cheap, "accept", "alice")
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["status"] == "accepted"
    with db.reading() as session:
        application = session.get(Application, application_id)
        assert application.status == "accepted"
        assert application.accepted_offer_id == cheap["id"]
        assert application.accepted_partner_org_id == BANK2
        assert session.get(Offer, dear["id"]).status == "withdrawn"
        decision = session.scalars(select(Decision).where(Decision.kind == "offer_accepted")).one()
        assert decision.basis["basis"]["offer_id"] == cheap["id"]  # a snapshot of the offer's terms
        assert decision.basis["basis"]["annual_rate"] == "3.9000"
    events = outbox(db)[before:]
    assert [e["type"] for e in events] == [
        "finance.application.offer_withdrawn",
        "finance.application.offer_accepted",
    ]
    assert events[0]["data"]["partner_org_id"] == BANK
    assert events[1]["data"]["offer"]["offer_id"] == cheap["id"]
    assert events[1]["data"]["status"] == "accepted"
    assert events[1]["data"]["previous_status"] == "routed"
    assert review_of(api, application_id, BANK, "alice")["status"] == "cancelled"
    # a withdrawn offer cannot be accepted any more
    withdrawn = api.get(f"/offers/{dear['id']}", user="alice").get_json()
    late = answer(api, withdrawn, "accept", "alice")
    assert late.status_code == 409
    assert code_of(late) == "rule/offer-answered"


def test_an_expired_offer_cannot_be_accepted_and_the_job_expires_it(api, db):
    application_id = routed_application(api, db)
    started(api, application_id)
    offer_made = made(api, application_id)
    with db.unit_of_work() as uow:
        uow.session.get(Offer, offer_made["id"]).expires_at = datetime.now(UTC) - timedelta(minutes=1)
        uow.commit()
    current = api.get(f"/offers/{offer_made['id']}", user="alice").get_json()
    assert current["open"] is False
    response = answer(api, current, "accept", "alice")
    assert response.status_code == 409
    assert code_of(response) == "rule/offer-expired"
    zh = answer(api, current, "accept", "alice", **{**if_match(current["version"]), "Accept-Language": "zh"})
    assert code_of(zh) == "rule/offer-expired"
    assert zh.get_json()["detail"] != response.get_json()["detail"]
    with db.unit_of_work() as uow:
        assert expire_offers(uow=uow) == 1
        uow.commit()
    with db.unit_of_work() as uow:
        assert expire_offers(uow=uow) == 0  # idempotent
        uow.commit()
    expired = api.get(f"/offers/{offer_made['id']}", user="alice").get_json()
    assert expired["status"] == "expired"
    assert review_of(api, application_id, BANK, "bank")["status"] == "under_review"  # it may offer again
    assert lines(db, application_id, "offer")[-1] == ("expire", "made", "expired")
    refused = answer(api, expired, "accept", "alice")
    assert code_of(refused) == "rule/offer-answered"


def test_an_offer_invalidated_by_an_edit_cannot_be_accepted(api, db):
    application_id = routed_application(api, db)
    started(api, application_id)
    offer_made = made(api, application_id)
    application = api.get(f"/applications/{application_id}", user="alice").get_json()
    edited = api.patch(
        f"/applications/{application_id}", {"amount": "800000.00"}, user="alice", **if_match(application["version"])
    )
    assert edited.status_code == 200, edited.get_json()
    current = api.get(f"/offers/{offer_made['id']}", user="alice").get_json()
    assert current["status"] == "invalidated"
    assert current["open"] is False
    assert current["rank"] is None
    response = answer(api, current, "accept", "alice")
    assert response.status_code == 409
    assert code_of(response) == "rule/offer-answered"
    # the partner reviews again and offers on what the application says now
    assert made(api, application_id, amount="800000.00")["status"] == "made"
    items = api.get(f"/applications/{application_id}/offers", user="alice").get_json()["items"]
    assert [(i["status"], i["rank"]) for i in items] == [("made", 1), ("invalidated", None)]


# Declining and withdrawing -------------------------------------------------------------------------


def test_the_tenant_declines_and_the_partner_may_offer_again(api, db):
    application_id = routed_application(api, db)
    started(api, application_id)
    offer_made = made(api, application_id)
    assert answer(api, offer_made, "decline", "bob").status_code == 403
    assert answer(api, offer_made, "decline", "bank").status_code == 403
    declined = answer(api, offer_made, "decline", "alice", {"reason": "Too dear"})
    assert declined.status_code == 200, declined.get_json()
    assert declined.get_json()["status"] == "declined"
    assert declined.get_json()["reason"] == "Too dear"
    assert review_of(api, application_id, BANK, "bank")["status"] == "under_review"
    made(api, application_id, annual_rate="4.0")
    unknown = answer(api, offer_made, "decline", "alice", {"why": "x"})
    assert unknown.status_code == 422
    assert "why" in unknown.get_json()["errors"]


def test_the_partner_withdraws_its_offer_before_acceptance(api, db):
    application_id, dear, cheap = two_offers(api, db)
    assert answer(api, dear, "withdraw", "banker").status_code == 404  # not its offer
    assert answer(api, dear, "withdraw", "alice").status_code == 403
    withdrawn = answer(api, dear, "withdraw", "bank2")  # a colleague at the same bank
    assert withdrawn.status_code == 200, withdrawn.get_json()
    assert withdrawn.get_json()["status"] == "withdrawn"
    assert outbox(db)[-1]["type"] == "finance.application.offer_withdrawn"
    accepted = answer(api, cheap, "accept", "alice")
    assert accepted.status_code == 200
    late = answer(api, accepted.get_json(), "withdraw", "banker")
    assert late.status_code == 409
    assert code_of(late) == "rule/offer-answered"


# A subsidy's approval ------------------------------------------------------------------------------


def test_a_bureau_approves_a_subsidy(api, db):
    application_id = routed_application(
        api, db, product=Products.subsidy, partners=(BUREAU,), amount="300000.00", term=12
    )
    review = started(api, application_id, BUREAU, "bureau")
    url = f"/applications/{application_id}/approval"
    assert api.post(url, {"amount": "200000.00"}, user="bureau").status_code == 428
    too_much = api.post(url, {"amount": "400000.00"}, user="bureau", **if_match(review["version"]))
    assert too_much.status_code == 422
    assert code_of(too_much) == "rule/approval-amount"
    number = api.post(url, {"amount": 200000}, user="bureau", **if_match(review["version"]))
    assert number.status_code == 422
    assert api.post(url, {"amount": "200000.00"}, user="alice", **if_match(review["version"])).status_code == 403
    approved = api.post(url, {"amount": "200000.00"}, user="bureau", **if_match(review["version"]))
    assert approved.status_code == 201, approved.get_json()
    body = approved.get_json()
    assert body["kind"] == "approval"
    assert body["status"] == "accepted"
    assert body["amount"] == "200000.00"
    with db.reading() as session:
        application = session.get(Application, application_id)
        assert application.status == "accepted"
        assert application.accepted_partner_org_id == BUREAU
        assert application.accepted_offer_id == body["id"]
        assert list(session.scalars(select(Decision.kind))) == ["subsidy_approved"]
    event = outbox(db)[-1]
    assert event["type"] == "finance.application.offer_accepted"
    assert event["data"]["offer"]["kind"] == "approval"
    assert review_of(api, application_id, BUREAU, "alice")["status"] == "approved"


def test_a_loan_is_not_approved_by_a_bureau(api, db):
    application_id = routed_application(api, db)
    review = started(api, application_id)
    response = api.post(
        f"/applications/{application_id}/approval", {"amount": "100000.00"}, user="bank", **if_match(review["version"])
    )
    assert response.status_code == 409
    assert code_of(response) == "rule/not-for-product-kind"


def test_an_offer_made_again_with_the_same_idempotency_key_is_the_same_offer(api, db):
    application_id = routed_application(api, db)
    started(api, application_id)
    body = terms()
    first = api.post(f"/applications/{application_id}/offers", body, user="bank", **{"Idempotency-Key": "k3-1"})
    again = api.post(f"/applications/{application_id}/offers", body, user="bank", **{"Idempotency-Key": "k3-1"})
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Offer)) == 1


def test_staff_read_every_offer_and_other_tenants_none(api, db):
    application_id, dear, cheap = two_offers(api, db)
    items = api.get(f"/applications/{application_id}/offers", user="desk").get_json()["items"]
    assert {i["id"] for i in items} == {dear["id"], cheap["id"]}
    assert answer(api, cheap, "accept", "carol").status_code == 404
    assert answer(api, cheap, "decline", "carol").status_code == 404
    assert answer(api, cheap, "decline", "dave").status_code == 403  # a member: refused by role first
    assert answer(api, cheap, "accept", "desk").status_code == 403
    assert api.get(f"/offers/{cheap['id']}", user="alice").get_json()["status"] == "made"


def test_the_offers_refusals_in_chinese(api, db):
    """The texts of this module's refusals in Chinese (their msgids are in /tmp/briefs/zh-k3.po
    until the catalogue is merged)."""
    zh = {"Accept-Language": "zh"}
    missing = api.get(f"/offers/{uuid.uuid4()}", user="alice", headers=zh)
    assert code_of(missing) == "not-found"
    assert "报价" in missing.get_json()["detail"]
    application_id = subsidy_application(api, db)
    review = started(api, application_id, BUREAU, "bureau")
    too_much = api.post(
        f"/applications/{application_id}/approval",
        {"amount": "400000.00"},
        user="bureau",
        **{**if_match(review["version"]), **zh},
    )
    assert code_of(too_much) == "rule/approval-amount"
    assert "元" in too_much.get_json()["detail"]


def test_each_reader_is_offered_the_answers_it_may_give(api, db):
    application_id, dear, cheap = two_offers(api, db)
    assert dear["actions"] == ["withdraw"]  # as its partner made it
    assert api.get(f"/offers/{dear['id']}", user="alice").get_json()["actions"] == ["accept", "decline"]
    assert api.get(f"/offers/{dear['id']}", user="bob").get_json()["actions"] == []
    assert api.get(f"/offers/{dear['id']}", user="desk").get_json()["actions"] == []
    assert answer(api, cheap, "accept", "alice").get_json()["actions"] == []
    items = api.get(f"/applications/{application_id}/offers", user="alice").get_json()["items"]
    assert [i["actions"] for i in items] == [[], []]


def test_the_withdrawal_by_another_acceptance_reads_in_the_readers_language(api, db):
    """The reason finance gives for the offers and reviews an acceptance ends is stored once and
    shown in the reader's language (the offer, the partner's review, the history's lines)."""
    application_id, dear, cheap = two_offers(api, db)
    assert answer(api, cheap, "accept", "alice").status_code == 200
    english = "Another offer was accepted."
    chinese = "已接受另一份报价。"
    zh = {"Accept-Language": "zh"}
    assert api.get(f"/offers/{dear['id']}", user="bank").get_json()["reason"] == english
    assert api.get(f"/offers/{dear['id']}", user="bank", headers=zh).get_json()["reason"] == chinese
    history = api.get(f"/applications/{application_id}/history", user="alice", headers=zh).get_json()["items"]
    ended = [
        line for line in history if line["subject"] in {"offer", "review"} and line["action"] in {"withdraw", "cancel"}
    ]
    assert ended and {line["reason"] for line in ended} == {chinese}


def test_a_partner_never_reads_which_other_partner_won(api, db):
    """The history a partner reads names no other partner: the acceptance of another's offer is
    there (the application moved), without the winner's id."""
    application_id, dear, cheap = two_offers(api, db)
    assert answer(api, cheap, "accept", "alice").status_code == 200
    history = api.get(f"/applications/{application_id}/history", user="bank").get_json()["items"]
    assert "accept_offer" in [line["action"] for line in history]
    assert {line["partner_org_id"] for line in history} <= {None, BANK}, history
    application = api.get(f"/applications/{application_id}", user="bank").get_json()
    assert BANK2 not in str(application), application


def test_an_offer_expiring_beyond_any_plausible_day_is_a_field_error(api, db):
    """An offer open until year 9999 never expires: 422 on ``expires_at`` (the kernel's plausible
    day), no offer written."""
    application_id = routed_application(api, db)
    started(api, application_id, BANK, "bank")
    refused = api.post(
        f"/applications/{application_id}/offers", terms(expires_at="9999-12-31T00:00:00+08:00"), user="bank"
    )
    assert refused.status_code == 422 and "expires_at" in refused.get_json()["errors"], refused.get_json()
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Offer)) == 0
