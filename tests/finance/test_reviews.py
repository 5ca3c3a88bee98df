"""Partners' reviews over HTTP: starting, asking the tenant for information (the review pauses and
resumes where it was), declining with a reason code; If-Match on the review's version; who may
(a partner only its own review; the tenant answers); bad input as 422 with nothing written; the
events published."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from services.finance.models import Application, ApplicationTransition, Decision, Document
from shared.db import Database
from tests.booking.conftest import BANK
from tests.finance.conftest import BANK2, BUREAU, GUARANTEE, Products, outbox


def routed_application(
    api: Any,
    db: Database,
    *,
    product: str = Products.loan,
    partners: tuple[str, ...] = (BANK, BANK2),
    amount: str = "1000000.00",
    term: int = 24,
    withdrawn: bool = False,
) -> str:
    """An application of ORG_A routed to ``partners`` over HTTP (alice drafts and submits with
    the checklist's documents in place, the desk pre-reviews and routes; ``withdrawn``: alice
    then withdraws it); returns its id."""
    created = api.post(
        "/applications",
        {"product_id": product, "amount": amount, "term_months": term, "purpose": "A new cleanroom"},
        user="alice",
        **{"Idempotency-Key": str(uuid.uuid4())},
    )
    assert created.status_code == 201, created.get_json()
    application = created.get_json()
    for doc_type in ("business_licence", "financial_statements"):
        upload(db, application["id"], doc_type)
    for action, user, body in (
        ("submit", "alice", None),
        ("start-pre-review", "desk", None),
        ("route", "desk", {"partner_org_ids": list(partners)}),
        *((("withdraw", "alice", None),) if withdrawn else ()),
    ):
        answer = api.post(
            f"/applications/{application['id']}/{action}", body, user=user, **if_match(application["version"])
        )
        assert answer.status_code == 200, (action, answer.get_json())
        application = answer.get_json()
    return str(application["id"])


def subsidy_application(api: Any, db: Database) -> str:
    """An application of ORG_A for the R&D subsidy, routed to the bureau."""
    return routed_application(api, db, product=Products.subsidy, partners=(BUREAU,), amount="300000.00", term=12)


def code_of(response: Any) -> str:
    """The problem's code: the last part of its ``type``."""
    return str(response.get_json()["type"]).split("/problems/", 1)[1]


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


def review_of(api: Any, application_id: str, partner: str, user: str) -> dict[str, Any]:
    response = api.get(f"/applications/{application_id}/reviews/{partner}", user=user)
    assert response.status_code == 200, response.get_json()
    assert response.headers["ETag"] == f'"{response.get_json()["version"]}"'
    return dict(response.get_json())


def step(api: Any, application_id: str, partner: str, action: str, body: Any, user: str, **headers: str) -> Any:
    """One step of ``partner``'s review, If-Match with the version read just before (unless given)."""
    if "If-Match" not in headers:
        headers = {**headers, **if_match(review_of(api, application_id, partner, user)["version"])}
    return api.post(f"/applications/{application_id}/reviews/{partner}/{action}", body, user=user, **headers)


def started(api: Any, application_id: str, partner: str = BANK, user: str = "bank") -> dict[str, Any]:
    response = step(api, application_id, partner, "start", None, user)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def upload(db: Database, application_id: str, doc_type: str) -> None:
    """A document uploaded to the application now (its bytes are the documents' module's)."""
    with db.unit_of_work() as uow:
        uow.session.add(
            Document(
                id=str(uuid.uuid4()),
                application_id=application_id,
                doc_type=doc_type,
                filename=f"{doc_type}.pdf",
                content_type="application/pdf",
                size=10,
                sha256="0" * 64,
                storage="database",
                storage_key=str(uuid.uuid4()),
                uploaded_by="user:alice",
                uploaded_at=datetime.now(UTC),
            )
        )
        uow.commit()


