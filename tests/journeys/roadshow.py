"""Journey 3, event space for a financing roadshow or a product launch, through HTTP only, as the
demo users.

Alice (tenant admin of Kangcheng Cell Therapeutics) applies to the biomedical guide fund: she
drafts the application, uploads the checklist's documents and submits it; the desk pre-reviews it
and routes it to the Tianfu Biomedical Industry Guide Fund, whose investment manager (``fund``)
reviews it and makes an offer, which Alice accepts. Finance announces the accepted offer; booking
learns the financing round from it (``GET /booking/financing-rounds`` lists it). Alice books the
shared exhibition hall for a roadshow presenting that round: it waits for the desk
(``pending_approval``), the desk approves it, and Alice's timeline (notify) shows the offer
accepted, the reservation requested and confirmed, in that order, each step carrying its own
correlation id. Carol (Shurui AI Imaging, no round at all) books the design release square for a
product launch, which needs no round and goes to the desk too; her roadshow is refused (422
``rule/roadshow-without-round``).
"""

from __future__ import annotations

import io
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from shared.clock import PARK_TZ
from tests.journeys.driver import Answer, Driver

BOOKING = "/api/v1/booking"
FINANCE = "/api/v1/finance"
NOTIFY = "/api/v1/notify"
FUND = "Tianfu Biomedical Industry Guide Fund"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def etag(answer: Answer) -> dict[str, str]:
    return {"If-Match": answer.headers["ETag"]}


def version(thing: dict[str, Any]) -> dict[str, str]:
    return {"If-Match": f'"{thing["version"]}"'}


def event_day(driver: Driver, days_ahead: int) -> date:
    """A day ``days_ahead`` on (past the halls' seven-day lead time) or the first after it that
    is no public holiday of the park's calendar (the event spaces close on them)."""
    day = datetime.now(PARK_TZ).date() + timedelta(days=days_ahead)
    holidays: set[str] = set()
    for year in {day.year, day.year + 1}:
        calendar = driver.call("desk", "GET", f"{BOOKING}/park-calendar?year={year}").expect(200)
        holidays |= {d["date"] for d in calendar["days"] if d["kind"] == "holiday"}
    while day.isoformat() in holidays:
        day += timedelta(days=1)
    return day


def space_of_kind(driver: Driver, kind: str) -> dict[str, Any]:
    [space] = driver.call("alice", "GET", f"{BOOKING}/spaces?kind={kind}").expect(200)["items"]
    return dict(space)


