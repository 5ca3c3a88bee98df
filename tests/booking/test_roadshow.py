"""Event bookings (issue 10, journey 3): financing rounds learnt from finance's events, roadshows
and product launches in the event spaces, their refusals (nothing written), their approval by the
desk, the purpose in the view, the events and the list; ``GET /financing-rounds`` for each role."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from services.booking.models import FinancingRound, Reservation
from services.booking.worker import participant
from shared.events import Event
from shared.events.contracts import validate
from tests.booking.conftest import ORG_A, ORG_B, at, outbox, park_day
from tests.booking.factories import SpaceFactory

FUND = str(uuid.UUID("00000000-0000-4000-8000-0000000000f0"))
ZH = {"Accept-Language": "zh-CN"}


def finance_event(verb: str, application_id: str, *, kind: str = "venture_capital", org_id: str = ORG_A, **more: Any):
    """A valid ``finance.application.<verb>`` of ``application_id`` (an accepted offer of 5,000,000
    from the fund for ``offer_accepted``)."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    statuses = {"offer_accepted": ("accepted", "routed"), "withdrawn": ("withdrawn", "routed")}
    status, previous = statuses.get(verb, ("closed", "disbursed"))
    data: dict[str, Any] = {
        "application_id": application_id,
        "status": status,
        "previous_status": previous,
        "org_id": org_id,
        "applicant": "user:alice",
        "product_id": str(uuid.uuid4()),
        "product_kind": kind,
        "amount": "6000000.00",
        "currency": "CNY",
        "term_months": 60,
        "partner_org_ids": [FUND],
        "changed_at": now,
        "version": 5,
    }
    if verb == "offer_accepted":
        data["partner_org_id"] = FUND
        data["offer"] = {
            "offer_id": str(uuid.uuid4()),
            "kind": "offer",
            "status": "accepted",
            "partner_org_id": FUND,
            "amount": "5000000.00",
            "currency": "CNY",
            "annual_rate": "0.0000",
            "term_months": 60,
            "fees": [],
            "made_by": "user:fund",
            "made_at": now,
        }
    data.update(more)
    type_ = f"finance.application.{verb}"
    validate(type_, 1, data)  # what finance would publish
    return Event(type=type_, source="/parkhub/finance", data=data, orgid=org_id, correlationid=f"req-{verb}")


def deliver(settings, event):
    return participant(settings).inbox.deliver(event.to_dict())


def rounds(db) -> list[FinancingRound]:
    session = db.session()
    try:
        found = list(session.scalars(select(FinancingRound).order_by(FinancingRound.accepted_at)))
    finally:
        session.close()  # closing detaches without expiring: the rows stay readable
    return found


@pytest.fixture
def funded(settings, db) -> str:
    """Organisation A's accepted venture-capital offer: its application id."""
    application_id = str(uuid.uuid4())
    assert deliver(settings, finance_event("offer_accepted", application_id)).value == "handled"
    return application_id


def hall(**rules: Any):
    """An exhibition hall the park admin set to need no approval: event bookings still do."""
    return SpaceFactory(
        kind="exhibition_hall", capacity=500, layouts={"booths": 500, "cocktail": 500}, approval_mode="never", **rules
    )


def event_body(space_id: str, purpose: str | None = "roadshow", ref: str | None = None, **more: Any):
    day = park_day(10)
    body = {
        "space_id": space_id,
        "start": at(day, "10:00").isoformat(),
        "end": at(day, "16:00").isoformat(),
        "title": "Series A roadshow",
        "attendees": 200,
        "layout": "cocktail",
        **more,
    }
    if purpose is not None:
        body["purpose"] = purpose
    if ref is not None:
        body["purpose_ref"] = ref
    return body


def reservations_count(db) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(Reservation)))


# Financing rounds from finance's events ----------------------------------------------------------