def lines(db: Database, application_id: str, subject: str) -> list[tuple[str, str | None, str]]:
    with db.reading() as session:
        rows = session.execute(
            select(ApplicationTransition.action, ApplicationTransition.from_status, ApplicationTransition.to_status)
            .where(ApplicationTransition.application_id == application_id, ApplicationTransition.subject == subject)
            .order_by(ApplicationTransition.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


# Reading ---------------------------------------------------------------------------------------


def test_the_tenant_and_staff_read_every_review_a_partner_its_own(api, db):
    application_id = routed_application(api, db)
    for user in ("alice", "bob", "desk"):
        items = api.get(f"/applications/{application_id}/reviews", user=user).get_json()["items"]
        assert [i["partner_org_id"] for i in items] == [BANK, BANK2]
    mine = api.get(f"/applications/{application_id}/reviews", user="banker").get_json()["items"]
    assert [i["partner_org_id"] for i in mine] == [BANK2]
    assert mine[0]["status"] == "routed"
    assert mine[0]["status_label"] == "Routed, not yet reviewed"
    # another partner's review is not there for it
    other = api.get(f"/applications/{application_id}/reviews/{BANK}", user="banker")
    assert other.status_code == 404
    assert code_of(other) == "not-found"


def test_who_the_application_is_not_routed_to_reads_nothing(api, db):
    application_id = routed_application(api, db)
    for user in ("carol", "dave", "guarantor", "lawyer", "bureau"):
        response = api.get(f"/applications/{application_id}/reviews", user=user)
        assert response.status_code == 404, user
        assert code_of(response) == "not-found"


def test_unknown_query_parameters_and_chinese_labels(api, db):
    application_id = routed_application(api, db)
    zh = api.get(f"/applications/{application_id}/reviews", user="alice", headers={"Accept-Language": "zh"})
    assert zh.get_json()["items"][0]["status_label"] != "Routed, not yet reviewed"


# Starting and If-Match -------------------------------------------------------------------------


def test_the_partner_starts_its_review_under_if_match(api, db):
    application_id = routed_application(api, db)
    url = f"/applications/{application_id}/reviews/{BANK}/start"
    assert api.post(url, None, user="bank").status_code == 428
    stale = api.post(url, None, user="bank", **if_match(99))
    assert stale.status_code == 412
    review = started(api, application_id)
    assert review["status"] == "under_review"
    assert lines(db, application_id, "review") == [("start_review", "routed", "under_review")]
    again = step(api, application_id, BANK, "start", None, "bank")
    assert again.status_code == 409
    assert code_of(again) == "rule/state-transition"


def test_only_its_own_partner_takes_a_review_step(api, db):
    application_id = routed_application(api, db)
    version = review_of(api, application_id, BANK, "alice")["version"]
    # the other routed bank: not its review (404, as for one that does not exist)
    other = api.post(f"/applications/{application_id}/reviews/{BANK}/start", None, user="banker", **if_match(version))
    assert other.status_code == 404
    # the tenant: the partner's row (403 with its code)
    tenant = api.post(f"/applications/{application_id}/reviews/{BANK}/start", None, user="alice", **if_match(version))
    assert tenant.status_code == 403
    assert code_of(tenant) == "forbidden"
    # a partner not routed: 404 (the application is not there for it)
    stranger = api.post(
        f"/applications/{application_id}/reviews/{BANK}/start", None, user="guarantor", **if_match(version)
    )
    assert stranger.status_code == 404
    assert review_of(api, application_id, BANK, "alice")["status"] == "routed"


def test_no_review_steps_once_the_application_is_no_longer_routed(api, db):
    application_id = routed_application(api, db, withdrawn=True)
    response = step(api, application_id, BANK, "start", None, "bank")
    assert response.status_code == 409
    assert code_of(response) == "rule/application-not-in-review"


# Information requested and provided ------------------------------------------------------------


def test_request_and_provide_information_round_trip(api, db):
    application_id = routed_application(api, db)
    started(api, application_id)
    asked = step(
        api,
        application_id,
        BANK,
        "request-info",
        {"document_types": ["tax_returns"], "questions": ["Who are your three largest customers?"], "note": "Soon"},
        "bank",
    )
    assert asked.status_code == 200, asked.get_json()
    review = asked.get_json()
    assert review["status"] == "info_requested"
    assert review["resume_status"] == "under_review"
    assert review["requested"]["document_types"] == ["tax_returns"]
    event = outbox(db)[-1]
    assert event["type"] == "finance.application.info_requested"
    assert event["data"]["partner_org_id"] == BANK
    assert event["data"]["document_types"] == ["tax_returns"]
    assert "largest customers" in event["data"]["reason"]
    assert event["data"]["previous_status"] == event["data"]["status"] == "routed"

    # the tenant answers without the document: 422, nothing written
    early = step(api, application_id, BANK, "provide-info", {"answers": ["Three hospitals"]}, "bob")
    assert early.status_code == 422
    assert code_of(early) == "rule/info-incomplete"
    assert review_of(api, application_id, BANK, "bob")["status"] == "info_requested"

    upload(db, application_id, "tax_returns")
    no_answer = step(api, application_id, BANK, "provide-info", {"answers": []}, "bob")
    assert no_answer.status_code == 422
    assert code_of(no_answer) == "rule/info-incomplete"

    answered = step(api, application_id, BANK, "provide-info", {"answers": ["Three hospitals"]}, "bob")
    assert answered.status_code == 200, answered.get_json()
    review = answered.get_json()
    assert review["status"] == "under_review"
    assert review["resume_status"] is None
    assert review["requested"]["answers"] == ["Three hospitals"]
    assert len(review["requested"]["document_ids"]) == 1
    provided = outbox(db)[-1]
    assert provided["type"] == "finance.application.info_provided"
    assert provided["data"]["document_types"] == ["tax_returns"]
    with db.reading() as session:
        linked = session.scalar(
            select(Document.review_id).where(
                Document.application_id == application_id, Document.doc_type == "tax_returns"
            )
        )
    assert linked == review["id"]
    assert lines(db, application_id, "review")[-2:] == [
        ("request_info", "under_review", "info_requested"),
        ("provide_info", "info_requested", "under_review"),
    ]


def test_a_request_says_what_it_needs(api, db):
    application_id = routed_application(api, db)
    started(api, application_id)
    before = len(outbox(db))
    empty = step(api, application_id, BANK, "request-info", {"note": "please"}, "bank")
    assert empty.status_code == 422
    assert code_of(empty) == "rule/reason-required"
    zh = step(api, application_id, BANK, "request-info", {}, "bank", **{"Accept-Language": "zh"})
    assert zh.status_code == 422
    assert code_of(zh) == "rule/reason-required"
    assert zh.get_json()["detail"] != empty.get_json()["detail"]
    unknown = step(api, application_id, BANK, "request-info", {"documents": ["x"]}, "bank")
    assert unknown.status_code == 422
    wrong_type = step(api, application_id, BANK, "request-info", {"questions": "why?"}, "bank")
    assert wrong_type.status_code == 422
    assert len(outbox(db)) == before
    assert review_of(api, application_id, BANK, "bank")["status"] == "under_review"


def test_only_the_tenant_answers_a_request(api, db):
    application_id = routed_application(api, db)
    started(api, application_id)
    step(api, application_id, BANK, "request-info", {"questions": ["Why?"]}, "bank")
    by_partner = step(api, application_id, BANK, "provide-info", {"answers": ["x"]}, "bank")
    assert by_partner.status_code == 403
    by_other_tenant = api.post(
        f"/applications/{application_id}/reviews/{BANK}/provide-info", {"answers": ["x"]}, user="carol", **if_match(1)
    )
    assert by_other_tenant.status_code == 404


# Declining -------------------------------------------------------------------------------------


def test_a_partner_declines_with_a_reason_code(api, db):
    application_id = routed_application(api, db)
    started(api, application_id)
    bad = step(api, application_id, BANK, "decline", {"reason_code": "bad_mood"}, "bank")
    assert bad.status_code == 422
    assert code_of(bad) == "rule/decline-reason"
    bad_zh = step(
        api, application_id, BANK, "decline", {"reason_code": "bad_mood"}, "bank", **{"Accept-Language": "zh"}
    )
    assert code_of(bad_zh) == "rule/decline-reason"
    assert bad_zh.get_json()["detail"] != bad.get_json()["detail"]
    other = step(api, application_id, BANK, "decline", {"reason_code": "other"}, "bank")
    assert other.status_code == 422
    assert code_of(other) == "rule/reason-required"
    missing = step(api, application_id, BANK, "decline", {}, "bank")
    assert missing.status_code == 422

    declined = step(
        api, application_id, BANK, "decline", {"reason_code": "insufficient_collateral", "note": "No assets"}, "bank"
    )
    assert declined.status_code == 200, declined.get_json()
    review = declined.get_json()
    assert review["status"] == "declined"
    assert review["decline_reason"] == "insufficient_collateral"
    assert review["decline_reason_label"] == "Not enough collateral"
    event = outbox(db)[-1]
    assert event["type"] == "finance.application.declined"
    assert event["data"]["reason_code"] == "insufficient_collateral"
    assert event["data"]["reason"] == "No assets"
    with db.reading() as session:
        kinds = list(session.scalars(select(Decision.kind).where(Decision.application_id == application_id)))
    assert kinds == ["declined"]
    # the other bank's review goes on; the application stays routed for the desk to decide
    assert review_of(api, application_id, BANK2, "banker")["status"] == "routed"
    with db.reading() as session:
        assert session.get(Application, application_id).status == "routed"


def test_a_routed_review_may_be_declined_without_starting(api, db):
    application_id = routed_application(api, db, partners=(BANK, GUARANTEE))
    response = step(api, application_id, GUARANTEE, "decline", {"reason_code": "outside_risk_appetite"}, "guarantor")
    assert response.status_code == 200
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Decision)) == 1