def upload(driver: Driver, user: str, application_id: str, doc_type: str) -> None:
    boundary, body = encode_multipart(
        MultiDict([("doc_type", doc_type), ("file", FileStorage(io.BytesIO(PDF), filename=f"{doc_type}.pdf"))])
    )
    answer = driver.call(
        user,
        "POST",
        f"{FINANCE}/applications/{application_id}/documents",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    answer.expect(201)


def accepted_guide_fund_offer(driver: Driver, purpose: str) -> str:
    """Alice's guide-fund application, routed to the fund, offered and accepted: its id."""
    [product] = driver.call("alice", "GET", f"{FINANCE}/products?kind=guide_fund").expect(200)["items"]
    [fund] = [p for p in product["providers"] if p["name"] == FUND]
    body = {"product_id": product["id"], "amount": "5000000.00", "term_months": 60, "purpose": purpose}
    draft = driver.call("alice", "POST", f"{FINANCE}/applications", json=body).expect(201)
    application_id = draft["id"]
    for item in product["checklist"]:
        if item["required"]:
            upload(driver, "alice", application_id, item["type"])
    path = f"{FINANCE}/applications/{application_id}"

    def step(user: str, action: str, json: Any = None) -> dict[str, Any]:
        current = driver.call(user, "GET", path)
        return dict(driver.call(user, "POST", f"{path}/{action}", json=json or {}, headers=etag(current)).expect(200))

    assert step("alice", "submit")["status"] == "submitted"
    assert step("desk", "start-pre-review")["status"] == "pre_review"
    assert step("desk", "route", {"partner_org_ids": [fund["id"]]})["status"] == "routed"
    review = f"{path}/reviews/{fund['id']}"
    driver.call("fund", "POST", f"{review}/start", json={}, headers=etag(driver.call("fund", "GET", review))).expect(
        200
    )
    expires = datetime.combine(datetime.now(PARK_TZ).date() + timedelta(days=21), time(17), tzinfo=PARK_TZ)
    offer_body = {
        "amount": "5000000.00",
        "annual_rate": "0",
        "term_months": 60,
        "repayment_method": "bullet",
        "conditions": "Equity beside the Series A lead investor; a board observer seat.",
        "expires_at": expires.isoformat(),
    }
    offer = driver.call("fund", "POST", f"{path}/offers", json=offer_body).expect(201)
    offer_path = f"{FINANCE}/offers/{offer['id']}"
    accepted = driver.call(
        "alice", "POST", f"{offer_path}/accept", json={}, headers=etag(driver.call("alice", "GET", offer_path))
    ).expect(200)
    assert accepted["status"] == "accepted", accepted
    assert driver.call("alice", "GET", path).expect(200)["status"] == "accepted"
    return str(application_id)


def booking_round(driver: Driver, application_id: str) -> dict[str, Any] | None:
    rounds = driver.call("alice", "GET", f"{BOOKING}/financing-rounds").expect(200)["items"]
    return next((r for r in rounds if r["application_id"] == application_id), None)


def timeline(driver: Driver, user: str, subjects: set[str]) -> list[dict[str, Any]]:
    """The lines of ``user``'s organisation's timeline about ``subjects``, oldest first."""
    page = driver.call(user, "GET", f"{NOTIFY}/timeline?page_size=200").expect(200)
    return [item for item in page["items"] if item.get("subject_id") in subjects]


def book_event(driver: Driver, user: str, space: dict[str, Any], day: date, **fields: Any) -> Answer:
    start = datetime.combine(day, time(9), tzinfo=PARK_TZ)
    body = {
        "space_id": space["id"],
        "start": start.isoformat(),
        "end": (start + timedelta(hours=9)).isoformat(),
        "attendees": 300,
        "layout": "cocktail",
        **fields,
    }
    return driver.call(user, "POST", f"{BOOKING}/reservations", json=body)


def run(driver: Driver) -> None:
    # Finance: a venture-style offer of the guide fund, accepted by Kangcheng's administrator.
    application_id = accepted_guide_fund_offer(driver, f"Series A for the CAR-T platform ({uuid.uuid4().hex[:8]})")

    # Booking learns the round from finance's event.
    found = driver.wait_for(lambda: booking_round(driver, application_id), "booking to list the financing round")
    assert (found["product_kind"], found["usable"]) == ("guide_fund", True), found
    assert found["amount"] == {"amount": "5000000.00", "currency": "CNY"}
    assert found["partner"]["name"] == FUND

    # The roadshow in the exhibition hall waits for the desk, which approves it.
    hall = space_of_kind(driver, "exhibition_hall")
    day = event_day(driver, 24)
    booked = book_event(
        driver, "alice", hall, day, title="Series A roadshow", purpose="roadshow", purpose_ref=application_id
    ).expect(201)
    assert (booked["status"], booked["purpose"], booked["purpose_ref"]) == (
        "pending_approval",
        "roadshow",
        application_id,
    ), booked
    approved = driver.call(
        "desk", "POST", f"{BOOKING}/reservations/{booked['id']}/approve", json={}, headers=version(booked)
    ).expect(200)
    assert (approved["status"], approved["purpose"]) == ("confirmed", "roadshow")

    # The tenant's timeline: the offer accepted, the roadshow requested, then confirmed.
    wanted = ["finance.application.offer_accepted", "booking.reservation.requested", "booking.reservation.confirmed"]
    subjects = {application_id, booked["id"]}

    def in_order() -> list[dict[str, Any]] | None:
        lines = [line for line in timeline(driver, "alice", subjects) if line["event_type"] in wanted]
        return lines if [line["event_type"] for line in lines] == wanted else None

    lines = driver.wait_for(in_order, "the tenant's timeline to show the offer, the request and the approval")
    assert [line["subject_id"] for line in lines] == [application_id, booked["id"], booked["id"]]
    assert lines[0]["at"] <= lines[1]["at"] <= lines[2]["at"]
    assert all(line["title"] for line in lines)
    # The desk reads the same lines for the organisation.
    org_id = booked["organisation"]["id"]
    desk_page = driver.call("desk", "GET", f"{NOTIFY}/timeline?org_id={org_id}&page_size=200").expect(200)
    assert {i["event_type"] for i in desk_page["items"] if i.get("subject_id") == booked["id"]} >= set(wanted[1:])

    # A product launch in the design release square needs no round, and goes to the desk too.
    square = space_of_kind(driver, "release_square")
    launch = book_event(
        driver, "carol", square, event_day(driver, 26), title="AI imaging product launch", purpose="product_launch"
    ).expect(201)
    assert (launch["status"], launch["purpose"], launch["purpose_ref"]) == ("pending_approval", "product_launch", None)
    assert launch["purpose_label"] == "Product launch"

    # Carol's organisation has no round: her roadshow is refused, with the rule named.
    refused = book_event(
        driver, "carol", hall, event_day(driver, 40), title="Roadshow", purpose="roadshow", purpose_ref=application_id
    )
    assert refused.status == 422, refused.text
    assert refused.json["type"].endswith("/rule/roadshow-without-round")