def test_an_accepted_venture_capital_offer_is_a_round_once(settings, db):
    application_id = str(uuid.uuid4())
    event = finance_event("offer_accepted", application_id)
    assert deliver(settings, event).value == "handled"
    assert deliver(settings, event).value == "duplicate"
    # The same acceptance announced again as another event: still one round.
    again = finance_event("offer_accepted", application_id)
    assert deliver(settings, again).value == "handled"
    [found] = rounds(db)
    assert (found.application_id, found.org_id, found.product_kind) == (application_id, ORG_A, "venture_capital")
    assert (str(found.amount), found.currency, found.partner_org_id) == ("5000000.00", "CNY", FUND)
    assert found.withdrawn_at is None


def test_a_guide_fund_offer_is_a_round_and_other_kinds_are_not(settings, db):
    fund = str(uuid.uuid4())
    deliver(settings, finance_event("offer_accepted", fund, kind="guide_fund"))
    for kind in ("guaranteed_loan", "leasing", "ip_pledge_loan", "subsidy"):
        assert deliver(settings, finance_event("offer_accepted", str(uuid.uuid4()), kind=kind)).value == "handled"
    assert [(r.application_id, r.product_kind) for r in rounds(db)] == [(fund, "guide_fund")]


def test_a_withdrawn_or_turned_down_application_withdraws_its_round_and_a_payout_keeps_it(settings, db):
    withdrawn, turned_down, paid = (str(uuid.uuid4()) for _ in range(3))
    for application_id in (withdrawn, turned_down, paid):
        deliver(settings, finance_event("offer_accepted", application_id))
    deliver(settings, finance_event("withdrawn", withdrawn))
    deliver(settings, finance_event("closed", turned_down, previous_status="routed", reason="Out of scope."))
    deliver(settings, finance_event("closed", paid, previous_status="disbursed"))
    deliver(settings, finance_event("withdrawn", str(uuid.uuid4())))  # no round: nothing happens
    state = {r.application_id: r.withdrawn_at is not None for r in rounds(db)}
    assert state == {withdrawn: True, turned_down: True, paid: False}


# GET /financing-rounds -------------------------------------------------------------------------


def test_financing_rounds_are_listed_for_the_tenant_and_staff(settings, api, funded):
    other = str(uuid.uuid4())
    deliver(settings, finance_event("offer_accepted", other, kind="guide_fund", org_id=ORG_B))
    mine = api.get("/financing-rounds", user="bob").json["items"]
    assert [r["application_id"] for r in mine] == [funded]
    assert mine[0]["organisation"] == {"id": ORG_A, "name": "Chengdu Cell Therapeutics"}
    assert (mine[0]["amount"], mine[0]["usable"]) == ({"amount": "5000000.00", "currency": "CNY"}, True)
    assert mine[0]["product_kind_label"] == "Venture capital"
    assert api.get("/financing-rounds", user="alice", headers=ZH).json["items"][0]["product_kind_label"] == "创业投资"
    assert mine[0]["accepted_at"].endswith("+08:00")
    # A tenant naming another organisation sees none of it.
    assert api.get(f"/financing-rounds?organisation_id={ORG_B}", user="alice").json["items"] == []
    assert {r["application_id"] for r in api.get("/financing-rounds", user="desk").json["items"]} == {funded, other}
    assert [
        r["application_id"] for r in api.get(f"/financing-rounds?organisation_id={ORG_B}", user="admin").json["items"]
    ] == [other]
    refused = api.get("/financing-rounds", user="bank")
    assert refused.status_code == 403 and refused.json["action"] == "read_financing_rounds"
    assert api.get("/financing-rounds", user=None).status_code == 401
    assert api.get("/financing-rounds?page=2", user="alice").status_code == 400


# Roadshows and product launches ----------------------------------------------------------------