def test_a_bureau_reviews_a_subsidy_like_any_partner(api, db):
    application_id = routed_application(
        api, db, product=Products.subsidy, partners=(BUREAU,), amount="300000.00", term=12
    )
    review = started(api, application_id, BUREAU, "bureau")
    assert review["status"] == "under_review"


def test_a_partner_declines_while_waiting_for_information(api, db):
    application_id = routed_application(api, db)
    started(api, application_id)
    step(api, application_id, BANK, "request-info", {"document_types": ["audit_report"]}, "bank")
    declined = step(api, application_id, BANK, "decline", {"reason_code": "incomplete_information"}, "bank")
    assert declined.status_code == 200
    review = declined.get_json()
    assert review["status"] == "declined"
    assert review["resume_status"] is None
    late = step(api, application_id, BANK, "provide-info", {"answers": ["here"]}, "alice")
    assert late.status_code == 409
    assert code_of(late) == "rule/state-transition"


def test_the_reviews_refusals_in_chinese(api, db):
    """The texts of this module's refusals in Chinese (their msgids are in /tmp/briefs/zh-k3.po
    until the catalogue is merged)."""
    application_id = routed_application(api, db)
    started(api, application_id)
    step(api, application_id, BANK, "request-info", {"document_types": ["tax_returns"]}, "bank")
    zh = {"Accept-Language": "zh"}
    incomplete = step(api, application_id, BANK, "provide-info", {}, "alice", **zh)
    assert code_of(incomplete) == "rule/info-incomplete"
    assert "合作机构" in incomplete.get_json()["detail"]
    missing = api.get(f"/applications/{application_id}/reviews/{BANK}", user="banker", headers=zh)
    assert code_of(missing) == "not-found"
    assert "审核" in missing.get_json()["detail"]
    ended = routed_application(api, db, withdrawn=True)
    late = step(api, ended, BANK, "start", None, "bank", **zh)
    assert code_of(late) == "rule/application-not-in-review"
    assert "审核" in late.get_json()["detail"]


