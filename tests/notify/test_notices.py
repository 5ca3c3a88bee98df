"""What a notice says: one per event type of a row, filled from the event, in both languages;
and one notification per recipient even when an event arrives twice."""

from __future__ import annotations

import re
import uuid
from typing import Any

from services.notify.rules.names import AUDIENCE, AUDIENCE_NAMES, NOTICE_KIND, NOTICE_KIND_NAMES
from services.notify.rules.notices import KINDS, NOTICES, dedupe_key, notice_for, short_id
from services.notify.rules.recipients import AUDIENCES, AUDIENCES_BY_EVENT, Recipient
from shared.db import Database
from shared.events.contracts import validate
from shared.i18n import label, render
from tests.booking.conftest import Api, signing_key
from tests.consulting.conftest import api, app, db, outbox
from tests.consulting.test_cases_support import submitted

__all__ = ["api", "app", "db", "signing_key"]  # consulting's rig, as fixtures of this module

CASE_ID = str(uuid.uuid4())
APPLICATION_ID = str(uuid.uuid4())

DATA: dict[str, Any] = {
    "reservation_id": str(uuid.uuid4()),
    "title": "Board meeting",
    "space_name": "Room A-101",
    "booked_by": "alice",
    "case_id": CASE_ID,
    "category": "legal",
    "application_id": APPLICATION_ID,
    "amount": "500000.00",
    "currency": "CNY",
    "reason": "Please send the lease.",
    "quote": {"fee": "1200.00", "currency": "CNY"},
    "offer": {"amount": "450000.00", "currency": "CNY"},
    "tranche": {"number": 2, "amount": "150000.00", "currency": "CNY"},
    "contract_number": "HT-2026-7",
    "booth": 4,
    "change": "let",
    "exhibitor": "Acme",
    "visitors": [{"name": "Li"}],
}


def test_every_event_type_with_a_row_has_a_notice_and_no_other() -> None:
    assert set(NOTICES) == set(AUDIENCES_BY_EVENT)


def test_every_notice_renders_in_both_languages_with_no_placeholder_left() -> None:
    for type_ in NOTICES:
        notice = notice_for(type_, DATA)
        assert notice.kind in KINDS, type_
        for text in (notice.title, notice.body):
            for locale in ("en", "zh"):
                rendered = render(text, locale)
                assert rendered and not re.search(r"\{\w+\}", rendered), (type_, locale, rendered)


def test_a_notice_names_what_the_event_carries() -> None:
    quoted = notice_for("consulting.case.quoted", DATA)
    assert quoted.kind == "quote"
    assert render(quoted.title, "en") == "Quote received"
    assert render(quoted.body, "en") == f"A fee of 1200.00 CNY was proposed for case {CASE_ID[:8]}."
    paid = render(notice_for("finance.application.disbursed", DATA).body, "en")
    assert paid == f"Tranche 2 of 150000.00 CNY was paid out for application {APPLICATION_ID[:8]}."
    offer = render(notice_for("finance.application.offer_made", DATA).body, "en")
    assert "450000.00 CNY" in offer


def test_a_notice_speaks_chinese() -> None:
    quoted = notice_for("consulting.case.quoted", DATA)
    assert render(quoted.title, "zh") == "收到服务报价"
    body = render(quoted.body, "zh")
    assert "1200.00" in body and CASE_ID[:8] in body and body != render(quoted.body, "en")


def test_a_case_notice_names_its_category_in_the_readers_language() -> None:
    named = {**DATA, "category_name": "Legal affairs", "category_name_zh": "法律服务"}
    submitted = notice_for("consulting.case.submitted", named)
    assert render(submitted.body, "en") == f"Case {CASE_ID[:8]} (Legal affairs) was submitted and waits for triage."
    chinese = render(submitted.body, "zh")
    assert "法律服务" in chinese and "legal" not in chinese.lower() and "Legal affairs" not in chinese
    # No Chinese name: the English one; an event of before the names: the code.
    english_only = notice_for("consulting.case.assigned", {**named, "category_name_zh": None})
    assert "Legal affairs" in render(english_only.body, "zh")
    assert "（legal）" in render(notice_for("consulting.case.assigned", DATA).body, "zh")


def test_consultings_case_events_carry_the_names_a_notice_shows(api: Api, db: Database) -> None:
    case = submitted(api, "bob")
    [event] = [e for e in outbox(db) if e["type"] == "consulting.case.submitted" and e["data"]["case_id"] == case["id"]]
    assert (event["data"]["category_name"], event["data"]["category_name_zh"]) == ("Legal", "法律")
    _, data = validate(event["type"], event.get("dataversion"), event["data"], tolerant=True)
    body = notice_for("consulting.case.submitted", data).body
    assert "（法律）" in render(body, "zh") and event["data"]["category"] not in render(body, "zh")
    assert "(Legal)" in render(body, "en")


def test_a_missing_optional_field_does_not_break_a_notice() -> None:
    body = render(notice_for("booking.reservation.rejected", {"rule": "rule/no-room"}).body, "en")
    assert "rule/no-room" in body


def test_short_id() -> None:
    assert short_id("3f2a9c1e-0000-4000-8000-000000000000") == "3f2a9c1e"
    assert short_id(None) == ""


def test_an_event_delivered_twice_makes_one_notification_per_recipient() -> None:
    event_id = str(uuid.uuid4())
    alice = Recipient("submitter", user="alice")
    admins = Recipient("org_admins", org_id="ORG_A", role="tenant_admin")
    assert dedupe_key(event_id, alice) == dedupe_key(event_id, Recipient("booker", user="alice"))
    keys = {dedupe_key(event_id, r) for r in (alice, admins, Recipient("desk", role="desk_staff"))}
    assert len(keys) == 3
    assert dedupe_key(event_id, alice) != dedupe_key(str(uuid.uuid4()), alice)
    assert dedupe_key(event_id, Recipient("x", user="alice")) != dedupe_key(event_id, Recipient("x", org_id="alice"))


def test_audiences_and_kinds_have_labels_in_both_languages() -> None:
    assert set(AUDIENCE_NAMES) == set(AUDIENCES)
    assert set(NOTICE_KIND_NAMES) == set(KINDS)
    assert render(label(NOTICE_KIND, "payout"), "en") == "Payouts"
    assert render(label(NOTICE_KIND, "payout"), "zh") == "放款"
    assert render(label(AUDIENCE, "desk"), "zh") == "服务台"


def test_an_sla_notice_says_which_of_a_cases_four_deadlines_it_is_about() -> None:
    """Two breaches of one case (the park's promise and the firm's commitment) read apart."""
    seen = set()
    for clock in ("tenant", "firm"):
        for target in ("first_response", "resolution"):
            notice = notice_for("consulting.case.sla_breached", {**DATA, "clock": clock, "target": target})
            seen.add((render(notice.title, "en"), render(notice.title, "zh")))
    assert len(seen) == 4
    park = notice_for("consulting.case.sla_warning", {**DATA, "clock": "tenant", "target": "first_response"})
    assert render(park.title, "en") == "Deadline near: the park's first response"
    assert render(park.body, "zh") == f"案件 {CASE_ID[:8]}：园区承诺的首次响应即将到期。"