def test_a_roadshow_waits_for_the_desk_and_carries_its_round(api, db, funded):
    space = hall()
    booked = api.post("/reservations", event_body(space.id, ref=funded), user="bob")
    assert booked.status_code == 201, booked.json
    reservation = booked.json
    assert (reservation["status"], reservation["purpose"], reservation["purpose_ref"]) == (
        "pending_approval",
        "roadshow",
        funded,
    )
    assert reservation["purpose_label"] == "Financing roadshow"
    shown = api.get(f"/reservations/{reservation['id']}", user="alice", headers=ZH).json
    assert (shown["purpose"], shown["purpose_label"]) == ("roadshow", "融资路演")
    approved = api.act(reservation, "approve", user="desk")
    assert approved.status_code == 200 and approved.json["status"] == "confirmed"
    requested, confirmed = outbox(db)
    assert [requested["type"], confirmed["type"]] == ["booking.reservation.requested", "booking.reservation.confirmed"]
    for event in (requested, confirmed):
        assert (event["data"]["purpose"], event["data"]["purpose_ref"]) == ("roadshow", funded)
        validate(event["type"], 1, event["data"])
    listed = api.get("/reservations?scope=all&purpose=roadshow", user="desk").json["items"]
    assert [r["id"] for r in listed] == [reservation["id"]]
    assert api.get("/reservations?scope=all&purpose=product_launch", user="desk").json["items"] == []
    assert api.get("/reservations?scope=all&purpose=none", user="desk").json["items"] == []
    assert api.get("/reservations?scope=all&purpose=party", user="desk").status_code == 422


def test_a_product_launch_needs_no_round_and_goes_to_the_desk(api, db):
    square = SpaceFactory(kind="release_square", capacity=2000, layouts={"theatre": 1200}, approval_mode="never")
    body = event_body(square.id, "product_launch", title="AI imaging launch", layout="theatre")
    launched = api.post("/reservations", body, user="carol")
    assert launched.status_code == 201, launched.json
    assert (launched.json["status"], launched.json["purpose"], launched.json["purpose_ref"]) == (
        "pending_approval",
        "product_launch",
        None,
    )
    [event] = outbox(db)
    assert (event["type"], event["data"]["purpose"]) == ("booking.reservation.requested", "product_launch")


def test_the_desk_booking_an_event_for_a_tenant_is_confirmed_at_once(api, funded):
    body = event_body(hall().id, ref=funded, organisation_id=ORG_A)
    booked = api.post("/reservations", body, user="desk")
    assert booked.status_code == 201, booked.json
    assert (booked.json["status"], booked.json["purpose"]) == ("confirmed", "roadshow")


def test_an_ordinary_booking_of_the_hall_has_no_purpose(api):
    booked = api.post("/reservations", event_body(hall().id, purpose=None, title="Annual meeting"), user="alice")
    assert booked.status_code == 201, booked.json
    assert (booked.json["status"], booked.json["purpose"], booked.json["purpose_label"]) == ("confirmed", None, None)


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("no round at all", "rule/roadshow-without-round"),
        ("no purpose_ref", "rule/roadshow-without-round"),
        ("another organisation's round", "rule/roadshow-without-round"),
        ("a withdrawn round", "rule/roadshow-without-round"),
        ("a loan, not a round", "rule/roadshow-without-round"),
        ("a ref longer than any application id", "rule/roadshow-without-round"),
        ("a conference room", "rule/purpose-space"),
        ("a product launch with a ref", "rule/purpose-ref"),
        ("a ref without a purpose", "rule/purpose-ref"),
    ],
)
def test_refused_event_bookings_write_nothing(settings, api, db, case, code):
    space = hall()
    ref: str | None = str(uuid.uuid4())
    purpose: str | None = "roadshow"
    if case == "no purpose_ref":
        deliver(settings, finance_event("offer_accepted", str(uuid.uuid4())))
        ref = None
    elif case == "another organisation's round":
        deliver(settings, finance_event("offer_accepted", ref, org_id=ORG_B))
    elif case == "a withdrawn round":
        deliver(settings, finance_event("offer_accepted", ref))
        deliver(settings, finance_event("withdrawn", ref))
    elif case == "a loan, not a round":
        deliver(settings, finance_event("offer_accepted", ref, kind="guaranteed_loan"))
    elif case == "a ref longer than any application id":
        deliver(settings, finance_event("offer_accepted", ref))
        ref = ref + "-and-more"
    elif case == "a conference room":
        deliver(settings, finance_event("offer_accepted", ref))
        space = SpaceFactory(capacity=300, layouts={"cocktail": 300})
    elif case == "a product launch with a ref":
        purpose = "product_launch"
    elif case == "a ref without a purpose":
        purpose = None
    before = len(outbox(db))
    refused = api.post("/reservations", event_body(space.id, purpose, ref), user="alice")
    assert refused.status_code == 422, refused.json
    assert refused.mimetype == "application/problem+json"
    assert refused.json["type"].endswith(f"/problems/{code}")
    assert reservations_count(db) == 0 and len(outbox(db)) == before