def test_each_reader_is_offered_the_steps_it_may_take(api, db):
    application_id = routed_application(api, db)
    assert review_of(api, application_id, BANK, "bank")["actions"] == ["start_review", "decline"]
    assert review_of(api, application_id, BANK, "alice")["actions"] == []
    assert review_of(api, application_id, BANK, "desk")["actions"] == []
    review = started(api, application_id)
    assert review["actions"] == ["request_info", "decline", "make_offer"]
    asked = step(api, application_id, BANK, "request-info", {"questions": ["Why?"]}, "bank").get_json()
    assert asked["actions"] == ["decline"]
    assert review_of(api, application_id, BANK, "bob")["actions"] == ["provide_info"]
    subsidy = subsidy_application(api, db)
    assert started(api, subsidy, BUREAU, "bureau")["actions"] == ["request_info", "decline", "approve"]


def test_the_short_paths_find_the_review_they_mean(api, db):
    """``/applications/{id}/request-info`` is the calling partner's own review;
    ``/applications/{id}/provide-info`` answers the one partner waiting: none waiting is a 409,
    two waiting a 422 naming them (each is then answered at its review's path)."""
    application_id = routed_application(api, db)
    started(api, application_id, BANK, "bank")
    started(api, application_id, BANK2, "banker")
    short = f"/applications/{application_id}"
    nobody = api.post(f"{short}/provide-info", {"answers": ["x"]}, user="alice", **{"If-Match": "*"})
    assert (nobody.status_code, code_of(nobody)) == (409, "rule/no-info-request")

    version = review_of(api, application_id, BANK, "bank")["version"]
    asked = api.post(f"{short}/request-info", {"questions": ["Who buys?"]}, user="bank", **if_match(version))
    assert asked.status_code == 200, asked.get_json()
    assert (asked.get_json()["partner"]["id"], asked.get_json()["status"]) == (BANK, "info_requested")
    answered = api.post(
        f"{short}/provide-info", {"answers": ["Three hospitals"]}, user="alice", **if_match(asked.get_json()["version"])
    )
    assert answered.status_code == 200, answered.get_json()
    assert answered.get_json()["status"] == "under_review"

    for partner, user in ((BANK, "bank"), (BANK2, "banker")):
        assert step(api, application_id, partner, "request-info", {"questions": ["Q?"]}, user).status_code == 200
    several = api.post(f"{short}/provide-info", {"answers": ["x"]}, user="alice", **{"If-Match": "*"})
    assert (several.status_code, code_of(several)) == (422, "rule/partner-required")
    assert sorted(several.get_json()["partner_org_ids"]) == sorted([BANK, BANK2])
    in_chinese = api.post(
        f"{short}/provide-info", {"answers": ["x"]}, user="alice", **{"Accept-Language": "zh", "If-Match": "*"}
    )
    assert in_chinese.get_json()["detail"] == "有多家合作机构索要了资料：请在各自审查的路径分别答复。"
