"""Applications over HTTP: drafting, editing, submission (every failure at once), the desk's
pre-review and routing, turn-down, withdrawal, lists, reading and history, by reader."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from services.finance.models import Application, ApplicationTransition, Document, Offer, Patent, Product, Review
from shared.db import Database
from tests.booking.conftest import BANK, ORG_A, Api
from tests.finance.conftest import BANK2, Products, outbox

LOAN = {"product_id": Products.loan, "amount": "500000.00", "term_months": 12, "purpose": "Lab equipment"}


def code(answer: Any) -> str:
    """The rule code of a problem (its ``type`` ends with it)."""
    return str(answer.json["type"]).split("/problems/", 1)[1]


def draft(api: Api, user: str = "alice", key: str | None = None, **fields: Any) -> Any:
    body = {**LOAN, **fields}
    return api.post("/applications", body, user=user, **{"Idempotency-Key": key or str(uuid.uuid4())})


def act(api: Api, application: dict[str, Any], action: str, user: str, body: Any = None) -> Any:
    return api.post(
        f"/applications/{application['id']}/{action}", body, user=user, **{"If-Match": f'"{application["version"]}"'}
    )


def add_documents(db: Database, application_id: str, *types: str) -> None:
    with db.unit_of_work() as uow:
        for doc_type in types:
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


def submitted(api: Api, db: Database, **fields: Any) -> dict[str, Any]:
    created = draft(api, **fields).json
    add_documents(db, created["id"], "business_licence", "financial_statements")
    answer = act(api, created, "submit", "alice")
    assert answer.status_code == 200, answer.json
    return dict(answer.json)


def routed(api: Api, db: Database, partners: list[str] | None = None) -> dict[str, Any]:
    application = act(api, submitted(api, db), "start-pre-review", "desk").json
    answer = act(api, application, "route", "desk", {"partner_org_ids": partners or [BANK]})
    assert answer.status_code == 200, answer.json
    return dict(answer.json)


def add_offer(db: Database, application_id: str, partner: str, status: str = "made") -> str:
    offer_id = str(uuid.uuid4())
    with db.unit_of_work() as uow:
        review = uow.session.scalars(
            select(Review).where(Review.application_id == application_id, Review.partner_org_id == partner)
        ).one()
        review.status = "offer_made" if status == "made" else review.status
        now = datetime.now(UTC)
        uow.session.add(
            Offer(
                id=offer_id,
                application_id=application_id,
                review_id=review.id,
                partner_org_id=partner,
                kind="offer",
                status=status,
                amount=Decimal("500000.00"),
                currency="CNY",
                annual_rate=Decimal("4.2"),
                term_months=12,
                fees=[],
                expires_at=now + timedelta(days=10),
                made_by="user:bank",
                made_at=now,
            )
        )
        uow.commit()
    return offer_id


def rows(db: Database, model: Any, **where: Any) -> list[Any]:
    with db.reading() as session:
        query = select(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        found = list(session.scalars(query))
        session.expunge_all()  # read after the session ends
        return found


# Drafting ----------------------------------------------------------------------------------------


def test_a_tenant_drafts_a_numbered_application_with_location_and_etag(api: Api, db: Database) -> None:
    answer = draft(api)
    assert answer.status_code == 201, answer.json
    body = answer.json
    year = datetime.now(UTC).astimezone().year
    assert body["number"].startswith("F-") and body["number"].endswith("-00001")
    assert str(year - 1) in body["number"] or str(year) in body["number"] or str(year + 1) in body["number"]
    assert answer.headers["Location"] == f"/api/v1/finance/applications/{body['id']}"
    assert answer.headers["ETag"] == f'"{body["version"]}"'
    assert body["status"] == "draft" and body["amount"] == "500000.00" and body["currency"] == "CNY"
    assert body["product"]["id"] == Products.loan and body["organisation"]["id"] == ORG_A
    assert body["profile"] is None and body["documents_count"] == 0
    assert set(body["actions"]) == {"edit", "submit", "withdraw"}
    assert draft(api, user="bob").json["number"].endswith("-00002")
    assert outbox(db) == []  # issue 9 names no event for a draft


def test_drafting_is_idempotent(api: Api, db: Database) -> None:
    one, two = draft(api, key="same"), draft(api, key="same")
    assert one.json["id"] == two.json["id"]
    assert len(rows(db, Application)) == 1


def test_bad_drafts_are_refused_and_nothing_is_written(api: Api, db: Database) -> None:
    cases: list[tuple[dict[str, Any], int, str | None]] = [
        ({"amount": 500000}, 422, None),  # a JSON number is not money
        ({"amount": "12.345"}, 422, "rule/amount-places"),
        ({"amount": "-5"}, 422, "rule/amount-positive"),
        ({"amount": "1e5"}, 422, "rule/amount-invalid"),
        ({"amount": "0"}, 422, "rule/amount-positive"),
        ({"term_months": 0}, 422, "rule/term-invalid"),
        ({"term_months": "12"}, 422, None),
        ({"product_id": str(uuid.uuid4())}, 422, "rule/product-unknown"),
        ({"colour": "red"}, 422, None),
    ]
    for fields, status, expected in cases:
        answer = draft(api, **fields)
        assert answer.status_code == status, (fields, answer.json)
        assert answer.mimetype == "application/problem+json"
        if expected:
            assert code(answer) == expected, (fields, answer.json)
    assert rows(db, Application) == []


def test_an_inactive_product_is_refused(api: Api, db: Database) -> None:
    with db.unit_of_work() as uow:
        product = uow.session.get(Product, Products.loan)
        assert product is not None
        product.active = False
        uow.commit()
    answer = api.post("/applications", LOAN, user="alice", **{"Idempotency-Key": "k", "Accept-Language": "zh"})
    assert answer.status_code == 422 and code(answer) == "rule/product-inactive"
    english = draft(api)
    assert code(english) == "rule/product-inactive"
    assert english.json["detail"] == "This financing product is no longer offered."
    assert answer.json["detail"] == "该融资产品已不再提供。"


def test_only_tenants_draft(api: Api) -> None:
    for user in ("bank", "desk", "admin"):
        assert draft(api, user=user).status_code == 403


# Editing -----------------------------------------------------------------------------------------


def test_a_draft_is_edited_under_if_match(api: Api, db: Database) -> None:
    created = draft(api).json
    path = f"/applications/{created['id']}"
    assert api.patch(path, {"amount": "600000.00"}, user="bob").status_code == 428
    assert api.patch(path, {"amount": "600000.00"}, user="bob", **{"If-Match": '"99"'}).status_code == 412
    answer = api.patch(path, {"amount": "600000.00", "term_months": 24}, user="bob", **{"If-Match": '"1"'})
    assert answer.status_code == 200, answer.json
    assert answer.json["amount"] == "600000.00" and answer.json["term_months"] == 24
    assert answer.headers["ETag"] == f'"{answer.json["version"]}"' and answer.json["version"] > 1
    refused = api.patch(path, {"amount": 7}, user="bob", **{"If-Match": answer.headers["ETag"]})
    assert refused.status_code == 422


def test_others_cannot_edit(api: Api) -> None:
    created = draft(api).json
    path = f"/applications/{created['id']}"
    assert api.patch(path, {"purpose": "x"}, user="carol", **{"If-Match": '"1"'}).status_code == 404
    assert api.patch(path, {"purpose": "x"}, user="desk", **{"If-Match": '"1"'}).status_code == 403


def test_editing_outside_draft_or_routed_is_a_state_conflict(api: Api, db: Database) -> None:
    application = submitted(api, db)
    path = f"/applications/{application['id']}"
    headers = {"If-Match": f'"{application["version"]}"'}
    answer = api.patch(path, {"purpose": "x"}, user="alice", **headers)
    assert answer.status_code == 409 and code(answer) == "rule/state-transition"
    assert answer.json["allowed"] == ["draft", "routed"]
    assert "With the financing partners" in answer.json["detail"]  # the tenant's names
    zh = api.patch(path, {"purpose": "x"}, user="alice", **headers, **{"Accept-Language": "zh"})
    assert code(zh) == "rule/state-transition" and zh.json["detail"] != answer.json["detail"]


def test_an_edit_while_routed_invalidates_the_offers_made(api: Api, db: Database) -> None:
    application = routed(api, db, [BANK, BANK2])
    made = add_offer(db, application["id"], BANK)
    declined = add_offer(db, application["id"], BANK2, status="declined")
    current = api.get(f"/applications/{application['id']}").json
    too_big = api.patch(
        f"/applications/{application['id']}",
        {"amount": "9000000.00"},
        user="alice",
        **{"If-Match": f'"{current["version"]}"'},
    )
    assert too_big.status_code == 422 and code(too_big) == "rule/not-submittable"
    assert [f["code"] for f in too_big.json["failures"]] == ["rule/amount-out-of-range"]
    answer = api.patch(
        f"/applications/{application['id']}",
        {"amount": "450000.00"},
        user="alice",
        **{"If-Match": f'"{current["version"]}"'},
    )
    assert answer.status_code == 200, answer.json
    offers = {o.id: o.status for o in rows(db, Offer)}
    assert offers == {made: "invalidated", declined: "declined"}
    review = rows(db, Review, partner_org_id=BANK)[0]
    assert review.status == "under_review"  # the partner reviews again
    lines = [(t.subject, t.action, t.to_status) for t in rows(db, ApplicationTransition)]
    assert ("offer", "invalidate", "invalidated") in lines and ("review", "reconsider", "under_review") in lines
    edit = [t for t in rows(db, ApplicationTransition) if t.action == "edit"][0]
    assert edit.details == {"fields": ["amount"], "invalidated_offer_ids": [made]}


# Submission --------------------------------------------------------------------------------------


def test_submission_keeps_the_profile_and_publishes_submitted(api: Api, db: Database) -> None:
    application = submitted(api, db)
    assert application["status"] == "submitted" and application["status_label"] == "Submitted"
    assert application["profile"]["sector"] == "biomedicine"
    assert application["profile"]["annual_revenue"] == "12000000.00"
    assert application["submitted_at"] is not None and application["documents_count"] == 2
    events = outbox(db)
    assert [e["type"] for e in events] == ["finance.application.submitted"]
    data = events[0]["data"]
    assert data["status"] == "submitted" and data["previous_status"] == "draft" and data["amount"] == "500000.00"


def test_every_failure_is_named_at_once_in_the_readers_language(api: Api, db: Database) -> None:
    created = draft(api, amount="50.00", term_months=48).json
    answer = act(api, created, "submit", "alice")
    assert answer.status_code == 422 and code(answer) == "rule/not-submittable"
    failures = answer.json["failures"]
    assert [(f["code"], f["field"]) for f in failures] == [
        ("rule/amount-out-of-range", "amount"),
        ("rule/term-out-of-range", "term_months"),
        ("rule/document-missing", "documents.business_licence"),
        ("rule/document-missing", "documents.financial_statements"),
    ]
    assert all(isinstance(f["detail"], str) and f["detail"] for f in failures)
    assert "Business licence" in failures[2]["detail"]
    assert "营业执照" not in failures[2]["detail"]
    zh = api.post(
        f"/applications/{created['id']}/submit",
        None,
        user="alice",
        **{"If-Match": f'"{created["version"]}"', "Accept-Language": "zh"},
    )
    assert [f["code"] for f in zh.json["failures"]] == [f["code"] for f in failures]
    assert zh.json["failures"][0]["detail"] != failures[0]["detail"]  # rendered in Chinese
    assert "营业执照" in zh.json["failures"][2]["detail"]
    assert rows(db, Application)[0].status == "draft" and outbox(db) == []


def test_eligibility_and_a_missing_profile(api: Api, db: Database) -> None:
    carols = draft(api, user="carol").json  # ORG_B has no company profile
    add_documents(db, carols["id"], "business_licence", "financial_statements")
    answer = act(api, carols, "submit", "carol")
    assert [f["code"] for f in answer.json["failures"]] == ["rule/profile-missing"]
    subsidy = draft(api, product_id=Products.subsidy, amount="20000.00", term_months=6).json
    with db.unit_of_work() as uow:
        from services.finance.models import CompanyProfile

        profile = uow.session.get(CompanyProfile, ORG_A)
        assert profile is not None
        profile.sector = "software"
        uow.commit()
    add_documents(db, subsidy["id"], "business_licence")
    answer = act(api, subsidy, "submit", "alice")
    assert [f["code"] for f in answer.json["failures"]] == ["rule/sector-not-eligible"]


def test_a_subsidy_past_its_window_and_grace(api: Api, db: Database) -> None:
    subsidy = draft(api, product_id=Products.subsidy, amount="20000.00", term_months=6).json
    add_documents(db, subsidy["id"], "business_licence")
    with db.unit_of_work() as uow:
        product = uow.session.get(Product, Products.subsidy)
        assert product is not None
        now = datetime.now(UTC)
        product.window = {
            "opens_at": (now - timedelta(days=40)).isoformat(),
            "closes_at": (now - timedelta(days=10)).isoformat(),
            "grace_days": 3,
        }
        uow.commit()
    answer = act(api, subsidy, "submit", "alice")
    assert [f["code"] for f in answer.json["failures"]] == ["rule/window-closed"]


def test_an_ip_pledge_loan_checks_its_patents(api: Api, db: Database) -> None:
    loan = draft(api, product_id=Products.ip_loan, amount="200000.00", term_months=12).json
    add_documents(db, loan["id"], "business_licence")
    answer = act(api, loan, "submit", "alice")
    assert [f["code"] for f in answer.json["failures"]] == ["rule/patent-none"]
    today = date.today()
    with db.unit_of_work() as uow:
        for number, holder, pledged in (("ZL201510000001.1", "成都细胞治疗", 0), ("ZL201510000002.X", "Someone", 1)):
            uow.session.add(
                Patent(
                    id=str(uuid.uuid4()),
                    application_id=loan["id"],
                    number=number,
                    title="Cell culture",
                    holder=holder,
                    granted_on=date(2016, 1, 1),
                    expires_on=today + timedelta(days=3650),
                    fees_paid_until=today + timedelta(days=100),
                    existing_pledges=pledged,
                )
            )
        uow.commit()
    answer = act(api, loan, "submit", "alice")
    assert [(f["code"], f["field"]) for f in answer.json["failures"]] == [
        ("rule/patent-holder", "patents.ZL201510000002.X"),
        ("rule/patent-pledged", "patents.ZL201510000002.X"),
    ]


def test_only_the_organisation_submits(api: Api, db: Database) -> None:
    created = draft(api).json
    add_documents(db, created["id"], "business_licence", "financial_statements")
    assert act(api, created, "submit", "dave").status_code == 404
    assert act(api, created, "submit", "desk").status_code == 403
    assert act(api, created, "submit", "bob").status_code == 200  # a member of the organisation