def test_a_roadshow_without_a_round_says_why_in_either_language(api, db):
    space = hall()
    missing = str(uuid.uuid4())
    en = api.post("/reservations", event_body(space.id, ref=missing), user="alice").json
    zh = api.post("/reservations", event_body(space.id, ref=missing), user="alice", **ZH).json
    assert en["detail"] == (
        f"Your organisation has no accepted venture-capital or guide-fund offer for application {missing}: "
        "a financing roadshow needs one (GET /financing-rounds lists them)."
    )
    assert en["purpose_ref"] == missing
    assert missing in zh["detail"] and "融资路演" in zh["detail"]
    nothing = api.post("/reservations", event_body(space.id), user="alice", **ZH).json
    assert nothing["type"].endswith("/rule/roadshow-without-round") and "purpose_ref" in nothing["detail"]
    assert "融资路演" in nothing["detail"]
    assert reservations_count(db) == 0


def test_bad_purposes_are_field_errors(api, db):
    space = hall()
    for body in (
        event_body(space.id, "party"),
        event_body(space.id, ref=""),
        event_body(space.id, ref="x" * 65),
        {**event_body(space.id, purpose=None), "purpose": 3},
    ):
        refused = api.post("/reservations", body, user="alice")
        assert refused.status_code == 422 and refused.json["type"].endswith("/validation-failed"), refused.json
    series = {**event_body(space.id, "product_launch"), "rrule": "FREQ=WEEKLY;COUNT=2"}
    assert api.post("/series", series, user="alice").status_code == 422  # an event is one reservation
    assert reservations_count(db) == 0


def test_an_event_booking_moves_only_to_an_event_space(api, funded):
    booked = api.post("/reservations", event_body(hall().id, ref=funded), user="alice").json
    room = SpaceFactory(capacity=300, layouts={"cocktail": 300})
    day = park_day(11)
    moved = api.act(
        booked,
        "reschedule",
        user="desk",
        start=at(day, "10:00").isoformat(),
        end=at(day, "16:00").isoformat(),
        space_id=room.id,
    )
    assert moved.status_code == 422 and moved.json["type"].endswith("/rule/purpose-space"), moved.json
    square = SpaceFactory(kind="release_square", capacity=2000, layouts={"cocktail": 2000})
    moved = api.act(
        booked,
        "reschedule",
        user="desk",
        start=at(day, "10:00").isoformat(),
        end=at(day, "16:00").isoformat(),
        space_id=square.id,
    )
    assert moved.status_code == 200, moved.json
    assert (moved.json["purpose"], moved.json["status"]) == ("roadshow", "pending_approval")


def test_the_seeded_event_spaces_need_approval_anyway(settings):
    """The park's exhibition hall and design release square are set to always need approval
    (the seed), so every large event there goes to the desk even without a purpose."""
    from services.booking.seed import SPACES

    kinds = {s["kind"]: s for s in SPACES if s["kind"] in ("exhibition_hall", "release_square")}
    assert set(kinds) == {"exhibition_hall", "release_square"}
    assert {s["approval_mode"] for s in kinds.values()} == {"always"}
